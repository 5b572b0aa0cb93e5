//! What snakepit tells a worker at launch: its command line and environment, read tolerantly.
//! The names are [`snakepit_bridge_spec::launch`]'s (snakepit's
//! `lib/snakepit/worker/configuration.ex` writes them; its Python worker,
//! `priv/python/grpc_server.py` `main()`, reads them as this module does).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use snakepit_bridge_spec::lane::LANE_DIR_ENV;
use snakepit_bridge_spec::launch::{
    process_group_requested, ADDRESS_ENVS, ELIXIR_ADDRESS_FLAG, HEARTBEAT_CONFIG_ENV,
    HEARTBEAT_DEPENDENT_FLAG, HEARTBEAT_ENABLED_FLAG, HEARTBEAT_INDEPENDENT_FLAG,
    HEARTBEAT_INITIAL_DELAY_FLAG, HEARTBEAT_INTERVAL_FLAG, HEARTBEAT_MAX_MISSED_FLAG,
    HEARTBEAT_TIMEOUT_FLAG, INSTANCE_NAME_FLAG, LEGACY_RUN_ID_FLAG, LOG_LEVEL_ENV, PORT_FLAG,
    PROCESS_GROUP_ENV, READY_FILE_ENV, RUN_ID_FLAG, VALUE_FLAGS,
};
pub use snakepit_bridge_spec::HeartbeatConfig;
use snakepit_bridge_spec::HostTool;

use crate::toolset::{ToolDefinition, ToolSet, DESCRIBE_FLAG};

/// The worker's launch settings: read with [`WorkerConfig::from_process`] or
/// [`WorkerConfig::from_args_and_env`], adjusted through the public fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// `--port`: the port to listen on; 0 lets the OS pick one.
    pub port: u16,
    /// `--elixir-address` (or `SNAKEPIT_GRPC_ADDRESS` / `SNAKEPIT_ELIXIR_ADDRESS`): the host's
    /// own gRPC server, for calls back into Elixir. `None` runs the worker standalone.
    pub elixir_address: Option<String>,
    /// `--snakepit-run-id`, if given.
    pub run_id: Option<String>,
    /// `--snakepit-instance-name`, if given.
    pub instance_name: Option<String>,
    /// `SNAKEPIT_READY_FILE`: where to write the bound port once serving.
    pub ready_file: Option<PathBuf>,
    /// `SNAKEPIT_HEARTBEAT_CONFIG` (over the `--heartbeat-*` flags).
    pub heartbeat: HeartbeatConfig,
    /// `SNAKEPIT_LOG_LEVEL`.
    pub log_level: LogLevel,
    /// `SNAKEPIT_PROCESS_GROUP`: call `setsid()` so the host can stop the whole group.
    pub process_group: bool,
    /// `SNAKEPIT_BRIDGE_LANE_DIR` (set by the Elixir package's adapter): the directory (mode
    /// 0700) where the worker offers the Unix-socket lane beside gRPC. `None`: gRPC only.
    pub lane_dir: Option<PathBuf>,
}

/// `SNAKEPIT_LOG_LEVEL`: `debug`, `info`, `warning`, `error` (the default) or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogLevel {
    /// Everything down to debug.
    Debug,
    /// Info and above.
    Info,
    /// Warnings and errors.
    Warning,
    /// Errors only (snakepit's default).
    Error,
    /// Nothing.
    None,
}

impl LogLevel {
    /// Reads snakepit's names (and `warn`, `trace`), case-insensitively; `None` when unknown.
    pub fn parse(text: &str) -> Option<LogLevel> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "debug" | "trace" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warning" | "warn" => LogLevel::Warning,
            "error" => LogLevel::Error,
            "none" | "off" => LogLevel::None,
            _ => return None,
        })
    }
}

impl WorkerConfig {
    /// Reads the worker's command line and environment as snakepit sets them.
    pub fn from_process() -> Result<WorkerConfig, String> {
        let (_program, args, env) = process_args_and_env()?;
        WorkerConfig::from_args_and_env(&args, &env)
    }

