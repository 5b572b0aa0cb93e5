//! Reading the ready file as snakepit does: `Integer.parse(String.trim(contents))`.

use std::path::Path;

/// What the ready file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadyState {
    /// Missing, empty or not starting with a number: not ready yet, keep polling.
    NotYet,
    /// The port (leading digits win; trailing text is tolerated, as by `Integer.parse`).
    Port(u16),
}

/// Parses the file's contents.
pub(crate) fn parse_ready_contents(contents: &str) -> ReadyState {
    let trimmed = contents.trim();
    let unsigned = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let digits: String = unsigned.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<u64>() {
        // A number that is no port cannot be connected to; the host would fail to connect.
        Ok(port) => u16::try_from(port)
            .map(ReadyState::Port)
            .unwrap_or(ReadyState::NotYet),
        Err(_) => ReadyState::NotYet,
    }
}

/// Reads the file: `NotYet` when missing; other read errors fail start-up, as on the host.
pub(crate) fn read_ready_file(path: &Path) -> std::io::Result<ReadyState> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(parse_ready_contents(&String::from_utf8_lossy(&bytes))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(ReadyState::NotYet),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_parse_semantics() {
        assert_eq!(parse_ready_contents("50123"), ReadyState::Port(50123));
        assert_eq!(parse_ready_contents(" 50123\n"), ReadyState::Port(50123));
        assert_eq!(parse_ready_contents("50123abc"), ReadyState::Port(50123));
        // A half-written file is taken at its word, which is why workers write atomically.
        assert_eq!(parse_ready_contents("50"), ReadyState::Port(50));
        assert_eq!(parse_ready_contents(""), ReadyState::NotYet);
        assert_eq!(parse_ready_contents("port"), ReadyState::NotYet);
    }

    #[test]
    fn a_missing_file_is_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_ready_file(&dir.path().join("none")).unwrap(),
            ReadyState::NotYet
        );
    }
}
