//! The Unix-socket lane: how the Elixir package (`SnakepitBridge.Adapter`) carries
//! `ExecuteTool` and `ExecuteStreamingTool` calls to a worker over a Unix domain socket instead
//! of snakepit's gRPC client, and how the worker offers it. Everything else (the ready file,
//! sessions, heartbeats, telemetry, calls back into Elixir) stays on snakepit's gRPC channel.
//!
//! - The BEAM makes a directory only its user can enter (mode 0700) and names it in
//!   [`LANE_DIR_ENV`], which every worker it launches inherits. A worker that finds the
//!   variable listens on [`lane_socket_name`] (its gRPC port) in that directory before it
//!   writes its ready file; the adapter, told the port by snakepit, connects there and says
//!   hello. A worker without the lane (snakepit's Python worker, an older Rust worker) has no
//!   socket there, and is driven over gRPC.
//! - A frame, in each direction, is a 4-byte big-endian length (Erlang's `{packet, 4}`), then
//!   an 8-byte big-endian call id, then one term in Erlang's external term format. Call id
//!   [`HELLO_CALL_ID`] is the connection's own; every other id is one call, chosen by the BEAM.
//! - The terms (atoms as Elixir writes them):
//!   - BEAM to worker: `{:hello, version}`; `{:execute, session_id, tool_name, parameters,
//!     binary_parameters, metadata, correlation_id | nil, timeout_ms | :infinity, stream?}`,
//!     with `parameters` a map of name to `{type_url, value}` (the `google.protobuf.Any`
//!     snakepit's gRPC client would send: the value is its JSON); `{:cancel}` for a call whose
//!     caller stopped waiting.
//!   - Worker to BEAM: `{:hello, version, port}`; for a unary call `{:response, success?,
//!     {type_url, value} | nil, error_message, binary_result, execution_time_ms}`; for a
//!     stream, `{:chunk, chunk_id, data, is_final?, metadata}` each, then `{:end}`; for a call
//!     the gRPC server would have failed, `{:status, code, message}` with the gRPC status code.
//!
//! [`check_term_shape`] is the guard every frame passes before a term decoder reads it.

/// The environment variable naming the lane directory (mode 0700, the BEAM's user's).
pub const LANE_DIR_ENV: &str = "SNAKEPIT_BRIDGE_LANE_DIR";

/// The lane's version, exchanged in the hello.
pub const LANE_VERSION: u32 = 1;

/// The call id of the connection's hello.
pub const HELLO_CALL_ID: u64 = 0;

/// Bytes of the frame length before each frame.
pub const FRAME_LENGTH_BYTES: usize = 4;

/// Bytes of the call id at the start of each frame.
pub const CALL_ID_BYTES: usize = 8;

/// The largest nesting of terms a frame may hold. The lane's own terms nest three deep; the
/// bound keeps a hostile frame from exhausting a decoder's stack.
pub const MAX_TERM_DEPTH: usize = 16;

/// The most terms a frame may hold. A decoder holds each term in a few dozen bytes, whatever
/// its size on the wire (`[]` is one byte): without a bound a 100 MiB frame of empty lists
/// would ask for gigabytes. A call's terms are about three per parameter.
pub const MAX_TERM_COUNT: usize = 100_000;

/// The widest integer a frame may hold, in bytes of magnitude: the lane's integers (call
/// timeouts, versions, ports) fit in 64 bits, and a wide bignum costs a decoder's printing
/// and arithmetic time out of proportion to its size.
pub const MAX_INTEGER_BYTES: usize = 8;

/// The socket's file name in the lane directory: the worker's gRPC port, which the host knows
/// (`init_grpc_connection(port)`) and no other live worker has.
pub fn lane_socket_name(port: u16) -> String {
    format!("{port}.sock")
}

/// Splits a frame (after its length) into its call id and its term.
pub fn split_frame(frame: &[u8]) -> Option<(u64, &[u8])> {
    let (id, term) = frame.split_at_checked(CALL_ID_BYTES)?;
    Some((u64::from_be_bytes(id.try_into().ok()?), term))
}

