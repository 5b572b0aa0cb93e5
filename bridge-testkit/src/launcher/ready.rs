//! Reading the ready file as snakepit does (`Integer.parse(String.trim(contents))`, the launch
//! contract's [`parse_ready_file`]).

use std::path::Path;

use snakepit_bridge_spec::launch::parse_ready_file;

/// What the ready file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadyState {
    /// Missing, empty, not starting with a number, or a number that is no port: not ready yet,
    /// keep polling.
    NotYet,
    /// The port (leading digits win; trailing text is tolerated, as by `Integer.parse`).
    Port(u16),
}

/// Reads the file: `NotYet` when missing; other read errors fail start-up, as on the host.
pub(crate) fn read_ready_file(path: &Path) -> std::io::Result<ReadyState> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(parse_ready_file(&String::from_utf8_lossy(&bytes))
            .map_or(ReadyState::NotYet, ReadyState::Port)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(ReadyState::NotYet),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use snakepit_bridge_spec::launch::ready_file_contents;

    use super::*;

    #[test]
    fn a_missing_file_is_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_ready_file(&dir.path().join("none")).unwrap(),
            ReadyState::NotYet
        );
    }

    #[test]
    fn reads_what_a_worker_writes_and_waits_on_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ready");
        for (contents, state) in [
            (ready_file_contents(50123), ReadyState::Port(50123)),
            (" 50123abc\n".to_owned(), ReadyState::Port(50123)),
            (String::new(), ReadyState::NotYet),
            ("70000".to_owned(), ReadyState::NotYet),
        ] {
            std::fs::write(&path, &contents).unwrap();
            assert_eq!(read_ready_file(&path).unwrap(), state, "{contents:?}");
        }
    }
}
