//! Shared helpers for the benchmarks: running `redis-benchmark`, reading a process's memory, describing
//! the machine, and writing results as JSON. The servers themselves come from `warden-integration`.

pub mod json;
pub mod machine;
pub mod redis_benchmark;
