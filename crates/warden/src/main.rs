//! `warden`: a Redis Sentinel drop-in that also owns the service's virtual IP.

mod app;

fn main() {}
