//! Runs `redis-benchmark` against one server and reads its CSV summary.

use crate::machine::reaped_children_cpu_seconds;
use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// One `redis-benchmark` run.
#[derive(Clone, Debug)]
pub struct Run<'a> {
    /// Server port on 127.0.0.1.
    pub port: u16,
    /// Parallel connections (`-c`).
    pub clients: u32,
    /// Total requests (`-n`).
    pub requests: u64,
    /// Requests per pipeline (`-P`); 1 = no pipelining.
    pub pipeline: u32,
    /// The command and its arguments.
    pub command: &'a [&'a str],
    /// Connect with TLS, verifying the server against this CA certificate.
    pub tls_ca: Option<&'a Path>,
}

/// What `redis-benchmark --csv` reported, and what running it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The result row.
    pub report: Report,
    /// Wall-clock time of the run, in seconds.
    pub wall_s: f64,
    /// CPU time `redis-benchmark` itself used, in seconds: near `wall_s`, the load generator was
    /// the bottleneck (it is single-threaded), not the server.
    pub client_cpu_s: f64,
}

/// The numbers of the `redis-benchmark --csv` data row.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Requests per second.
    pub rps: f64,
    /// Median latency in ms.
    pub p50_ms: f64,
    /// 99th percentile latency in ms.
    pub p99_ms: f64,
}

impl Run<'_> {
    /// Runs it (the server must be up) and parses the result.
    pub fn execute(&self) -> io::Result<Outcome> {
        let cpu = || {
            reaped_children_cpu_seconds()
                .ok_or_else(|| io::Error::other("getrusage(RUSAGE_CHILDREN) failed"))
        };
        let (cpu_before, started) = (cpu()?, Instant::now());
        let output = Command::new("redis-benchmark")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-c",
                &self.clients.to_string(),
                "-n",
                &self.requests.to_string(),
            ])
            .args(["-P", &self.pipeline.to_string(), "--csv"])
            .args(
                self.tls_ca
                    .iter()
                    .flat_map(|ca| [OsStr::new("--tls"), OsStr::new("--cacert"), ca.as_os_str()]),
            )
            .args(self.command)
            .output()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("redis-benchmark: {e} (apt-get install redis-tools)"),
                )
            })?;
        let (wall_s, client_cpu_s) = (started.elapsed().as_secs_f64(), cpu()? - cpu_before);
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "redis-benchmark failed ({}): {}{}",
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let report = parse_csv(&stdout).ok_or_else(|| {
            io::Error::other(format!("unexpected redis-benchmark output: {stdout}"))
        })?;
        Ok(Outcome {
            report,
            wall_s,
            client_cpu_s,
        })
    }
}

/// Parses the data row of `redis-benchmark --csv`:
/// `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...`.
pub fn parse_csv(text: &str) -> Option<Report> {
    let row = text
        .lines()
        .find(|l| !l.starts_with("\"test\"") && l.starts_with('"'))?;
    // The test name may contain commas only inside its quotes; the numbers follow the closing quote.
    let (_, numbers) = row[1..].split_once("\",")?;
    let fields: Vec<f64> = numbers
        .split(',')
        .map(|f| f.trim_matches('"').parse().ok())
        .collect::<Option<_>>()?;
    Some(Report {
        rps: *fields.first()?,
        p50_ms: *fields.get(3)?,
        p99_ms: *fields.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_csv_row() {
        let text = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\
                    \"SENTINEL GET-MASTER-ADDR-BY-NAME mymaster\",\"101522.84\",\"7.340\",\"0.488\",\"6.415\",\"19.951\",\"28.655\",\"29.039\"\n";
        assert_eq!(
            parse_csv(text),
            Some(Report {
                rps: 101522.84,
                p50_ms: 6.415,
                p99_ms: 28.655
            })
        );
        assert_eq!(parse_csv("garbage"), None);
    }
}
