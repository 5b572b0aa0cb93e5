//! Stopping a launched worker as the host does: SIGTERM to its group, SIGKILL after the grace
//! period (`lib/snakepit/grpc_worker.ex`, `lib/snakepit/process_killer.ex` in snakepit v0.13.0).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::error::LaunchError;
use super::process::Ending;
use super::worker::LaunchedWorker;

impl LaunchedWorker {
    /// Closes the worker's stdin, as when the host's port closes.
    pub async fn close_stdin(&self) {
        self.process.lock().await.stdin.take();
    }

    /// Waits up to `limit` for the worker to exit by itself; its status, or `None`.
    pub async fn wait_exit(
        &self,
        limit: Duration,
    ) -> Result<Option<std::process::ExitStatus>, LaunchError> {
        let mut process = self.process.lock().await;
        match tokio::time::timeout(limit, process.child.wait()).await {
            Ok(status) => {
                process.output.drained(Duration::from_secs(1)).await;
                status.map(Some).map_err(LaunchError::Process)
            }
            Err(_) => Ok(None),
        }
    }

    /// Stops the worker as the host does on a graceful stop: SIGTERM to its group (or itself),
    /// SIGKILL after the grace period, ready file removed, stdin closed. An ignored SIGTERM is
    /// an error (the worker was killed).
    pub async fn shutdown(self) -> Result<Ending, LaunchError> {
        self.stopping.store(true, Ordering::SeqCst);
        for task in &self.tasks {
            task.abort();
        }
        let mut process = self.process.lock().await;
        let ending = process
            .stop(self.graceful_timeout)
            .await
            .map_err(LaunchError::Process)?;
        let _ = std::fs::remove_file(&self.ready_file);
        process.stdin.take();
        // What the worker printed last is read before anyone looks at its output.
        process.output.drained(Duration::from_secs(1)).await;
        match ending {
            Ending::Killed { grace } => Err(LaunchError::IgnoredSigterm {
                grace,
                output: process.output.last_lines(5),
            }),
            other => Ok(other),
        }
    }

    /// Kills the worker at once (SIGKILL), as the host does after a crash.
    pub async fn kill(self) -> Result<std::process::ExitStatus, LaunchError> {
        self.stopping.store(true, Ordering::SeqCst);
        let mut process = self.process.lock().await;
        process.kill_now().await.map_err(LaunchError::Process)
    }
}
