//! Timing: calibrated batches, samples interleaved between runtimes, medians, and the printed table.

use std::time::{Duration, Instant};

/// Runs a workload `iters` times and returns the time spent in the part being measured (set-up that must not
/// count, such as a fresh instance for `memory.grow`, happens outside the returned span).
pub type Runner<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

/// One workload, ready to be timed on each contestant.
pub struct Bench<'a> {
    /// How many units of work one iteration performs (a million host calls per guest call, say); the report
    /// is per unit.
    pub units_per_iter: u64,
    /// Bytes one iteration processes, for a throughput column (compile: the module's size).
    pub bytes_per_iter: Option<u64>,
    /// Samples per contestant.
    pub samples: usize,
    /// The Tenon, Wasmtime and (for compute kernels) native runners.
    pub tenon: Runner<'a>,
    pub wasmtime: Runner<'a>,
    pub native: Option<Runner<'a>>,
}

impl<'a> Bench<'a> {
    /// A workload of one unit per iteration, 15 samples, no native baseline.
    pub fn new(tenon: Runner<'a>, wasmtime: Runner<'a>) -> Self {
        Bench {
            units_per_iter: 1,
            bytes_per_iter: None,
            samples: 15,
            tenon,
            wasmtime,
            native: None,
        }
    }
}

/// Medians (seconds per iteration) of one workload.
pub struct Report {
    pub name: String,
    pub tenon: f64,
    pub wasmtime: f64,
    pub native: Option<f64>,
    pub bytes_per_iter: Option<u64>,
    pub units_per_iter: u64,
}

/// How long one sample should take: long enough to dwarf timer overhead, short enough for many samples.
const SAMPLE_TARGET: Duration = Duration::from_millis(20);

impl Bench<'_> {
    /// Calibrates the batch size of each contestant on its own (so each sample lasts about the same time on
    /// the faster and the slower one), warms every contestant up, then takes `samples` samples of each,
    /// rotating which contestant goes first so drift in the machine's state favours none.
    pub fn run(mut self, name: &str) -> Report {
        let mut contestants: Vec<&mut Runner<'_>> = vec![&mut self.tenon, &mut self.wasmtime];
        if let Some(native) = self.native.as_mut() {
            contestants.push(native);
        }
        let batches: Vec<u64> = contestants
            .iter_mut()
            .map(|runner| calibrate(runner))
            .collect();
        for (runner, &iters) in contestants.iter_mut().zip(&batches) {
            runner(iters);
        }
        let mut samples = vec![Vec::with_capacity(self.samples); contestants.len()];
        for round in 0..self.samples {
            for k in 0..contestants.len() {
                let who = (round + k) % contestants.len();
                let iters = batches[who];
                let elapsed = contestants[who](iters);
                samples[who].push(elapsed.as_secs_f64() / iters as f64);
            }
        }
        let mut medians = samples.into_iter().map(median);
        Report {
            name: name.to_string(),
            tenon: medians.next().unwrap(),
            wasmtime: medians.next().unwrap(),
            native: medians.next(),
            bytes_per_iter: self.bytes_per_iter,
            units_per_iter: self.units_per_iter,
        }
    }
}

/// The number of iterations that makes one sample last about [`SAMPLE_TARGET`] (at least one).
fn calibrate(runner: &mut Runner<'_>) -> u64 {
    let mut iters = 1u64;
    loop {
        let elapsed = runner(iters);
        if elapsed >= SAMPLE_TARGET / 4 || iters >= 1 << 30 {
            let per_iter = elapsed.as_secs_f64() / iters as f64;
            return ((SAMPLE_TARGET.as_secs_f64() / per_iter.max(1e-12)) as u64).clamp(1, 1 << 32);
        }
        iters *= 8;
    }
}

/// The median of `values` (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

impl Report {
    /// Tenon's median over Wasmtime's: below 1.0 means Tenon is faster.
    pub fn ratio(&self) -> f64 {
        self.tenon / self.wasmtime
    }

    fn per_unit(&self, seconds: f64) -> f64 {
        seconds / self.units_per_iter as f64
    }

    /// One row of the table: medians per unit, the ratio, and native or throughput figures when they apply.
    pub fn row(&self) -> String {
        let mut row = format!(
            "| {:<34} | {:>10} | {:>10} | {:>6.2} |",
            self.name,
            format_seconds(self.per_unit(self.tenon)),
            format_seconds(self.per_unit(self.wasmtime)),
            self.ratio()
        );
        if let Some(native) = self.native {
            let n = native;
            row += &format!(
                " native {}: Tenon {:.2}x, Wasmtime {:.2}x |",
                format_seconds(self.per_unit(native)),
                self.tenon / n,
                self.wasmtime / n
            );
        } else if let Some(bytes) = self.bytes_per_iter {
            let mb = bytes as f64 / 1e6;
            row += &format!(
                " {:.2} MB: Tenon {:.1} MB/s, Wasmtime {:.1} MB/s |",
                mb,
                mb / self.tenon,
                mb / self.wasmtime
            );
        } else {
            row += " |";
        }
        row
    }

    /// The table's header rows.
    pub fn header() -> &'static str {
        "| workload                           |      Tenon |   Wasmtime |  ratio | notes |\n\
         |------------------------------------|-----------:|-----------:|-------:|-------|"
    }
}

/// A duration in the unit that keeps three or four significant digits.
fn format_seconds(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.2} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.3} s", s)
    }
}

/// Times `iters` runs of `f`.
pub fn time(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

/// The workloads of one run: those the filter selects are run and printed as they finish.
pub struct Suite {
    filter: Option<String>,
    reports: Vec<Report>,
}

impl Suite {
    /// A suite running the workloads whose name contains `filter` (all of them without one).
    pub fn new(filter: Option<String>) -> Self {
        Suite {
            filter,
            reports: Vec::new(),
        }
    }

    /// Builds and runs workload `name` if the filter selects it, and prints its row.
    pub fn run<'a>(&mut self, name: &str, build: impl FnOnce() -> Bench<'a>) {
        if self.filter.as_deref().is_none_or(|f| name.contains(f)) {
            let report = build().run(name);
            println!("{}", report.row());
            self.reports.push(report);
        }
    }

    /// Ends the run; exits with an error when the filter matched nothing.
    pub fn finish(self) {
        if self.reports.is_empty() {
            eprintln!("no workload matches {:?}", self.filter.unwrap_or_default());
            std::process::exit(2);
        }
    }
}
