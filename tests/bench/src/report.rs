//! The report: the Markdown written to docs/BENCHMARKS.md, the targets missed with their
//! reasons, and the formatting helpers.

use std::fmt::Write as _;

pub use crate::stats::{ms, us};

/// The report being written.
pub struct Report {
    /// The Markdown so far.
    pub out: String,
    /// Targets missed, each with its reason.
    pub notes: Vec<String>,
}

impl Report {
    /// A report headed with the machine it ran on.
    pub fn new() -> Self {
        let mut out = String::new();
        writeln!(
            out,
            "# Benchmarks\n\nWritten by `make bench`. Machine: {}.\n",
            machine()
        )
        .unwrap();
        Self {
            out,
            notes: Vec::new(),
        }
    }

    /// The closing section: every target met, or the ones missed.
    pub fn finish(mut self) -> String {
        let r = &mut self;
        writeln!(r.out, "\n## Targets\n").unwrap();
        if r.notes.is_empty() {
            writeln!(r.out, "Every target is met: init under 15 ms, first invocation under 30 ms and at least 10× faster than the baseline, warm token hit under 100 µs handler time, calls at the protocol minimum, peak RSS under 20 MiB, arm64 binaries under 8 MiB, storm 1.").unwrap();
        } else {
            writeln!(
                r.out,
                "Missed, with the reason and the fix (see the sections above):\n"
            )
            .unwrap();
            for n in &r.notes {
                writeln!(r.out, "- {n}").unwrap();
            }
        }
        self.out
    }
}

/// A file's size in bytes, when it exists.
pub fn size_of(path: &str) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Bytes as MiB.
pub fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / 1024.0 / 1024.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|k| format!("{:.0} GiB", k as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} memory, Linux {}, {rustc}; x86-64 release binaries run natively, DynamoDB is Amazon DynamoDB Local 3.1.0 on loopback, WeChat the simulator", kernel.trim())
}
