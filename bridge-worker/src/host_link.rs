//! The worker's connection to the host's own gRPC server (`--elixir-address`): the start-up
//! ping, and what the worker holds per session (a context for calls back into Elixir, whether
//! the session is open on the host with the worker's tools registered there, whether the
//! worker's heartbeat task sends heartbeats for it), until the session is cleaned up or goes
//! idle.
//!
//! A session the host never opened with the worker (a call whose session id the worker has not
//! seen in `InitializeSession`) is opened on the host before its first call's tool runs, as
//! snakepit's Python worker does before every call (priv/python/grpc_server.py `ExecuteTool`
//! and `ExecuteStreamingTool`: "Ensure session exists in Elixir", an `InitializeSession` with
//! the request's session id, then the adapter's `register_with_session`): the host refuses
//! `RegisterTools` and calls back into Elixir for a session it does not know.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use snakepit_bridge_runtime::{proto, Error, SessionContext, SessionContextBuilder};
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// Changes the options of the contexts the worker calls the host with (see
/// [`Worker::host_context`](crate::Worker::host_context)).
pub(crate) type ContextOptions =
    Arc<dyn Fn(SessionContextBuilder) -> SessionContextBuilder + Send + Sync>;

/// How the worker reaches the host.
pub(crate) struct HostLink {
    base: Option<SessionContext>,
    sessions: Mutex<HashMap<String, SessionState>>,
    /// The last id given to a session's heartbeats (see [`HostLink::start_heartbeats`]).
    heartbeat_ids: AtomicU64,
}

impl std::fmt::Debug for HostLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostLink")
            .field("connected", &self.base.is_some())
            .field("sessions", &self.session_count())
            .finish_non_exhaustive()
    }
}

/// What the worker holds for one session.
#[derive(Debug)]
struct SessionState {
    /// The context for calls back into Elixir in this session, made on first use.
    context: Option<SessionContext>,
    /// Set once the session is open on the host and the worker's tools are registered there;
    /// the calls that find it unset wait for one of them to do it (and try again if it failed).
    opened: Arc<OnceCell<()>>,
    /// The id of the session's heartbeats, if the heartbeat task sends them.
    heartbeats: Option<u64>,
    /// Opened by `InitializeSession` (the worker's own session): kept until `CleanupSession`,
    /// never released for being idle, so its heartbeats keep telling whether the host lives.
    pinned: bool,
    /// Last call started or finished in the session.
    last_used: Instant,
    /// Calls running in the session now: a session is never idle while one runs.
    in_flight: usize,
}

impl SessionState {
    fn new() -> SessionState {
        SessionState {
            context: None,
            opened: Arc::new(OnceCell::new()),
            heartbeats: None,
            pinned: false,
            last_used: Instant::now(),
            in_flight: 0,
        }
    }

    /// Drops what the session holds; returns how many resources that was.
    fn release(self) -> u32 {
        let mut released = 0;
        // The heartbeat task sends none from now on.
        if self.heartbeats.is_some() {
            released += 1;
        }
        // Its last clone dropped, the context's timer task ends at its next tick.
        if self.context.is_some() {
            released += 1;
        }
        if self.opened.initialized() {
            released += 1;
        }
        released
    }
}

/// The start-up ping's retries, as snakepit's Python worker does them: 1 s per attempt, a
/// backoff from 50 ms doubling to 2 s, 60 attempts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectRetries {
    pub(crate) attempts: u32,
    pub(crate) attempt_timeout: Duration,
    pub(crate) first_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

