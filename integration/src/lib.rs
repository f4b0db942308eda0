//! Test harness for end-to-end tests (real processes on loopback and in network namespaces).
//!
//! Start real servers ([`servers`], [`bed`]), talk RESP to them ([`client`], [`resp`]), compare
//! replies of Warden and the reference `redis-sentinel` ([`shape`], [`info`]), and wait on conditions
//! with deadlines ([`wait`]). Every process a test starts is killed when its guard drops ([`process`]).

pub mod bed;
pub mod binaries;
pub mod certs;
pub mod client;
pub mod events;
pub mod frr;
pub mod group;
pub mod http;
pub mod info;
pub mod netns;
pub mod nsclient;
pub mod ports;
pub mod process;
pub mod resp;
pub mod servers;
pub mod shape;
pub mod tempdir;
pub mod vipbed;
pub mod vipwatch;
pub mod wait;
pub mod writer;
