//! Connection options and the builder of a [`SessionContext`].

use std::time::Duration;

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};

use crate::context::SessionContext;
use crate::Error;

pub use snakepit_bridge_spec::CORRELATION_HEADER;

/// Default time allowed to open the connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for one call, tool or RPC.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Default limit on one message, sent or received: 64 MiB, above tonic's 4 MiB so that large
/// results work out of the box.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// Options of a [`SessionContext`]; start one with [`SessionContext::builder`].
///
/// ```no_run
/// # extern crate snakepit_bridge_runtime as snakepit_bridge;
/// # async fn run() -> Result<(), snakepit_bridge::Error> {
/// use std::time::Duration;
/// use snakepit_bridge::SessionContext;
///
/// let ctx = SessionContext::builder("localhost:50051", "session-1")
///     .connect_timeout(Duration::from_secs(2))
///     .call_timeout(Duration::from_secs(30))
///     .max_message_size(256 * 1024 * 1024)
///     .metadata("x-team", "search")
///     .correlation_id("req-42")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct SessionContextBuilder {
    pub(crate) address: String,
    pub(crate) session_id: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) call_timeout: Duration,
    pub(crate) max_message_size: usize,
    pub(crate) tls: Option<TlsOptions>,
    pub(crate) propagate_deadline: bool,
    pub(crate) check_parameters: bool,
    metadata: Vec<(String, String)>,
    correlation_id: Option<String>,
}

/// Prints no metadata value: they may be credentials.
impl std::fmt::Debug for SessionContextBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.metadata.iter().map(|(key, _)| key.as_str()).collect();
        f.debug_struct("SessionContextBuilder")
            .field("address", &self.address)
            .field("session_id", &self.session_id)
            .field("connect_timeout", &self.connect_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("max_message_size", &self.max_message_size)
            .field("tls", &self.tls)
            .field("propagate_deadline", &self.propagate_deadline)
            .field("check_parameters", &self.check_parameters)
            .field("metadata_keys", &keys)
            .field("correlation_id", &self.correlation_id)
            .finish()
    }
}

/// TLS to the host (rustls): a custom CA, a client certificate for mutual TLS, the server name.
///
/// Needs the `tls` feature (of `snakepit-bridge` or `snakepit-bridge-runtime`): without it,
/// connecting with these options or to an `https://` address fails with
/// [`Error::TlsNotEnabled`].
///
/// Without a CA, the host's certificate is checked against the Mozilla root certificates
/// (webpki-roots).
///
/// ```
/// # extern crate snakepit_bridge_runtime as snakepit_bridge;
/// use snakepit_bridge::TlsOptions;
/// # let (ca_pem, cert_pem, key_pem) = ("", "", "");
/// let tls = TlsOptions::new()
///     .ca_certificate_pem(ca_pem)
///     .client_identity_pem(cert_pem, key_pem)
///     .domain_name("snakepit.internal");
/// ```
#[derive(Clone, Default)]
pub struct TlsOptions {
    pub(crate) ca_pem: Option<Vec<u8>>,
    pub(crate) identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    pub(crate) domain_name: Option<String>,
}

impl TlsOptions {
    /// TLS with the default roots and the address's host name.
    pub fn new() -> Self {
        TlsOptions::default()
    }

