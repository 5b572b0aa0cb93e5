//! How snakepit launches a worker: the command-line flags, the environment variables and the
//! ready file, as constants and small functions that the worker (which reads them) and the
//! launcher (which writes them, as the host does) share.
//!
//! The host's side is snakepit v0.13.0's `lib/snakepit/worker/configuration.ex`
//! (`build_spawn_args/3`, `build_ready_file/1`, `merge_with_default_adapter_env/1`) and
//! `lib/snakepit/worker/process_manager.ex` (`read_ready_file/1`); the worker's side is what
//! snakepit's Python worker reads in `priv/python/grpc_server.py` (`main()`, `_signal_ready`,
//! `maybe_create_process_group()`).

use serde_json::Value;

/// `--snakepit-describe`: not snakepit's but this library's: a worker given it prints its tool
/// manifest (the format of [`Manifest`](crate::Manifest)) on stdout and exits 0, binding and
/// connecting to nothing; `snakepit-tools describe` and the Elixir package's
/// `mix snakepit_bridge.check` rely on it.
pub const DESCRIBE_FLAG: &str = "--snakepit-describe";

/// `--port <port>`: the port to serve on; the host sends `0` (the OS picks one).
pub const PORT_FLAG: &str = "--port";
/// `--elixir-address <host:port>`: the host's own gRPC server, for calls back into Elixir.
pub const ELIXIR_ADDRESS_FLAG: &str = "--elixir-address";
/// `--snakepit-run-id <id>`: a 7-character base36 id of the host's run, always appended.
pub const RUN_ID_FLAG: &str = "--snakepit-run-id";
/// `--run-id <id>`: an older spelling of [`RUN_ID_FLAG`], still read.
pub const LEGACY_RUN_ID_FLAG: &str = "--run-id";
/// `--snakepit-instance-name <name>`: the host instance (sanitized, see [`sanitize_identifier`]).
pub const INSTANCE_NAME_FLAG: &str = "--snakepit-instance-name";
/// `--snakepit-instance-token <token>`: sent only when the host has one.
pub const INSTANCE_TOKEN_FLAG: &str = "--snakepit-instance-token";
/// `--adapter <module>`: the Python adapter; a Rust worker ignores it.
pub const ADAPTER_FLAG: &str = "--adapter";
/// `--heartbeat-enabled`: turns heartbeats on (Python's flag; the host never sends it).
pub const HEARTBEAT_ENABLED_FLAG: &str = "--heartbeat-enabled";
/// `--heartbeat-interval-ms <ms>`.
pub const HEARTBEAT_INTERVAL_FLAG: &str = "--heartbeat-interval-ms";
/// `--heartbeat-timeout-ms <ms>`.
pub const HEARTBEAT_TIMEOUT_FLAG: &str = "--heartbeat-timeout-ms";
/// `--heartbeat-max-missed <count>`.
pub const HEARTBEAT_MAX_MISSED_FLAG: &str = "--heartbeat-max-missed";
/// `--heartbeat-initial-delay-ms <ms>`.
pub const HEARTBEAT_INITIAL_DELAY_FLAG: &str = "--heartbeat-initial-delay-ms";
/// `--heartbeat-dependent`: exit when the host is gone.
pub const HEARTBEAT_DEPENDENT_FLAG: &str = "--heartbeat-dependent";
/// `--heartbeat-independent`: keep running when the host is gone.
pub const HEARTBEAT_INDEPENDENT_FLAG: &str = "--heartbeat-independent";

/// The flags that take a value (`--flag value` or `--flag=value`); the others are switches.
pub const VALUE_FLAGS: &[&str] = &[
    PORT_FLAG,
    ELIXIR_ADDRESS_FLAG,
    RUN_ID_FLAG,
    LEGACY_RUN_ID_FLAG,
    INSTANCE_NAME_FLAG,
    INSTANCE_TOKEN_FLAG,
    ADAPTER_FLAG,
    HEARTBEAT_INTERVAL_FLAG,
    HEARTBEAT_TIMEOUT_FLAG,
    HEARTBEAT_MAX_MISSED_FLAG,
    HEARTBEAT_INITIAL_DELAY_FLAG,
];

