//! The worker's connection to the host's own gRPC server (`--elixir-address`): the start-up
//! ping, one session context per session for calls back into Elixir, and which sessions have
//! the worker's tools registered.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use snakepit_bridge_runtime::{Error, SessionContext};

/// How the worker reaches the host.
#[derive(Debug)]
pub(crate) struct HostLink {
    base: Option<SessionContext>,
    sessions: Mutex<HashMap<String, SessionContext>>,
    registered: Mutex<HashSet<String>>,
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
        HostLink {
            base: None,
            sessions: Mutex::new(HashMap::new()),
            registered: Mutex::new(HashSet::new()),
        }
    }

    /// Connects to the host at `address` and pings it (`connection_test`), retrying. Connecting
    /// is bounded by one attempt's time-out (the context waits for a first gRPC answer); the
    /// context kept serves the worker's calls, with the default call time-out.
    pub(crate) async fn connect(address: &str, retries: ConnectRetries) -> Result<HostLink, Error> {
        let mut backoff = retries.first_backoff;
        let mut attempt = 1;
        let base = loop {
            let outcome = async {
                let ctx = SessionContext::builder(address, "")
                    .connect_timeout(retries.attempt_timeout)
                    .max_message_size(crate::MAX_MESSAGE_SIZE)
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
        Ok(HostLink {
            base: Some(base),
            sessions: Mutex::new(HashMap::new()),
            registered: Mutex::new(HashSet::new()),
        })
    }

    /// Whether there is a host.
    pub(crate) fn is_connected(&self) -> bool {
        self.base.is_some()
    }

    /// The context for session `id`, sharing the one connection.
    pub(crate) fn session(&self, id: &str) -> Result<SessionContext, Error> {
        let Some(base) = &self.base else {
            return Err(Error::Connect {
                address: "(none)".to_owned(),
                reason: "the worker was started without --elixir-address, so there is no host to call back into".to_owned(),
            });
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        Ok(sessions
            .entry(id.to_owned())
            .or_insert_with(|| base.for_session(id))
            .clone())
    }

    /// Marks `session` as registered; `false` if it already was.
    pub(crate) fn claim_registration(&self, session: &str) -> bool {
        self.registered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session.to_owned())
    }

    /// Whether `session`'s registration is done or under way.
    pub(crate) fn is_claimed(&self, session: &str) -> bool {
        self.registered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(session)
    }

    /// Forgets a registration that failed, so that a later call tries again.
    pub(crate) fn release_registration(&self, session: &str) {
        self.registered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(session);
    }
}
