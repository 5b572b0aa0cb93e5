//! The one error type of snakepit-bridge.

use std::time::Duration;

use snakepit_bridge_spec::ToolNameError;

/// Errors from talking to a snakepit host.
///
/// Each variant carries what a caller needs to act on it (the tool, the parameter, the raw text
/// the host sent); its `Display` is one readable sentence that says what to do.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The host address could not be understood.
    #[error("invalid host address `{address}`: {reason}; give `host:port` or a URI such as `http://host:port`")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// Why it was rejected.
        reason: String,
    },

    /// No connection to the host could be made.
    #[error("could not connect to the snakepit host at {address}: {reason}; check that the host is running and listening there")]
    Connect {
        /// The address that was tried.
        address: String,
        /// What the transport reported.
        reason: String,
    },

    /// There is no host to call: the worker was started without one, a unit test attached a
    /// fake caller, or the runtime that carried the call stopped. Not a connection failure:
    /// trying again does not help.
    #[error("there is no snakepit host to call: {reason}")]
    NoHost {
        /// Why, and what to do.
        reason: String,
    },

    /// The TLS options could not be used (a certificate or key that does not parse): a
    /// mistake in the options, not a connection failure.
    #[error("invalid TLS options for the host at {address}: {reason}")]
    InvalidTlsOptions {
        /// The host's address.
        address: String,
        /// What the TLS stack reported.
        reason: String,
    },

    /// The address or the options ask for TLS, but this build has no TLS stack.
    #[error("the host at `{address}` is to be reached over TLS (an `https://` address or TLS options), but snakepit-bridge was built without TLS; enable the `tls` feature of `snakepit-bridge` (or of `snakepit-bridge-runtime`)")]
    TlsNotEnabled {
        /// The address as given.
        address: String,
    },

    /// Extra gRPC metadata given on the builder is not a valid header.
    #[error("invalid gRPC metadata `{key}`: {reason}")]
    InvalidMetadata {
        /// The metadata key.
        key: String,
        /// Why it is not valid.
        reason: String,
    },

    /// A tool name breaks snakepit's naming rule; nothing was sent.
    #[error("invalid tool name `{name}`: {reason}")]
    InvalidToolName {
        /// The name as given.
        name: String,
        /// Which part of the rule it breaks.
        #[source]
        reason: ToolNameError,
    },

    /// The host does not list the tool for this session; no execute request was sent.
    #[error("{}", tool_not_found(tool, session, available, suggestion.as_deref()))]
    ToolNotFound {
        /// The tool that was asked for.
        tool: String,
        /// The session whose tool list was searched.
        session: String,
        /// The tools the host does list, sorted by name.
        available: Vec<String>,
        /// The listed tool whose name is closest to `tool`, if any is close.
        suggestion: Option<String>,
    },

    /// The host ran the tool, or tried to, and reported a failure (`success = false`).
    #[error("tool `{tool}` failed on the host: {message}")]
    ToolFailed {
        /// The tool that was called.
        tool: String,
        /// The host's `error_message`, as sent.
        message: String,
    },

    /// The parameters could not be encoded; nothing was sent.
    #[error("invalid parameters for tool `{tool}`: {}", parameter_problem(parameter.as_deref(), reason))]
    InvalidParameters {
        /// The tool that was to be called.
        tool: String,
        /// The offending parameter, when one is to blame.
        parameter: Option<String>,
        /// What is wrong with it.
        reason: String,
    },

    /// The host's result is not JSON (for example the printed form of an Elixir term the host
    /// could not encode).
    #[error(
        "tool `{tool}` returned a result that is not JSON ({reason}); the host sent: {}",
        abbreviate(raw)
    )]
    UndecodableResult {
        /// The tool that was called.
        tool: String,
        /// The result exactly as the host sent it (lossily decoded as UTF-8).
        raw: String,
        /// Why it could not be decoded.
        reason: String,
    },

    /// The result is JSON, but not of the shape the caller asked for.
    #[error("tool `{tool}` returned a result that does not fit `{expected}`: {reason}")]
    UnexpectedResult {
        /// The tool that was called.
        tool: String,
        /// The Rust type the caller asked for.
        expected: &'static str,
        /// What did not fit.
        reason: String,
    },

    /// The host did not answer within the configured time.
    #[error("{operation} did not finish within {limit:?}; raise the limit on the SessionContext builder if the host is just slow")]
    Timeout {
        /// What was waited for (a tool call or an RPC).
        operation: String,
        /// The limit that ran out.
        limit: Duration,
    },

    /// A message was larger than the configured size limit.
    #[error("{operation} failed: {detail}; raise the limit with `max_message_size` on the SessionContext builder")]
    MessageTooLarge {
        /// What was being sent or received.
        operation: String,
        /// The transport's account, with the size and the limit.
        detail: String,
    },

    /// The host refused `InitializeSession`.
    #[error("the host could not initialize session `{session}`: {message}")]
    Session {
        /// The session id.
        session: String,
        /// The host's error message.
        message: String,
    },

    /// Any other gRPC failure (host unreachable, connection reset, unexpected status).
    #[error("{operation} failed with gRPC status {code:?}: {message}{}", status_hint(*code))]
    Status {
        /// The RPC or tool call that failed.
        operation: String,
        /// The gRPC status code.
        code: tonic::Code,
        /// The status message.
        message: String,
    },

    /// The host disagrees with the tools a trait declares (from `SessionContext::verify`).
    #[error(
        "the host disagrees with the tools `{declaration}` declares: {}",
        list_mismatches(mismatches)
    )]
    Mismatch {
        /// The declaring trait.
        declaration: String,
        /// Every disagreement, in declaration order.
        mismatches: Vec<snakepit_bridge_spec::Mismatch>,
    },

    /// The blocking API could not start its background runtime.
    #[error("could not start the runtime of the blocking SessionContext: {0}")]
    Runtime(#[source] std::io::Error),
}

