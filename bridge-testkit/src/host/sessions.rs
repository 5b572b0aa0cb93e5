//! The host's sessions: creation, expiry and the tools each one exposes.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime};

use snakepit_bridge_spec::HostTool;

use super::tool::ElixirTool;

/// One session on the host.
pub(crate) struct Session {
    pub(crate) metadata: HashMap<String, String>,
    pub(crate) created_at: SystemTime,
    last_used: Instant,
    /// Tools implemented by the host (Elixir), exposed to workers.
    pub(crate) elixir_tools: BTreeMap<String, ElixirTool>,
    /// Tools registered by workers through `RegisterTools`.
    pub(crate) worker_tools: BTreeMap<String, HostTool>,
    /// The `worker_id` each registered tool came with (the host routes calls by it).
    pub(crate) worker_ids: BTreeMap<String, String>,
}

/// Why a session could not be created; the texts are snakepit's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionRefusal {
    InvalidId,
    QuotaExceeded,
}

impl SessionRefusal {
    pub(crate) fn text(self) -> &'static str {
        match self {
            SessionRefusal::InvalidId => "invalid_id",
            SessionRefusal::QuotaExceeded => "session_quota_exceeded",
        }
    }
}

/// Where the store reads the time: the monotonic clock, or a test's own.
pub(crate) type Clock = Box<dyn Fn() -> Instant + Send>;

/// The tools of a session that is gone. snakepit keeps a session's tools in its ToolRegistry,
/// apart from the SessionStore, and nothing removes them when the session is deleted or
/// expires (`lib/snakepit/bridge/session_store.ex`, `delete_session`; `ToolRegistry.
/// cleanup_session/1` has no caller): they are still listed for the id, and a session created
/// again under it has them again.
struct LeftTools {
    elixir_tools: BTreeMap<String, ElixirTool>,
    worker_tools: BTreeMap<String, HostTool>,
    worker_ids: BTreeMap<String, String>,
}

/// All sessions, with the tools new sessions get.
pub(crate) struct SessionStore {
    sessions: HashMap<String, Session>,
    left: HashMap<String, LeftTools>,
    /// Whether an ended session's tools stay for its id, as snakepit's do (default: yes).
    pub(crate) keep_tools_of_ended_sessions: bool,
    default_tools: Vec<ElixirTool>,
    pub(crate) expose_in_new_sessions: bool,
    max_sessions: usize,
    ttl: Duration,
    clock: Clock,
}

impl SessionStore {
    pub(crate) fn new(
        default_tools: Vec<ElixirTool>,
        expose_in_new_sessions: bool,
        max_sessions: usize,
        ttl: Duration,
    ) -> Self {
        SessionStore {
            sessions: HashMap::new(),
            left: HashMap::new(),
            keep_tools_of_ended_sessions: true,
            default_tools,
            expose_in_new_sessions,
            max_sessions,
            ttl,
            clock: Box::new(Instant::now),
        }
    }

    /// The same store reading the time from `clock` (for tests of expiry).
    #[cfg(test)]
    fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Creates `id` with `tools`, or returns the existing session as it is (idempotent).
    pub(crate) fn initialize(
        &mut self,
        id: &str,
        metadata: HashMap<String, String>,
        tools: Option<&[ElixirTool]>,
    ) -> Result<&mut Session, SessionRefusal> {
        // snakepit refuses only the empty id (`Session.validate/1`); a blank one is an id.
        if id.is_empty() {
            return Err(SessionRefusal::InvalidId);
        }
        self.expire();
        if !self.sessions.contains_key(id) && self.sessions.len() >= self.max_sessions {
            return Err(SessionRefusal::QuotaExceeded);
        }
        let tools = tools.unwrap_or(if self.expose_in_new_sessions {
            &self.default_tools
        } else {
            &[]
        });
        let now = (self.clock)();
        let left = &mut self.left;
        let session = self.sessions.entry(id.to_owned()).or_insert_with(|| {
            let mut session = Session {
                metadata,
                created_at: SystemTime::now(),
                last_used: now,
                elixir_tools: tools
                    .iter()
                    .map(|t| (t.name().to_owned(), t.clone()))
                    .collect(),
                worker_tools: BTreeMap::new(),
                worker_ids: BTreeMap::new(),
            };
            // The registry's tools for the id come back (they win over the defaults).
            if let Some(old) = left.remove(id) {
                session.elixir_tools.extend(old.elixir_tools);
                session.worker_tools.extend(old.worker_tools);
                session.worker_ids.extend(old.worker_ids);
            }
            session
        });
        session.last_used = now;
        Ok(session)
    }

    /// Creates `id` with the default tools, whatever `expose_in_new_sessions` says.
    pub(crate) fn initialize_with_defaults(
        &mut self,
        id: &str,
        metadata: HashMap<String, String>,
    ) -> Result<&mut Session, SessionRefusal> {
        let defaults = self.default_tools.clone();
        self.initialize(id, metadata, Some(&defaults))
    }

    /// The live session `id`, touched (its expiry pushed back).
    pub(crate) fn touch(&mut self, id: &str) -> Option<&mut Session> {
        self.expire();
        let now = (self.clock)();
        let session = self.sessions.get_mut(id)?;
        session.last_used = now;
        Some(session)
    }

    /// Whether `id` is a live session.
    pub(crate) fn contains(&mut self, id: &str) -> bool {
        self.touch(id).is_some()
    }

