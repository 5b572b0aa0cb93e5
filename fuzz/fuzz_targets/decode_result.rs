//! Result decoding, from the bytes of an `ExecuteElixirToolResponse` as they arrive on the wire,
//! and from arbitrary bytes as a result's JSON: it returns a value or an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use snakepit_bridge_runtime::proto::ExecuteElixirToolResponse;
use snakepit_bridge_runtime::{json_any, ToolResponse};

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Typed {
    n: u32,
    sequence: Vec<u64>,
    label: Option<String>,
}

fn decode_all(response: ToolResponse) {
    let _ = response.value();
    let _ = response.decode::<Typed>();
    let _ = response.decode::<Vec<i128>>();
    let _ = response.decode::<()>();
}

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = ExecuteElixirToolResponse::decode(data) {
        if let Ok(response) = ToolResponse::from_proto("fuzz", message) {
            decode_all(response);
        }
    }
    let as_result = ExecuteElixirToolResponse {
        success: true,
        result: Some(json_any(data.to_vec())),
        ..Default::default()
    };
    if let Ok(response) = ToolResponse::from_proto("fuzz", as_result) {
        decode_all(response);
    }
});
