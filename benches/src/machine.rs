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

/// CPU time process `pid` has used so far, all its threads, in seconds, to the nanosecond (the
/// first field of `/proc/<pid>/task/<tid>/schedstat`; `/proc/<pid>/stat` counts 10 ms ticks).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut nanos = 0u64;
    for task in tasks {
        let schedstat = std::fs::read_to_string(task.ok()?.path().join("schedstat"));
        // A thread that ended since the directory was read has no time left to count.
        let Ok(schedstat) = schedstat else { continue };
        nanos += schedstat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(nanos as f64 / 1e9)
}

/// CPU time (user + system) of this process's children that have been waited for, in seconds
/// (`getrusage(RUSAGE_CHILDREN)`): the difference around running and reaping one child is that
/// child's CPU time.
pub fn reaped_children_cpu_seconds() -> Option<f64> {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return None;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

/// Open file descriptors of process `pid` (entries of `/proc/<pid>/fd`).
pub fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// Raises this process's open-files limit (inherited by the processes it starts): as root up
/// to `fs.nr_open` (at most 1 Mi), else the soft limit to the hard one. Returns the new limit.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    // SAFETY: an all-zero rlimit is a valid value for getrlimit to overwrite.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `limit` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<libc::rlim_t>().ok())
        .unwrap_or(limit.rlim_max)
        .min(1 << 20);
    for wanted in [nr_open.max(limit.rlim_max), limit.rlim_max] {
        let new = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: wanted,
        };
        // SAFETY: plain syscall with a valid rlimit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0 {
            #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
            return Ok(wanted as u64);
        }
    }
    Err(std::io::Error::last_os_error())
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
        // Spin until 20 ms of CPU time are charged to us (deadline 10 s).
        let start = std::time::Instant::now();
        let mut spins = 0u64;
        while cpu_seconds(pid).unwrap() - before < 0.02 && start.elapsed().as_secs() < 10 {
            spins = spins.wrapping_add(std::hint::black_box(1));
        }
        let used = cpu_seconds(pid).unwrap() - before;
        assert!(used >= 0.02, "{used} s after {spins} spins");
    }

    #[test]
    fn counts_a_reaped_child_cpu_time() {
        let before = reaped_children_cpu_seconds().unwrap();
        // A child that burns CPU until at least 20 ms of it are charged (bounded by `timeout`).
        let status = std::process::Command::new("timeout")
            .args([
                "10",
                "sh",
                "-c",
                "while [ $(cut -d' ' -f14 /proc/$$/stat) -lt 3 ]; do :; done",
            ])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(reaped_children_cpu_seconds().unwrap() - before >= 0.02);
    }
}
