//! The real agent answers only requests addressed to the address it serves pods on (its Host check, against
//! DNS rebinding and confused proxies): here its link-local addresses, and the loopback addresses it listens on.

use std::net::IpAddr;

use axum::http::{HeaderMap, Uri, header};

use super::error::AgentError;

/// The real agent's addresses, which pods' SDKs know.
const LINK_LOCAL_HOSTS: [&str; 2] = ["169.254.170.23", "fd00:ec2::23"];

pub(crate) struct AllowedHosts {
    hosts: Vec<String>,
    /// As Go prints a list of strings, for the refusal.
    shown: String,
}

impl AllowedHosts {
    pub(crate) fn new(listening: &[IpAddr]) -> Self {
        let hosts: Vec<String> = LINK_LOCAL_HOSTS
            .iter()
            .map(|host| (*host).to_owned())
            .chain(listening.iter().map(IpAddr::to_string))
            .collect();
        let shown = format!("[{}]", hosts.join(" "));
        Self { hosts, shown }
    }

    /// Accepts a request whose Host (or absolute URI) names one of the hosts, with or without a port.
    pub(crate) fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), AgentError> {
        let target = uri
            .authority()
            .map(|authority| authority.as_str())
            .or_else(|| headers.get(header::HOST).and_then(|value| value.to_str().ok()))
            .unwrap_or("");
        let host = without_port(target);
        if self.hosts.iter().any(|allowed| allowed == host) {
            return Ok(());
        }
        Err(AgentError::WrongHost {
            allowed: self.shown.clone(),
            host: host.to_owned(),
        })
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` → the host, without brackets.
fn without_port(target: &str) -> &str {
    if let Some(rest) = target.strip_prefix('[') {
        return rest.split_once(']').map_or(target, |(host, _)| host);
    }
    match target.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_compared_without_ports_or_brackets() {
        assert_eq!(without_port("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(without_port("[::1]:8080"), "::1");
        assert_eq!(without_port("[fd00:ec2::23]"), "fd00:ec2::23");
        assert_eq!(without_port("fd00:ec2::23"), "fd00:ec2::23");
        assert_eq!(without_port("example.com"), "example.com");
    }
}