    /// Reads `args` (without the program name) and `env`. Unknown flags are ignored, since
    /// snakepit appends flags of its own; a bad value of a known flag is an error.
    pub fn from_args_and_env(
        args: &[String],
        env: &HashMap<String, String>,
    ) -> Result<WorkerConfig, String> {
        let flags = read_flags(args);
        let flag = |name: &str| flags.get(name).cloned();
        let port = match flag(PORT_FLAG) {
            Some(text) => text
                .parse::<u16>()
                .map_err(|_| format!("{PORT_FLAG} {text:?} is not a port number (0 to 65535)"))?,
            None => 0,
        };
        let elixir_address = flag(ELIXIR_ADDRESS_FLAG)
            .or_else(|| ADDRESS_ENVS.iter().find_map(|name| env.get(*name).cloned()))
            .filter(|address| !address.trim().is_empty());

        let heartbeat = heartbeat_config(&flags, env)?;
        let log_level = env
            .get(LOG_LEVEL_ENV)
            .and_then(|text| LogLevel::parse(text))
            .unwrap_or(LogLevel::Error);
        let process_group = env
            .get(PROCESS_GROUP_ENV)
            .is_some_and(|text| process_group_requested(text));
        Ok(WorkerConfig {
            port,
            elixir_address,
            run_id: flag(RUN_ID_FLAG).or_else(|| flag(LEGACY_RUN_ID_FLAG)),
            instance_name: flag(INSTANCE_NAME_FLAG),
            ready_file: env
                .get(READY_FILE_ENV)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from),
            heartbeat,
            log_level,
            process_group,
            lane_dir: env
                .get(LANE_DIR_ENV)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from),
        })
    }
}

/// The heartbeat settings: snakepit's flags, then `SNAKEPIT_HEARTBEAT_CONFIG`, which wins over
/// them, as in snakepit's Python worker.
fn heartbeat_config(
    flags: &HashMap<String, String>,
    env: &HashMap<String, String>,
) -> Result<HeartbeatConfig, String> {
    let mut heartbeat = HeartbeatConfig::default();
    let flag_ms = |name: &str| -> Result<Option<Duration>, String> {
        flags
            .get(name)
            .map(|text| {
                text.parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| format!("{name} {text:?} is not a number of milliseconds"))
            })
            .transpose()
    };
    if flags.contains_key(HEARTBEAT_ENABLED_FLAG) {
        heartbeat.enabled = true;
    }
    if let Some(interval) = flag_ms(HEARTBEAT_INTERVAL_FLAG)? {
        heartbeat.interval = interval;
    }
    if let Some(timeout) = flag_ms(HEARTBEAT_TIMEOUT_FLAG)? {
        heartbeat.timeout = timeout;
    }
    if let Some(delay) = flag_ms(HEARTBEAT_INITIAL_DELAY_FLAG)? {
        heartbeat.initial_delay = delay;
    }
    if let Some(text) = flags.get(HEARTBEAT_MAX_MISSED_FLAG) {
        heartbeat.max_missed = text
            .parse::<u32>()
            .map_err(|_| format!("{HEARTBEAT_MAX_MISSED_FLAG} {text:?} is not a count"))?
            .max(1);
    }
    if flags.contains_key(HEARTBEAT_DEPENDENT_FLAG) {
        heartbeat.dependent = true;
    }
    if flags.contains_key(HEARTBEAT_INDEPENDENT_FLAG) {
        heartbeat.dependent = false;
    }
    if let Some(json) = env
        .get(HEARTBEAT_CONFIG_ENV)
        .filter(|s| !s.trim().is_empty())
    {
        heartbeat.apply_json(json)?;
    }
    Ok(heartbeat)
}

/// How the program running a worker was started, from its command line and environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunMode {
    /// By snakepit, or by anything else that gives the worker what snakepit always gives it
    /// (see [`RunMode::from_args_and_env`]): the worker serves.
    Snakepit,
    /// With `--help` or `-h`: the worker says what it is and how to run it, and exits 0.
    Help,
    /// By hand, with nothing of snakepit's: the worker says what it is and how to run it, and
    /// exits 2, instead of serving where no one will call it.
    ByHand,
}

