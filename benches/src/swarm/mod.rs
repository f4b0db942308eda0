//! `redis-swarm`: thousands of simulated Redis instances (masters with one replica each) in one
//! process, on real loopback sockets, speaking enough RESP2 for `redis-sentinel` 7.0.15 and
//! Warden to monitor them and fail them over: `PING`, `INFO` (server, replication,
//! commandstats), `ROLE`, `REPLICAOF`/`SLAVEOF`, `MULTI`/`EXEC`, `CONFIG`, `CLIENT`, pub/sub,
//! `SET`/`GET` (`-READONLY` on a replica), `AUTH`, `SCRIPT KILL`, `SHUTDOWN`.
//!
//! The requests are parsed in [`resp`], run on the instances' state in [`model`], and served by
//! [`server`] (one tokio runtime). The `many_masters` bench starts it as a child process
//! (`src/bin/redis-swarm.rs`) so that its CPU time is measured apart from the bench's, and
//! kills shards through its control port.

pub mod model;
pub mod resp;
pub mod server;

/// Parses `--control <port> --pairs <master>:<replica>,...` (the swarm binary's arguments).
pub fn parse_args(args: &[String]) -> Result<(u16, Vec<(u16, u16)>), String> {
    let usage = "usage: redis-swarm --control PORT --pairs MASTER:REPLICA[,MASTER:REPLICA...]";
    let (mut control, mut pairs) = (None, Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value\n{usage}"))?;
        match arg.as_str() {
            "--control" => {
                control = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--control {value}: not a port"))?,
                )
            }
            "--pairs" => {
                for pair in value.split(',') {
                    let parsed = pair
                        .split_once(':')
                        .and_then(|(m, r)| Some((m.parse().ok()?, r.parse().ok()?)));
                    pairs.push(parsed.ok_or(format!("--pairs: bad pair {pair:?}"))?);
                }
            }
            other => return Err(format!("unknown argument {other:?}\n{usage}")),
        }
    }
    Ok((control.ok_or(usage)?, pairs))
}