/// Checks that `bytes` hold one term in the external term format (version byte 131), with
/// only the tags the lane uses (integers, floats, atoms, binaries, lists, strings, tuples,
/// maps), no length that runs past the end, nesting at most [`MAX_TERM_DEPTH`], at most
/// [`MAX_TERM_COUNT`] terms, integers of at most [`MAX_INTEGER_BYTES`], and nothing after it. A term decoder allocates what a length says before it reads; this check keeps a
/// frame that lies about its lengths (or a compressed term) from reaching one.
pub fn check_term_shape(bytes: &[u8]) -> Result<(), String> {
    let mut reader = TermReader {
        bytes,
        at: 0,
        terms: 0,
    };
    match reader.byte()? {
        131 => {}
        other => {
            return Err(format!(
                "the frame does not start with the external term format's version byte 131 (got {other})"
            ))
        }
    }
    reader.term(0)?;
    if reader.at != bytes.len() {
        return Err(format!(
            "{} bytes follow the frame's term",
            bytes.len() - reader.at
        ));
    }
    Ok(())
}

struct TermReader<'a> {
    bytes: &'a [u8],
    at: usize,
    terms: usize,
}

impl TermReader<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, count: usize) -> Result<&[u8], String> {
        if count > self.left() {
            return Err(format!(
                "a term at byte {} needs {count} bytes but {} are left",
                self.at,
                self.left()
            ));
        }
        let taken = &self.bytes[self.at..self.at + count];
        self.at += count;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn length(&mut self, bytes: usize) -> Result<usize, String> {
        let raw = self.take(bytes)?;
        Ok(raw
            .iter()
            .fold(0usize, |sum, byte| (sum << 8) | usize::from(*byte)))
    }

    /// Reads `count` terms, each of which is at least one byte.
    fn terms(&mut self, count: usize, depth: usize) -> Result<(), String> {
        if count > self.left() {
            return Err(format!(
                "a term at byte {} claims {count} elements but {} bytes are left",
                self.at,
                self.left()
            ));
        }
        (0..count).try_for_each(|_| self.term(depth))
    }

