//! The `grpc-timeout` header: written as snakepit's client (elixir-grpc 0.11.5) writes it, and
//! read as a server reads it. One home for both directions of the wire form.

use std::time::Duration;

/// `timeout` as elixir-grpc writes it: truncated to one unit (`298.8 s` → `4M`, `10 s` → `10S`).
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::encode_grpc_timeout;
/// use std::time::Duration;
/// assert_eq!(encode_grpc_timeout(Duration::from_millis(298_800)), "4M");
/// ```
pub fn encode_grpc_timeout(timeout: Duration) -> String {
    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    match ms {
        0..=999 => format!("{ms}m"),
        1_000..=59_999 => format!("{}S", ms / 1000),
        60_000..=3_599_999 => format!("{}M", ms / 60_000),
        _ => format!("{}H", ms / 3_600_000),
    }
}

/// A `grpc-timeout` header value (`<up to 8 digits><H|M|S|m|u|n>`) as a duration; `None` when
/// it is malformed.
pub fn parse_grpc_timeout(text: &str) -> Option<Duration> {
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_truncated_as_elixir_grpc_writes_them() {
        let cases = [
            (298_800, "4M"),
            (10_000, "10S"),
            (5_000, "5S"),
            (900_000, "15M"),
            (999, "999m"),
            (7_200_000, "2H"),
        ];
        for (ms, text) in cases {
            assert_eq!(encode_grpc_timeout(Duration::from_millis(ms)), text);
        }
    }

    #[test]
    fn reads_what_it_writes_and_refuses_the_malformed() {
        for ms in [300, 10_000, 298_800, 900_000] {
            let written = encode_grpc_timeout(Duration::from_millis(ms));
            let read = parse_grpc_timeout(&written).unwrap();
            assert!(read <= Duration::from_millis(ms), "{written}");
        }
        assert_eq!(parse_grpc_timeout("4M"), Some(Duration::from_secs(240)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("5"), None);
        assert_eq!(parse_grpc_timeout("M"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
    }
}