/// The flags of which any one means the worker was started to serve.
const SERVING_FLAGS: [&str; 4] = [
    PORT_FLAG,
    ELIXIR_ADDRESS_FLAG,
    RUN_ID_FLAG,
    LEGACY_RUN_ID_FLAG,
];

impl RunMode {
    /// Reads `args` (without the program name) and `env`. snakepit always passes
    /// `--snakepit-run-id` and `SNAKEPIT_READY_FILE`, and `--port` and `--elixir-address`
    /// unless the pool's own arguments hold them (snakepit v0.13.0
    /// `lib/snakepit/worker/configuration.ex`); any one of these, or one of the host address
    /// variables snakepit's Python worker falls back to, means the worker is to serve. A
    /// deliberate `--port 50051` by hand serves too.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use snakepit_bridge::worker::RunMode;
    ///
    /// let none = HashMap::new();
    /// let args = |text: &str| text.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    /// assert_eq!(RunMode::from_args_and_env(&args(""), &none), RunMode::ByHand);
    /// assert_eq!(RunMode::from_args_and_env(&args("--help"), &none), RunMode::Help);
    /// assert_eq!(
    ///     RunMode::from_args_and_env(&args("--port 0 --elixir-address localhost:50051"), &none),
    ///     RunMode::Snakepit
    /// );
    /// ```
    pub fn from_args_and_env(args: &[String], env: &HashMap<String, String>) -> RunMode {
        if args.iter().any(|arg| arg == "--help" || arg == "-h") {
            return RunMode::Help;
        }
        let flag_given = args.iter().any(|arg| {
            let name = arg.split_once('=').map_or(arg.as_str(), |(name, _)| name);
            SERVING_FLAGS.contains(&name)
        });
        let env_given = std::iter::once(READY_FILE_ENV)
            .chain(ADDRESS_ENVS)
            .any(|name| env.get(name).is_some_and(|value| !value.trim().is_empty()));
        if flag_given || env_given {
            RunMode::Snakepit
        } else {
            RunMode::ByHand
        }
    }
}

/// The worker's name as a person calls it: its program's file name without directory or
/// extension (`target/release/examples/showcase_worker` -> `showcase_worker`); what the run-by-hand
/// text and the manifest's `worker` say.
pub(crate) fn program_name(program: &std::ffi::OsStr) -> Option<String> {
    Path::new(program)
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
}

/// What a worker run by hand prints: what it is, its tools, and how to run it. `program` is
/// the path it was run as.
pub(crate) fn by_hand_text(program: &str, invocation: RunMode, tools: &[HostTool]) -> String {
    let name = program_name(program.as_ref()).unwrap_or_else(|| program.to_owned());
    let mut text = String::new();
    if invocation == RunMode::ByHand {
        text.push_str(&format!(
            "{name}: not started by snakepit (no {PORT_FLAG}, {ELIXIR_ADDRESS_FLAG}, \
             {RUN_ID_FLAG} or {READY_FILE_ENV}), so it does not serve.\n\n"
        ));
    }
    let count = match tools.len() {
        1 => "1 tool".to_owned(),
        n => format!("{n} tools"),
    };
    text.push_str(&format!(
        "{name}: a snakepit worker (snakepit-bridge) serving {count}:\n\n"
    ));
    for tool in tools {
        text.push_str(&format!("  {}\n", tool.signature()));
        // The first paragraph, on one line.
        let summary = tool.description.split("\n\n").next().unwrap_or_default();
        let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
        if !summary.is_empty() {
            text.push_str(&format!("      {summary}\n"));
        }
    }
    text.push_str(&format!(
        "\nsnakepit starts it in a pool, passing {PORT_FLAG}, {ELIXIR_ADDRESS_FLAG}, {RUN_ID_FLAG}\n\
         and {READY_FILE_ENV} (the file it writes its port to). Run it:\n\
         \x20 in a snakepit pool:   as the executable of the pool's adapter (the snakepit_bridge Elixir package)\n\
         \x20 call one tool:        snakepit-tools worker --call TOOL --params '{{\"name\": \"value\"}}' -- {program}\n\
         \x20 list its tools:       snakepit-tools worker --list -- {program}\n\
         \x20 print its manifest:   {program} {DESCRIBE_FLAG}\n\
         \x20 serve without a host: {program} {PORT_FLAG} 50051   (calls back into Elixir fail)\n"
    ));
    text
}