    /// Trust the CA certificate(s) in `pem` (instead of the default roots).
    pub fn ca_certificate_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.ca_pem = Some(pem.as_ref().to_vec());
        self
    }

    /// Present this client certificate and private key (mutual TLS).
    pub fn client_identity_pem(
        mut self,
        cert_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Self {
        self.identity_pem = Some((cert_pem.as_ref().to_vec(), key_pem.as_ref().to_vec()));
        self
    }

    /// The name the host's certificate must carry, when it differs from the address's host.
    pub fn domain_name(mut self, name: impl Into<String>) -> Self {
        self.domain_name = Some(name.into());
        self
    }

    /// `endpoint` with these TLS options.
    #[cfg(feature = "tls")]
    pub(crate) fn apply(
        &self,
        endpoint: tonic::transport::Endpoint,
        address: &str,
    ) -> Result<tonic::transport::Endpoint, Error> {
        use tonic::transport::{Certificate, ClientTlsConfig, Identity};
        let mut config = ClientTlsConfig::new();
        config = match &self.ca_pem {
            Some(pem) => config.ca_certificate(Certificate::from_pem(pem)),
            None => config.with_webpki_roots(),
        };
        if let Some((cert, key)) = &self.identity_pem {
            config = config.identity(Identity::from_pem(cert, key));
        }
        if let Some(name) = &self.domain_name {
            config = config.domain_name(name.clone());
        }
        endpoint
            .tls_config(config)
            .map_err(|error| Error::InvalidTlsOptions {
                address: address.to_owned(),
                reason: crate::support::error_chain(&error),
            })
    }

    /// Without the `tls` feature there is no TLS stack: a clear error, never plaintext.
    #[cfg(not(feature = "tls"))]
    pub(crate) fn apply(
        &self,
        _endpoint: tonic::transport::Endpoint,
        address: &str,
    ) -> Result<tonic::transport::Endpoint, Error> {
        Err(Error::TlsNotEnabled {
            address: address.to_owned(),
        })
    }
}

/// Says what is set, never the key material.
impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("custom_ca", &self.ca_pem.is_some())
            .field("client_identity", &self.identity_pem.is_some())
            .field("domain_name", &self.domain_name)
            .finish()
    }
}

impl SessionContextBuilder {
    pub(crate) fn new(address: impl Into<String>, session_id: impl Into<String>) -> Self {
        SessionContextBuilder {
            address: address.into(),
            session_id: session_id.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            tls: None,
            propagate_deadline: false,
            check_parameters: true,
            metadata: Vec::new(),
            correlation_id: None,
        }
    }

    /// Whether a call's parameter names are checked against the session's tool list before it
    /// is sent (default: yes): a parameter the tool does not declare (with "did you mean") and a
    /// declared required one not passed are errors naming the tool and the parameter, instead
    /// of whatever the Elixir function makes of them. Turn it off for hosts whose tool lists
    /// declare fewer parameters than their tools take.
    pub fn check_parameters(mut self, check: bool) -> Self {
        self.check_parameters = check;
        self
    }

    /// How long to wait for the connection (TCP and HTTP/2) before giving up.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// How long one call (a tool call or any other RPC) may take.
    pub fn call_timeout(mut self, limit: Duration) -> Self {
        self.call_timeout = limit;
        self
    }

    /// Also send each call's deadline to the host as `grpc-timeout`, so that it can stop work
    /// nobody waits for any more. Off by default, as in snakepit's own client: the deadline is
    /// always enforced by this side, and a host that honours the header arms a timer per call
    /// (5 to 10% of throughput on a small machine, see BENCHMARKS.md).
    pub fn propagate_deadline(mut self, propagate: bool) -> Self {
        self.propagate_deadline = propagate;
        self
    }

    /// The largest message sent or received, in bytes (default 64 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// A gRPC metadata entry (an HTTP/2 header) sent with every call.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// A bearer token sent with every call as `authorization: Bearer <token>`. It is never
    /// logged, nor shown by `Debug`.
    pub fn bearer_token(self, token: impl AsRef<str>) -> Self {
        let value = format!("Bearer {}", token.as_ref());
        self.metadata("authorization", value)
    }

    /// Connect over TLS (rustls). An `https://` address uses TLS with default options too.
    pub fn tls(mut self, options: TlsOptions) -> Self {
        self.tls = Some(options);
        self
    }

    /// A correlation id sent with every call as `x-snakepit-correlation-id`.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Connects to the host.
    pub async fn connect(self) -> Result<SessionContext, Error> {
        SessionContext::from_builder(self).await
    }

    /// Connects to the host, for use without async (see [`blocking`](crate::blocking)).
    pub fn connect_blocking(self) -> Result<crate::blocking::SessionContext, Error> {
        crate::blocking::SessionContext::from_builder(self)
    }

    /// The metadata sent with every call, checked as gRPC headers.
    pub(crate) fn metadata_map(&self) -> Result<MetadataMap, Error> {
        let mut map = MetadataMap::with_capacity(self.metadata.len() + 1);
        for (key, value) in &self.metadata {
            let (key, value) = ascii_entry(key, value)?;
            map.append(key, value);
        }
        if let Some(id) = &self.correlation_id {
            map.insert(CORRELATION_HEADER, correlation_value(id)?);
        }
        Ok(map)
    }
}