impl Error {
    /// Maps a gRPC status from `operation` onto the variant a caller can act on.
    pub(crate) fn from_status(operation: impl Into<String>, status: tonic::Status) -> Error {
        let operation = operation.into();
        let mut message = status.message().to_owned();
        // Transport failures say only "transport error"; the cause is in the sources.
        append_sources(&mut message, std::error::Error::source(&status));
        let message = explain_transport(message);
        if message.contains("message length too large") {
            return Error::MessageTooLarge {
                operation,
                detail: message,
            };
        }
        Error::Status {
            operation,
            code: status.code(),
            message,
        }
    }
}

/// A transport failure in words that say what to do: rustls reports a plaintext answer to its
/// TLS handshake as a "corrupt message of type InvalidContentType".
pub(crate) fn explain_transport(text: String) -> String {
    if text.contains("InvalidContentType") {
        return "the host does not speak TLS at this address (it answered in plaintext); \
                use `http://` or `host:port` without TLS options"
            .to_owned();
    }
    text
}

/// Appends each source of an error to `text`, `: `-separated. Layers often repeat their inner
/// error's text; each thing is said once.
pub(crate) fn append_sources(
    text: &mut String,
    mut source: Option<&(dyn std::error::Error + 'static)>,
) {
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
}

fn tool_not_found(
    tool: &str,
    session: &str,
    available: &[String],
    suggestion: Option<&str>,
) -> String {
    let mut text = format!("the host exposes no tool `{tool}` to session `{session}`");
    match suggestion {
        Some(_) => text.push_str(&snakepit_bridge_spec::did_you_mean(suggestion)),
        None => text.push('.'),
    }
    if available.is_empty() {
        text.push_str(" The host lists no tools at all for this session: check the session id and that the tools are exposed to workers");
    } else {
        text.push_str(&format!(" Available tools: {}", available.join(", ")));
    }
    text
}

fn list_mismatches(mismatches: &[snakepit_bridge_spec::Mismatch]) -> String {
    mismatches
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn parameter_problem(parameter: Option<&str>, reason: &str) -> String {
    match parameter {
        Some(name) => format!("parameter `{name}` {reason}"),
        None => reason.to_owned(),
    }
}

/// The readable message, as `Display` writes it: `fn main() -> Result<(), Error>` prints an
/// error with `Debug`, and a derived `Debug` would hide the sentence behind the fields.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

fn status_hint(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::Unavailable => " (is the host running and reachable?)",
        tonic::Code::Unimplemented => {
            " (the server does not implement this RPC: is it a snakepit host?)"
        }
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
            " (the host wants credentials: set `bearer_token` or `metadata` on the SessionContext builder)"
        }
        _ => "",
    }
}

