//! Shared helpers for the benchmarks: parsing their options ([`args`]), running `redis-benchmark`, reading a process's memory, describing
//! the machine, and writing results as JSON. The servers themselves come from `warden-integration`.
//! For the failover benches: a monitored group ([`group`]), a Sentinel-aware writing client
//! ([`writer`]) over a fail-fast connection ([`conn`]), and medians with ranges ([`stats`]);
//! they record sentinel events with `warden_integration::events`. For the failover bench
//! through a VIP in network namespaces: the bed ([`netbed`]), the systems compared
//! ([`vipsystems`]), what is watched ([`vipprobe`]), the numbers drawn from it ([`vipmetrics`])
//! and SVG timelines ([`timeline`]). For the fleet-scale bench (`many_masters`): the shards and
//! sentinels ([`fleet`]), idle measurements and fsync counts ([`fleetwatch`]), the mass
//! failover's writers and analysis ([`massfailover`]), and the simulated Redis instances of
//! `--swarm` ([`swarm`]).

pub mod args;
pub mod conn;
pub mod fleet;
pub mod fleetwatch;
pub mod group;
pub mod json;
pub mod machine;
pub mod massfailover;
pub mod netbed;
pub mod redis_benchmark;
pub mod stats;
pub mod swarm;
pub mod timeline;
pub mod vipmetrics;
pub mod vipprobe;
pub mod vipsystems;
pub mod writer;