    fn term(&mut self, depth: usize) -> Result<(), String> {
        if depth >= MAX_TERM_DEPTH {
            return Err(format!(
                "the frame's terms nest deeper than {MAX_TERM_DEPTH} levels"
            ));
        }
        self.terms += 1;
        if self.terms > MAX_TERM_COUNT {
            return Err(format!("the frame holds more than {MAX_TERM_COUNT} terms"));
        }
        let tag_at = self.at;
        let nested = depth + 1;
        match self.byte()? {
            // SMALL_INTEGER, INTEGER, NEW_FLOAT
            97 => self.take(1).map(drop),
            98 => self.take(4).map(drop),
            70 => self.take(8).map(drop),
            // SMALL_ATOM_UTF8, SMALL_ATOM; ATOM_UTF8, ATOM; STRING (a list of bytes)
            119 | 115 => {
                let length = self.length(1)?;
                self.take(length).map(drop)
            }
            118 | 100 | 107 => {
                let length = self.length(2)?;
                self.take(length).map(drop)
            }
            // BINARY
            109 => {
                let length = self.length(4)?;
                self.take(length).map(drop)
            }
            // SMALL_BIG, LARGE_BIG: digits, a sign byte, then the digits
            110 | 111 => {
                let digits = self.length(if self.bytes[tag_at] == 110 { 1 } else { 4 })?;
                if digits > MAX_INTEGER_BYTES {
                    return Err(format!(
                        "the integer at byte {tag_at} is {digits} bytes wide; the lane's integers \
                         fit in {MAX_INTEGER_BYTES}"
                    ));
                }
                self.take(digits + 1).map(drop)
            }
            // NIL
            106 => Ok(()),
            // LIST: its elements, then its tail
            108 => {
                let count = self.length(4)?;
                self.terms(count, nested)?;
                self.term(nested)
            }
            // SMALL_TUPLE, LARGE_TUPLE
            104 => {
                let arity = self.length(1)?;
                self.terms(arity, nested)
            }
            105 => {
                let arity = self.length(4)?;
                self.terms(arity, nested)
            }
            // MAP: keys and values
            116 => {
                let pairs = self.length(4)?;
                self.terms(pairs.saturating_mul(2), nested)
            }
            other => Err(format!(
                "the term at byte {tag_at} has tag {other}, which the lane does not use \
                 (compressed terms, pids, references and funs are refused)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_lanes_terms() {
        // :erlang.term_to_binary({:hello, 1})
        assert_eq!(
            check_term_shape(&[131, 104, 2, 119, 5, b'h', b'e', b'l', b'l', b'o', 97, 1]),
            Ok(())
        );
        // :erlang.term_to_binary(%{"a" => [1, <<2>>, 2 ** 63]})
        let map = [
            131, 116, 0, 0, 0, 1, 109, 0, 0, 0, 1, b'a', 108, 0, 0, 0, 3, 97, 1, 109, 0, 0, 0, 1,
            2, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128, 106,
        ];
        assert_eq!(check_term_shape(&map), Ok(()));
    }

    #[test]
    fn refuses_lengths_past_the_end() {
        // A binary claiming 4 GiB in a 10-byte frame.
        let error = check_term_shape(&[131, 109, 255, 255, 255, 255, 1, 2, 3]).unwrap_err();
        assert!(
            error.contains("needs 4294967295 bytes but 3 are left"),
            "{error}"
        );
        // A list claiming 2^32 - 1 elements.
        let error = check_term_shape(&[131, 108, 255, 255, 255, 255, 106]).unwrap_err();
        assert!(error.contains("claims 4294967295 elements"), "{error}");
        // A map claiming more pairs than bytes.
        let error = check_term_shape(&[131, 116, 0, 0, 1, 0, 106]).unwrap_err();
        assert!(error.contains("claims 512 elements"), "{error}");
    }

    #[test]
    fn refuses_deep_nesting_compressed_terms_and_trailing_bytes() {
        let mut deep = vec![131];
        deep.extend(std::iter::repeat_n([104, 1], 40).flatten());
        deep.push(106);
        let error = check_term_shape(&deep).unwrap_err();
        assert!(error.contains("deeper than 16"), "{error}");

        let error = check_term_shape(&[131, 80, 0, 0, 0, 9, 120, 156]).unwrap_err();
        assert!(error.contains("tag 80"), "{error}");

        let error = check_term_shape(&[131, 106, 106]).unwrap_err();
        assert!(error.contains("1 bytes follow"), "{error}");

        let error = check_term_shape(&[100]).unwrap_err();
        assert!(error.contains("version byte 131 (got 100)"), "{error}");
        assert!(check_term_shape(&[]).is_err());
    }

    #[test]
    fn refuses_more_terms_than_a_decoder_should_hold_and_wide_integers() {
        // 200,000 empty lists in one list: 200,007 bytes, each one a term.
        let count: u32 = 200_000;
        let mut many = vec![131, 108];
        many.extend_from_slice(&count.to_be_bytes());
        many.extend(std::iter::repeat_n(106, count as usize + 1));
        let error = check_term_shape(&many).unwrap_err();
        assert!(error.contains("more than 100000 terms"), "{error}");

        // 2 ** 64 (9 bytes of magnitude) and a LARGE_BIG of a million digits.
        let wide = [131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let error = check_term_shape(&wide).unwrap_err();
        assert!(error.contains("9 bytes wide"), "{error}");
        let mut huge = vec![131, 111, 0, 15, 66, 64, 0];
        huge.extend(std::iter::repeat_n(1, 1_000_000));
        let error = check_term_shape(&huge).unwrap_err();
        assert!(error.contains("1000000 bytes wide"), "{error}");
    }

    #[test]
    fn splits_a_frame_into_its_call_id_and_term() {
        assert_eq!(
            split_frame(&[0, 0, 0, 0, 0, 0, 1, 2, 131, 106]),
            Some((258, &[131u8, 106][..]))
        );
        assert_eq!(split_frame(&[0, 0, 1]), None);
        assert_eq!(lane_socket_name(50051), "50051.sock");
    }
}
