//! The session's tool list: converting the host's `ToolSpec`s, and caching them.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use snakepit_bridge_spec::{HostParameter, HostTool};

use crate::codec::json_any;
use crate::proto;
use crate::Error;

/// The tools the host exposes to a session, keyed (and so sorted) by name.
pub type ElixirTools = BTreeMap<String, HostTool>;

/// The tool list, fetched once and shared by every clone of a context.
#[derive(Default)]
pub(crate) struct ToolCache {
    current: RwLock<Option<Arc<ElixirTools>>>,
    /// Held while fetching, so concurrent first uses make one RPC between them.
    fetching: tokio::sync::Mutex<()>,
}

impl ToolCache {
    fn cached(&self) -> Option<Arc<ElixirTools>> {
        // A poisoned lock only means a panic elsewhere; the Option inside is still whole.
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn store(&self, tools: ElixirTools) -> Arc<ElixirTools> {
        let tools = Arc::new(tools);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(tools.clone());
        tools
    }

    /// The cached list, or the one `fetch` brings when there is none yet.
    pub(crate) async fn get_or_fetch<F, Fut>(&self, fetch: F) -> Result<Arc<ElixirTools>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ElixirTools, Error>>,
    {
        if let Some(tools) = self.cached() {
            return Ok(tools);
        }
        let _fetching = self.fetching.lock().await;
        if let Some(tools) = self.cached() {
            return Ok(tools);
        }
        Ok(self.store(fetch().await?))
    }

    /// Replaces `seen` (a list this cache handed out) with the one `fetch` brings, unless it was
    /// replaced already while waiting: concurrent callers that missed in the same list make one
    /// RPC between them.
    pub(crate) async fn refresh_after<F, Fut>(
        &self,
        seen: &Arc<ElixirTools>,
        fetch: F,
    ) -> Result<Arc<ElixirTools>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ElixirTools, Error>>,
    {
        let _fetching = self.fetching.lock().await;
        match self.cached() {
            Some(current) if !Arc::ptr_eq(&current, seen) => Ok(current),
            _ => Ok(self.store(fetch().await?)),
        }
    }

    /// Replaces the cached list with the one `fetch` brings.
    pub(crate) async fn refresh<F, Fut>(&self, fetch: F) -> Result<Arc<ElixirTools>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ElixirTools, Error>>,
    {
        let _fetching = self.fetching.lock().await;
        Ok(self.store(fetch().await?))
    }
}

/// Collects the host's specs by name (the host sends them in hash order).
pub(crate) fn tools_by_name(specs: impl IntoIterator<Item = proto::ToolSpec>) -> ElixirTools {
    specs
        .into_iter()
        .map(|spec| {
            let tool = HostTool::from(spec);
            (tool.name.clone(), tool)
        })
        .collect()
}

impl From<proto::ToolSpec> for HostTool {
    fn from(spec: proto::ToolSpec) -> Self {
        HostTool {
            name: spec.name,
            description: spec.description,
            parameters: spec
                .parameters
                .into_iter()
                .map(HostParameter::from)
                .collect(),
            metadata: spec.metadata.into_iter().collect(),
            supports_streaming: spec.supports_streaming,
            extra_parameters: false,
            result_schema: None,
        }
    }
}

impl From<proto::ParameterSpec> for HostParameter {
    fn from(spec: proto::ParameterSpec) -> Self {
        let type_name = if spec.r#type.trim().is_empty() {
            "any".to_owned()
        } else {
            spec.r#type
        };
        HostParameter {
            name: spec.name,
            type_name,
            required: spec.required,
            description: spec.description,
            default: spec.default_value.map(|any| json_or_text(&any.value)),
            validation: if spec.validation_json.trim().is_empty() {
                serde_json::json!({})
            } else {
                json_or_text(spec.validation_json.as_bytes())
            },
            binary: false,
            rest: false,
            schema: None,
        }
    }
}

impl From<&HostTool> for proto::ToolSpec {
    fn from(tool: &HostTool) -> Self {
        proto::ToolSpec {
            name: tool.name.clone(),
            description: tool.description.clone(),
            parameters: tool
                .parameters
                .iter()
                .map(proto::ParameterSpec::from)
                .collect(),
            metadata: tool
                .metadata
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            supports_streaming: tool.supports_streaming,
        }
    }
}