    /// Removes `id` (its tools stay, as snakepit's do); whether it existed.
    pub(crate) fn remove(&mut self, id: &str) -> bool {
        match self.sessions.remove(id) {
            Some(session) => {
                self.leave(id, session);
                true
            }
            None => false,
        }
    }

    /// The Elixir tools listed for `id`: the live session's, or those a removed or expired
    /// session left; none for an id never seen.
    pub(crate) fn exposed_tools(&mut self, id: &str) -> Vec<ElixirTool> {
        if let Some(session) = self.touch(id) {
            return session.elixir_tools.values().cloned().collect();
        }
        self.left
            .get(id)
            .map(|left| left.elixir_tools.values().cloned().collect())
            .unwrap_or_default()
    }

    fn leave(&mut self, id: &str, session: Session) {
        if !self.keep_tools_of_ended_sessions
            || (session.elixir_tools.is_empty() && session.worker_tools.is_empty())
        {
            return;
        }
        self.left.insert(
            id.to_owned(),
            LeftTools {
                elixir_tools: session.elixir_tools,
                worker_tools: session.worker_tools,
                worker_ids: session.worker_ids,
            },
        );
    }

    fn expire(&mut self) {
        let (ttl, now) = (self.ttl, (self.clock)());
        let expired: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, session)| now.saturating_duration_since(session.last_used) >= ttl)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(session) = self.sessions.remove(&id) {
                self.leave(&id, session);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tool(name: &str) -> ElixirTool {
        ElixirTool::new(name, |_| Ok(json!(null)))
    }

    fn store() -> SessionStore {
        SessionStore::new(vec![tool("a")], true, 2, Duration::from_secs(3600))
    }

    #[test]
    fn initialize_is_idempotent_and_keeps_the_first_metadata() {
        let mut store = store();
        store
            .initialize("s", [("k".into(), "1".into())].into(), None)
            .unwrap();
        let again = store
            .initialize("s", [("k".into(), "2".into())].into(), None)
            .unwrap();
        assert_eq!(again.metadata["k"], "1");
        assert!(again.elixir_tools.contains_key("a"));
    }

    #[test]
    fn an_empty_id_is_invalid_and_the_quota_is_enforced() {
        let mut store = store();
        assert_eq!(
            store.initialize("", HashMap::new(), None).err(),
            Some(SessionRefusal::InvalidId)
        );
        store.initialize("one", HashMap::new(), None).unwrap();
        store.initialize("two", HashMap::new(), None).unwrap();
        assert_eq!(
            store.initialize("three", HashMap::new(), None).err(),
            Some(SessionRefusal::QuotaExceeded)
        );
        // An existing session is still returned at the quota.
        assert!(store.initialize("one", HashMap::new(), None).is_ok());
    }

    #[test]
    fn new_sessions_get_no_tools_when_not_exposed_by_default() {
        let mut store = SessionStore::new(vec![tool("a")], false, 10, Duration::from_secs(60));
        assert!(store
            .initialize("s", HashMap::new(), None)
            .unwrap()
            .elixir_tools
            .is_empty());
        assert!(store
            .initialize_with_defaults("t", HashMap::new())
            .unwrap()
            .elixir_tools
            .contains_key("a"));
    }

    #[test]
    fn sessions_expire_after_the_ttl_and_touching_keeps_them() {
        let start = Instant::now();
        let elapsed = std::sync::Arc::new(std::sync::Mutex::new(Duration::ZERO));
        let clock = {
            let elapsed = elapsed.clone();
            move || start + *elapsed.lock().unwrap()
        };
        let advance = |by: u64| *elapsed.lock().unwrap() += Duration::from_secs(by);
        let mut store = SessionStore::new(vec![], true, 10, Duration::from_secs(60))
            .with_clock(Box::new(clock));
        store.initialize("s", HashMap::new(), None).unwrap();
        advance(59);
        assert!(store.touch("s").is_some());
        advance(59);
        assert!(store.touch("s").is_some(), "touching renews the session");
        advance(60);
        assert!(store.touch("s").is_none());
    }

    #[test]
    fn a_removed_sessions_tools_stay_listed_and_come_back_with_the_session() {
        let mut store = SessionStore::new(vec![tool("a")], false, 10, Duration::from_secs(60));
        store.initialize_with_defaults("s", HashMap::new()).unwrap();
        assert!(store.remove("s"));
        let listed: Vec<String> = store
            .exposed_tools("s")
            .iter()
            .map(|t| t.name().to_owned())
            .collect();
        assert_eq!(listed, ["a"]);
        assert!(store.exposed_tools("never").is_empty());
        let again = store.initialize("s", HashMap::new(), None).unwrap();
        assert!(again.elixir_tools.contains_key("a"));
    }

    #[test]
    fn without_keeping_an_ended_sessions_tools_nothing_of_it_is_held() {
        let mut store = SessionStore::new(vec![tool("a")], false, 10, Duration::from_secs(60));
        store.keep_tools_of_ended_sessions = false;
        store.initialize_with_defaults("s", HashMap::new()).unwrap();
        store.initialize_with_defaults("t", HashMap::new()).unwrap();
        assert!(store.remove("s"));
        assert!(store.exposed_tools("s").is_empty());
        assert!(store.left.is_empty());
        let again = store.initialize("s", HashMap::new(), None).unwrap();
        assert!(again.elixir_tools.is_empty());
    }

    #[test]
    fn remove_says_whether_the_session_existed() {
        let mut store = store();
        store.initialize("s", HashMap::new(), None).unwrap();
        assert!(store.remove("s"));
        assert!(!store.remove("s"));
    }
}
