//! The client's IP address behind trusted reverse proxies, for brute-force protection.
//!
//! The TCP peer is the client unless it is one of the configured `trusted_proxies`: only then is
//! the address it forwards believed, from `Forwarded` (RFC 7239 §4, its `for=` parameter) or,
//! without one, `X-Forwarded-For`. The hops are walked from the nearest (the last listed) back,
//! as long as the hop that reported each is trusted, so a client cannot pick its own bucket by
//! sending the header itself: whatever it wrote is to the left of what the first trusted proxy
//! appended. A hop that is not an IP address (`unknown`, an obfuscated name, RFC 7239 §6) stops
//! the walk at the proxy that reported it.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName};

/// `X-Forwarded-For`: the de facto list of client, then proxy, addresses.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The address of the client that sent `req`, believing forwarding headers only from the
/// `trusted` proxies; `None` when the connection has no peer address (tests, Unix sockets).
pub fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let mut client = req.peer_addr()?.ip();
    if !trusted.contains(&client) {
        return Some(client);
    }
    for hop in forwarded_for(req).iter().rev() {
        if !trusted.contains(&client) {
            break;
        }
        match node_ip(hop) {
            Some(ip) => client = ip,
            None => break,
        }
    }
    Some(client)
}

/// The `for=` nodes of every `Forwarded` header, in order (RFC 7239 §4); without any, the
/// `X-Forwarded-For` list. A header that is not text yields nothing.
fn forwarded_for(req: &HttpRequest) -> Vec<String> {
    let headers = req.headers();
    let text = |name: &HeaderName| -> Vec<String> {
        headers.get_all(name).filter_map(|value| value.to_str().ok()).map(str::to_owned).collect()
    };
    let forwarded = text(&header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"').to_owned())
                })
            })
            .collect();
    }
    text(&X_FORWARDED_FOR).iter().flat_map(|value| value.split(',')).map(|hop| hop.trim().to_owned()).collect()
}

/// The IP address of a node (RFC 7239 §6: `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]`,
/// `[2001:db8::1]:80`; `X-Forwarded-For` also writes IPv6 bare); `None` for `unknown`, an
/// obfuscated identifier, or anything else.
fn node_ip(node: &str) -> Option<IpAddr> {
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| node.strip_prefix('[')?.strip_suffix(']')?.parse::<IpAddr>().ok())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn from(peer: &str, headers: &[(&str, &str)]) -> TestRequest {
        let mut req = TestRequest::default().peer_addr(SocketAddr::new(ip(peer), 40000));
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        req
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        let client = |peer: &str, headers: &[(&str, &str)]| client_ip(&from(peer, headers).to_http_request(), &trusted);
        // A client sending the header itself is still its own address.
        assert_eq!(client("192.0.2.9", &[("x-forwarded-for", "198.51.100.7")]), Some(ip("192.0.2.9")));
        // Through a trusted proxy: the address it appended, not what the client wrote before it.
        assert_eq!(client("10.0.0.1", &[("x-forwarded-for", "203.0.113.5, 198.51.100.7")]), Some(ip("198.51.100.7")));
        // Two trusted hops.
        assert_eq!(client("10.0.0.1", &[("x-forwarded-for", "198.51.100.7, 10.0.0.2")]), Some(ip("198.51.100.7")));
        // RFC 7239 wins over X-Forwarded-For, with quoted IPv6 and ports, in any case.
        let forwarded = [("forwarded", r#"for=192.0.2.60;proto=http, For="[2001:db8:cafe::17]:4711""#)];
        assert_eq!(client("10.0.0.1", &forwarded), Some(ip("2001:db8:cafe::17")));
        let both = [("forwarded", "for=198.51.100.7"), ("x-forwarded-for", "203.0.113.5")];
        assert_eq!(client("10.0.0.1", &both), Some(ip("198.51.100.7")));
        // Hidden or unknown clients, and no header: the proxy that reported them.
        assert_eq!(client("10.0.0.1", &[("forwarded", "for=unknown")]), Some(ip("10.0.0.1")));
        assert_eq!(client("10.0.0.1", &[("forwarded", "for=_hidden, for=10.0.0.2")]), Some(ip("10.0.0.2")));
        assert_eq!(client("10.0.0.1", &[]), Some(ip("10.0.0.1")));
    }
}