/// The process's program name, arguments and environment, as text. `std::env::args()` and
/// `vars()` would panic on text that is not UTF-8: an argument that is not is an error naming
/// it (a value the worker cannot read must not be altered, and it cannot know which flags are
/// not its own), as is a `SNAKEPIT_*` variable; any other variable that is not UTF-8 is left
/// out, since the worker reads none.
fn process_args_and_env() -> Result<ProcessInput, String> {
    read_args_and_env(std::env::args_os(), std::env::vars_os())
}

/// The program name, the arguments after it, and the environment.
type ProcessInput = (Option<String>, Vec<String>, HashMap<String, String>);

fn read_args_and_env(
    args: impl IntoIterator<Item = std::ffi::OsString>,
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<ProcessInput, String> {
    let mut args = args.into_iter();
    let program = args.next().map(|name| name.to_string_lossy().into_owned());
    let args = args
        .enumerate()
        .map(|(index, arg)| {
            arg.into_string().map_err(|arg| {
                format!(
                    "argument {} ({:?}) is not valid UTF-8; snakepit passes text flags, so check \
                     the pool's `adapter_args` and how the worker is launched",
                    index + 1,
                    arg.to_string_lossy()
                )
            })
        })
        .collect::<Result<Vec<String>, String>>()?;
    let mut env = HashMap::new();
    for (name, value) in vars {
        match (name.into_string(), value.into_string()) {
            (Ok(name), Ok(value)) => {
                env.insert(name, value);
            }
            (Ok(name), Err(value)) if name.starts_with("SNAKEPIT_") => {
                return Err(format!(
                    "the environment variable {name} ({:?}) is not valid UTF-8; set it to text",
                    value.to_string_lossy()
                ));
            }
            _ => {}
        }
    }
    Ok((program, args, env))
}

/// When the program was run with `--help`, or by hand with nothing of snakepit's, prints what
/// the worker is and how to run it (on stdout for `--help`, exit 0; on stderr otherwise, exit
/// 2) and returns the exit code; `None` when it is to serve. `Worker::run` calls it when no
/// configuration was given in code.
pub(crate) fn explain_if_run_by_hand<T: ToolSet>() -> Option<ExitCode> {
    // Unreadable arguments are for `from_process` to report, as a configuration error.
    let (program, args, env) = process_args_and_env().ok()?;
    let program = program.unwrap_or_else(|| T::type_name().to_owned());
    let invocation = RunMode::from_args_and_env(&args, &env);
    if invocation == RunMode::Snakepit {
        return None;
    }
    let mut tools: Vec<HostTool> = crate::toolset::built::<T>()
        .definitions
        .iter()
        .map(ToolDefinition::to_host_tool)
        .collect();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    let text = by_hand_text(&program, invocation, &tools);
    if invocation == RunMode::Help {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (`| head`) is no failure of the worker.
        let _ = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
        Some(ExitCode::SUCCESS)
    } else {
        crate::logging::print_line(text.trim_end());
        Some(ExitCode::from(2))
    }
}

/// `--flag value` and `--flag=value` pairs; flags without a value map to "".
fn read_flags(args: &[String]) -> HashMap<String, String> {
    let mut flags = HashMap::new();
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        if !arg.starts_with("--") {
            continue;
        }
        if let Some((name, value)) = arg.split_once('=') {
            flags.insert(name.to_owned(), value.to_owned());
        } else if VALUE_FLAGS.contains(&arg.as_str()) {
            let value = iter.next_if(|next| !next.starts_with("--")).cloned();
            flags.insert(arg.clone(), value.unwrap_or_default());
        } else {
            // An unknown flag: skip its value too, if it has one.
            iter.next_if(|next| !next.starts_with("--"));
            flags.insert(arg.clone(), String::new());
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn arguments_and_snakepit_variables_that_are_not_utf8_are_errors_not_panics() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(vec![b'a', 0xff, b'b']);
        let args =
            |extra: OsString| vec![OsString::from("worker"), OsString::from("--port"), extra];

        let error = read_args_and_env(args(bad()), []).unwrap_err();
        assert!(
            error.starts_with("argument 2 (\"a\u{fffd}b\") is not valid UTF-8"),
            "{error}"
        );

        let error = read_args_and_env(
            args(OsString::from("0")),
            [(OsString::from("SNAKEPIT_READY_FILE"), bad())],
        )
        .unwrap_err();
        assert!(
            error.starts_with("the environment variable SNAKEPIT_READY_FILE"),
            "{error}"
        );

        // a variable the worker does not read is left out
        let (program, read, env) = read_args_and_env(
            args(OsString::from("0")),
            [
                (OsString::from("OTHER"), bad()),
                (OsString::from("HOME"), OsString::from("/h")),
            ],
        )
        .unwrap();
        assert_eq!(program.as_deref(), Some("worker"));
        assert_eq!(read, ["--port", "0"]);
        assert_eq!(env.len(), 1);
        assert_eq!(env["HOME"], "/h");
    }

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_snakepits_argv_and_ignores_what_it_does_not_know() {
        let config = WorkerConfig::from_args_and_env(
            &args("--adapter my.Adapter --max-workers 4 --port 0 --elixir-address 127.0.0.1:40123 --snakepit-run-id k3x9a2p --snakepit-instance-name dev_app_nonode_nohost --snakepit-instance-token t --unknown-switch"),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(config.port, 0);
        assert_eq!(config.elixir_address.as_deref(), Some("127.0.0.1:40123"));
        assert_eq!(config.run_id.as_deref(), Some("k3x9a2p"));
        assert_eq!(
            config.instance_name.as_deref(),
            Some("dev_app_nonode_nohost")
        );
        assert_eq!(config.heartbeat, HeartbeatConfig::default());
        assert_eq!(config.log_level, LogLevel::Error);
        assert!(!config.process_group);
        assert_eq!(config.ready_file, None);
    }

    #[test]
    fn equals_form_and_address_fallbacks() {
        let config = WorkerConfig::from_args_and_env(
            &args("--port=50051"),
            &env(&[
                ("SNAKEPIT_ELIXIR_ADDRESS", "localhost:1"),
                ("SNAKEPIT_GRPC_ADDRESS", "localhost:2"),
            ]),
        )
        .unwrap();
        assert_eq!(config.port, 50051);
        assert_eq!(config.elixir_address.as_deref(), Some("localhost:2"));
    }

    #[test]
    fn a_bad_port_is_an_error_that_names_the_flag() {
        let error = WorkerConfig::from_args_and_env(&args("--port 99999"), &env(&[])).unwrap_err();
        assert!(error.contains("--port \"99999\""), "{error}");
    }

    #[test]
    fn reads_snakepits_environment() {
        let config = WorkerConfig::from_args_and_env(
            &args("--heartbeat-interval-ms 50 --heartbeat-independent"),
            &env(&[
                ("SNAKEPIT_READY_FILE", "/tmp/snakepit_ready_default_worker_1_5634_87"),
                ("SNAKEPIT_HEARTBEAT_CONFIG", r#"{"dependent":true,"enabled":true,"initial_delay_ms":0,"interval_ms":2000,"max_missed_heartbeats":3,"timeout_ms":10000,"extra":1}"#),
                ("SNAKEPIT_LOG_LEVEL", "warning"),
                ("SNAKEPIT_PROCESS_GROUP", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.ready_file,
            Some(PathBuf::from(
                "/tmp/snakepit_ready_default_worker_1_5634_87"
            ))
        );
        // The environment overrides the flags.
        assert_eq!(config.heartbeat, HeartbeatConfig::default());
        assert_eq!(config.log_level, LogLevel::Warning);
        assert!(config.process_group);
    }

    #[test]
    fn a_worker_serves_when_given_anything_snakepit_always_gives() {
        let by = |a: &str, e: &[(&str, &str)]| RunMode::from_args_and_env(&args(a), &env(e));
        // snakepit's own command line, and each piece of it alone.
        assert_eq!(
            by("--port 0 --elixir-address 127.0.0.1:4000 --snakepit-run-id k3x9a2p --snakepit-instance-name x", &[]),
            RunMode::Snakepit
        );
        for alone in [
            "--port 0",
            "--port=50051",
            "--elixir-address localhost:1",
            "--snakepit-run-id k3x9a2p",
            "--run-id k3x9a2p",
        ] {
            assert_eq!(by(alone, &[]), RunMode::Snakepit, "{alone}");
        }
        for variable in [
            "SNAKEPIT_READY_FILE",
            "SNAKEPIT_GRPC_ADDRESS",
            "SNAKEPIT_ELIXIR_ADDRESS",
        ] {
            assert_eq!(by("", &[(variable, "x")]), RunMode::Snakepit, "{variable}");
            assert_eq!(
                by("", &[(variable, " ")]),
                RunMode::ByHand,
                "{variable} empty"
            );
        }
        // Nothing of snakepit's: flags it does not send, variables it sets beside the ready file.
        assert_eq!(by("", &[]), RunMode::ByHand);
        assert_eq!(
            by(
                "--adapter x --heartbeat-enabled --snakepit-instance-name n",
                &[("SNAKEPIT_LOG_LEVEL", "debug")]
            ),
            RunMode::ByHand
        );
        assert_eq!(by("--port-of-call 1", &[]), RunMode::ByHand);
        // --help wins, even beside snakepit's flags.
        assert_eq!(by("-h", &[]), RunMode::Help);
        assert_eq!(by("--port 0 --help", &[]), RunMode::Help);
    }

    #[test]
    fn by_hand_the_worker_says_what_it_is_and_how_to_run_it() {
        let tools = vec![
            HostTool {
                description: "Echo back\na message.\n\nMore.".into(),
                parameters: vec![snakepit_bridge_spec::HostParameter {
                    default: Some(serde_json::json!("pong")),
                    ..snakepit_bridge_spec::HostParameter::new("message", "string", false)
                }],
                ..HostTool::new("ping")
            },
            HostTool {
                supports_streaming: true,
                ..HostTool::new("stream_data")
            },
        ];
        let help = by_hand_text("target/debug/my_worker", RunMode::Help, &tools);
        assert!(
            help.starts_with(
                "my_worker: a snakepit worker (snakepit-bridge) serving 2 tools:\n\n  \
                 ping(message?: string = \"pong\")\n      Echo back a message.\n  \
                 stream_data() [streaming]\n\n"
            ),
            "{help}"
        );
        for how in [
            "snakepit-tools worker --call TOOL --params '{\"name\": \"value\"}' -- target/debug/my_worker\n",
            "target/debug/my_worker --snakepit-describe\n",
            "target/debug/my_worker --port 50051",
        ] {
            assert!(help.contains(how), "{how} in {help}");
        }
        let by_hand = by_hand_text("my_worker", RunMode::ByHand, &tools);
        assert!(
            by_hand.starts_with(
                "my_worker: not started by snakepit (no --port, --elixir-address, \
                 --snakepit-run-id or SNAKEPIT_READY_FILE), so it does not serve.\n\n\
                 my_worker: a snakepit worker"
            ),
            "{by_hand}"
        );
    }

    #[test]
    fn log_levels() {
        assert_eq!(LogLevel::parse("ERROR"), Some(LogLevel::Error));
        assert_eq!(LogLevel::parse("none"), Some(LogLevel::None));
        // Every name snakepit sends (SNAKEPIT_LOG_LEVEL) is read.
        for name in snakepit_bridge_spec::launch::LOG_LEVEL_NAMES {
            assert!(LogLevel::parse(name).is_some(), "{name}");
        }
        assert_eq!(LogLevel::parse("loud"), None);
    }
}
