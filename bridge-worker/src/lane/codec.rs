//! The lane's terms (see `snakepit_bridge_spec::lane`), read into and written from the
//! protocol's own messages, so that a call on the lane runs through the very code a gRPC call
//! runs through. Terms are read and written by `eetf`; every frame passes
//! [`check_term_shape`] first.

use std::collections::HashMap;
use std::time::Duration;

use eetf::{Atom, Binary, FixInteger, Map, Term, Tuple};
use snakepit_bridge_runtime::proto;
use snakepit_bridge_spec::lane::{check_term_shape, FRAME_LENGTH_BYTES};

/// What the BEAM sends on the lane.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// `{:hello, version}`.
    Hello { version: u32 },
    /// `{:execute, ...}`: one call.
    Execute(Box<LaneCall>),
    /// `{:cancel}`: the caller stopped waiting.
    Cancel,
}

/// One call, as the gRPC server would have received it.
#[derive(Debug)]
pub(crate) struct LaneCall {
    pub(crate) request: proto::ExecuteToolRequest,
    /// The `x-snakepit-correlation-id` header snakepit's client sends beside the request.
    pub(crate) correlation_id: Option<String>,
    /// The caller's timeout (`grpc-timeout` on the gRPC lane); `None` for `:infinity`.
    pub(crate) timeout: Option<Duration>,
}

/// Reads one frame's term.
pub(crate) fn read_inbound(term: &[u8]) -> Result<Inbound, String> {
    check_term_shape(term)?;
    let term =
        Term::decode(term).map_err(|error| format!("the frame is not a valid term: {error}"))?;
    let Term::Tuple(Tuple { elements }) = term else {
        return Err(format!("the frame holds {}, not a tuple", kind(&term)));
    };
    let mut elements = elements.into_iter();
    let tag = match elements.next() {
        Some(Term::Atom(atom)) => atom.name,
        _ => return Err("the frame's tuple does not start with an atom".to_owned()),
    };
    let rest: Vec<Term> = elements.collect();
    match (tag.as_str(), rest.len()) {
        ("hello", 1) => Ok(Inbound::Hello {
            version: integer(&rest[0])
                .and_then(|version| u32::try_from(version).ok())
                .ok_or("the hello's version is not a number")?,
        }),
        ("execute", 8) => read_execute(rest).map(|call| Inbound::Execute(Box::new(call))),
        ("cancel", 0) => Ok(Inbound::Cancel),
        (tag, arity) => Err(format!(
            "the lane has no `{tag}` frame of {} elements (a newer BEAM side than this worker?)",
            arity + 1
        )),
    }
}

fn read_execute(fields: Vec<Term>) -> Result<LaneCall, String> {
    let mut fields = fields.into_iter();
    let mut next = || fields.next().expect("eight fields, counted by the caller");
    let session_id = string(next(), "session_id")?;
    let tool_name = string(next(), "tool_name")?;
    let parameters = map(next(), "parameters")?
        .into_iter()
        .map(|(name, value)| {
            let name = string(name, "a parameter name")?;
            let any = match value {
                Term::Tuple(Tuple { elements }) if elements.len() == 2 => {
                    let mut parts = elements.into_iter();
                    let type_url = string(parts.next().expect("two"), "a parameter's type_url")?;
                    let value = bytes(parts.next().expect("two"), "a parameter's value")?;
                    prost_types::Any { type_url, value }
                }
                other => {
                    return Err(format!(
                        "parameter `{name}` is {}, not {{type_url, value}}",
                        kind(&other)
                    ))
                }
            };
            Ok((name, any))
        })
        .collect::<Result<HashMap<_, _>, String>>()?;
    let binary_parameters = map(next(), "binary_parameters")?
        .into_iter()
        .map(|(name, value)| {
            let name = string(name, "a binary parameter name")?;
            let value = bytes(value, "a binary parameter")?;
            Ok((name, value))
        })
        .collect::<Result<HashMap<_, _>, String>>()?;
    let metadata = map(next(), "metadata")?
        .into_iter()
        .map(|(key, value)| {
            Ok((
                string(key, "a metadata key")?,
                string(value, "a metadata value")?,
            ))
        })
        .collect::<Result<HashMap<_, _>, String>>()?;
    let correlation_id = match next() {
        term if is_atom(&term, "nil") => None,
        term => Some(string(term, "correlation_id")?),
    };
    let timeout = match next() {
        term if is_atom(&term, "infinity") => None,
        term => Some(Duration::from_millis(
            integer(&term)
                .and_then(|ms| u64::try_from(ms).ok())
                .ok_or_else(|| {
                    format!(
                        "the timeout is {}, not milliseconds or :infinity",
                        kind(&term)
                    )
                })?,
        )),
    };
    let stream = match next() {
        term if is_atom(&term, "true") => true,
        term if is_atom(&term, "false") => false,
        term => return Err(format!("stream? is {}, not a boolean", kind(&term))),
    };
    Ok(LaneCall {
        request: proto::ExecuteToolRequest {
            session_id,
            tool_name,
            parameters,
            metadata,
            stream,
            binary_parameters,
        },
        correlation_id,
        timeout,
    })
}

