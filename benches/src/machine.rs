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

/// CPU time (user + system) process `pid` has used so far, in seconds (`/proc/<pid>/stat`).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name (which may contain spaces): utime and stime
    // are the 12th and 13th of them.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| (utime + stime) / ticks as f64)
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

    #[test]
    fn reads_own_cpu_time() {
        let pid = std::process::id();
        let before = cpu_seconds(pid).unwrap();
        // Spin until the kernel has charged at least one clock tick to us (deadline 10 s).
        let start = std::time::Instant::now();
        let mut spins = 0u64;
        while cpu_seconds(pid).unwrap() <= before && start.elapsed().as_secs() < 10 {
            spins = spins.wrapping_add(std::hint::black_box(1));
        }
        assert!(cpu_seconds(pid).unwrap() > before, "after {spins} spins");
    }
}
