//! How long a crate of bindings takes to compile, with Tenon's `bindgen!` and with Wasmtime 48's: builds
//! two crates whose only content is `bindgen!` calls for the same WIT worlds, once to build their
//! dependencies, then several times each way — from scratch (its dependencies built) and again after a
//! touch of its source (incremental) — taking turns, and reports the medians and their ratios.
//!
//! ```sh
//! cargo run --release -p tenon-benches --bin bindgen-compile-time -- [--runs N] [--wasi | --synthetic N | WIT_DIR WORLD...]
//! ```
//!
//! Without arguments it uses the test guests' WIT (`tests/guests/wit`, worlds `exports` and `imports`);
//! `--wasi` the WASI 0.2 worlds `wasi:cli/command` and `wasi:http/proxy` of `../shared/wit` (read in place
//! through a root package whose `deps/` links to them); `--synthetic N` writes a WIT world of N records,
//! variants and enums and 2N functions using them. The
//! first run also compiles `tenon` and `wasmtime` for the two crates (in `target/bindgen-compile-time`), which
//! takes minutes; later runs reuse them.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One side of the comparison: the runtime crate and how `bindgen!` is spelled with it.
struct Side {
    name: &'static str,
    dependency: String,
    invocation: &'static str,
}

fn main() -> Result<()> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize()?;
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 3;
    if let Some(i) = args.iter().position(|a| a == "--runs") {
        runs = args.get(i + 1).context("--runs N")?.parse()?;
        args.drain(i..i + 2);
    }
    if let Some(i) = args.iter().position(|a| a == "--wasi") {
        args.remove(i);
        let root = wasi_root(&repo)?;
        args.splice(0..0, [root.to_string_lossy().into_owned(), "command".into(), "proxy".into()]);
    }
    if let Some(i) = args.iter().position(|a| a == "--synthetic") {
        let n: usize = args.get(i + 1).context("--synthetic N")?.parse()?;
        let dir = repo.join("target/bindgen-compile-time/synthetic");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("synthetic.wit"), synthetic_wit(n))?;
        args = vec![dir.to_string_lossy().into_owned(), "synthetic".into()];
    }
    let (wit, worlds) = match args.split_first() {
        Some((dir, worlds)) if !worlds.is_empty() => (PathBuf::from(dir).canonicalize()?, worlds.to_vec()),
        Some(_) => bail!("usage: bindgen-compile-time [--runs N] [WIT_DIR WORLD...]"),
        None => (repo.join("tests/guests/wit"), vec!["exports".to_string(), "imports".to_string()]),
    };
    let sides = [
        Side {
            name: "tenon",
            dependency: format!("tenon = {{ path = {:?} }}", repo.join("runtime")),
            invocation: "::tenon::component::bindgen!",
        },
        Side { name: "wasmtime", dependency: "wasmtime = \"=48.0.8\"".into(), invocation: "::wasmtime::component::bindgen!" },
    ];
    let work = repo.join("target/bindgen-compile-time");
    let dirs: Vec<PathBuf> = sides.iter().map(|side| work.join(side.name)).collect();
    for (side, dir) in sides.iter().zip(&dirs) {
        write_crate(dir, side, &wit, &worlds)?;
        build(dir).with_context(|| format!("building the {} bindings crate", side.name))?;
    }
    // The two sides take turns, so that a slower moment of the machine falls on both.
    let mut builds = vec![Vec::new(); sides.len()];
    let mut rebuilds = vec![Vec::new(); sides.len()];
    for run in 0..runs {
        for (i, (side, dir)) in sides.iter().zip(&dirs).enumerate() {
            clean(dir, side)?;
            builds[i].push(build(dir)?);
            touch(dir, run)?;
            rebuilds[i].push(build(dir)?);
        }
    }
    println!("bindings of {} ({}) in debug builds, median of {runs} runs:", wit.display(), worlds.join(", "));
    for (what, times) in [("build (dependencies built)", &mut builds), ("rebuild after a touch", &mut rebuilds)] {
        println!("  {what}:");
        let medians: Vec<f64> = sides
            .iter()
            .zip(times.iter_mut())
            .map(|(side, times)| {
                times.sort();
                let median = times[times.len() / 2].as_secs_f64();
                let all: Vec<String> = times.iter().map(|t| format!("{:.2}", t.as_secs_f64())).collect();
                println!("    {:9} {median:>6.2} s  (runs: {})", side.name, all.join(", "));
                median
            })
            .collect();
        println!("    ratio Tenon/Wasmtime: {:.2}", medians[0] / medians[1]);
    }
    Ok(())
}

