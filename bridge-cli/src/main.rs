//! `snakepit-tools`: snapshot, check and document the tools a snakepit host exposes.
//!
//! ```text
//! snakepit-tools snapshot --address HOST:PORT --session ID [-o elixir_tools.json]
//! snakepit-tools check --manifest elixir_tools.json --address HOST:PORT --session ID
//! snakepit-tools docs --manifest elixir_tools.json
//! ```
//!
//! Exit codes: 0 success, 1 the host differs from the manifest (`check`), 2 any other error.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "snakepit-tools",
    version,
    about = "Snapshot, check and document a snakepit host's tools"
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
}

impl HostArgs {
    fn host(&self) -> commands::Host<'_> {
        commands::Host {
            address: &self.address,
            session: &self.session,
            timeout: Duration::from_secs(self.timeout),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Snapshot { host, output } => commands::snapshot(&host.host(), output),
        Command::Check { manifest, host } => commands::check(manifest, &host.host()),
        Command::Docs { manifest } => commands::docs(manifest),
    };
    match outcome {
        Ok(report) => {
            if !report.stdout.is_empty() {
                print!("{}", report.stdout);
            }
            if !report.stderr.is_empty() {
                eprint!("{}", report.stderr);
            }
            if report.differs {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
