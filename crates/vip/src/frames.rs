//! Byte-exact announcement frames (pure functions, no I/O).
//!
//! * Gratuitous ARP, request form (what keepalived sends): Ethernet broadcast, `oper=1`,
//!   SHA = interface MAC, SPA = TPA = VIP, THA = ff:ff:ff:ff:ff:ff (some devices ignore a zero
//!   THA). Linux treats a request with SPA == TPA as gratuitous and lets it override an existing
//!   neighbour entry even inside `locktime`.
//! * Gratuitous ARP, reply form (`arping -A`): Ethernet broadcast, `oper=2`, THA = SHA, which is
//!   what Linux requires to treat a reply as gratuitous; some gear only honours replies.
//! * IPv6 unsolicited neighbour advertisement (RFC 4861 §7.2.6): Ethernet to 33:33:00:00:00:01,
//!   IPv6 from the VIP to ff02::1 with hop limit 255, ICMPv6 type 136 with Override set and
//!   Solicited/Router clear, option Target Link-Layer Address = interface MAC. (Router stays
//!   clear: a host holding a VIP is not expected to be an IPv6 router; on one that forwards,
//!   receivers would drop it from their router lists.)

use std::net::{Ipv4Addr, Ipv6Addr};

/// A 48-bit Ethernet address.
pub type Mac = [u8; 6];

/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

const BROADCAST: Mac = [0xff; 6];
/// Ethernet multicast address of ff02::1 (all nodes).
const ALL_NODES_MAC: Mac = [0x33, 0x33, 0, 0, 0, 1];
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// Which ARP operation a gratuitous ARP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpForm {
    /// `oper=1`, THA broadcast (keepalived, `arping -U`).
    Request,
    /// `oper=2`, THA = SHA (`arping -A`).
    Reply,
}

/// Length of a gratuitous ARP frame (without the Ethernet FCS, which the NIC adds).
pub const ARP_FRAME_LEN: usize = 42;

/// The sender of an Ethernet/IPv4 ARP message (request or reply), as the kernel delivers it to a
/// datagram packet socket (the ARP header on, no Ethernet header): its hardware and protocol
/// addresses. `None` for anything else (other hardware or protocol types, other operations,
/// short or malformed input).
pub fn arp_sender(arp: &[u8]) -> Option<(Mac, Ipv4Addr)> {
    let header: &[u8; 28] = arp.get(..28)?.try_into().ok()?;
    let field = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    if field(0) != 1 || field(2) != 0x0800 || header[4] != 6 || header[5] != 4 {
        return None;
    }
    if !matches!(field(6), 1 | 2) {
        return None;
    }
    let mac: Mac = header[8..14].try_into().ok()?;
    let ip: [u8; 4] = header[14..18].try_into().ok()?;
    Some((mac, Ipv4Addr::from(ip)))
}

/// Builds a gratuitous ARP frame announcing that `vip` is at `mac`.
pub fn gratuitous_arp(mac: Mac, vip: Ipv4Addr, form: ArpForm) -> [u8; ARP_FRAME_LEN] {
    let (oper, tha) = match form {
        ArpForm::Request => (1u16, BROADCAST),
        ArpForm::Reply => (2u16, mac),
    };
    let mut f = [0u8; ARP_FRAME_LEN];
    f[0..6].copy_from_slice(&BROADCAST);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // htype Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // ptype IPv4
    f[18] = 6; // hlen
    f[19] = 4; // plen
    f[20..22].copy_from_slice(&oper.to_be_bytes());
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&vip.octets());
    f[32..38].copy_from_slice(&tha);
    f[38..42].copy_from_slice(&vip.octets());
    f
}

const ICMPV6_NA_LEN: usize = 32; // 24-byte NA + 8-byte target link-layer address option
/// Length of an unsolicited neighbour advertisement frame.
pub const NA_FRAME_LEN: usize = 14 + 40 + ICMPV6_NA_LEN;

/// Builds an unsolicited neighbour advertisement announcing that `vip` is at `mac`.
pub fn unsolicited_na(mac: Mac, vip: Ipv6Addr) -> [u8; NA_FRAME_LEN] {
    let mut f = [0u8; NA_FRAME_LEN];
    f[0..6].copy_from_slice(&ALL_NODES_MAC);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());

    let ip = &mut f[14..54];
    ip[0] = 0x60; // version 6, traffic class 0, flow label 0
    ip[4..6].copy_from_slice(&(ICMPV6_NA_LEN as u16).to_be_bytes());
    ip[6] = 58; // next header ICMPv6
    ip[7] = 255; // hop limit, required by RFC 4861
    ip[8..24].copy_from_slice(&vip.octets());
    ip[24..40].copy_from_slice(&ALL_NODES.octets());

    let icmp = &mut f[54..];
    icmp[0] = 136; // neighbour advertisement
    icmp[1] = 0; // code
    icmp[4] = 0x20; // flags: R=0x80, S=0x40, O=0x20 -> Override only
    icmp[8..24].copy_from_slice(&vip.octets());
    icmp[24] = 2; // option: target link-layer address
    icmp[25] = 1; // length in units of 8 bytes
    icmp[26..32].copy_from_slice(&mac);
    let sum = icmpv6_checksum(vip, ALL_NODES, icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    f
}