/// A root package whose worlds include `wasi:cli/command` and `wasi:http/proxy`, its `deps/` a link to the
/// shared WASI WIT; its directory.
fn wasi_root(repo: &Path) -> Result<PathBuf> {
    let deps = repo.join("../shared/wit/wasi-0.2/deps");
    let deps = deps.canonicalize().with_context(|| format!("--wasi needs the WASI WIT at {}", deps.display()))?;
    let root = repo.join("target/bindgen-compile-time/wasi-root");
    std::fs::create_dir_all(&root)?;
    let link = root.join("deps");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&deps, &link)?;
    std::fs::write(
        root.join("root.wit"),
        "package tenon:wasi-bench;\nworld command { include wasi:cli/command@0.2.12; }\nworld proxy { include wasi:http/proxy@0.2.12; }\n",
    )?;
    Ok(root)
}

/// A WIT package with one world of `n` records, variants and enums, imported and exported through `2n`
/// functions.
fn synthetic_wit(n: usize) -> String {
    let mut types = String::new();
    let mut funcs = String::new();
    for i in 0..n {
        types += &format!("    record rec{i} {{ name: string, id: u64, tags: list<string>, score: f64, next: option<u32> }}\n");
        types += &format!("    variant var{i} {{ none, one(u32), text(string), rec(rec{i}), many(list<rec{i}>) }}\n");
        types += &format!("    enum en{i} {{ a, b, c, d }}\n");
        funcs += &format!("    make{i}: func(r: rec{i}, v: var{i}, e: en{i}) -> result<rec{i}, string>;\n");
        funcs += &format!("    scan{i}: func(xs: list<var{i}>) -> option<tuple<en{i}, rec{i}>>;\n");
    }
    format!("package bench:synthetic;\n\ninterface api {{\n{types}{funcs}}}\n\nworld synthetic {{\n    import api;\n    export api;\n}}\n")
}

/// Writes the bindings crate of `side` into `dir`: one module per world.
fn write_crate(dir: &Path, side: &Side, wit: &Path, worlds: &[String]) -> Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"bindings-{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{}\n\n[workspace]\n",
            side.name, side.dependency
        ),
    )?;
    let modules: String = worlds
        .iter()
        .enumerate()
        .map(|(i, world)| format!("pub mod world{i} {{\n    {}({{ path: {:?}, world: {:?} }});\n}}\n", side.invocation, wit, world))
        .collect();
    std::fs::write(dir.join("src/lib.rs"), format!("//! Bindings only.\n#![allow(warnings)]\n{modules}"))?;
    Ok(())
}

/// Changes the bindings crate's source so that the next build recompiles it (and only it).
fn touch(dir: &Path, run: usize) -> Result<()> {
    let lib = dir.join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib)?;
    text.truncate(text.find("\n// run ").unwrap_or(text.len()));
    std::fs::write(&lib, format!("{text}\n// run {run}\n"))?;
    Ok(())
}

/// Removes the bindings crate's own build products (not its dependencies'), so that the next build compiles
/// it from scratch.
fn clean(dir: &Path, side: &Side) -> Result<()> {
    let status = cargo(dir, "clean").arg("-p").arg(format!("bindings-{}", side.name)).status()?;
    if !status.success() {
        bail!("cargo clean failed in {}", dir.display());
    }
    Ok(())
}

/// A `cargo` command on the crate in `dir` (its own target directory next to it).
fn cargo(dir: &Path, command: &str) -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .args([command, "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    cargo
}

/// Builds the crate in `dir` (its own target directory next to it); how long it took.
fn build(dir: &Path) -> Result<Duration> {
    let started = Instant::now();
    let status = cargo(dir, "build").status()?;
    if !status.success() {
        bail!("cargo build failed in {}", dir.display());
    }
    Ok(started.elapsed())
}
