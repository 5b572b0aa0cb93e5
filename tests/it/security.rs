//! TLS (with a custom CA, and mutual TLS), bearer tokens, and what never reaches the logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::common::SESSION;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use serde_json::json;
use snakepit_bridge::testkit::host::{demo_tools, ElixirTool, EmbeddedHost};
use snakepit_bridge::{Error, SessionContext, TlsOptions};

/// A test CA, and certificates it signed: the host's for `localhost`, and a client's.
struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca.pem(),
        server: leaf(
            vec!["localhost".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        client: leaf(vec!["worker".into()], ExtendedKeyUsagePurpose::ClientAuth),
    }
}

fn localhost(host: &EmbeddedHost) -> String {
    format!("localhost:{}", host.address().port())
}

/// A host with the demo tools serving TLS with `pki`'s certificate; with `mutual`, it also
/// requires client certificates from `pki`'s CA.
async fn tls_host(pki: &Pki, mutual: bool) -> EmbeddedHost {
    let mut builder = EmbeddedHost::builder()
        .tools(demo_tools())
        .session(SESSION)
        .tls(&pki.server.0, &pki.server.1);
    if mutual {
        builder = builder.client_ca_pem(&pki.ca_pem);
    }
    builder.start().await.unwrap()
}

/// Connects with `builder` and pings: a refusal may come at either step.
async fn ping_through(builder: snakepit_bridge::SessionContextBuilder) -> Result<String, Error> {
    builder.connect().await?.ping("x").await
}

#[tokio::test]
async fn calls_travel_over_tls_to_a_host_with_a_custom_ca() {
    let pki = pki();
    let host = tls_host(&pki, false).await;
    let ctx = SessionContext::builder(localhost(&host), SESSION)
        .tls(TlsOptions::new().ca_certificate_pem(&pki.ca_pem))
        .connect()
        .await
        .unwrap();
    let result = ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": 5}))
        .await
        .unwrap();
    assert_eq!(result["sum"], 7);

    // Without TLS, the same host answers nothing useful.
    let plain = SessionContext::builder(localhost(&host), SESSION)
        .connect_timeout(std::time::Duration::from_secs(2))
        .call_timeout(std::time::Duration::from_secs(2));
    assert!(ping_through(plain).await.is_err());
}

