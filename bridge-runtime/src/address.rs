//! Host addresses: `host:port` as snakepit passes them, or a URI.

use tonic::transport::Uri;

use crate::Error;

/// The URI to dial for `address`: `host:port` gets `http://` in front (`https://` with `tls`);
/// a URI must be `http` or `https`.
pub(crate) fn endpoint_uri(address: &str, tls: bool) -> Result<Uri, Error> {
    let invalid = |reason: &str| Error::InvalidAddress {
        address: address.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = address.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if !trimmed.contains("://")
        && (trimmed.contains("//") || trimmed.starts_with("http:") || trimmed.starts_with("https:"))
    {
        return Err(invalid(
            "its scheme is malformed; write `http://host:port`, `https://host:port` or `host:port`",
        ));
    }
    let text = match trimmed.split_once("://") {
        Some(("http", _)) if tls => {
            return Err(invalid(
                "it says `http://`, but TLS options are set; use `https://` or `host:port`",
            ))
        }
        Some(("http" | "https", _)) => trimmed.to_owned(),
        Some((scheme, _)) => {
            return Err(invalid(&format!(
                "the scheme `{scheme}` is not supported, use `http` or `https`"
            )))
        }
        None if tls => format!("https://{trimmed}"),
        None => format!("http://{trimmed}"),
    };
    let uri: Uri = text
        .parse()
        .map_err(|error: tonic::codegen::http::uri::InvalidUri| invalid(&error.to_string()))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("it names no host"));
    }
    if uri.port_u16().is_none() {
        let port = uri
            .authority()
            .and_then(|authority| authority.as_str().rsplit_once(':'))
            .map(|(_, port)| port)
            .filter(|port| !port.is_empty() && !port.ends_with(']'));
        return Err(match port {
            Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => invalid(&format!(
                "its port {port} is out of range; a port is 1 to 65535"
            )),
            Some(port) => invalid(&format!("`{port}` is not a port number")),
            None => invalid("it names no port"),
        });
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_becomes_an_http_uri() {
        assert_eq!(
            endpoint_uri("localhost:50051", false).unwrap().to_string(),
            "http://localhost:50051/"
        );
        assert_eq!(
            endpoint_uri(" 127.0.0.1:9 ", false).unwrap().to_string(),
            "http://127.0.0.1:9/"
        );
        assert_eq!(
            endpoint_uri("[::1]:50051", false).unwrap().port_u16(),
            Some(50051)
        );
    }

    #[test]
    fn http_uris_pass_through() {
        assert_eq!(
            endpoint_uri("http://host:1", false).unwrap().to_string(),
            "http://host:1/"
        );
    }

    #[test]
    fn tls_makes_host_port_an_https_uri() {
        assert_eq!(
            endpoint_uri("localhost:1", true).unwrap().scheme_str(),
            Some("https")
        );
        assert_eq!(
            endpoint_uri("https://h:1", false).unwrap().scheme_str(),
            Some("https")
        );
    }

    #[test]
    fn bad_addresses_say_why() {
        let reason = |address: &str| match endpoint_uri(address, false) {
            Err(Error::InvalidAddress { reason, .. }) => reason,
            other => panic!("expected an invalid address, got {other:?}"),
        };
        assert_eq!(reason(""), "it is empty");
        assert_eq!(reason("localhost"), "it names no port");
        assert!(reason("ftp://x:1").contains("`ftp`"));
        assert!(endpoint_uri("http://x:1", true).is_err());
        assert!(!reason("host:port").is_empty());
        assert_eq!(
            reason("127.0.0.1:99999"),
            "its port 99999 is out of range; a port is 1 to 65535"
        );
        assert!(
            reason("http//host:1").starts_with("its scheme is malformed"),
            "{}",
            reason("http//host:1")
        );
        assert!(reason("http:host:1").starts_with("its scheme is malformed"));
    }
}
