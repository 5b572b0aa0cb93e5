//! The ready file: the worker's signal to snakepit that it serves, and on which port. Its name
//! and contents are [`snakepit_bridge_spec::launch`]'s; snakepit's host reads it in
//! `lib/snakepit/worker/process_manager.ex` (`read_ready_file/1`).

use std::io::Write;
use std::path::{Path, PathBuf};

use snakepit_bridge_spec::launch::{
    ready_file_contents, worker_id_from_ready_file_name, READY_FILE_TEMPORARY_SUFFIX,
};

/// Writes `port` as decimal text to `path` atomically: a `<path>.tmp` written and synced, then
/// renamed onto `path`. The host accepts a partly written file as a port ("50" of "50123"), so
/// it must never see one.
pub(crate) fn write_ready_file(path: &Path, port: u16) -> std::io::Result<()> {
    let temporary = temporary_path(path);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(ready_file_contents(port).as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        // Never leave the temporary file behind: the host does not clean it up.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(READY_FILE_TEMPORARY_SUFFIX);
    PathBuf::from(name)
}

/// The pool worker id snakepit put in the ready file's name
/// (`snakepit_ready_<worker id>_<unique int>`), which it passes nowhere else. The host routes
/// registered tools by this id, so registering under it lets the host call them.
pub(crate) fn worker_id_from_ready_file(path: &Path) -> Option<String> {
    worker_id_from_ready_file_name(path.file_name()?.to_str()?).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_port_atomically_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snakepit_ready_default_worker_1_5634_87");
        write_ready_file(&path, 50123).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "50123");
        assert!(!temporary_path(&path).exists());
        write_ready_file(&path, 7).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "7");
    }

    #[test]
    fn a_failed_write_is_an_error_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("ready");
        assert!(write_ready_file(&path, 1).is_err());
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[test]
    fn reads_the_worker_id_from_the_name() {
        let id = |p: &str| worker_id_from_ready_file(Path::new(p));
        assert_eq!(
            id("/tmp/snakepit_ready_default_worker_1_5634_87").as_deref(),
            Some("default_worker_1_5634")
        );
        assert_eq!(
            id("/tmp/snakepit_ready_rust_worker_2_9_1").as_deref(),
            Some("rust_worker_2_9")
        );
        assert_eq!(id("/tmp/ready_file"), None);
        assert_eq!(id("/tmp/snakepit_ready_x_y"), None);
        assert_eq!(id("/tmp/snakepit_ready__5"), None);
    }
}
