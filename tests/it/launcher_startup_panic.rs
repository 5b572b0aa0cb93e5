//! A worker that panics at start-up with `RUST_BACKTRACE=1`: the launcher's one-line error
//! quotes the panic (its `panicked at` line and message) and not only the last lines of the
//! backtrace, which say nothing of what went wrong.

use std::io::Write;

use snakepit_bridge::testkit::host::EmbeddedHost;
use snakepit_bridge::testkit::launcher::{LaunchError, Launcher};

/// A script that prints what a Rust worker panicking at start-up prints with
/// `RUST_BACKTRACE=1` (more than the 4096 bytes of output the host keeps), then exits as such
/// a program does (101).
fn panicking_worker(dir: &std::path::Path) -> std::path::PathBuf {
    let mut script = String::from(
        "echo \"thread 'main' panicked at src/main.rs:12:9:\"\n\
         echo 'could not load the model from model.bin: No such file or directory (os error 2)'\n\
         echo 'stack backtrace:'\n",
    );
    for frame in 0..60 {
        script.push_str(&format!(
            "echo '  {frame:>2}: std::rt::lang_start_internal::{{{{closure}}}}::h0123456789abcdef'\n\
             echo '             at /rustc/0123456789abcdef/library/std/src/rt.rs:{frame}:13'\n"
        ));
    }
    script.push_str(
        "echo 'note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.'\n\
         exit 101\n",
    );
    let path = dir.join("panicking_worker.sh");
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(script.as_bytes()))
        .unwrap();
    path
}

#[tokio::test]
async fn the_launch_error_quotes_the_panic_before_the_backtraces_last_lines() {
    let dir = tempfile::tempdir().unwrap();
    let script = panicking_worker(dir.path());
    let host = EmbeddedHost::builder().start().await.unwrap();
    let error = Launcher::new("/bin/sh")
        .script(script.display().to_string())
        .launch(&host)
        .await
        .expect_err("the worker exits before it is ready");
    let LaunchError::ExitedBeforeReady { status, output } = &error else {
        panic!("{error}")
    };
    assert!(status.contains("101"), "{status}");
    assert!(
        output.starts_with(
            "thread 'main' panicked at src/main.rs:12:9: | could not load the model from \
             model.bin: No such file or directory (os error 2) | … | "
        ),
        "{output}"
    );
    // Then the last lines, as before.
    assert!(
        output.ends_with("run with `RUST_BACKTRACE=full` for a verbose backtrace."),
        "{output}"
    );
    let text = error.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(text.contains("could not load the model"), "{text}");
}