impl Default for ConnectRetries {
    fn default() -> Self {
        ConnectRetries {
            attempts: 60,
            attempt_timeout: Duration::from_secs(1),
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl HostLink {
    /// No host: calls back into Elixir fail with a clear error.
    pub(crate) fn standalone() -> HostLink {
        HostLink::with_base(None)
    }

    fn with_base(base: Option<SessionContext>) -> HostLink {
        HostLink {
            base,
            sessions: Mutex::new(HashMap::new()),
            heartbeat_ids: AtomicU64::new(0),
        }
    }

    /// Connects to the host at `address` and pings it (`connection_test`), retrying. Connecting
    /// is bounded by one attempt's time-out (the context waits for a first gRPC answer); the
    /// context kept serves the worker's calls, with the options `options` sets.
    pub(crate) async fn connect(
        address: &str,
        retries: ConnectRetries,
        options: Option<&ContextOptions>,
    ) -> Result<HostLink, Error> {
        let mut backoff = retries.first_backoff;
        let mut attempt = 1;
        let base = loop {
            let outcome = async {
                let mut builder =
                    SessionContext::builder(address, "").max_message_size(crate::MAX_MESSAGE_SIZE);
                if let Some(options) = options {
                    builder = options(builder);
                }
                let ctx = builder
                    .connect_timeout(retries.attempt_timeout)
                    .connect()
                    .await?;
                ctx.ping("connection_test").await?;
                Ok::<_, Error>(ctx)
            }
            .await;
            match outcome {
                Ok(ctx) => break ctx,
                Err(error) if attempt >= retries.attempts => return Err(error),
                Err(error) => {
                    tracing::debug!(attempt, %error, "the host does not answer yet");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(retries.max_backoff);
                    attempt += 1;
                }
            }
        };
        Ok(HostLink::with_base(Some(base)))
    }

    /// A link whose calls back go through `ctx` (an embedded host in a test, for one).
    pub(crate) fn from_context(ctx: SessionContext) -> HostLink {
        HostLink::with_base(Some(ctx))
    }

    /// Whether there is a host.
    pub(crate) fn is_connected(&self) -> bool {
        self.base.is_some()
    }

    /// The host context of no session in particular (the start-up ping's).
    pub(crate) fn base(&self) -> Option<&SessionContext> {
        self.base.as_ref()
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionState>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn no_host() -> Error {
        Error::NoHost {
            reason: "the worker was started without --elixir-address (snakepit passes it to every worker it launches); in a unit test, attach a fake with `ToolCall::for_test(..).with_caller(..)` or a host with `.with_host(..)`".to_owned(),
        }
    }

    /// The context for session `id`, sharing the one connection.
    pub(crate) fn session(&self, id: &str) -> Result<SessionContext, Error> {
        let Some(base) = &self.base else {
            return Err(Self::no_host());
        };
        let mut sessions = self.sessions();
        let state = sessions
            .entry(id.to_owned())
            .or_insert_with(SessionState::new);
        Ok(state
            .context
            .get_or_insert_with(|| base.for_session(id))
            .clone())
    }

    /// The context for session `id` if the worker still holds the session (background work
    /// for a session released meanwhile must not bring it back).
    pub(crate) fn held_session(&self, id: &str) -> Option<SessionContext> {
        let base = self.base.as_ref()?;
        let mut sessions = self.sessions();
        let state = sessions.get_mut(id)?;
        Some(
            state
                .context
                .get_or_insert_with(|| base.for_session(id))
                .clone(),
        )
    }

    /// A call starts in `session`: marks it used, and returns, if the session is not open on
    /// the host with the tools registered yet, the mark to set once it is (see
    /// [`OnceCell::get_or_try_init`]: one call opens it, the others wait for it).
    pub(crate) fn begin_call(&self, session: &str) -> Option<Arc<OnceCell<()>>> {
        self.base.as_ref()?;
        let mut sessions = self.sessions();
        let state = match sessions.get_mut(session) {
            Some(state) => state,
            None => sessions
                .entry(session.to_owned())
                .or_insert_with(SessionState::new),
        };
        state.last_used = Instant::now();
        state.in_flight += 1;
        if session.is_empty() || state.opened.initialized() {
            None
        } else {
            Some(state.opened.clone())
        }
    }

    /// Opens `session` on the host (`InitializeSession` with its id, as snakepit's Python
    /// worker sends it; the host answers an existing session as it is), within `limit`.
    pub(crate) async fn open_on_host(&self, session: &str, limit: Duration) -> Result<(), String> {
        let Some(ctx) = self.held_session(session) else {
            // Released meanwhile (CleanupSession): nothing to open.
            return Ok(());
        };
        let request = proto::InitializeSessionRequest {
            session_id: session.to_owned(),
            ..Default::default()
        };
        let answer = ctx
            .rpc()
            .timeout(limit)
            .initialize_session(request)
            .await
            .map_err(|error| match error {
                Error::Timeout { .. } => {
                    format!("the host did not answer InitializeSession within {limit:?}")
                }
                error => format!("the host refused InitializeSession: {}", host_reason(error)),
            })?;
        if answer.success {
            Ok(())
        } else {
            Err(format!(
                "the host refused InitializeSession: {}",
                answer.error_message
            ))
        }
    }

    /// A call in `session` ended.
    pub(crate) fn end_call(&self, session: &str) {
        if self.base.is_none() {
            return;
        }
        if let Some(state) = self.sessions().get_mut(session) {
            state.last_used = Instant::now();
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }

    /// Keeps `session` until it is cleaned up (the host opened it with `InitializeSession`);
    /// returns its mark of being open with the tools registered (see [`HostLink::begin_call`]).
    pub(crate) fn pin(&self, session: &str) -> Arc<OnceCell<()>> {
        let mut sessions = self.sessions();
        let state = sessions
            .entry(session.to_owned())
            .or_insert_with(SessionState::new);
        state.pinned = true;
        state.last_used = Instant::now();
        state.opened.clone()
    }

    /// Marks `session` as having heartbeats unless it has or is no longer held; returns the
    /// id of its heartbeats, for the heartbeat task to send them under.
    pub(crate) fn start_heartbeats(&self, session: &str) -> Option<u64> {
        self.base.as_ref()?;
        let mut sessions = self.sessions();
        let state = sessions.get_mut(session)?;
        if state.heartbeats.is_some() {
            return None;
        }
        let id = self.heartbeat_ids.fetch_add(1, Ordering::Relaxed) + 1;
        state.heartbeats = Some(id);
        Some(id)
    }

    /// The context to send heartbeats `id` of `session` with, if the worker still holds the
    /// session with those heartbeats.
    pub(crate) fn heartbeat_context(&self, session: &str, id: u64) -> Option<SessionContext> {
        let base = self.base.as_ref()?;
        let mut sessions = self.sessions();
        let state = sessions.get_mut(session)?;
        if state.heartbeats != Some(id) {
            return None;
        }
        Some(
            state
                .context
                .get_or_insert_with(|| base.for_session(session))
                .clone(),
        )
    }

    /// Releases everything held for `session` (its context, its mark of being open on the
    /// host, its heartbeats); returns how many resources that was.
    pub(crate) fn release(&self, session: &str) -> u32 {
        let removed = self.sessions().remove(session);
        let released = removed.map_or(0, SessionState::release);
        if released > 0 {
            tracing::debug!(session, released, "session released");
        }
        released
    }

    /// Releases the sessions with no call for `idle` (except pinned ones); returns how many.
    pub(crate) fn release_idle(&self, idle: Duration) -> usize {
        let now = Instant::now();
        let expired: Vec<(String, SessionState)> = {
            let mut sessions = self.sessions();
            let names: Vec<String> = sessions
                .iter()
                .filter(|(_, state)| {
                    !state.pinned
                        && state.in_flight == 0
                        && now.saturating_duration_since(state.last_used) >= idle
                })
                .map(|(name, _)| name.clone())
                .collect();
            names
                .into_iter()
                .filter_map(|name| sessions.remove_entry(&name))
                .collect()
        };
        let count = expired.len();
        for (session, state) in expired {
            tracing::debug!(session = %session, idle = ?idle, "idle session released");
            state.release();
        }
        count
    }

    /// Sessions held now.
    pub(crate) fn session_count(&self) -> usize {
        self.sessions().len()
    }

    /// Sessions with heartbeats now.
    pub(crate) fn heartbeat_session_count(&self) -> usize {
        self.sessions()
            .values()
            .filter(|state| state.heartbeats.is_some())
            .count()
    }

    /// Releases every session (the worker stops).
    pub(crate) fn release_all(&self) {
        let all: Vec<SessionState> = self.sessions().drain().map(|(_, state)| state).collect();
        for state in all {
            state.release();
        }
    }
}

/// What the host said when a worker's own RPC failed: a status's message as the host sent it
/// (what a forwarded answer's `error_message` carries), else the error's text.
pub(crate) fn host_reason(error: Error) -> String {
    match error {
        Error::Status { message, .. } => message,
        error => error.to_string(),
    }
}