/// The ICMPv6 checksum (RFC 4443 §2.3): one's complement sum over the IPv6 pseudo-header
/// (source, destination, upper-layer length, next header 58) and the message with its
/// checksum field zero.
pub fn icmpv6_checksum(src: Ipv6Addr, dst: Ipv6Addr, message: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(message.len() as u32).to_be_bytes());
    add(&[0, 0, 0, 58]);
    add(message);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: Mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    #[test]
    fn arp_request_matches_keepalived_form() {
        let f = gratuitous_arp(MAC, Ipv4Addr::new(10, 9, 8, 7), ArpForm::Request);
        let expected: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08,
            0x06, // eth
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // htype ptype hlen plen oper
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 10, 9, 8, 7, // SHA SPA
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 10, 9, 8, 7, // THA TPA
        ];
        assert_eq!(f, expected);
    }

    #[test]
    fn arp_reply_has_target_hw_equal_to_sender() {
        let f = gratuitous_arp(MAC, Ipv4Addr::new(10, 9, 8, 7), ArpForm::Reply);
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[20..22], &[0, 2]);
        assert_eq!(&f[32..38], &MAC);
        assert_eq!(&f[28..32], &f[38..42]);
    }

    #[test]
    fn na_layout_and_flags() {
        let vip: Ipv6Addr = "fd00::5".parse().unwrap();
        let f = unsolicited_na(MAC, vip);
        assert_eq!(&f[0..6], &ALL_NODES_MAC);
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        assert_eq!(f[14] >> 4, 6);
        assert_eq!(u16::from_be_bytes([f[18], f[19]]), 32);
        assert_eq!(f[20], 58);
        assert_eq!(f[21], 255);
        assert_eq!(&f[22..38], &vip.octets());
        assert_eq!(&f[38..54], &ALL_NODES.octets());
        assert_eq!(f[54], 136);
        assert_eq!(f[58], 0x20, "Override set, Solicited and Router clear");
        assert_eq!(&f[62..78], &vip.octets());
        assert_eq!(&f[78..80], &[2, 1]);
        assert_eq!(&f[80..86], &MAC);
    }

    #[test]
    fn na_checksum_verifies_to_zero() {
        // Summing a message including its correct checksum yields 0xffff, i.e. the
        // complemented result is 0.
        let vip: Ipv6Addr = "2001:db8::1234".parse().unwrap();
        let f = unsolicited_na(MAC, vip);
        assert_ne!(&f[56..58], &[0, 0]);
        assert_eq!(icmpv6_checksum(vip, ALL_NODES, &f[54..]), 0);
    }

    #[test]
    fn checksum_known_vector() {
        // Hand-computed: src ::1, dst ::2, message [0x80, 0, 0, 0] (echo request, zero body).
        // Words: 1 + 2 + len 4 + nh 58 + 0x8000 = 0x8041; complement = 0x7fbe.
        let sum = icmpv6_checksum(
            Ipv6Addr::LOCALHOST,
            "::2".parse().unwrap(),
            &[0x80, 0, 0, 0],
        );
        assert_eq!(sum, 0x7fbe);
    }

    #[test]
    fn checksum_pads_odd_length() {
        // 1 + 1 + len 3 + nh 58 + 0x0102 + 0x0300 (last byte padded) = 0x0441 -> 0xfbbe.
        let sum = icmpv6_checksum(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, &[1, 2, 3]);
        assert_eq!(sum, 0xfbbe);
    }

    #[test]
    fn arp_senders_read_back_from_our_own_frames() {
        let mac = [2, 0, 0, 0, 0, 9];
        let vip = Ipv4Addr::new(10, 0, 0, 100);
        for form in [ArpForm::Request, ArpForm::Reply] {
            let frame = gratuitous_arp(mac, vip, form);
            assert_eq!(arp_sender(&frame[14..]), Some((mac, vip)));
        }
        let frame = gratuitous_arp(mac, vip, ArpForm::Request);
        assert_eq!(arp_sender(&frame[14..41]), None, "short");
        let mut rarp = frame;
        rarp[21] = 3; // RARP request
        assert_eq!(arp_sender(&rarp[14..]), None);
    }

    /// Property tests (issue 17); proptest's default 256 cases each.
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any bytes: no panic; a sender is only read from a whole Ethernet/IPv4 header.
            #[test]
            fn any_arp_bytes_are_safe(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
                if arp_sender(&bytes).is_some() {
                    prop_assert!(bytes.len() >= 28);
                    prop_assert_eq!(&bytes[..6], &[0, 1, 8, 0, 6, 4]);
                }
            }

            /// Encode -> decode: every frame we send reads back as its sender, whatever follows
            /// (Ethernet padding).
            #[test]
            fn announcements_read_back(
                mac in any::<[u8; 6]>(),
                ip in any::<[u8; 4]>(),
                reply in any::<bool>(),
                padding in prop::collection::vec(any::<u8>(), 0..18),
            ) {
                let form = if reply { ArpForm::Reply } else { ArpForm::Request };
                let mut arp = gratuitous_arp(mac, Ipv4Addr::from(ip), form)[14..].to_vec();
                arp.extend_from_slice(&padding);
                prop_assert_eq!(arp_sender(&arp), Some((mac, Ipv4Addr::from(ip))));
            }
        }
    }
}