/// `SNAKEPIT_READY_FILE`: where the worker writes its bound port once it serves.
pub const READY_FILE_ENV: &str = "SNAKEPIT_READY_FILE";
/// `SNAKEPIT_HEARTBEAT_CONFIG`: the pool's heartbeat settings as JSON
/// ([`HeartbeatConfig::to_env_json`](crate::HeartbeatConfig::to_env_json)).
pub const HEARTBEAT_CONFIG_ENV: &str = "SNAKEPIT_HEARTBEAT_CONFIG";
/// `SNAKEPIT_LOG_LEVEL`: one of [`LOG_LEVEL_NAMES`].
pub const LOG_LEVEL_ENV: &str = "SNAKEPIT_LOG_LEVEL";
/// `SNAKEPIT_PROCESS_GROUP`: truthy asks the worker to lead its own process group (`setsid`).
pub const PROCESS_GROUP_ENV: &str = "SNAKEPIT_PROCESS_GROUP";
/// `SNAKEPIT_GRPC_ADDRESS`: the host's address when `--elixir-address` is missing (Python's
/// fallback; the host never sets it).
pub const GRPC_ADDRESS_ENV: &str = "SNAKEPIT_GRPC_ADDRESS";
/// `SNAKEPIT_ELIXIR_ADDRESS`: the second fallback for the host's address.
pub const ELIXIR_ADDRESS_ENV: &str = "SNAKEPIT_ELIXIR_ADDRESS";
/// The host's address variables, in the order they are read after `--elixir-address`.
pub const ADDRESS_ENVS: [&str; 2] = [GRPC_ADDRESS_ENV, ELIXIR_ADDRESS_ENV];
/// The variables the host sets over everything, the user's `adapter_env` included.
pub const HOST_OVERRIDE_ENVS: [&str; 3] = [READY_FILE_ENV, HEARTBEAT_CONFIG_ENV, LOG_LEVEL_ENV];
/// The thread-limit variables the process profile sets (the BEAM's value, else `"1"`).
pub const THREAD_LIMIT_ENVS: [&str; 5] = [
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OMP_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
];

/// The values the host writes in `SNAKEPIT_LOG_LEVEL`; `error` is its default.
pub const LOG_LEVEL_NAMES: [&str; 5] = ["debug", "info", "warning", "error", "none"];

/// Whether a `SNAKEPIT_PROCESS_GROUP` value asks for a process group: Python's truthy strings
/// (`1`, `true`, `yes`, `on`, ...), case-insensitively.
pub fn process_group_requested(value: &str) -> bool {
    crate::truthy(&Value::String(value.to_owned())) == Some(true)
}

/// The start of every ready file's name.
pub const READY_FILE_PREFIX: &str = "snakepit_ready_";
/// The suffix of the temporary file a worker writes before renaming it onto the ready file
/// (the host never deletes it).
pub const READY_FILE_TEMPORARY_SUFFIX: &str = ".tmp";

/// The ready file's name for a pool worker: `snakepit_ready_<worker id>_<unique>`, with the
/// characters of the id outside `[a-zA-Z0-9_.-]` replaced by `_` (the host puts it in
/// `System.tmp_dir()`).
///
/// ```
/// use snakepit_bridge_spec::launch::{ready_file_name, worker_id_from_ready_file_name};
/// let name = ready_file_name("default_worker_1/x", 87);
/// assert_eq!(name, "snakepit_ready_default_worker_1_x_87");
/// assert_eq!(worker_id_from_ready_file_name(&name), Some("default_worker_1_x"));
/// ```
pub fn ready_file_name(worker_id: &str, unique: u64) -> String {
    let sanitized: String = worker_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{READY_FILE_PREFIX}{sanitized}_{unique}")
}

/// The pool worker id inside a ready file's name (the host passes it nowhere else), or `None`
/// for a name not of the form `snakepit_ready_<worker id>_<digits>`.
pub fn worker_id_from_ready_file_name(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(READY_FILE_PREFIX)?;
    let (worker_id, unique) = rest.rsplit_once('_')?;
    let is_number = !unique.is_empty() && unique.bytes().all(|b| b.is_ascii_digit());
    (is_number && !worker_id.is_empty()).then_some(worker_id)
}

/// The ready file's contents: the port in decimal, no newline.
pub fn ready_file_contents(port: u16) -> String {
    port.to_string()
}

