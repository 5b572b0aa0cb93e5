//! A deliberately broken host: it lists tools properly, then answers calls with a malformed
//! message, non-JSON text, an empty result, or a failure without a message. Each is a clear
//! error, never a panic or a hang.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use prost::Message;
use snakepit_bridge::proto::{
    ExecuteElixirToolRequest, GetExposedElixirToolsRequest, GetExposedElixirToolsResponse, ToolSpec,
};
use snakepit_bridge::{Error, SessionContext};
use tonic::codegen::{http, Body, StdError};

const TOOLS: [&str; 5] = [
    "malformed",
    "not_json",
    "no_result",
    "empty_result",
    "silent_failure",
];

/// An `ExecuteElixirToolResponse` whose `result` is raw bytes, so it can hold what is not an `Any`.
#[derive(Clone, PartialEq, Message)]
struct LooseResponse {
    #[prost(bool, tag = "1")]
    success: bool,
    #[prost(bytes = "vec", optional, tag = "2")]
    result: Option<Vec<u8>>,
    #[prost(string, tag = "3")]
    error_message: String,
}

fn answer(tool: &str) -> LooseResponse {
    let any = |bytes: &[u8]| snakepit_bridge::json_any(bytes.to_vec()).encode_to_vec();
    match tool {
        // Field 2 must be an `Any` message; 0xFF 0xFF is no valid protobuf at all.
        "malformed" => LooseResponse {
            success: true,
            result: Some(vec![0xff, 0xff, 0xff]),
            error_message: String::new(),
        },
        "not_json" => LooseResponse {
            success: true,
            result: Some(any(b"#PID<0.1.0> {oops")),
            error_message: String::new(),
        },
        "no_result" => LooseResponse {
            success: true,
            result: None,
            error_message: String::new(),
        },
        "empty_result" => LooseResponse {
            success: true,
            result: Some(any(b"")),
            error_message: String::new(),
        },
        _ => LooseResponse {
            success: false,
            result: None,
            error_message: String::new(),
        },
    }
}

struct Unary<F>(F);

impl<Req, Resp, F> tonic::server::UnaryService<Req> for Unary<F>
where
    F: Fn(Req) -> Resp,
    Resp: Send + 'static,
{
    type Response = Resp;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send>>;
    fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
        let response = (self.0)(request.into_inner());
        Box::pin(async move { Ok(tonic::Response::new(response)) })
    }
}

#[derive(Clone)]
struct BrokenHost;

impl tonic::server::NamedService for BrokenHost {
    const NAME: &'static str = "snakepit.bridge.BridgeService";
}

impl<B> tonic::codegen::Service<http::Request<B>> for BrokenHost
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_owned();
        Box::pin(async move {
            let response = match path.as_str() {
                "/snakepit.bridge.BridgeService/GetExposedElixirTools" => {
                    let codec = tonic_prost::ProstCodec::<
                        GetExposedElixirToolsResponse,
                        GetExposedElixirToolsRequest,
                    >::default();
                    let list = |_| GetExposedElixirToolsResponse {
                        tools: TOOLS
                            .iter()
                            .map(|name| ToolSpec {
                                name: (*name).into(),
                                ..Default::default()
                            })
                            .collect(),
                    };
                    tonic::server::Grpc::new(codec)
                        .unary(Unary(list), request)
                        .await
                }
                "/snakepit.bridge.BridgeService/ExecuteElixirTool" => {
                    let codec =
                        tonic_prost::ProstCodec::<LooseResponse, ExecuteElixirToolRequest>::default(
                        );
                    let execute = |request: ExecuteElixirToolRequest| answer(&request.tool_name);
                    tonic::server::Grpc::new(codec)
                        .unary(Unary(execute), request)
                        .await
                }
                _ => tonic::Status::unimplemented("not here").into_http(),
            };
            Ok(response)
        })
    }
}

async fn broken_host() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(BrokenHost)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    (address, server)
}

async fn call(tool: &str) -> Error {
    let (address, server) = broken_host().await;
    let ctx = SessionContext::connect(address, "s").await.unwrap();
    let error = ctx
        .call_elixir_tool(tool, serde_json::json!({}))
        .await
        .unwrap_err();
    // The context stays usable after any of these.
    assert_eq!(ctx.elixir_tools().await.unwrap().len(), TOOLS.len());
    server.abort();
    error
}

#[tokio::test]
async fn a_malformed_message_is_a_status_error_naming_the_decode_failure() {
    match call("malformed").await {
        Error::Status {
            operation,
            code,
            message,
        } => {
            assert_eq!(operation, "the call of tool `malformed`");
            assert_eq!(code, tonic::Code::Internal);
            assert!(
                message.contains("failed to decode Protobuf message"),
                "{message}"
            );
        }
        other => panic!("expected a status error, got {other:?}"),
    }
}

#[tokio::test]
async fn non_json_text_is_undecodable_and_keeps_the_text() {
    match call("not_json").await {
        Error::UndecodableResult { tool, raw, .. } => {
            assert_eq!(tool, "not_json");
            assert_eq!(raw, "#PID<0.1.0> {oops");
        }
        other => panic!("expected an undecodable result, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_or_empty_result_is_a_clear_error() {
    for tool in ["no_result", "empty_result"] {
        let error = call(tool).await;
        assert!(
            matches!(&error, Error::UndecodableResult { raw, .. } if raw.is_empty()),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("the host sent an empty result"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_failure_without_a_message_says_so() {
    match call("silent_failure").await {
        Error::ToolFailed { tool, message } => {
            assert_eq!(tool, "silent_failure");
            assert_eq!(message, "the host reported a failure without a message");
        }
        other => panic!("expected a tool failure, got {other:?}"),
    }
}
