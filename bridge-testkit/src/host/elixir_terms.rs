//! How a snakepit host writes what its Elixir side produces: `inspect/1` of decoded JSON
//! values, and the errors of its JSON library (Jason) for bytes that are not JSON.

use serde_json::Value;

/// Elixir's `inspect/1` of a JSON-decoded value: `nil`, `true`, `3`, `2.0`, `"text"`,
/// `[1, 2]`, `%{"a" => 1}`.
pub(crate) fn inspect(value: &Value) -> String {
    inspect_limited(value, INSPECT_LIMIT)
}

/// `inspect/2` of `value` with `limit:` items left, as `Inspect.Algebra.container_doc/6` counts
/// them: each item of a list or map takes one and is itself printed with what remains, so
/// `%{list: [...]}` shows 49 items of the list; when none remain, `...`.
pub(crate) fn inspect_limited(value: &Value, limit: usize) -> String {
    match value {
        Value::Null => "nil".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => erlang_float(f),
            _ => n.to_string(),
        },
        Value::String(text) => inspect_string(text),
        Value::Array(items) => format!("[{}]", container(items.iter(), limit, inspect_limited)),
        // Elixir prints small maps with their keys sorted, as serde_json's map holds them.
        Value::Object(map) => format!(
            "%{{{}}}",
            container(map.iter(), limit, |(key, value), left| format!(
                "{} => {}",
                inspect_string(key),
                inspect_limited(value, left)
            ))
        ),
    }
}

/// How many items `inspect/1` shows (its default `:limit`), then `...`.
pub(crate) const INSPECT_LIMIT: usize = 50;
/// How many characters of a string `inspect/1` shows (its default `:printable_limit`).
const PRINTABLE_LIMIT: usize = 4096;

/// The items of a container, separated by commas, each printed with the limit left after it.
pub(crate) fn container<T>(
    items: impl Iterator<Item = T>,
    limit: usize,
    show: impl Fn(T, usize) -> String,
) -> String {
    let mut left = limit;
    let mut shown = Vec::new();
    for item in items {
        if left == 0 {
            shown.push("...".to_owned());
            break;
        }
        left -= 1;
        shown.push(show(item, left));
    }
    shown.join(", ")
}

/// A string as `inspect/1` prints it: quoted, with Elixir's escapes, when it is printable
/// (`String.printable?/1`); else as the bytes of a binary, `<<97, 5>>`.
pub(crate) fn inspect_string(text: &str) -> String {
    if !text.chars().all(printable) {
        return inspect_bytes(text.as_bytes());
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let cut = text.chars().count() > PRINTABLE_LIMIT;
    let mut chars = text.chars().take(PRINTABLE_LIMIT).peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\u{1B}' => out.push_str("\\e"),
            '\u{07}' => out.push_str("\\a"),
            '\u{7F}' => out.push_str("\\d"),
            // `#{` would read as interpolation.
            '#' if chars.peek() == Some(&'{') => out.push_str("\\#"),
            c => out.push(c),
        }
    }
    out.push('"');
    if cut {
        out.push_str(" <> ...");
    }
    out
}

/// A binary that is not a printable string, as `inspect/1` prints it: `<<255, 0>>`.
pub(crate) fn inspect_bytes(bytes: &[u8]) -> String {
    format!(
        "<<{}>>",
        container(bytes.iter(), INSPECT_LIMIT, |byte, _| byte.to_string())
    )
}

/// Whether Elixir 1.18's `String.printable?/1` accepts `c`.
fn printable(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        || matches!(
            c,
            '\n' | '\r' | '\t' | '\u{0B}' | '\u{08}' | '\u{0C}' | '\u{1B}' | '\u{7F}' | '\u{07}'
        )
}

/// Where Jason gives up on bytes that are not JSON: `%Jason.DecodeError{position, token, data}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    pub(crate) position: usize,
    pub(crate) data: Vec<u8>,
}