#[tokio::test]
async fn a_host_certificate_from_another_ca_is_refused() {
    let (pki, other) = (pki(), pki());
    let host = tls_host(&pki, false).await;
    let wrong_ca = SessionContext::builder(localhost(&host), SESSION)
        .tls(TlsOptions::new().ca_certificate_pem(&other.ca_pem));
    let error = ping_through(wrong_ca).await.unwrap_err();
    let text = error.to_string();
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_ca() {
    let pki = pki();
    let host = tls_host(&pki, true).await;
    let with_identity = SessionContext::builder(localhost(&host), SESSION).tls(
        TlsOptions::new()
            .ca_certificate_pem(&pki.ca_pem)
            .client_identity_pem(&pki.client.0, &pki.client.1),
    );
    assert_eq!(ping_through(with_identity).await.unwrap(), "pong: x");

    let without_identity = SessionContext::builder(localhost(&host), SESSION)
        .tls(TlsOptions::new().ca_certificate_pem(&pki.ca_pem));
    assert!(
        ping_through(without_identity).await.is_err(),
        "a client without a certificate must be refused"
    );
}

#[tokio::test]
async fn a_host_that_requires_a_token_refuses_calls_without_it() {
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .session(SESSION)
        .require_bearer_token("t0ken")
        .start()
        .await
        .unwrap();
    let anonymous = SessionContext::connect(host.grpc_address(), SESSION)
        .await
        .unwrap();
    let error = anonymous.elixir_tools().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Status {
                code: tonic::Code::Unauthenticated,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("set `bearer_token`"), "{error}");

    let wrong = SessionContext::builder(host.grpc_address(), SESSION)
        .bearer_token("guess")
        .connect()
        .await
        .unwrap();
    assert!(wrong.ping("x").await.is_err());

    let authorized = SessionContext::builder(host.grpc_address(), SESSION)
        .bearer_token("t0ken")
        .connect()
        .await
        .unwrap();
    let result = authorized
        .call_elixir_tool("calculate_fibonacci", json!({"n": 3}))
        .await
        .unwrap();
    assert_eq!(result["sum"], 2);
    assert!(host.recorded_calls()[0].headers["authorization"].starts_with("Bearer "));
}

#[tokio::test]
async fn the_protocols_rpcs_carry_the_token_and_metadata_and_the_raw_client_does_not() {
    use snakepit_bridge::proto;
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .require_bearer_token("t0ken")
        .require_metadata("x-team", "search")
        .start()
        .await
        .unwrap();
    let ctx = SessionContext::builder(host.grpc_address(), SESSION)
        .bearer_token("t0ken")
        .metadata("x-team", "search")
        .connect()
        .await
        .unwrap();
    let rpc = ctx.rpc().timeout(std::time::Duration::from_secs(30));
    let opened = rpc
        .initialize_session(proto::InitializeSessionRequest {
            session_id: SESSION.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(opened.success, "{}", opened.error_message);
    let registered = rpc
        .register_tools(proto::RegisterToolsRequest {
            session_id: SESSION.into(),
            tools: vec![proto::ToolRegistration {
                name: "greet".into(),
                ..Default::default()
            }],
            worker_id: "w-1".into(),
        })
        .await
        .unwrap();
    assert!(registered.success, "{}", registered.error_message);
    assert_eq!(host.worker_tools(SESSION)[0].worker_id, "w-1");
    let beat = rpc
        .heartbeat(proto::HeartbeatRequest {
            session_id: SESSION.into(),
            client_time: None,
        })
        .await
        .unwrap();
    assert!(beat.session_valid);
    rpc.cleanup_session(proto::CleanupSessionRequest {
        session_id: SESSION.into(),
        force: false,
    })
    .await
    .unwrap();
    assert!(!host.has_session(SESSION));

    // The escape hatch sends none of the options: the host refuses it.
    let status = ctx
        .raw_client()
        .heartbeat(proto::HeartbeatRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(host.requests("Heartbeat"), 1);
}

/// Everything the subscriber writes, kept for inspection.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn parameter_values_tokens_and_results_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    // While one dispatcher alone is registered in the process, tracing-core 0.1 caches a
    // callsite's interest as the default of whichever thread reaches it first
    // (tokio-rs/tracing#3611): another test of this binary, on a thread without this
    // subscriber, would switch the call's span off here. A second live dispatcher keeps every
    // callsite on the path that asks all of them.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let secret_tool = ElixirTool::new("vault", |_| Ok(json!({"answer": "r3sult-s3cret"})))
                .required("password", "string");
            let host = EmbeddedHost::builder()
                .tool(secret_tool)
                .session(SESSION)
                .require_bearer_token("t0ken-s3cret")
                .start()
                .await
                .unwrap();
            let ctx = SessionContext::builder(host.grpc_address(), SESSION)
                .bearer_token("t0ken-s3cret")
                .connect()
                .await
                .unwrap();
            let result = ctx
                .call_elixir_tool("vault", json!({"password": "p4ssw0rd-param"}))
                .await
                .unwrap();
            assert_eq!(result["answer"], "r3sult-s3cret");
            let _ = ctx
                .call_elixir_tool("vault", json!({"password": f64::NAN.to_string()}))
                .await;
            host.shutdown().await;
        });
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("call_elixir_tool"),
        "the call's span is logged: {logs}"
    );
    assert!(logs.contains("vault"), "with the tool's name");
    for secret in ["p4ssw0rd-param", "t0ken-s3cret", "r3sult-s3cret"] {
        assert!(!logs.contains(secret), "`{secret}` leaked into the logs");
    }
}

#[tokio::test]
async fn the_client_ca_may_be_given_before_the_identity() {
    let pki = pki();
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .session(SESSION)
        .client_ca_pem(&pki.ca_pem)
        .tls(&pki.server.0, &pki.server.1)
        .start()
        .await
        .unwrap();
    // Mutual TLS is on: a client without a certificate is refused.
    let without_identity = SessionContext::builder(localhost(&host), SESSION)
        .tls(TlsOptions::new().ca_certificate_pem(&pki.ca_pem))
        .connect_timeout(std::time::Duration::from_secs(5))
        .call_timeout(std::time::Duration::from_secs(5));
    assert!(ping_through(without_identity).await.is_err());
}

#[tokio::test]
async fn a_client_ca_without_tls_is_refused_at_start() {
    let pki = pki();
    let error = EmbeddedHost::builder()
        .client_ca_pem(&pki.ca_pem)
        .start()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("client_ca_pem (mutual TLS) needs tls(cert, key) too"),
        "{error}"
    );
}

#[tokio::test]
async fn https_against_a_plaintext_host_hints_at_the_tls_mismatch() {
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .session(SESSION)
        .start()
        .await
        .unwrap();
    let builder = SessionContext::builder(
        format!("https://localhost:{}", host.address().port()),
        SESSION,
    )
    .connect_timeout(std::time::Duration::from_secs(5))
    .call_timeout(std::time::Duration::from_secs(5));
    let text = ping_through(builder).await.unwrap_err().to_string();
    assert!(text.contains("does not speak TLS"), "{text}");
    assert!(!text.contains("InvalidContentType"), "{text}");
}
