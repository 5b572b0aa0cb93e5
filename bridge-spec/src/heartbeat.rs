//! Heartbeat settings: one shape for the pool's `heartbeat` map, the
//! `SNAKEPIT_HEARTBEAT_CONFIG` JSON that carries it to a worker, and both ends that read it.

use std::time::Duration;

use serde_json::Value;

/// A pool's heartbeat settings, which snakepit hands its workers as `SNAKEPIT_HEARTBEAT_CONFIG`:
/// the host heartbeats the worker with them, and the worker the host.
///
/// Start from [`HeartbeatConfig::default`] (snakepit's defaults) and change what differs:
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use std::time::Duration;
/// use snakepit_bridge::spec::HeartbeatConfig;
/// let fast = HeartbeatConfig::default()
///     .with_interval(Duration::from_millis(100))
///     .with_max_missed(2);
/// assert_eq!(fast.timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HeartbeatConfig {
    /// Whether to send heartbeats at all.
    pub enabled: bool,
    /// Time between heartbeats.
    pub interval: Duration,
    /// Deadline of one heartbeat.
    pub timeout: Duration,
    /// Consecutive misses after which the host counts as gone.
    pub max_missed: u32,
    /// Wait before the first heartbeat.
    pub initial_delay: Duration,
    /// Whether the worker exits when the host is gone.
    pub dependent: bool,
}

impl Default for HeartbeatConfig {
    /// snakepit's defaults: every 2 s, 10 s deadline, 3 misses, dependent.
    fn default() -> Self {
        HeartbeatConfig {
            enabled: true,
            interval: Duration::from_millis(2000),
            timeout: Duration::from_millis(10_000),
            max_missed: 3,
            initial_delay: Duration::ZERO,
            dependent: true,
        }
    }
}

impl HeartbeatConfig {
    /// With heartbeats on or off.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// With `interval` between heartbeats.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// With `timeout` as the deadline of one heartbeat.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With `max_missed` consecutive misses before the other side counts as gone (at least 1).
    pub fn with_max_missed(mut self, max_missed: u32) -> Self {
        self.max_missed = max_missed.max(1);
        self
    }

    /// With `initial_delay` before the first heartbeat.
    pub fn with_initial_delay(mut self, initial_delay: Duration) -> Self {
        self.initial_delay = initial_delay;
        self
    }

    /// Whether the worker exits when the host is gone.
    pub fn with_dependent(mut self, dependent: bool) -> Self {
        self.dependent = dependent;
        self
    }

    /// `SNAKEPIT_HEARTBEAT_CONFIG` as snakepit writes it: a JSON object with sorted keys and
    /// `interval_ms` (the pool's `ping_interval_ms`).
    pub fn to_env_json(&self) -> String {
        // serde_json's map is sorted, as Jason writes small maps.
        serde_json::json!({
            "dependent": self.dependent,
            "enabled": self.enabled,
            "initial_delay_ms": millis(self.initial_delay),
            "interval_ms": millis(self.interval),
            "max_missed_heartbeats": self.max_missed,
            "timeout_ms": millis(self.timeout),
        })
        .to_string()
    }

    /// Applies the keys of a JSON object (`enabled`, `interval_ms`, `timeout_ms`,
    /// `max_missed_heartbeats`, `initial_delay_ms`, `dependent`; also `ping_interval_ms`), as
    /// snakepit's Python worker does: unknown keys and values of the wrong type are ignored.
    pub fn apply_json(&mut self, text: &str) -> Result<(), String> {
        let value: Value = serde_json::from_str(text)
            .map_err(|error| format!("SNAKEPIT_HEARTBEAT_CONFIG is not JSON: {error}"))?;
        let Value::Object(map) = value else {
            return Err("SNAKEPIT_HEARTBEAT_CONFIG is not a JSON object".to_owned());
        };
        for (key, value) in &map {
            let millis = || {
                value
                    .as_f64()
                    .filter(|ms| *ms >= 0.0)
                    .map(|ms| Duration::from_millis(ms as u64))
            };
            match key.as_str() {
                "enabled" => self.enabled = truthy(value).unwrap_or(self.enabled),
                "dependent" => self.dependent = truthy(value).unwrap_or(self.dependent),
                "interval_ms" | "ping_interval_ms" => {
                    self.interval = millis().unwrap_or(self.interval)
                }
                "timeout_ms" => self.timeout = millis().unwrap_or(self.timeout),
                "initial_delay_ms" => self.initial_delay = millis().unwrap_or(self.initial_delay),
                "max_missed_heartbeats" => {
                    if let Some(n) = value.as_u64() {
                        self.max_missed = u32::try_from(n).unwrap_or(u32::MAX).max(1);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Python's truthy strings (`1,true,t,yes,y,on`) and JSON booleans.
pub fn truthy(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(text) => Some(matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "t" | "yes" | "y" | "on"
        )),
        Value::Number(n) => Some(n.as_f64() != Some(0.0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_snakepit_writes_and_reads_it_back() {
        let defaults = HeartbeatConfig::default();
        let json = defaults.to_env_json();
        assert_eq!(
            json,
            r#"{"dependent":true,"enabled":true,"initial_delay_ms":0,"interval_ms":2000,"max_missed_heartbeats":3,"timeout_ms":10000}"#
        );
        let mut read = HeartbeatConfig {
            enabled: false,
            ..HeartbeatConfig::default()
        };
        read.apply_json(&json).unwrap();
        assert_eq!(read, defaults);
    }

    #[test]
    fn reads_pythons_spellings_and_ignores_what_it_does_not_know() {
        let mut config = HeartbeatConfig::default();
        config
            .apply_json(r#"{"enabled":"no","dependent":"on","ping_interval_ms":250,"timeout_ms":"x","max_missed_heartbeats":0,"extra":1}"#)
            .unwrap();
        assert!(!config.enabled);
        assert!(config.dependent);
        assert_eq!(config.interval, Duration::from_millis(250));
        assert_eq!(config.timeout, Duration::from_millis(10_000));
        assert_eq!(config.max_missed, 1);
        assert!(config
            .apply_json("[1]")
            .unwrap_err()
            .contains("not a JSON object"));
    }
}
