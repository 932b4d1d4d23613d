//! The wasm2 spec-suite runner shared by the spec tests of both memory modes.
//!
//! The files are read from `../shared/testsuite` (next to the project root); when that directory is absent
//! the test says so and passes. Two checked-in lists keep the suite honest:
//! - `spec/skips.txt`: modules that need a proposal newer than WebAssembly 2.0, each with its reason; they and
//!   the commands using them are counted as skipped, never as passed.
//! - `spec/failing-wasm2.txt`: files that do not pass yet. The test fails if a file not on the list fails, and
//!   also if a listed file passes (remove it from the list then): the list only shrinks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tenon_cli::wast::{SkipList, Summary, run_file};

fn testsuite() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite");
    dir.is_dir().then_some(dir)
}

fn list(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec").join(name)).unwrap()
}

/// The file names of one tier of `TIERS.md`.
fn tier(suite: &Path, name: &str) -> Vec<String> {
    let tiers = std::fs::read_to_string(suite.join("TIERS.md")).expect("TIERS.md");
    let heading = format!("## {name} ");
    let section = tiers.split("\n## ").find(|s| format!("## {s}").starts_with(&heading)).expect("tier in TIERS.md");
    section.lines().skip(1).flat_map(str::split_whitespace).filter(|w| w.ends_with(".wast")).map(String::from).collect()
}

/// Runs every wasm2 file of `TIERS.md` with an engine made from `config`, enforcing both lists.
pub fn run_wasm2(mode: &str, config: &tenon::Config) {
    let Some(suite) = testsuite() else {
        println!("skipped: ../shared/testsuite is not present");
        return;
    };
    let files = tier(&suite, "wasm2");
    assert_eq!(files.len(), 94, "TIERS.md lists 94 wasm2 files");
    let skips = SkipList::parse(&list("skips.txt")).expect("spec/skips.txt");
    let known_failing: BTreeSet<String> = list("failing-wasm2.txt")
        .lines()
        .map(|l| l.split('#').next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();

    let engine = tenon::Engine::new(config).unwrap();
    let queue = Mutex::new(files.clone());
    let results = Mutex::new(Vec::<(String, Summary)>::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some(file) = queue.lock().unwrap().pop() {
                    let summary = run_file(&engine, &suite.join("core").join(&file), &skips)
                        .unwrap_or_else(|e| panic!("{file}: {e:#}"));
                    results.lock().unwrap().push((file, summary));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut problems = Vec::new();
    for (file, summary) in &results {
        passed += summary.passed;
        failed += summary.failed;
        skipped += summary.skipped;
        let listed = known_failing.contains(file);
        if summary.failed > 0 && !listed {
            problems.push(format!("{file}: {} failed:\n  {}", summary.failed, summary.failures.join("\n  ")));
        }
        if summary.failed == 0 && listed {
            problems.push(format!("{file} passes now: remove it from tests/spec/failing-wasm2.txt"));
        }
    }
    for listed in &known_failing {
        assert!(files.contains(listed), "tests/spec/failing-wasm2.txt names `{listed}`, which is not a wasm2 file");
    }
    let files_passing = results.iter().filter(|(_, s)| s.failed == 0).count();
    println!(
        "wasm2 spec suite ({mode}): {files_passing}/{} files pass ({} listed as failing); commands: {passed} passed, {failed} failed, {skipped} skipped",
        results.len(),
        known_failing.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