/// What a term is, for an error message: never its value, which may be megabytes (and a
/// bignum's decimal form costs time out of proportion to its size).
fn kind(term: &Term) -> String {
    match term {
        Term::Atom(atom) if atom.name.len() <= 32 => format!("the atom :{}", atom.name),
        Term::Atom(_) => "an atom".to_owned(),
        Term::FixInteger(_) | Term::BigInteger(_) => "an integer".to_owned(),
        Term::Float(_) => "a float".to_owned(),
        Term::Binary(binary) => format!("a binary of {} bytes", binary.bytes.len()),
        Term::ByteList(_) | Term::List(_) | Term::ImproperList(_) => "a list".to_owned(),
        Term::Tuple(tuple) => format!("a tuple of {} elements", tuple.elements.len()),
        Term::Map(_) => "a map".to_owned(),
        _ => "a term the lane does not use".to_owned(),
    }
}

fn is_atom(term: &Term, name: &str) -> bool {
    matches!(term, Term::Atom(atom) if atom.name == name)
}

fn integer(term: &Term) -> Option<i64> {
    match term {
        Term::FixInteger(FixInteger { value }) => Some(i64::from(*value)),
        Term::BigInteger(big) => i64::try_from(&big.value).ok(),
        _ => None,
    }
}

fn bytes(term: Term, what: &str) -> Result<Vec<u8>, String> {
    match term {
        Term::Binary(Binary { bytes }) => Ok(bytes),
        other => Err(format!("{what} is {}, not a binary", kind(&other))),
    }
}

fn string(term: Term, what: &str) -> Result<String, String> {
    String::from_utf8(bytes(term, what)?).map_err(|_| format!("{what} is not valid UTF-8"))
}

fn map(term: Term, what: &str) -> Result<HashMap<Term, Term>, String> {
    match term {
        Term::Map(Map { map }) => Ok(map),
        other => Err(format!("{what} is {}, not a map", kind(&other))),
    }
}

pub(super) fn atom(name: &str) -> Term {
    Term::from(Atom::from(name))
}

pub(super) fn binary(bytes: impl Into<Vec<u8>>) -> Term {
    Term::from(Binary {
        bytes: bytes.into(),
    })
}

pub(super) fn boolean(value: bool) -> Term {
    atom(if value { "true" } else { "false" })
}

pub(super) fn tuple(elements: Vec<Term>) -> Term {
    Term::from(Tuple { elements })
}

pub(super) fn string_map(entries: HashMap<String, String>) -> Term {
    Term::from(Map {
        map: entries
            .into_iter()
            .map(|(key, value)| (binary(key), binary(value)))
            .collect(),
    })
}

pub(super) fn int(value: i64) -> Term {
    match i32::try_from(value) {
        Ok(small) => Term::from(FixInteger::from(small)),
        Err(_) => Term::from(eetf::BigInteger {
            value: value.into(),
        }),
    }
}

/// One frame: its length, the call id, the term.
fn frame(call_id: u64, term: &Term) -> Vec<u8> {
    let mut frame = vec![0; FRAME_LENGTH_BYTES];
    frame.extend_from_slice(&call_id.to_be_bytes());
    term.encode(&mut frame)
        .expect("writing a term into a Vec cannot fail");
    let length = u32::try_from(frame.len() - FRAME_LENGTH_BYTES).unwrap_or(u32::MAX);
    frame[..FRAME_LENGTH_BYTES].copy_from_slice(&length.to_be_bytes());
    frame
}

/// `{:hello, version, port}`.
pub(crate) fn hello_frame(call_id: u64, version: u32, port: u16) -> Vec<u8> {
    frame(
        call_id,
        &tuple(vec![
            atom("hello"),
            int(i64::from(version)),
            int(i64::from(port)),
        ]),
    )
}

/// `{:response, success?, {type_url, value} | nil, error_message, binary_result, ms}`.
pub(crate) fn response_frame(call_id: u64, response: proto::ExecuteToolResponse) -> Vec<u8> {
    let result = match response.result {
        Some(any) => tuple(vec![binary(any.type_url), binary(any.value)]),
        None => atom("nil"),
    };
    frame(
        call_id,
        &tuple(vec![
            atom("response"),
            boolean(response.success),
            result,
            binary(response.error_message),
            binary(response.binary_result.to_vec()),
            int(response.execution_time_ms),
        ]),
    )
}

/// `{:chunk, chunk_id, data, is_final?, metadata}`.
pub(crate) fn chunk_frame(call_id: u64, chunk: proto::ToolChunk) -> Vec<u8> {
    frame(
        call_id,
        &tuple(vec![
            atom("chunk"),
            binary(chunk.chunk_id),
            binary(chunk.data),
            boolean(chunk.is_final),
            string_map(chunk.metadata),
        ]),
    )
}

