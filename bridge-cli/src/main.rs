//! `snakepit-tools`: snapshot, check and document the tools a snakepit host exposes.
//!
//! ```text
//! snakepit-tools snapshot --address HOST:PORT --session ID [-o elixir_tools.json]
//! snakepit-tools check --manifest elixir_tools.json --address HOST:PORT --session ID
//! snakepit-tools docs --manifest elixir_tools.json
//! snakepit-tools worker [--call TOOL] [--params JSON] [--stream] [--binary NAME=FILE]
//!                       [--repeat N] [--out FILE] [--list [--json]] -- COMMAND [ARGS...]
//! snakepit-tools describe [-o FILE] [--name NAME] -- COMMAND [ARGS...]
//! ```
//!
//! Exit codes: 0 success, 1 the host differs from the manifest (`check`) or the tool failed
//! (`worker`), 2 any other error.

mod commands;
mod worker_command;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "snakepit-tools",
    version,
    about = "Snapshot, check and document a snakepit host's tools; launch and call a worker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct HostArgs {
    /// The host's gRPC address, `host:port`.
    #[arg(long)]
    address: String,
    /// The session whose exposed tools are listed.
    #[arg(long)]
    session: String,
    /// Seconds allowed to connect, and then to list the tools.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Accept a session that lists no tools (by default an error: most often a wrong session).
    #[arg(long)]
    allow_empty: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Write the host's tool list to a manifest.
    Snapshot {
        #[command(flatten)]
        host: HostArgs,
        /// Where to write it.
        #[arg(short, long, default_value = "elixir_tools.json")]
        output: PathBuf,
    },
    /// Compare a manifest with the live host; exit 1 with the differences if they differ.
    Check {
        /// The manifest to compare.
        #[arg(long, default_value = "elixir_tools.json")]
        manifest: PathBuf,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Print a Markdown reference of the tools in a manifest.
    Docs {
        /// The manifest to document.
        #[arg(long, default_value = "elixir_tools.json")]
        manifest: PathBuf,
    },
    /// Launch a worker as snakepit does (with an embedded host exposing the demo Elixir
    /// tools), then call a tool, stream one, or list the worker's tools.
    Worker {
        /// The tool to call; its JSON result is printed on stdout.
        #[arg(long)]
        call: Option<String>,
        /// The call's parameters, a JSON object.
        #[arg(long, requires = "call")]
        params: Option<String>,
        /// Call the tool as a stream: one JSON object per chunk and line.
        #[arg(long, requires = "call")]
        stream: bool,
        /// A binary parameter read from a file, `NAME=FILE` (repeatable).
        #[arg(long, value_name = "NAME=FILE", requires = "call")]
        binary: Vec<String>,
        /// Make N calls; print the last result as one call does, and the median and p99
        /// latency on stderr.
        #[arg(
            long,
            value_name = "N",
            default_value_t = 1,
            requires = "call",
            conflicts_with = "stream"
        )]
        repeat: usize,
        /// Write the result to FILE instead of stdout: a binary result's bytes (a JSON result
        /// beside them stays on stdout), else the JSON result; with --stream, the chunks.
        #[arg(long, value_name = "FILE", requires = "call")]
        out: Option<PathBuf>,
        /// List the tools the worker registered with the host.
        #[arg(long)]
        list: bool,
        /// With --list: print the tools as JSON (the `tools` of the worker's manifest).
        #[arg(long, requires = "list")]
        json: bool,
        /// Seconds a call may take.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// Seconds the worker may take to get ready.
        #[arg(long, default_value_t = 30)]
        ready_timeout: u64,
        /// Copy the worker's output to stderr.
        #[arg(long)]
        echo: bool,
        /// The worker's command and arguments.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Write a worker's tool manifest (the format a Rust worker's `--snakepit-describe`
    /// prints), for any worker: launch it as snakepit does and read the tools it registers
    /// with the host. A registration carries no JSON Schemas, no `rest` marker and no `extra_parameters`.
    Describe {
        /// Where to write it (default: stdout).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The manifest's `worker` (default: the program's file name, or the script's for
        /// `python SCRIPT`).
        #[arg(long)]
        name: Option<String>,
        /// Seconds the worker may take to get ready.
        #[arg(long, default_value_t = 30)]
        ready_timeout: u64,
        /// Copy the worker's output to stderr.
        #[arg(long)]
        echo: bool,
        /// The worker's command and arguments.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
}

impl HostArgs {
    fn host(&self) -> commands::Host<'_> {
        commands::Host {
            address: &self.address,
            session: &self.session,
            timeout: Duration::from_secs(self.timeout),
            allow_empty: self.allow_empty,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Snapshot { host, output } => commands::snapshot(&host.host(), &output),
        Command::Check { manifest, host } => commands::check(&manifest, &host.host()),
        Command::Docs { manifest } => commands::docs(&manifest),
        Command::Worker {
            call,
            params,
            stream,
            binary,
            repeat,
            out,
            list,
            json,
            timeout,
            ready_timeout,
            echo,
            command,
        } => {
            let outcome = worker_command::run(worker_command::WorkerJob {
                command,
                call,
                params,
                stream,
                binary,
                repeat: repeat.max(1),
                list,
                json,
                out,
                timeout: Duration::from_secs(timeout),
                ready_timeout: Duration::from_secs(ready_timeout),
                echo,
            });
            print_quietly(&outcome.stdout, &outcome.stderr);
            return ExitCode::from(outcome.code);
        }
        Command::Describe {
            output,
            name,
            ready_timeout,
            echo,
            command,
        } => {
            let outcome = worker_command::describe(worker_command::DescribeJob {
                command,
                output,
                name,
                ready_timeout: Duration::from_secs(ready_timeout),
                echo,
            });
            print_quietly(&outcome.stdout, &outcome.stderr);
            return ExitCode::from(outcome.code);
        }
    };
    match outcome {
        Ok(report) => {
            print_quietly(&report.stdout, &report.stderr);
            if report.differs {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            print_quietly("", &format!("error: {error}\n"));
            ExitCode::from(2)
        }
    }
}

/// Prints without panicking when stdout or stderr is a closed pipe (`| head`).
fn print_quietly(stdout: &str, stderr: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(stdout.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(stderr.as_bytes());
}
