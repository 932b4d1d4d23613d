#![allow(dead_code)] // Each test target uses part of this module.
//! The spec-suite runner shared by the spec tests of both memory modes.
//!
//! The files are read from `../shared/testsuite` (next to the project root); when that directory is absent
//! the test says so and passes. Checked-in lists keep the suite honest, each enforced both ways:
//! - `spec/skips.txt`: modules that need a proposal Tenon does not implement, each with its reason; they and
//!   the commands using them are counted as skipped, never as passed. Every entry must name a module of a
//!   file that runs, and a listed module that starts compiling fails the test until its entry goes.
//! - `spec/failing-TIER.txt`: files of a tier that do not pass yet (a file passes when it ran at least one
//!   command and none failed). The test fails if a file not listed does not pass, and if a listed file
//!   passes: the lists only shrink.
//!
//! Commands Tenon refuses as using something not supported yet are counted apart, never as passed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tenon_cli::wast::{Loading, SkipList, Summary, run_file};

fn testsuite() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite");
    dir.is_dir().then_some(dir)
}

fn list(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The file names of one tier of `TIERS.md`.
fn tier(suite: &Path, name: &str) -> Vec<String> {
    let tiers = std::fs::read_to_string(suite.join("TIERS.md")).expect("TIERS.md");
    let heading = format!("## {name} ");
    let section = tiers.split("\n## ").find(|s| format!("## {s}").starts_with(&heading)).expect("tier in TIERS.md");
    section.lines().skip(1).flat_map(str::split_whitespace).filter(|w| w.ends_with(".wast")).map(String::from).collect()
}

/// Runs every file of `tiers` with an engine made from `config` and prints a line per tier; returns the
/// problems found (empty when everything is as the lists say). Without `../shared`, prints why it skipped.
pub fn run_tiers(mode: &str, config: &tenon::Config, tiers: &[&str]) -> Vec<String> {
    run_tiers_loading(mode, config, tiers, Loading::Compiled)
}

/// [`run_tiers`], with the modules made ready by `loading`.
pub fn run_tiers_loading(mode: &str, config: &tenon::Config, tiers: &[&str], loading: Loading) -> Vec<String> {
    let Some(suite) = testsuite() else {
        println!("spec suite ({mode}): skipped: ../shared/testsuite not found");
        return Vec::new();
    };
    let skips = SkipList::parse(&list("skips.txt")).expect("spec/skips.txt");
    let engine = tenon::Engine::new(config).unwrap();
    let mut problems = Vec::new();
    let mut all_files = Vec::new();
    let mut skips_used = Vec::new();
    for &name in tiers {
        let files = tier(&suite, name);
        let results = run_files(&engine, &suite.join("core"), &files, &skips, loading);
        for (file, summary) in &results {
            skips_used.push((file.clone(), summary.skips_used.clone()));
            for revived in &summary.revived {
                problems.push(format!("{revived}: this skipped module compiles now: remove its entry from tests/spec/skips.txt"));
            }
        }
        problems.extend(ratchet(&format!("spec suite ({mode}), {name}"), &format!("failing-{name}.txt"), &files, &results, Summary::passes));
        all_files.extend(files);
    }
    for (file, used) in &skips_used {
        for entry in skips.unused(file, used) {
            problems.push(format!("{entry}: this entry of tests/spec/skips.txt names no module"));
        }
    }
    for entry in skips.files() {
        if !all_files.contains(&entry) {
            problems.push(format!("tests/spec/skips.txt names `{entry}`, which is not a file of these tiers"));
        }
    }
    problems
}

/// Runs the Component Model reference tests of each of `dirs` (except those `nyi.txt` lists) with an
/// engine made from `config`; a file is clean when it passes with nothing refused as unsupported, and the
/// others are listed, with why, in `tests/spec/failing-component-DIR.txt`.
pub fn run_component_dirs(config: &tenon::Config, dirs: &[&str]) -> Vec<String> {
    run_component_dirs_loading("component reference tests", config, dirs, Loading::Compiled)
}

/// [`run_component_dirs`], with the components made ready by `loading`; `mode` names the run.
pub fn run_component_dirs_loading(mode: &str, config: &tenon::Config, dirs: &[&str], loading: Loading) -> Vec<String> {
    let Some(suite) = testsuite() else {
        println!("{mode}: skipped: ../shared/testsuite not found");
        return Vec::new();
    };
    let root = suite.join("component-model");
    let nyi = std::fs::read_to_string(root.join("nyi.txt")).expect("nyi.txt");
    let nyi: BTreeSet<&str> = nyi.lines().filter(|l| !l.starts_with('#')).map(|l| l.trim().trim_start_matches("./")).collect();
    let engine = tenon::Engine::new(config).unwrap();
    let mut problems = Vec::new();
    for &dir in dirs {
        let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
            .expect("a component test directory")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".wast") && !nyi.contains(format!("{dir}/{f}").as_str()))
            .collect();
        files.sort();
        let results = run_files(&engine, &root.join(dir), &files, &SkipList::default(), loading);
        let clean = |s: &Summary| s.passes() && s.unsupported == 0;
        problems.extend(ratchet(&format!("{mode}, {dir}"), &format!("failing-component-{dir}.txt"), &files, &results, clean));
    }
    problems
}

/// Checks `results` (of `files`) against the ratchet list `list_name`: a file not listed must be `clean`,
/// a listed one must not be, and every listed name must be one of `files`. Prints the line for `what`.
fn ratchet(
    what: &str,
    list_name: &str,
    files: &[String],
    results: &[(String, Summary)],
    clean: impl Fn(&Summary) -> bool,
) -> Vec<String> {
    let known_failing: BTreeSet<String> = list(list_name)
        .lines()
        .map(|l| l.split('#').next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let mut problems = Vec::new();
    for listed in &known_failing {
        if !files.contains(listed) {
            problems.push(format!("tests/spec/{list_name} names `{listed}`, which is not a file here"));
        }
    }
    let mut total = Summary::default();
    for (file, summary) in results {
        total.add_counts(summary);
        let listed = known_failing.contains(file);
        if !clean(summary) && !listed {
            let mut why = format!("{file} does not pass ({})", summary.counts());
            for line in summary.failures.iter().chain(&summary.revived).chain(&summary.unsupported_reasons).take(20) {
                why += &format!("\n  {line}");
            }
            problems.push(why);
        }
        if clean(summary) && listed {
            problems.push(format!("{file} passes now: remove it from tests/spec/{list_name}"));
        }
    }
    let passing = results.iter().filter(|(_, s)| clean(s)).count();
    println!(
        "{what}: {passing}/{} files pass ({} listed as failing); commands: {}",
        results.len(),
        known_failing.len(),
        total.counts()
    );
    problems
}

/// Runs `files` of directory `dir` on two threads; the summaries in file order.
fn run_files(engine: &tenon::Engine, dir: &Path, files: &[String], skips: &SkipList, loading: Loading) -> Vec<(String, Summary)> {
    let queue = Mutex::new(files.to_vec());
    let results = Mutex::new(Vec::<(String, Summary)>::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some(file) = queue.lock().unwrap().pop() {
                    let summary = run_file(engine, &dir.join(&file), skips, loading).unwrap_or_else(|e| panic!("{file}: {e:#}"));
                    results.lock().unwrap().push((file, summary));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    results
}

/// Prints `problems` and exits with failure if there are any (for `harness = false` test targets).
pub fn finish(problems: Vec<String>) {
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{problem}");
        }
        eprintln!("{} problem(s)", problems.len());
        std::process::exit(1);
    }
}
