//! Helpers shared by the integration tests.
#![allow(dead_code)]

use snakepit_bridge::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::SessionContext;

pub const SESSION: &str = "test-session";

/// An embedded host with the demo tools in [`SESSION`], on an ephemeral loopback port.
pub async fn demo_host() -> EmbeddedHost {
    EmbeddedHost::builder()
        .tools(demo_tools())
        .session(SESSION)
        .start()
        .await
        .expect("the embedded host starts")
}

/// A demo host and a context connected to it in [`SESSION`].
pub async fn demo_host_and_context() -> (EmbeddedHost, SessionContext) {
    let host = demo_host().await;
    let ctx = SessionContext::connect(host.grpc_address(), SESSION)
        .await
        .expect("the context connects");
    (host, ctx)
}

/// A loopback address nothing listens on.
pub fn unused_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    address.to_string()
}
