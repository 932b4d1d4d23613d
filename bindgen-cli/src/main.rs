//! The `tenon` command.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tenon_cli::{bindgen, component_new, run, wast};

/// Tenon: a WebAssembly runtime.
#[derive(Parser)]
#[command(name = "tenon", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a WebAssembly module or component (binary or text): a module's `_start` export or the export
    /// named by `--invoke`; a component's export called as `--invoke 'name(args)'`, in WAVE syntax.
    Run {
        /// The module or component to run.
        file: PathBuf,
        /// A module: the export to call instead of `_start`. A component: the call, in WAVE syntax, e.g.
        /// `--invoke 'add(1, 2)'` or `--invoke 'pkg:name/iface#greet("you")'`.
        #[arg(long)]
        invoke: Option<String>,
        /// Execution limits, as `KEY=VALUE[,KEY=VALUE]`: `fuel=N`, `timeout=DURATION` (e.g. `1s`, `500ms`),
        /// `max-memory-size=BYTES`, `max-wasm-stack=BYTES`.
        #[arg(short = 'W', value_name = "KEY=VALUE")]
        wasm: Vec<String>,
        /// Make compiled code visible to a profiler: `perfmap` writes `/tmp/perf-PID.map` for `perf`.
        #[arg(long, value_name = "STRATEGY")]
        profile: Option<String>,
        /// Also run precompiled artifacts (made by `tenon compile`): their machine code runs unchecked, so
        /// only for files you trust.
        #[arg(long)]
        allow_precompiled: bool,
        /// A module: arguments for the export, parsed by its parameter types.
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Compile a module or component (binary or text) ahead of time, to an artifact that `tenon run
    /// --allow-precompiled` (or `Module::deserialize` / `Component::deserialize`) loads without compiling.
    Compile {
        /// The module or component.
        file: PathBuf,
        /// Where to write the artifact (default: the input's name with the extension `.cwasm`).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The settings of the engine that will run it, as `tenon run` takes them (`fuel=N` compiles with
        /// fuel instrumentation, `timeout=...` with epoch interruption).
        #[arg(short = 'W', value_name = "KEY=VALUE")]
        wasm: Vec<String>,
    },
    /// Print the Rust bindings of a WIT world: what `tenon::component::bindgen!` generates, formatted.
    Bindgen {
        /// WIT files or directories (a directory may hold its dependencies in `deps/`), or one component:
        /// bindings for its own imports and exports.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The world, if the WIT has several (`name` or `ns:pkg/name`).
        #[arg(long)]
        world: Option<String>,
        /// Generate only these interfaces, without a world: `--interfaces 'import wasi:io/streams@0.2.0;'`.
        #[arg(long, conflicts_with = "world")]
        interfaces: Option<String>,
        /// Imported functions return `tenon::Result`, so the host can trap.
        #[arg(long)]
        trappable_imports: bool,
        /// How types hold strings and lists: `owning`, `borrowing` (types only passed into the guest borrow
        /// them), or `borrowing-duplicate-if-necessary` (types used both ways are defined both ways).
        #[arg(long, default_value = "owning", value_parser = ["owning", "borrowing", "borrowing-duplicate-if-necessary"])]
        ownership: String,
        /// Add `HostStub`, implementing every host trait with `todo!()`: a skeleton to fill in.
        #[arg(long)]
        stub: bool,
        /// Trace every call in and out with `tracing` (`imports`/`exports: { default: tracing }`).
        #[arg(long)]
        tracing: bool,
        /// A further derive for the generated types (repeatable), e.g. `--additional-derive serde::Serialize`.
        #[arg(long = "additional-derive", value_name = "PATH")]
        additional_derives: Vec<String>,
        /// The path of the `tenon` crate in the generated code.
        #[arg(long, default_value = "::tenon")]
        tenon_crate: String,
        /// Map an imported interface, package or type to existing Rust (repeatable):
        /// `--with 'wasi:io/error=crate::io::error'`.
        #[arg(long, value_name = "WIT=PATH")]
        with: Vec<String>,
        /// Map a WIT error type to the host's error type (repeatable): imported functions returning
        /// `result<_, E>` return it, and `Host::convert_<e>` turns it back: `--trappable-error-type
        /// 'wasi:io/streams.stream-error=crate::MyError'`.
        #[arg(long = "trappable-error-type", value_name = "WIT=PATH")]
        trappable_error_types: Vec<String>,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Print the WIT of a component (what it imports and exports), of a binary WIT package, or of WIT files.
    Wit {
        /// The component, package or WIT file or directory.
        file: PathBuf,
    },
    /// Work with components.
    Component {
        #[command(subcommand)]
        command: ComponentCommand,
    },
    /// Run WebAssembly spec test scripts (`.wast`).
    Wast {
        /// The scripts.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A list of modules to skip, one `file.wast:LINE reason` per line.
        #[arg(long)]
        skip_list: Option<PathBuf>,
        /// Print why each command counted as unsupported was refused.
        #[arg(long)]
        show_unsupported: bool,
        /// Serialize every module and component to an artifact and run what loading it gives.
        #[arg(long)]
        precompiled: bool,
    },
}

#[derive(Subcommand)]
enum ComponentCommand {
    /// Make a core module built with a `wit-bindgen` guest crate a component.
    New {
        /// The core module.
        module: PathBuf,
        /// Where to write the component.
        #[arg(short, long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(code) => code,
        Err(e) => {
            match e.downcast_ref::<tenon::Trap>() {
                Some(trap) => {
                    eprintln!("Error: {trap}");
                    if let Some(backtrace) = e.downcast_ref::<tenon::WasmBacktrace>() {
                        eprint!("{backtrace}");
                    }
                    // As Wasmtime does on Unix: the status a process killed by SIGABRT would report, without
                    // the signal.
                    ExitCode::from(134)
                }
                None => {
                    eprintln!("Error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn execute(command: Command) -> Result<ExitCode> {
    match command {
        Command::Compile { file, output, wasm } => {
            let mut options = run::RunOptions::default();
            for arg in &wasm {
                options.parse_arg(arg)?;
            }
            let output = output.unwrap_or_else(|| file.with_extension("cwasm"));
            run::compile(&file, &output, &options)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { file, invoke, wasm, profile, allow_precompiled, args } => {
            let mut options = run::RunOptions { allow_precompiled, ..Default::default() };
            for arg in &wasm {
                options.parse_arg(arg)?;
            }
            options.profiler = match profile.as_deref() {
                None => tenon::ProfilingStrategy::None,
                Some("perfmap") => tenon::ProfilingStrategy::PerfMap,
                Some(other) => anyhow::bail!("unknown profiling strategy `{other}` (known: perfmap)"),
            };
            for line in run::run(&file, invoke.as_deref(), &args, &options)? {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bindgen { paths, world, interfaces, ownership, stub, trappable_imports, tracing, additional_derives, tenon_crate, with, trappable_error_types, out } => {
            let pairs = |entries: &[String], flag: &str| {
                entries
                    .iter()
                    .map(|entry| match entry.split_once('=') {
                        Some((wit, path)) => Ok((wit.to_string(), path.to_string())),
                        None => Err(anyhow::anyhow!("`--{flag} {entry}`: expected WIT=PATH")),
                    })
                    .collect::<Result<Vec<_>>>()
            };
            let flags = |trappable| tenon_wit::FunctionFlags { trappable, tracing, ..Default::default() };
            let opts = tenon_wit::Opts {
                paths,
                world,
                interfaces,
                ownership: match ownership.as_str() {
                    "borrowing" => tenon_wit::Ownership::Borrowing { duplicate_if_necessary: false },
                    "borrowing-duplicate-if-necessary" => tenon_wit::Ownership::Borrowing { duplicate_if_necessary: true },
                    _ => tenon_wit::Ownership::Owning,
                },
                stub,
                imports: tenon_wit::FunctionConfig { default: flags(trappable_imports), rules: Vec::new() },
                exports: tenon_wit::FunctionConfig { default: flags(false), rules: Vec::new() },
                additional_derives,
                krate: tenon_crate,
                with: pairs(&with, "with")?,
                trappable_error_types: pairs(&trappable_error_types, "trappable-error-type")?,
                ..Default::default()
            };
            let code = bindgen::bindgen(&opts)?;
            match out {
                Some(path) => std::fs::write(&path, code).map_err(|e| anyhow::anyhow!("failed to write `{}`: {e}", path.display()))?,
                None => print!("{code}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Component { command: ComponentCommand::New { module, out } } => {
            let component = component_new::component_new(&module)?;
            std::fs::write(&out, component).map_err(|e| anyhow::anyhow!("failed to write `{}`: {e}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Wit { file } => {
            print!("{}", bindgen::wit(&file)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Wast { files, skip_list, show_unsupported, precompiled } => {
            let loading = if precompiled { wast::Loading::Precompiled } else { wast::Loading::Compiled };
            let skips = match skip_list {
                Some(path) => wast::SkipList::parse(&std::fs::read_to_string(&path)?)?,
                None => wast::SkipList::default(),
            };
            let engine = tenon::Engine::new(&wast::config())?;
            let mut failed = false;
            let (mut total, mut files_passing) = (wast::Summary::default(), 0);
            for file in &files {
                let summary = wast::run_file(&engine, file, &skips, loading)?;
                total.add_counts(&summary);
                files_passing += usize::from(summary.passes());
                for failure in &summary.failures {
                    eprintln!("{failure}");
                }
                if show_unsupported {
                    for reason in &summary.unsupported_reasons {
                        eprintln!("unsupported: {reason}");
                    }
                }
                for revived in &summary.revived {
                    eprintln!("{revived}: this skipped module compiles now: remove its skip-list entry");
                }
                let name = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                let unused = skips.unused(&name, &summary.skips_used);
                for entry in &unused {
                    eprintln!("{entry}: this skip-list entry names no module of the script");
                }
                println!("{}: {}", file.display(), summary.counts());
                failed |= summary.failed > 0 || !summary.revived.is_empty() || !unused.is_empty();
            }
            if files.len() > 1 {
                println!("total: {files_passing} of {} files pass; {}", files.len(), total.counts());
            }
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
    }
}