impl DecodeError {
    /// `Exception.message/1` of the error, as Jason words it.
    pub(crate) fn message(&self) -> String {
        match self.data.get(self.position) {
            None => format!("unexpected end of input at position {}", self.position),
            // `inspect(byte, base: :hex)`, and the byte as a one-byte string when
            // `String.printable?/1` accepts it (deps/jason/lib/decoder.ex, `message/1`).
            Some(&byte) if byte < 0x80 && printable(char::from(byte)) => format!(
                "unexpected byte at position {}: 0x{byte:X} ({})",
                self.position,
                inspect_string(&char::from(byte).to_string())
            ),
            Some(&byte) => format!("unexpected byte at position {}: 0x{byte:X}", self.position),
        }
    }

    /// `inspect/1` of the error struct.
    pub(crate) fn inspect(&self) -> String {
        let data = match std::str::from_utf8(&self.data) {
            Ok(text) => inspect_string(text),
            Err(_) => inspect_bytes(&self.data),
        };
        format!(
            "%Jason.DecodeError{{position: {}, token: nil, data: {data}}}",
            self.position
        )
    }
}

/// Checks `data` against JSON's grammar as Jason reads it; the position of the first byte it
/// cannot take (`data.len()` when the input ends too soon).
pub(crate) fn jason_check(data: &[u8]) -> Result<(), DecodeError> {
    let mut reader = Reader { data, at: 0 };
    let outcome = reader.document();
    outcome.map_err(|position| DecodeError {
        position,
        data: data.to_vec(),
    })
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.at).copied()
    }

    fn spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn document(&mut self) -> Result<(), usize> {
        self.spaces();
        self.value()?;
        self.spaces();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.at),
        }
    }

    fn value(&mut self) -> Result<(), usize> {
        match self.peek() {
            None => Err(self.at),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(_) => Err(self.at),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), usize> {
        if self.data[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.at)
        }
    }

    fn object(&mut self) -> Result<(), usize> {
        self.at += 1;
        self.spaces();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.spaces();
            if self.peek() != Some(b'"') {
                return Err(self.at);
            }
            self.string()?;
            self.spaces();
            if self.peek() != Some(b':') {
                return Err(self.at);
            }
            self.at += 1;
            self.spaces();
            self.value()?;
            self.spaces();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.at),
            }
        }
    }

    fn array(&mut self) -> Result<(), usize> {
        self.at += 1;
        self.spaces();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.spaces();
            self.value()?;
            self.spaces();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.at),
            }
        }
    }

    fn string(&mut self) -> Result<(), usize> {
        self.at += 1;
        let start = self.at;
        loop {
            match self.peek() {
                None => return Err(self.at),
                Some(b'"') => {
                    // Jason takes only valid UTF-8.
                    if let Err(error) = std::str::from_utf8(&self.data[start..self.at]) {
                        return Err(start + error.valid_up_to());
                    }
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 1
                        }
                        Some(b'u') => {
                            self.at += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(c) if c.is_ascii_hexdigit() => self.at += 1,
                                    _ => return Err(self.at),
                                }
                            }
                        }
                        _ => return Err(self.at),
                    }
                }
                Some(c) if c < 0x20 => return Err(self.at),
                Some(_) => self.at += 1,
            }
        }
    }

    fn number(&mut self) -> Result<(), usize> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.at),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.at);
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.at);
            }
            self.digits();
        }
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn inspects_as_elixir_prints() {
        assert_eq!(inspect(&json!(null)), "nil");
        assert_eq!(inspect(&json!("5")), "\"5\"");
        assert_eq!(inspect(&json!(2.0)), "2.0");
        assert_eq!(inspect(&json!(1e21)), "1.0e21");
        assert_eq!(inspect(&json!([3, 1, 2])), "[3, 1, 2]");
        assert_eq!(inspect(&json!({"a": [true]})), "%{\"a\" => [true]}");
        assert_eq!(inspect_string("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
        // As Elixir 1.18 prints them: a string that is not printable is a binary.
        assert_eq!(inspect_string("a\u{5}"), "<<97, 5>>");
        assert_eq!(inspect_string("\u{85}"), "<<194, 133>>");
        assert_eq!(inspect_string("a\u{7F}b"), "\"a\\db\"");
        assert_eq!(inspect_string("#{x} #"), "\"\\#{x} #\"");
        assert_eq!(inspect_string("é✓"), "\"é✓\"");
        // inspect's default limits: 50 items, 4096 characters.
        let long: Vec<u32> = (1..=60).collect();
        assert!(inspect(&json!(long)).ends_with(", 49, 50, ...]"));
        let text = "a".repeat(4100);
        assert_eq!(
            inspect_string(&text),
            format!("\"{}\" <> ...", &text[..4096])
        );
    }

    #[test]
    fn reports_what_jason_reports() {
        let error = jason_check(b"not json").unwrap_err();
        assert_eq!(
            error.message(),
            "unexpected byte at position 0: 0x6E (\"n\")"
        );
        assert_eq!(
            error.inspect(),
            "%Jason.DecodeError{position: 0, token: nil, data: \"not json\"}"
        );
        assert_eq!(
            jason_check(b"[1, 2").unwrap_err().message(),
            "unexpected end of input at position 5"
        );
        assert_eq!(jason_check(b"{\"a\" 1}").unwrap_err().position, 5);
        assert_eq!(jason_check(b"01").unwrap_err().position, 1);
        assert_eq!(
            jason_check(b"\n\x05hello").unwrap_err().message(),
            "unexpected byte at position 1: 0x5"
        );
        // Printable control characters are shown, as `String.printable?/1` says.
        assert_eq!(
            jason_check(b"\n\x08hello").unwrap_err().message(),
            "unexpected byte at position 1: 0x8 (\"\\b\")"
        );
        assert_eq!(
            jason_check(b"\x7f").unwrap_err().message(),
            "unexpected byte at position 0: 0x7F (\"\\d\")"
        );
        assert_eq!(
            jason_check(b"\xc3\xa9").unwrap_err().message(),
            "unexpected byte at position 0: 0xC3"
        );
        for good in [
            &b"{\"a\": [1, -2.5e3, true, null, \"\\u00e9\"]}"[..],
            b" 3 ",
            b"\"x\"",
        ] {
            assert!(
                jason_check(good).is_ok(),
                "{}",
                String::from_utf8_lossy(good)
            );
        }
    }
}

/// JSON as the host's encoder (Jason) writes it: compact, and floats as Erlang prints them
/// (`2.0`, `1.0e21`), where serde_json would write `1e21`.
pub(crate) fn jason_encode(value: &Value) -> String {
    // Writing a `Value` into memory cannot fail.
    jason_encode_serialize(value).unwrap_or_default()
}

/// [`jason_encode`] for any `Serialize` value; integers exact at any width (`i128`, `u128`).
/// NaN and infinities come out as `null` (serde_json's choice): callers check for them.
pub(crate) fn jason_encode_serialize<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<String, String> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, ErlangFloats);
    value
        .serialize(&mut serializer)
        .map_err(|error| format!("it cannot be written as JSON: {error}"))?;
    String::from_utf8(out).map_err(|error| error.to_string())
}

struct ErlangFloats;

impl serde_json::ser::Formatter for ErlangFloats {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        writer.write_all(erlang_float(value).as_bytes())
    }
}

/// A float as Erlang's shortest form writes it: decimal with at least one fractional digit
/// from 1.0e-4 up to 1.0e21, scientific (`1.0e21`, `1.5e-7`) outside.
pub(crate) fn erlang_float(f: f64) -> String {
    let magnitude = f.abs();
    if magnitude == 0.0 || (1e-4..1e21).contains(&magnitude) {
        let text = format!("{f}");
        return if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}e{exponent}")
}

#[cfg(test)]
mod encode_tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn floats_are_written_as_erlang_writes_them() {
        assert_eq!(
            jason_encode(&json!({"b": 2.0, "a": [1e21, 0.1, 3, 1.5e-7]})),
            r#"{"a":[1.0e21,0.1,3,1.5e-7],"b":2.0}"#
        );
        assert_eq!(erlang_float(100.0), "100.0");
        assert_eq!(erlang_float(-0.25), "-0.25");
    }
}