/// `{:end}`: the stream ended with status OK.
pub(crate) fn end_frame(call_id: u64) -> Vec<u8> {
    frame(call_id, &tuple(vec![atom("end")]))
}

/// `{:status, code, message}`: what the gRPC server would have ended the call with.
pub(crate) fn status_frame(call_id: u64, status: &tonic::Status) -> Vec<u8> {
    frame(
        call_id,
        &tuple(vec![
            atom("status"),
            int(i64::from(i32::from(status.code()))),
            binary(status.message()),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use snakepit_bridge_spec::lane::split_frame;

    fn encoded(term: Term) -> Vec<u8> {
        let mut bytes = Vec::new();
        term.encode(&mut bytes).unwrap();
        bytes
    }

    fn execute_term(timeout: Term) -> Term {
        tuple(vec![
            atom("execute"),
            binary("session-1"),
            binary("add"),
            Term::from(Map {
                map: [(
                    binary("a"),
                    tuple(vec![
                        binary("type.googleapis.com/google.protobuf.StringValue"),
                        binary("18446744073709551616"),
                    ]),
                )]
                .into_iter()
                .collect(),
            }),
            Term::from(Map {
                map: [(binary("blob"), binary(vec![0u8, 255]))]
                    .into_iter()
                    .collect(),
            }),
            string_map([("correlation_id".to_owned(), "c-1".to_owned())].into()),
            binary("c-1"),
            timeout,
            boolean(false),
        ])
    }

    #[test]
    fn reads_an_execute_frame_into_the_grpc_request() {
        let Inbound::Execute(call) = read_inbound(&encoded(execute_term(int(30_000)))).unwrap()
        else {
            panic!("not an execute frame");
        };
        assert_eq!(call.request.session_id, "session-1");
        assert_eq!(call.request.tool_name, "add");
        assert_eq!(call.request.parameters["a"].value, b"18446744073709551616");
        assert_eq!(call.request.binary_parameters["blob"], vec![0, 255]);
        assert_eq!(call.request.metadata["correlation_id"], "c-1");
        assert_eq!(call.correlation_id.as_deref(), Some("c-1"));
        assert_eq!(call.timeout, Some(Duration::from_secs(30)));
        assert!(!call.request.stream);

        let Inbound::Execute(call) =
            read_inbound(&encoded(execute_term(atom("infinity")))).unwrap()
        else {
            panic!("not an execute frame");
        };
        assert_eq!(call.timeout, None);
    }

    #[test]
    fn refuses_frames_of_the_wrong_shape_with_what_is_wrong() {
        let error = read_inbound(&encoded(execute_term(binary("soon")))).unwrap_err();
        assert!(error.contains("not milliseconds or :infinity"), "{error}");
        let error = read_inbound(&encoded(tuple(vec![atom("launch"), int(1)]))).unwrap_err();
        assert!(error.contains("no `launch` frame of 2 elements"), "{error}");
        let error = read_inbound(&encoded(int(7))).unwrap_err();
        assert!(error.contains("not a tuple"), "{error}");
        let error = read_inbound(&[131, 109, 255, 255, 255, 255]).unwrap_err();
        assert!(error.contains("needs 4294967295 bytes"), "{error}");
        let bad_utf8 = tuple(vec![
            atom("execute"),
            binary(vec![0xff]),
            binary("add"),
            Term::from(Map {
                map: HashMap::new(),
            }),
            Term::from(Map {
                map: HashMap::new(),
            }),
            Term::from(Map {
                map: HashMap::new(),
            }),
            atom("nil"),
            int(1),
            boolean(true),
        ]);
        let error = read_inbound(&encoded(bad_utf8)).unwrap_err();
        assert_eq!(error, "session_id is not valid UTF-8");
    }

    #[test]
    fn writes_frames_with_their_length_and_call_id() {
        let frame = response_frame(
            7,
            proto::ExecuteToolResponse {
                success: true,
                result: Some(prost_types::Any {
                    type_url: "t".to_owned(),
                    value: b"1".to_vec(),
                }),
                execution_time_ms: 3_000_000_000,
                ..Default::default()
            },
        );
        let length = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(length, frame.len() - 4);
        let (id, term) = split_frame(&frame[4..]).unwrap();
        assert_eq!(id, 7);
        let term = Term::decode(term).unwrap();
        assert_eq!(
            term.to_string(),
            "{'response','true',{<<116>>,<<49>>},<<>>,<<>>,3000000000}"
        );
        let status = status_frame(9, &tonic::Status::not_found("no tool"));
        let (_, term) = split_frame(&status[4..]).unwrap();
        assert_eq!(
            Term::decode(term).unwrap().to_string(),
            "{'status',5,<<110,111,32,116,111,111,108>>}"
        );
    }
}
