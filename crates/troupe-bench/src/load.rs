//! How busy the machine was with other work while the bench ran: the CPU time every process
//! used (`/proc/stat`) minus what the bench and its run processes used (`/proc/self/stat`),
//! over the CPU time the machine had. A load average cannot tell this, since the bench's own
//! runs count in it.

/// CPU time counters at one instant, in clock ticks (Linux only; elsewhere none are read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// Ticks every CPU spent busy (user, nice, system, irq, softirq, steal), all processes.
    pub machine_busy: u64,
    /// Ticks every CPU spent, busy or idle.
    pub machine_total: u64,
    /// Ticks this process and its waited-for children spent (user and system).
    pub own: u64,
}

impl CpuTimes {
    /// Reads the counters now.
    pub fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        Self::parse(&stat, &own)
    }

    /// Counters from the texts of `/proc/stat` and `/proc/self/stat`.
    pub fn parse(proc_stat: &str, self_stat: &str) -> Option<Self> {
        let cpu = proc_stat.lines().find(|l| l.starts_with("cpu "))?;
        let ticks: Vec<u64> = cpu
            .split_whitespace()
            .skip(1)
            .map(|t| t.parse().ok())
            .collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
        let at = |i: usize| ticks.get(i).copied().unwrap_or(0);
        let machine_busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
        let machine_total = machine_busy + at(3) + at(4);
        // The command name (field 2) may hold spaces; fields after its closing parenthesis are
        // state (3), ..., utime (14), stime (15), cutime (16), cstime (17).
        let after_name = &self_stat[self_stat.rfind(')')? + 1..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let own = (11..=14)
            .map(|i| fields.get(i)?.parse::<u64>().ok())
            .sum::<Option<u64>>()?;
        Some(Self {
            machine_busy,
            machine_total,
            own,
        })
    }

    /// Share (0 to 1) of the machine's CPU time between `self` and `later` that went to
    /// processes other than the bench.
    pub fn others_share(&self, later: &Self) -> Option<f64> {
        let total = later.machine_total.checked_sub(self.machine_total)?;
        if total == 0 {
            return None;
        }
        let busy = later.machine_busy.saturating_sub(self.machine_busy);
        let own = later.own.saturating_sub(self.own);
        Some(busy.saturating_sub(own) as f64 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SELF_STAT: &str = "4242 (troupe bench) S 1 4242 4242 0 -1 4194304 100 0 0 0 \
                             30 20 400 50 20 0 3 0 100 1000 200";

    #[test]
    fn counters_are_read_from_proc_texts() {
        let stat = "cpu  100 5 50 800 10 2 3 4 0 0\ncpu0 50 2 25 400 5 1 1 2 0 0\n";
        let t = CpuTimes::parse(stat, SELF_STAT).expect("parsed");
        assert_eq!(t.machine_busy, 100 + 5 + 50 + 2 + 3 + 4);
        assert_eq!(t.machine_total, t.machine_busy + 800 + 10);
        assert_eq!(t.own, 30 + 20 + 400 + 50);
    }

    #[test]
    fn others_share_leaves_out_the_bench() {
        let at = |busy, total, own| CpuTimes {
            machine_busy: busy,
            machine_total: total,
            own,
        };
        // 1,000 ticks passed, 700 busy, of which the bench used 500: others used 20 %.
        let share = at(0, 0, 0).others_share(&at(700, 1_000, 500));
        assert!((share.expect("a share") - 0.2).abs() < 1e-9);
        assert_eq!(at(5, 10, 0).others_share(&at(5, 10, 0)), None);
    }

    #[test]
    fn garbage_is_not_read_as_counters() {
        assert_eq!(CpuTimes::parse("nothing", SELF_STAT), None);
        assert_eq!(CpuTimes::parse("cpu  1 2 x", SELF_STAT), None);
        assert_eq!(CpuTimes::parse("cpu  1 2 3 4", "4242 (short) S 1"), None);
    }
}