/// The first 200 characters of a raw result, enough to recognise it in a message.
fn abbreviate(raw: &str) -> String {
    const LIMIT: usize = 200;
    match raw.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}... ({} bytes in all)", &raw[..cut], raw.len()),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_readable_message_as_main_prints_it() {
        let error = Error::Timeout {
            operation: "the call of tool `slow`".into(),
            limit: std::time::Duration::from_secs(2),
        };
        assert_eq!(format!("{error:?}"), error.to_string());
        assert!(
            format!("{error:?}").starts_with("the call of tool `slow` did not finish within 2s")
        );
    }

    #[test]
    fn tool_not_found_names_the_suggestion_and_the_list() {
        let error = Error::ToolNotFound {
            tool: "calc_fib".into(),
            session: "s1".into(),
            available: vec!["calculate_fibonacci".into(), "parse_json".into()],
            suggestion: Some("calculate_fibonacci".into()),
        };
        assert_eq!(
            error.to_string(),
            "the host exposes no tool `calc_fib` to session `s1`; did you mean `calculate_fibonacci`? \
             Available tools: calculate_fibonacci, parse_json"
        );
    }

    #[test]
    fn tool_not_found_with_an_empty_list_points_at_the_session() {
        let error = Error::ToolNotFound {
            tool: "x".into(),
            session: "s1".into(),
            available: vec![],
            suggestion: None,
        };
        assert!(
            error.to_string().contains("lists no tools at all"),
            "{error}"
        );
    }

    #[test]
    fn long_raw_results_are_abbreviated_in_the_message_but_kept_whole() {
        let raw = "%{".to_owned() + &"a".repeat(500) + "}";
        let error = Error::UndecodableResult {
            tool: "t".into(),
            raw: raw.clone(),
            reason: "expected value".into(),
        };
        let text = error.to_string();
        assert!(text.contains("(503 bytes in all)"), "{text}");
        assert!(text.len() < 400);
        assert!(matches!(error, Error::UndecodableResult { raw: kept, .. } if kept == raw));
    }

    #[test]
    fn oversized_message_statuses_become_message_too_large() {
        let status = tonic::Status::out_of_range(
            "Error, decoded message length too large: found 9 bytes, the limit is: 4 bytes",
        );
        let error = Error::from_status("tool `t`", status);
        assert!(matches!(error, Error::MessageTooLarge { .. }));
        assert!(error.to_string().contains("max_message_size"));
    }

    #[test]
    fn unavailable_status_hints_at_the_host() {
        let error = Error::from_status("the `Ping` call", tonic::Status::unavailable("refused"));
        assert_eq!(
            error.to_string(),
            "the `Ping` call failed with gRPC status Unavailable: refused (is the host running and reachable?)"
        );
    }

    #[test]
    fn invalid_parameters_name_the_parameter() {
        let error = Error::InvalidParameters {
            tool: "add".into(),
            parameter: Some("x".into()),
            reason: "is NaN, which JSON cannot carry".into(),
        };
        assert_eq!(
            error.to_string(),
            "invalid parameters for tool `add`: parameter `x` is NaN, which JSON cannot carry"
        );
    }
}
