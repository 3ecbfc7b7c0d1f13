//! Which addresses a remote may resolve to: public unicast only, unless local remotes are
//! allowed (loopback, private, link-local, CGNAT, unspecified and cloud-metadata
//! addresses are refused). An IPv6 address that carries an IPv4 address (IPv4-mapped or
//! -compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address it reaches.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not a public unicast address, or `None` when it is one.
/// An IPv6 address that embeds an IPv4 address (see [`embedded_ipv4`]) is judged as that
/// IPv4 address too: `64:ff9b::7f00:1` (NAT64) reaches 127.0.0.1 through a translator.
pub fn address_problem(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => ipv4_problem(v4),
        IpAddr::V6(v6) => match embedded_ipv4(v6) {
            Some(v4) => ipv4_problem(v4),
            None => ipv6_problem(v6),
        },
    }
}

/// The IPv4 address an IPv6 address stands for, where it stands for one: IPv4-mapped
/// (`::ffff:a.b.c.d`) and the deprecated IPv4-compatible (`::a.b.c.d`, not `::` or `::1`),
/// NAT64 (`64:ff9b::/96` and the local-use `64:ff9b:1::/48`, RFC 6052 and 8215; the
/// address in the last 32 bits), 6to4 (`2002::/16`, the address in bits 16–47) and Teredo
/// (`2001:0::/32`, the client's address inverted in the last 32 bits).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let last = Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    let compatible = s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || s[..3] == [0x64, 0xff9b, 1];
    if compatible || nat64 {
        Some(last)
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])))
    } else if s[0] == 0x2001 && s[1] == 0 {
        Some(Ipv4Addr::from(!u32::from(last)))
    } else {
        None
    }
}

fn ipv4_problem(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("not a unicast address")
    } else {
        None
    }
}

fn ipv6_problem(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique local) address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("not a unicast address")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn addresses_are_classified() {
        for local in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            // NAT64, 6to4, Teredo and IPv4-compatible forms of local IPv4 addresses.
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::c0a8:101",
            "2002:7f00:1::",
            "2002:a00:1:1::1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "::127.0.0.1",
            "::10.0.0.1",
        ] {
            assert!(address_problem(ip(local)).is_some(), "{local}");
        }
        for public in [
            "140.82.112.3",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "2606:50c0:8000::153",
            "::ffff:140.82.112.3",
            "fec0::1",
            "64:ff9b::8c52:7003",
            "2002:8c52:7003::1",
            "2001:0:4136:e378:8000:63bf:73ad:8ffc",
            "::8.8.8.8",
        ] {
            assert_eq!(address_problem(ip(public)), None, "{public}");
        }
        assert_eq!(
            address_problem(ip("169.254.169.254")),
            Some("a cloud metadata address")
        );
        assert_eq!(
            address_problem(ip("fd00:ec2::254")),
            Some("a cloud metadata address")
        );
        assert_eq!(
            address_problem(ip("::ffff:127.0.0.1")),
            Some("a loopback address")
        );
        assert_eq!(
            address_problem(ip("64:ff9b::a9fe:a9fe")),
            Some("a cloud metadata address")
        );
        assert_eq!(
            address_problem(ip("2002:c0a8:101::1")),
            Some("a private address")
        );
    }
}
