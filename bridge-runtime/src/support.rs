//! Small pieces every side of the bridge needs, each written once: the client here, the worker
//! runtime (`snakepit-bridge-worker`) and the snakepit emulator (`snakepit-bridge-testkit`) call
//! them. The facade `snakepit-bridge` does not re-export them: a user of the bridge does not
//! need them, and the macros' support is the hidden `__private` module, apart from this.

use std::collections::HashMap;
use std::future::Future;
use std::time::SystemTime;

use crate::options::CORRELATION_HEADER;

/// An error and its sources, as one line: tonic's own `Display` says only "transport error".
/// A cause whose text the line already holds (many errors repeat their cause) is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    crate::error::append_sources(&mut text, error.source());
    text
}

/// The text of a panic's payload (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_owned())
}

/// The current time as the `server_time` and `client_time` fields carry it.
pub fn timestamp_now() -> Option<prost_types::Timestamp> {
    Some(SystemTime::now().into())
}

/// A call's correlation id: the request's `metadata["correlation_id"]`, else the
/// `x-snakepit-correlation-id` header. The host sends both, with the same id
/// (`build_request_metadata/2` and `maybe_put_correlation_metadata/2` in snakepit v0.13.0's
/// `lib/snakepit/grpc/client_impl.ex`).
pub fn correlation_id_of(
    metadata: &HashMap<String, String>,
    headers: &tonic::metadata::MetadataMap,
) -> Option<String> {
    metadata
        .get(snakepit_bridge_spec::CORRELATION_METADATA_KEY)
        .cloned()
        .or_else(|| {
            headers
                .get(CORRELATION_HEADER)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
}

/// Runs `work` on the runtime behind `handle` and blocks this thread until it is done; `None`
/// when the runtime shut down before it finished.
///
/// It works from any thread, one inside a tokio runtime included (where `block_on` would
/// panic); called from an async task it blocks that task's thread while it waits.
pub fn wait_on<T, F>(handle: &tokio::runtime::Handle, work: F) -> Option<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let (answer, answered) = std::sync::mpsc::sync_channel(1);
    handle.spawn(async move {
        let _ = answer.send(work.await);
    });
    answered.recv().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|inner| inner as _)
        }
    }

    #[test]
    fn the_chain_is_one_line_without_repeats() {
        let error = Layer(
            "transport error",
            Some(Box::new(Layer(
                "connection refused: refused",
                Some(Box::new(Layer("refused", None))),
            ))),
        );
        assert_eq!(
            error_chain(&error),
            "transport error: connection refused: refused"
        );
    }

    #[test]
    fn panic_payloads_become_text() {
        let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(payload.as_ref()), "boom 1");
        let payload = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(payload.as_ref()), "static");
        let payload = std::panic::catch_unwind(|| std::panic::panic_any(7)).unwrap_err();
        assert_eq!(
            panic_message(payload.as_ref()),
            "a panic with a non-text payload"
        );
    }

    #[test]
    fn the_metadata_entry_wins_over_the_header() {
        let mut headers = tonic::metadata::MetadataMap::new();
        headers.insert(CORRELATION_HEADER, "from-header".parse().unwrap());
        let mut metadata = HashMap::new();
        assert_eq!(
            correlation_id_of(&metadata, &headers).as_deref(),
            Some("from-header")
        );
        metadata.insert("correlation_id".to_owned(), "from-metadata".to_owned());
        assert_eq!(
            correlation_id_of(&metadata, &headers).as_deref(),
            Some("from-metadata")
        );
        assert_eq!(
            correlation_id_of(&HashMap::new(), &Default::default()),
            None
        );
    }

    #[test]
    fn waits_on_a_runtime_from_inside_another() {
        let background = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let handle = background.handle().clone();
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Inside a runtime, where `block_on` would panic.
        let answer = outer.block_on(async { wait_on(&handle, async { 6 * 7 }) });
        assert_eq!(answer, Some(42));
        background.shutdown_background();
    }
}
