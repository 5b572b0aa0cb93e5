//! The host's periodic health pings to a worker: a failure only logs.

use std::time::Duration;

use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::bridge_service_client::BridgeServiceClient;
use tonic::transport::Channel;

use super::connect::with_deadline;

/// Health pings: every 30 s, 5 s deadline; a failure only logs.
const HEALTH_INTERVAL: Duration = Duration::from_secs(30);
pub(super) const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) async fn health_checks(mut client: BridgeServiceClient<Channel>) {
    let mut number = 0u64;
    loop {
        tokio::time::sleep(HEALTH_INTERVAL).await;
        number += 1;
        let request = with_deadline(
            proto::PingRequest {
                message: format!("health_check_#PID<0.{number}.0>"),
            },
            HEALTH_TIMEOUT,
        );
        if tokio::time::timeout(HEALTH_TIMEOUT, client.ping(request))
            .await
            .map_or(true, |r| r.is_err())
        {
            tracing::warn!("health ping failed (only logged, as by the host)");
        }
    }
}
