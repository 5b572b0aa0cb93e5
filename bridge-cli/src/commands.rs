//! The commands, as functions that return what to print.

use std::path::Path;
use std::time::Duration;

use snakepit_bridge_runtime::{Error, SessionContext};
use snakepit_bridge_spec::{host_tools_markdown, snapshot_command, tool_drift, HostTool, Manifest};

/// Where the host is, and how long to wait for it.
pub(crate) struct Host<'a> {
    pub(crate) address: &'a str,
    pub(crate) session: &'a str,
    pub(crate) timeout: Duration,
    /// Whether a session that lists no tools is accepted.
    pub(crate) allow_empty: bool,
}

/// What a command prints, and whether it found the host to differ from the manifest.
#[derive(Default)]
pub(crate) struct Report {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) differs: bool,
}

/// A failure, as the one line printed after `error: `.
pub(crate) type Failure = String;

/// The host's tools for the session, sorted by name. Every step has the timeout.
fn live_tools(host: &Host<'_>) -> Result<Vec<HostTool>, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime
        .block_on(async {
            let ctx = SessionContext::builder(host.address, host.session)
                .connect_timeout(host.timeout)
                .call_timeout(host.timeout)
                .connect()
                .await?;
            let tools = ctx.elixir_tools().await?;
            Ok::<_, Error>(tools.values().cloned().collect())
        })
        .map_err(|error| match error {
            Error::Timeout { operation, limit } => format!(
                "{operation} got no answer from {} within {limit:?}; check that it is a snakepit \
                 host, or raise --timeout if it is just slow",
                host.address
            ),
            other => other.to_string(),
        })
}

fn read_manifest(path: &Path) -> Result<Manifest, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the manifest {}: {e}", path.display()))?;
    Manifest::from_json(&text)
        .map_err(|e| format!("the manifest {} is not valid: {e}", path.display()))
}

/// A session that lists no tools is most often a wrong session id (the host answers an unknown
/// session with an empty list, not an error): refused unless `--allow-empty`.
fn refuse_empty(
    host: &Host<'_>,
    live: &[HostTool],
    recorded_for: Option<&str>,
) -> Result<(), Failure> {
    if !live.is_empty() || host.allow_empty {
        return Ok(());
    }
    let recorded = match recorded_for {
        Some(session) if session != host.session => {
            format!(" (the manifest was recorded for session `{session}`)")
        }
        _ => String::new(),
    };
    Err(format!(
        "the host at {} lists no tools for session `{}`{recorded}; is the session id right? \
         (a host answers an unknown session with an empty list; pass --allow-empty if the session \
         really has no tools)",
        host.address, host.session
    ))
}

/// `snapshot`: writes the host's tool list to `output`.
pub(crate) fn snapshot(host: &Host<'_>, output: &Path) -> Result<Report, Failure> {
    let live = live_tools(host)?;
    refuse_empty(host, &live, None)?;
    let manifest = Manifest::new(host.session, live);
    let text = manifest.to_json();
    // Write beside the target and rename, so a failed write never leaves half a manifest.
    let partial = output.with_extension("json.partial");
    std::fs::write(&partial, &text)
        .and_then(|()| std::fs::rename(&partial, output))
        .map_err(|e| format!("cannot write the manifest {}: {e}", output.display()))?;
    let mut report = Report {
        stdout: format!(
            "wrote {} tools of session `{}` to {}\n",
            manifest.tools.len(),
            host.session,
            output.display()
        ),
        ..Report::default()
    };
    if manifest.tools.is_empty() {
        report.stderr = format!(
            "warning: the host lists no tools for session `{}`; check the session id and that the tools are exposed to workers\n",
            host.session
        );
    }
    Ok(report)
}

/// `check`: compares the manifest with the live host.
pub(crate) fn check(manifest_path: &Path, host: &Host<'_>) -> Result<Report, Failure> {
    let manifest = read_manifest(manifest_path)?;
    let live = live_tools(host)?;
    if !manifest.tools.is_empty() {
        refuse_empty(host, &live, Some(&manifest.session))?;
    }
    let drift = tool_drift(&manifest.tools, &live);
    if drift.is_empty() {
        return Ok(Report {
            stdout: format!(
                "{} matches the host: {} tools in session `{}`\n",
                manifest_path.display(),
                live.len(),
                host.session
            ),
            ..Report::default()
        });
    }
    let mut text = format!(
        "the host's tools for session `{}` differ from {}:\n",
        host.session,
        manifest_path.display()
    );
    for item in &drift {
        text.push_str(&format!("  {}\n", item.to_string().replace('\n', "\n  ")));
    }
    text.push_str(&format!(
        "refresh the manifest with `{}` and rebuild\n",
        snapshot_command(
            host.address,
            host.session,
            &manifest_path.display().to_string()
        )
    ));
    Ok(Report {
        stderr: text,
        differs: true,
        ..Report::default()
    })
}

/// `docs`: a Markdown reference of the manifest's tools.
pub(crate) fn docs(manifest_path: &Path) -> Result<Report, Failure> {
    let manifest = read_manifest(manifest_path)?;
    let title = format!("Elixir tools of session `{}`", manifest.session);
    Ok(Report {
        stdout: host_tools_markdown(&title, &manifest.tools),
        ..Report::default()
    })
}
