//! Finds the numbers of JSON text, and among them the integers that do not fit 64 bits.

/// The first integer literal outside both `i64` and `u64` in `json` (outside strings), if any.
#[cfg(test)]
pub(crate) fn find_wide_integer(json: &[u8]) -> Option<&str> {
    wide_integers(json)
        .into_iter()
        .next()
        .map(|(_, digits)| digits)
}

/// The integer literals of `json` (outside strings) outside both `i64` and `u64`, each with its
/// position among all the document's numbers, in order. Floats (with `.`, `e` or `E`) are
/// never wide integers: they are floats by the sender's choice.
pub(crate) fn wide_integers(json: &[u8]) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    for_each_number(json, |position, token| {
        let is_integer = !token.contains(['.', 'e', 'E']);
        if is_integer && token.parse::<i64>().is_err() && token.parse::<u64>().is_err() {
            found.push((position, token));
        }
    });
    found
}

/// How many number literals `json` holds (outside strings).
pub(crate) fn count_numbers(json: &[u8]) -> usize {
    let mut count = 0;
    for_each_number(json, |_, _| count += 1);
    count
}

/// Calls `visit` with the position and text of each number literal of `json`, in order.
fn for_each_number<'j>(json: &'j [u8], mut visit: impl FnMut(usize, &'j str)) {
    let mut position = 0;
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
                visit(
                    position,
                    std::str::from_utf8(&json[start..index]).unwrap_or(""),
                );
                position += 1;
            }
            _ => index += 1,
        }
    }
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
    use super::{count_numbers, find_wide_integer, wide_integers};

    #[test]
    fn positions_count_every_number_outside_strings() {
        let json = br#"{"a":-0,"b":"-1 \" 2","c":[1E+5,18446744073709551616,-1e-5],"d":-18446744073709551617}"#;
        assert_eq!(count_numbers(json), 5);
        assert_eq!(
            wide_integers(json),
            [(2, "18446744073709551616"), (4, "-18446744073709551617")]
        );
    }

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
