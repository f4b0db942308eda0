//! What the benchmark ran on, and how much memory a process uses.

use crate::json::Json;

/// Resident set size of process `pid` in KiB (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// CPU model, logical CPU count and kernel release, for result files.
pub fn describe() -> Json {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_owned());
    let cpus = std::thread::available_parallelism()
        .ok()
        .map(|n| n.get() as u64);
    Json::obj([
        ("cpu", cpu.map_or(Json::Null, Json::Str)),
        ("cpus", Json::from(cpus)),
        ("kernel", kernel.map_or(Json::Null, Json::Str)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_rss() {
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
