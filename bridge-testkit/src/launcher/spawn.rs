//! How snakepit builds a worker's command line and environment (`lib/snakepit/grpc_worker.ex`
//! and `lib/snakepit/adapters/grpc_python.ex` in snakepit v0.13.0), as plain functions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) use snakepit_bridge_spec::encode_grpc_timeout;
use snakepit_bridge_spec::launch::{
    flag_given, ready_file_name, sanitize_identifier, ELIXIR_ADDRESS_FLAG, HEARTBEAT_CONFIG_ENV,
    INSTANCE_NAME_FLAG, INSTANCE_TOKEN_FLAG, LOG_LEVEL_ENV, PORT_FLAG, PROCESS_GROUP_ENV,
    READY_FILE_ENV, RUN_ID_FLAG, THREAD_LIMIT_ENVS,
};
use snakepit_bridge_spec::HeartbeatConfig;

/// The arguments after the executable: `[script] <adapter args> --port 0 --elixir-address A
/// --snakepit-run-id ID --snakepit-instance-name NAME [--snakepit-instance-token T]`, with
/// snakepit's substring rules: an adapter argument merely *containing* `--port` or
/// `--elixir-address` (or `--snakepit-instance-name`) suppresses the host's own; the run id is
/// always appended.
pub(crate) fn worker_argv(
    script: Option<&str>,
    adapter_args: &[String],
    elixir_address: &str,
    run_id: &str,
    instance_name: &str,
    instance_token: Option<&str>,
) -> Vec<String> {
    fn add_unless_present(args: &mut Vec<String>, flag: &str, value: &str) {
        if !flag_given(args, flag) {
            args.push(flag.to_owned());
            args.push(value.to_owned());
        }
    }
    let mut args: Vec<String> = adapter_args.to_vec();
    add_unless_present(&mut args, PORT_FLAG, "0");
    add_unless_present(&mut args, ELIXIR_ADDRESS_FLAG, elixir_address);
    args.push(RUN_ID_FLAG.to_owned());
    args.push(run_id.to_owned());
    add_unless_present(&mut args, INSTANCE_NAME_FLAG, instance_name);
    if let Some(token) = instance_token {
        add_unless_present(&mut args, INSTANCE_TOKEN_FLAG, &sanitize_identifier(token));
    }
    match script.filter(|script| !script.is_empty()) {
        Some(script) => std::iter::once(script.to_owned()).chain(args).collect(),
        None => args,
    }
}

/// The environment snakepit adds for a worker (over the inherited one): the ready file, the
/// heartbeat config, the log level, the process-group request, and the variables the BEAM and
/// the process profile set.
pub(crate) fn worker_env(
    ready_file: &Path,
    heartbeat: &HeartbeatConfig,
    log_level: &str,
    process_group: bool,
    user_env: &[(String, String)],
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let inherited_or =
        |key: &str, default: &str| std::env::var(key).unwrap_or_else(|_| default.to_owned());
    for key in THREAD_LIMIT_ENVS {
        env.insert(key.to_owned(), inherited_or(key, "1"));
    }
    env.insert(
        "GRPC_POLL_STRATEGY".to_owned(),
        inherited_or("GRPC_POLL_STRATEGY", "poll"),
    );
    env.insert(
        "GRPC_VERBOSITY".to_owned(),
        inherited_or("GRPC_VERBOSITY", "ERROR"),
    );
    env.insert("PYTHONUNBUFFERED".to_owned(), "1".to_owned());
    env.insert("PYTHONNOUSERSITE".to_owned(), "1".to_owned());
    if process_group {
        env.insert(PROCESS_GROUP_ENV.to_owned(), "1".to_owned());
    }
    // The user's adapter_env overrides the defaults (case-insensitively)...
    for (key, value) in user_env {
        env.retain(|existing, _| !existing.eq_ignore_ascii_case(key));
        env.insert(key.clone(), value.clone());
    }
    // ...and these three override everything.
    env.insert(READY_FILE_ENV.to_owned(), ready_file.display().to_string());
    env.insert(HEARTBEAT_CONFIG_ENV.to_owned(), heartbeat.to_env_json());
    env.insert(LOG_LEVEL_ENV.to_owned(), log_level.to_owned());
    env
}

/// `<tmp>/snakepit_ready_<worker id, [^a-zA-Z0-9_.-] → _>_<unique int>` (the launch contract's
/// [`ready_file_name`]).
pub(crate) fn ready_file_path(tmp: &Path, worker_id: &str) -> PathBuf {
    tmp.join(ready_file_name(worker_id, unique_integer()))
}

