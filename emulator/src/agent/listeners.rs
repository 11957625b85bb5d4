//! The credentials listeners: 127.0.0.1 and [::1] on one port, as the real agent binds its IPv4 and IPv6
//! addresses. A host without IPv6 loopback gets the IPv4 listener alone.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::TcpListener;

use crate::emulator::EmulatorError;

/// Attempts at finding a free port that is free on both addresses.
const ATTEMPTS: usize = 16;

pub(crate) struct Bound {
    pub ipv4: (TcpListener, SocketAddr),
    pub ipv6: Option<(TcpListener, SocketAddr)>,
}

pub(crate) async fn bind_loopback(port: u16) -> Result<Bound, EmulatorError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ipv4 = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let ipv6_addr = SocketAddr::from((Ipv6Addr::LOCALHOST, ipv4.1.port()));
        match TcpListener::bind(ipv6_addr).await {
            Ok(listener) => {
                let addr = listener.local_addr().unwrap_or(ipv6_addr);
                return Ok(Bound {
                    ipv4,
                    ipv6: Some((listener, addr)),
                });
            }
            // The free IPv4 port is taken on IPv6: try another one, unless the port was asked for.
            Err(error) if error.kind() == ErrorKind::AddrInUse && port == 0 && attempt < ATTEMPTS => continue,
            Err(error) if matches!(error.kind(), ErrorKind::AddrNotAvailable | ErrorKind::Unsupported) => {
                tracing::debug!(%error, "no IPv6 loopback: the agent listens on IPv4 only");
                return Ok(Bound { ipv4, ipv6: None });
            }
            Err(source) => {
                return Err(EmulatorError::Bind {
                    addr: ipv6_addr,
                    source,
                });
            }
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), EmulatorError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    Ok((listener, addr))
}
