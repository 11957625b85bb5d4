//! `Fn::Cidr`: the first `count` subnets of `block`, each with `bits` host bits (IPv4 or IPv6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::TemplateError;

/// CloudFormation hands out at most this many subnets per call.
const MAX_SUBNETS: u64 = 256;

pub(super) fn cidr(block: &str, count: u64, bits: u32) -> Result<Vec<String>, TemplateError> {
    let invalid = |reason: &str| TemplateError::InvalidFunction(format!("Fn::Cidr {reason}"));
    let (address, prefix) = block
        .split_once('/')
        .ok_or_else(|| invalid("requires an IP address block in CIDR notation"))?;
    let address: IpAddr = address
        .parse()
        .map_err(|_| invalid("requires an IP address block in CIDR notation"))?;
    let prefix: u32 = prefix
        .parse()
        .map_err(|_| invalid("requires an IP address block in CIDR notation"))?;
    let width = match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    if prefix > width {
        return Err(invalid("requires an IP address block in CIDR notation"));
    }
    if !(1..=MAX_SUBNETS).contains(&count) {
        return Err(invalid("requires a count between 1 and 256"));
    }
    if bits == 0 || bits > width - prefix {
        return Err(invalid("cidrBits must leave room for the subnets in the address block"));
    }
    let available = 1u128.checked_shl(width - prefix - bits).unwrap_or(u128::MAX);
    if u128::from(count) > available {
        return Err(invalid(
            "cannot fit the requested number of subnets in the address block",
        ));
    }
    let host_mask = 1u128.checked_shl(width - prefix).map_or(u128::MAX, |size| size - 1);
    let network = match address {
        IpAddr::V4(address) => u128::from(u32::from(address)),
        IpAddr::V6(address) => u128::from(address),
    } & !host_mask;
    let subnet_prefix = width - bits;
    Ok((0..u128::from(count))
        .map(|index| {
            // One subnet of 2^128 addresses (bits 128) starts at the network itself.
            let start = network + index.checked_shl(bits).unwrap_or(0);
            let start = match address {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(start as u32)),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(start)),
            };
            format!("{start}/{subnet_prefix}")
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_blocks_are_cut_into_subnets() {
        assert_eq!(
            cidr("192.168.0.0/24", 6, 5).unwrap(),
            [
                "192.168.0.0/27",
                "192.168.0.32/27",
                "192.168.0.64/27",
                "192.168.0.96/27",
                "192.168.0.128/27",
                "192.168.0.160/27"
            ]
        );
        assert_eq!(cidr("10.0.7.9/16", 2, 8).unwrap(), ["10.0.0.0/24", "10.0.1.0/24"]);
    }

    #[test]
    fn ipv6_blocks_are_cut_into_subnets() {
        assert_eq!(
            cidr("2001:db8::/56", 2, 64).unwrap(),
            ["2001:db8::/64", "2001:db8:0:1::/64"]
        );
    }

    #[test]
    fn impossible_requests_fail() {
        assert!(cidr("10.0.0.0/24", 9, 5).is_err());
        assert!(cidr("10.0.0.0/24", 1, 9).is_err());
        assert!(cidr("10.0.0.0/24", 0, 4).is_err());
        assert!(cidr("10.0.0.0", 1, 4).is_err());
        assert!(cidr("10.0.0.0/33", 1, 4).is_err());
    }
}