impl From<&HostParameter> for proto::ParameterSpec {
    fn from(param: &HostParameter) -> Self {
        proto::ParameterSpec {
            name: param.name.clone(),
            r#type: param.type_name.clone(),
            description: param.description.clone(),
            required: param.required,
            default_value: param
                .default
                .as_ref()
                .map(|value| json_any(value.to_string().into_bytes())),
            validation_json: param.validation.to_string(),
        }
    }
}

/// JSON text as a value; text that is not JSON is kept as a string rather than lost.
fn json_or_text(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;

    use super::*;

    fn spec(name: &str) -> proto::ToolSpec {
        proto::ToolSpec {
            name: name.to_owned(),
            description: format!("{name} tool"),
            parameters: vec![proto::ParameterSpec {
                name: "operation".into(),
                r#type: "string".into(),
                description: "what to do".into(),
                required: false,
                default_value: Some(json_any(b"\"sum\"".to_vec())),
                validation_json: "{}".into(),
            }],
            metadata: [("category".to_owned(), "demo".to_owned())].into(),
            supports_streaming: false,
        }
    }

    #[test]
    fn specs_are_keyed_and_sorted_by_name() {
        let tools = tools_by_name([spec("b"), spec("a"), spec("c")]);
        assert_eq!(tools.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn parameter_defaults_and_validation_are_decoded_from_json() {
        let tool = HostTool::from(spec("t"));
        let param = &tool.parameters[0];
        assert_eq!(param.default, Some(json!("sum")));
        assert_eq!(param.validation, json!({}));
        assert_eq!(tool.metadata["category"], "demo");
    }

    #[test]
    fn an_unset_type_is_any_and_odd_validation_is_kept_as_text() {
        let param = HostParameter::from(proto::ParameterSpec {
            name: "x".into(),
            validation_json: "not json".into(),
            ..Default::default()
        });
        assert_eq!(param.type_name, "any");
        assert_eq!(param.validation, json!("not json"));
    }

    #[test]
    fn host_tools_convert_back_to_the_same_spec() {
        let original = spec("t");
        let round_trip = proto::ToolSpec::from(&HostTool::from(original.clone()));
        assert_eq!(round_trip, original);
    }

    #[tokio::test]
    async fn concurrent_first_uses_fetch_once() {
        let cache = Arc::new(ToolCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                let fetches = fetches.clone();
                tokio::spawn(async move {
                    cache
                        .get_or_fetch(|| async move {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            Ok(tools_by_name([spec("a")]))
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().unwrap().contains_key("a"));
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn concurrent_refreshes_after_one_list_fetch_once() {
        let cache = Arc::new(ToolCache::default());
        let seen = cache
            .get_or_fetch(|| async { Ok(tools_by_name([spec("a")])) })
            .await
            .unwrap();
        let fetches = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, seen, fetches) = (cache.clone(), seen.clone(), fetches.clone());
                tokio::spawn(async move {
                    cache
                        .refresh_after(&seen, || async move {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            Ok(tools_by_name([spec("a"), spec("b")]))
                        })
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().len(), 2);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // A list that is the current one is fetched again.
        let current = cache.cached().unwrap();
        let again = cache
            .refresh_after(&current, || async { Ok(tools_by_name([spec("c")])) })
            .await
            .unwrap();
        assert_eq!(again.keys().collect::<Vec<_>>(), ["c"]);
    }

    #[tokio::test]
    async fn refresh_replaces_the_list_and_a_failed_fetch_keeps_nothing() {
        let cache = ToolCache::default();
        let failed = cache
            .get_or_fetch(|| async { Err(Error::Runtime(std::io::Error::other("down"))) })
            .await;
        assert!(failed.is_err());
        cache
            .get_or_fetch(|| async { Ok(tools_by_name([spec("a")])) })
            .await
            .unwrap();
        let refreshed = cache
            .refresh(|| async { Ok(tools_by_name([spec("b")])) })
            .await
            .unwrap();
        assert_eq!(refreshed.keys().collect::<Vec<_>>(), ["b"]);
        let cached = cache
            .get_or_fetch(|| async { unreachable!() })
            .await
            .unwrap();
        assert_eq!(cached.keys().collect::<Vec<_>>(), ["b"]);
    }
}