/// A 7-character base36 run id, as `Snakepit.RunId.generate/0`.
pub(crate) fn run_id() -> String {
    let mut n = random_u64();
    (0..7)
        .map(|_| {
            let digit = (n % 36) as u32;
            n /= 36;
            char::from_digit(digit, 36).unwrap_or('0')
        })
        .collect()
}

/// A worker session id, `session_<positive monotonic int>_<system time µs>`.
pub(crate) fn worker_session_id() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    format!("session_{}_{micros}", unique_integer())
}

/// A correlation id, `sp-<24 lowercase hex>`.
pub(crate) fn correlation_id() -> String {
    format!("sp-{:016x}{:08x}", random_u64(), random_u64() as u32)
}

/// A worker id as a pool names them: `<pool>_worker_<index>_<unique>`.
pub(crate) fn pool_worker_id(pool: &str, index: usize) -> String {
    format!("{pool}_worker_{index}_{}", unique_integer())
}

/// Unique on this machine, not only in this process: ready files live in the shared temporary
/// directory, and two launchers (two test processes, say) must never pick the same name.
fn unique_integer() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    (u64::from(std::process::id()) << 24) + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Random enough for ids and jitter (not for secrets): time, pid and a counter, mixed.
pub(crate) fn random_u64() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let mut x = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ unique_integer().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn argv_is_snakepits() {
        let argv = worker_argv(
            Some("/app/priv/python/grpc_server.py"),
            &strings(&[
                "--adapter",
                "snakepit_bridge.adapters.showcase.ShowcaseAdapter",
            ]),
            "127.0.0.1:40123",
            "k3x9a2p",
            "dev_myapp_nonode_nohost",
            None,
        );
        assert_eq!(
            argv,
            strings(&[
                "/app/priv/python/grpc_server.py",
                "--adapter",
                "snakepit_bridge.adapters.showcase.ShowcaseAdapter",
                "--port",
                "0",
                "--elixir-address",
                "127.0.0.1:40123",
                "--snakepit-run-id",
                "k3x9a2p",
                "--snakepit-instance-name",
                "dev_myapp_nonode_nohost",
            ])
        );
    }

    #[test]
    fn substring_rules_and_the_unconditional_run_id() {
        let argv = worker_argv(
            None,
            &strings(&["--port=5000", "--snakepit-run-id", "old"]),
            "h:1",
            "abc",
            "n",
            Some("a b"),
        );
        assert_eq!(
            argv,
            strings(&[
                "--port=5000",
                "--snakepit-run-id",
                "old",
                "--elixir-address",
                "h:1",
                "--snakepit-run-id",
                "abc",
                "--snakepit-instance-name",
                "n",
                "--snakepit-instance-token",
                "a_b",
            ])
        );
    }

    #[test]
    fn env_carries_snakepits_variables_with_its_precedence() {
        let env = worker_env(
            Path::new("/tmp/snakepit_ready_w_1"),
            &HeartbeatConfig::default(),
            "error",
            true,
            &[
                ("omp_num_threads".to_owned(), "4".to_owned()),
                ("SNAKEPIT_LOG_LEVEL".to_owned(), "debug".to_owned()),
            ],
        );
        assert_eq!(
            env["SNAKEPIT_HEARTBEAT_CONFIG"],
            r#"{"dependent":true,"enabled":true,"initial_delay_ms":0,"interval_ms":2000,"max_missed_heartbeats":3,"timeout_ms":10000}"#
        );
        assert_eq!(env["SNAKEPIT_LOG_LEVEL"], "error");
        assert_eq!(env["SNAKEPIT_PROCESS_GROUP"], "1");
        assert_eq!(env["omp_num_threads"], "4");
        assert!(!env.contains_key("OMP_NUM_THREADS"));
    }

    #[test]
    fn names_and_ids_have_snakepits_shapes() {
        let path = ready_file_path(Path::new("/tmp"), "default_worker_1/x");
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("snakepit_ready_default_worker_1_x_"),
            "{name}"
        );
        // The worker finds its pool id in the name by the same contract.
        assert_eq!(
            snakepit_bridge_spec::launch::worker_id_from_ready_file_name(name),
            Some("default_worker_1_x")
        );
        let id = run_id();
        assert_eq!(id.len(), 7);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        let correlation = correlation_id();
        assert_eq!(correlation.len(), 27);
        assert!(correlation[3..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(worker_session_id().starts_with("session_"));
    }
}
