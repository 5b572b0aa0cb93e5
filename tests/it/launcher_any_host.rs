//! The launcher drives a worker against any host by its address, not only an `EmbeddedHost`
//! it holds: here a host in another process (the `demo_host` example), known to the test only
//! by the address it prints, as a real snakepit host would be.

use serde_json::{json, Value};
use snakepit_bridge::testkit::launcher::{CallOptions, Decoded, LaunchError, Launcher, Reply};

use crate::common::{example, start_demo_host};

fn json_of(reply: Reply) -> Value {
    match reply {
        Reply::Value(Decoded::Json(value)) => value,
        other => panic!("expected JSON, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launches_a_worker_against_a_host_it_did_not_start() {
    let (_host, address) = start_demo_host(&[]);
    let worker = Launcher::new(example("showcase_worker"))
        .launch(address.as_str())
        .await
        .expect("the showcase worker launches against the other process's host");
    assert!(
        worker
            .argv()
            .windows(2)
            .any(|pair| pair[0] == "--elixir-address" && pair[1] == address),
        "the worker was not given the host's address: {:?}",
        worker.argv()
    );
    // The worker calls back into that host: the answer can only come from the other process.
    let answer = json_of(
        worker
            .execute(
                "call_elixir_demo",
                json!({"tool_name": "calculate_fibonacci", "n": 7}),
                CallOptions::default(),
            )
            .await
            .unwrap(),
    );
    assert_eq!(answer["source"], "elixir", "{answer}");
    assert_eq!(
        answer["result"],
        json!({"n": 7, "sequence": [0, 1, 1, 2, 3, 5, 8], "sum": 20})
    );
    worker.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_address_that_is_not_host_and_port_is_refused_before_spawning() {
    let error = Launcher::new(example("showcase_worker"))
        .launch("http://127.0.0.1:50051")
        .await
        .unwrap_err();
    assert!(
        matches!(error, LaunchError::InvalidHostAddress { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("without a scheme"), "{error}");
}