/// The port the host reads from a ready file's contents (`Integer.parse(String.trim(text))`:
/// leading digits win, trailing text is tolerated), or `None` when it would keep waiting
/// (empty, no leading number) or cannot connect (a number that is no port).
pub fn parse_ready_file(contents: &str) -> Option<u16> {
    let trimmed = contents.trim();
    let unsigned = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let end = unsigned
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unsigned.len());
    unsigned[..end].parse::<u64>().ok()?.try_into().ok()
}

/// Characters outside `[a-zA-Z0-9_-]` replaced by `_`, as the host sanitizes instance names
/// and tokens.
pub fn sanitize_identifier(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether the host would consider `flag` already given: an argument merely *containing* it
/// suppresses the host's own (`maybe_add_arg/3`).
pub fn flag_given(args: &[String], flag: &str) -> bool {
    args.iter().any(|arg| arg.contains(flag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_file_names_round_trip_to_the_worker_id() {
        for (id, unique) in [
            ("default_worker_1_5634", 87),
            ("rust_worker_2_9", 1),
            ("pool.a-b", 0),
        ] {
            let name = ready_file_name(id, unique);
            assert_eq!(name, format!("snakepit_ready_{id}_{unique}"));
            assert_eq!(worker_id_from_ready_file_name(&name), Some(id));
        }
        assert_eq!(
            ready_file_name("w 1/é", 3),
            "snakepit_ready_w_1___3",
            "outside [a-zA-Z0-9_.-] becomes _"
        );
        for name in [
            "ready_file",
            "snakepit_ready_x_y",
            "snakepit_ready__5",
            "snakepit_ready_5",
        ] {
            assert_eq!(worker_id_from_ready_file_name(name), None, "{name}");
        }
    }

    #[test]
    fn ready_file_contents_read_as_the_host_reads_them() {
        assert_eq!(ready_file_contents(50123), "50123");
        assert_eq!(parse_ready_file(&ready_file_contents(50123)), Some(50123));
        assert_eq!(parse_ready_file(" 50123\n"), Some(50123));
        assert_eq!(parse_ready_file("50123abc"), Some(50123));
        assert_eq!(parse_ready_file("+7"), Some(7));
        assert_eq!(parse_ready_file(""), None);
        assert_eq!(parse_ready_file("port"), None);
        assert_eq!(parse_ready_file("70000"), None);
    }

    #[test]
    fn flags_and_environment_are_snakepits() {
        assert_eq!(
            [
                PORT_FLAG,
                ELIXIR_ADDRESS_FLAG,
                RUN_ID_FLAG,
                INSTANCE_NAME_FLAG,
                INSTANCE_TOKEN_FLAG
            ],
            [
                "--port",
                "--elixir-address",
                "--snakepit-run-id",
                "--snakepit-instance-name",
                "--snakepit-instance-token"
            ]
        );
        assert!(VALUE_FLAGS.contains(&HEARTBEAT_INTERVAL_FLAG));
        assert!(!VALUE_FLAGS.contains(&HEARTBEAT_INDEPENDENT_FLAG));
        assert_eq!(
            HOST_OVERRIDE_ENVS,
            [
                "SNAKEPIT_READY_FILE",
                "SNAKEPIT_HEARTBEAT_CONFIG",
                "SNAKEPIT_LOG_LEVEL"
            ]
        );
        assert_eq!(
            ADDRESS_ENVS,
            ["SNAKEPIT_GRPC_ADDRESS", "SNAKEPIT_ELIXIR_ADDRESS"]
        );
        assert_eq!(PROCESS_GROUP_ENV, "SNAKEPIT_PROCESS_GROUP");
    }

    #[test]
    fn process_group_and_identifiers_follow_the_hosts_rules() {
        for yes in ["1", "true", "YES", " on "] {
            assert!(process_group_requested(yes), "{yes}");
        }
        for no in ["0", "", "false", "nope"] {
            assert!(!process_group_requested(no), "{no}");
        }
        assert_eq!(sanitize_identifier("dev my.app@host"), "dev_my_app_host");
        let args = vec!["--port=5000".to_owned()];
        assert!(flag_given(&args, PORT_FLAG));
        assert!(!flag_given(&args, ELIXIR_ADDRESS_FLAG));
    }
}
