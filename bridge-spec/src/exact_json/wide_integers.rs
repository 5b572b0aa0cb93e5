//! Finds the numbers of JSON text, and among them the integers that do not fit 64 bits.

/// The first integer literal outside both `i64` and `u64` in `json` (outside strings), if any.
#[cfg(test)]
pub(crate) fn find_wide_integer(json: &[u8]) -> Option<&str> {
    numbers(json).into_iter().flatten().next()
}

/// Every number literal of `json` (outside strings), in order: `Some(digits)` for an integer
/// outside both `i64` and `u64`, `None` for any other. Floats (with `.`, `e` or `E`) are never
/// wide integers: they are floats by the sender's choice.
pub(crate) fn numbers(json: &[u8]) -> Vec<Option<&str>> {
    let mut found = Vec::new();
    let mut index = 0;
    while index < json.len() {
        match json[index] {
            b'"' => index = skip_string(json, index + 1),
            b'-' | b'0'..=b'9' => {
                let start = index;
                index += 1;
                while index < json.len()
                    && matches!(json[index], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    index += 1;
                }
                let token = std::str::from_utf8(&json[start..index]).unwrap_or("");
                let is_integer = !token.contains(['.', 'e', 'E']);
                let wide =
                    is_integer && token.parse::<i64>().is_err() && token.parse::<u64>().is_err();
                found.push(wide.then_some(token));
            }
            _ => index += 1,
        }
    }
    found
}

/// The index just past the string whose contents start at `index`.
fn skip_string(json: &[u8], mut index: usize) -> usize {
    while index < json.len() {
        match json[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::find_wide_integer;

    #[test]
    fn finds_integers_beyond_64_bits() {
        assert_eq!(
            find_wide_integer(b"[1, 18446744073709551616]"),
            Some("18446744073709551616")
        );
        assert_eq!(
            find_wide_integer(b"{\"a\":-9223372036854775809}"),
            Some("-9223372036854775809")
        );
    }

    #[test]
    fn accepts_the_64_bit_range_floats_and_digits_in_strings() {
        let json = br#"{"max":18446744073709551615,"min":-9223372036854775808,"f":1.0e21,"g":123456789012345678901234.5,"s":"123456789012345678901234567890","e":"\"99999999999999999999999\""}"#;
        assert_eq!(find_wide_integer(json), None);
    }
}
