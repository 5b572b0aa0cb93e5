//! The protocol's own RPCs, message for message, with a [`SessionContext`]'s options.

use std::time::Duration;

use crate::context::SessionContext;
use crate::proto;
use crate::Error;

/// The RPCs a worker sends to the host on its own account (registration, sessions,
/// heartbeats), with the protocol's messages as they are: what a worker relays or builds itself
/// goes through unchanged. Get one with [`SessionContext::rpc`].
///
/// Each call carries everything the context's builder set, as every call of the context does:
/// its metadata (the bearer token and the correlation id included), the message size limit,
/// and a deadline, the context's call timeout unless [`timeout`](Self::timeout) sets another
/// (sent to the host as well with `propagate_deadline`). A gRPC status the host answers with
/// is an [`Error`]; an answer that reports a failure in its own fields (`success: false`) is
/// returned as it is.
///
/// ```no_run
/// # extern crate snakepit_bridge_runtime as snakepit_bridge;
/// # async fn run() -> Result<(), snakepit_bridge::Error> {
/// use std::time::Duration;
/// use snakepit_bridge::{proto, SessionContext};
///
/// let ctx = SessionContext::builder("localhost:50051", "session-1")
///     .bearer_token("t0ken")
///     .connect()
///     .await?;
/// let answer = ctx
///     .rpc()
///     .timeout(Duration::from_secs(5))
///     .heartbeat(proto::HeartbeatRequest {
///         session_id: ctx.session_id().to_owned(),
///         client_time: None,
///     })
///     .await?;
/// println!("session valid: {}", answer.session_valid);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use = "an RPC view does nothing until one of its calls is awaited"]
pub struct HostRpc<'a> {
    context: &'a SessionContext,
    limit: Duration,
}

impl<'a> HostRpc<'a> {
    pub(crate) fn new(context: &'a SessionContext, limit: Duration) -> Self {
        HostRpc { context, limit }
    }

    /// How long each call may take, instead of the context's call timeout.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// `RegisterTools`: registers a worker's tools in a session (which must exist on the host).
    pub async fn register_tools(
        self,
        request: proto::RegisterToolsRequest,
    ) -> Result<proto::RegisterToolsResponse, Error> {
        self.context
            .unary_within(
                "the `RegisterTools` call",
                self.limit,
                request,
                |mut client, request| async move { client.register_tools(request).await },
            )
            .await
    }

    /// `InitializeSession`: creates the session on the host, or finds it as it is.
    pub async fn initialize_session(
        self,
        request: proto::InitializeSessionRequest,
    ) -> Result<proto::InitializeSessionResponse, Error> {
        self.context
            .unary_within(
                "the `InitializeSession` call",
                self.limit,
                request,
                |mut client, request| async move { client.initialize_session(request).await },
            )
            .await
    }

    /// `CleanupSession`: asks the host to clean up a session.
    pub async fn cleanup_session(
        self,
        request: proto::CleanupSessionRequest,
    ) -> Result<proto::CleanupSessionResponse, Error> {
        self.context
            .unary_within(
                "the `CleanupSession` call",
                self.limit,
                request,
                |mut client, request| async move { client.cleanup_session(request).await },
            )
            .await
    }

    /// `Heartbeat`: keeps a session alive on the host.
    pub async fn heartbeat(
        self,
        request: proto::HeartbeatRequest,
    ) -> Result<proto::HeartbeatResponse, Error> {
        self.context
            .unary_within(
                "the `Heartbeat` call",
                self.limit,
                request,
                |mut client, request| async move { client.heartbeat(request).await },
            )
            .await
    }
}