fn ascii_entry(key: &str, value: &str) -> Result<(AsciiMetadataKey, AsciiMetadataValue), Error> {
    let invalid = |reason: String| Error::InvalidMetadata {
        key: key.to_owned(),
        reason,
    };
    let parsed_key = AsciiMetadataKey::from_bytes(key.as_bytes()).map_err(|_| {
        invalid(
            "a key must be lowercase ASCII letters, digits, `-`, `_` and `.`, and not end in `-bin`"
                .to_owned(),
        )
    })?;
    let mut parsed_value = AsciiMetadataValue::try_from(value)
        .map_err(|_| invalid("a value must be visible ASCII text".to_owned()))?;
    // Keeps credentials out of HPACK's tables and of any debug output of the headers.
    parsed_value.set_sensitive(true);
    Ok((parsed_key, parsed_value))
}

/// A correlation id as a header value.
pub(crate) fn correlation_value(id: &str) -> Result<AsciiMetadataValue, Error> {
    ascii_entry(CORRELATION_HEADER, id).map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs when the runtime is built without `tls` (`cargo test -p snakepit-bridge-runtime`).
    #[cfg(not(feature = "tls"))]
    #[tokio::test]
    async fn tls_without_the_feature_is_an_error_that_names_it() {
        for builder in [
            SessionContextBuilder::new("https://127.0.0.1:1", "s"),
            SessionContextBuilder::new("127.0.0.1:1", "s").tls(TlsOptions::new()),
        ] {
            let error = builder.connect().await.unwrap_err();
            assert!(matches!(error, Error::TlsNotEnabled { .. }), "{error}");
            assert!(
                error.to_string().contains("enable the `tls` feature"),
                "{error}"
            );
        }
        // Plaintext needs no feature: the same host without TLS fails to connect instead.
        let error = SessionContextBuilder::new("127.0.0.1:1", "s")
            .connect_timeout(Duration::from_millis(200))
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Connect { .. }), "{error}");
    }

    #[test]
    fn defaults_raise_the_message_limit_above_tonics() {
        let builder = SessionContextBuilder::new("h:1", "s");
        assert!(builder.max_message_size > 4 * 1024 * 1024);
        assert_eq!(builder.call_timeout, DEFAULT_CALL_TIMEOUT);
    }

    #[test]
    fn metadata_and_correlation_id_become_headers() {
        let map = SessionContextBuilder::new("h:1", "s")
            .metadata("x-team", "search")
            .correlation_id("req-1")
            .metadata_map()
            .unwrap();
        assert_eq!(map.get("x-team").unwrap(), "search");
        assert_eq!(map.get(CORRELATION_HEADER).unwrap(), "req-1");
    }

    #[test]
    fn debug_shows_no_metadata_value_nor_key_material() {
        let builder = SessionContextBuilder::new("h:1", "s")
            .bearer_token("s3cr3t-token")
            .metadata("x-api-key", "k3y")
            .tls(TlsOptions::new().client_identity_pem("CERT", "PRIVATE KEY DATA"));
        let text = format!("{builder:?}");
        for secret in ["s3cr3t-token", "k3y", "PRIVATE KEY DATA"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("\"authorization\""), "{text}");
        assert!(text.contains("client_identity: true"), "{text}");
        let map = builder.metadata_map().unwrap();
        assert_eq!(map.get("authorization").unwrap(), "Bearer s3cr3t-token");
        assert!(map.get("authorization").unwrap().is_sensitive());
    }

    #[test]
    fn bad_metadata_names_the_key() {
        let error = SessionContextBuilder::new("h:1", "s")
            .metadata("Bad Key", "v")
            .metadata_map()
            .unwrap_err();
        assert!(
            matches!(&error, Error::InvalidMetadata { key, .. } if key == "Bad Key"),
            "{error:?}"
        );
        let error = SessionContextBuilder::new("h:1", "s")
            .correlation_id("line\nbreak")
            .metadata_map()
            .unwrap_err();
        assert!(error.to_string().contains(CORRELATION_HEADER), "{error}");
    }
}
