//! `tenon run`: instantiate a module and call its `_start` or a named export, or call a component's export
//! (see [`crate::run_component`]).

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::time::Duration;
use tenon::component::Component;
use tenon::{Config, Engine, Linker, Module, Precompiled, Store, StoreLimits, StoreLimitsBuilder, Val, ValType};

/// Execution limits, given with Wasmtime's `-W` spellings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// `-W fuel=N`: the fuel the guest may consume.
    pub fuel: Option<u64>,
    /// `-W timeout=DURATION`: wall-clock limit, enforced with epoch interruption.
    pub timeout: Option<Duration>,
    /// `-W max-memory-size=BYTES`: the most bytes any one linear memory may have.
    pub max_memory_size: Option<usize>,
    /// `-W max-wasm-stack=BYTES`: the most stack wasm may use.
    pub max_wasm_stack: Option<usize>,
    /// `--profile STRATEGY`: how compiled code is shown to profilers.
    pub profiler: tenon::ProfilingStrategy,
    /// `--allow-precompiled`: run artifacts made by `tenon compile` too.
    pub allow_precompiled: bool,
}

impl RunOptions {
    /// Adds one `-W` argument: `KEY=VALUE` pairs separated by commas.
    pub fn parse_arg(&mut self, arg: &str) -> Result<()> {
        for option in arg.split(',').filter(|o| !o.is_empty()) {
            let (key, value) = option.split_once('=').with_context(|| format!("`-W {option}`: expected KEY=VALUE"))?;
            let context = || format!("invalid value for `-W {key}`: `{value}`");
            match key {
                "fuel" => self.fuel = Some(value.parse().with_context(context)?),
                "timeout" => self.timeout = Some(parse_duration(value).with_context(context)?),
                "max-memory-size" => self.max_memory_size = Some(parse_bytes(value).with_context(context)?),
                "max-wasm-stack" => self.max_wasm_stack = Some(parse_bytes(value).with_context(context)?),
                _ => bail!("unknown option `-W {key}` (known: fuel, timeout, max-memory-size, max-wasm-stack)"),
            }
        }
        Ok(())
    }
}

/// A duration such as `1s`, `500ms`, `2m` or `10us`; a bare number is seconds.
fn parse_duration(text: &str) -> Result<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse()?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1e3,
        "us" => number / 1e6,
        "ns" => number / 1e9,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => bail!("unknown unit `{unit}` (use ns, us, ms, s, m or h)"),
    };
    Ok(Duration::try_from_secs_f64(seconds)?)
}

/// A size in bytes, optionally with a binary suffix: `65536`, `64K`, `16MiB`, `1G`.
fn parse_bytes(text: &str) -> Result<usize> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number.parse()?;
    let scale: usize = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => bail!("unknown unit `{unit}` (use K, M or G)"),
    };
    number.checked_mul(scale).context("size too large")
}

/// Runs `path` within the limits of `options` and returns its results as text, one line each. A core module
/// runs its `_start` export, or `invoke` with `args` parsed by its parameter types; a component runs the
/// WAVE call `invoke` (see [`crate::run_component`]).
pub fn run(path: &Path, invoke: Option<&str>, args: &[String], options: &RunOptions) -> Result<Vec<String>> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let engine = engine(options)?;
    let mut store = store(&engine, options)?;
    let precompiled = Engine::detect_precompiled(&bytes);
    if precompiled.is_none() && bytes.starts_with(b"\x7fELF") {
        bail!("`{}` is an ELF file but not a Tenon artifact (one from another runtime, such as Wasmtime's `.cwasm`, does not load in Tenon)", path.display());
    }
    if let Some(kind) = precompiled
        && !options.allow_precompiled
    {
        let what = if kind == Precompiled::Module { "module" } else { "component" };
        bail!(
            "`{}` is a precompiled {what}: its machine code would run as it is, unchecked, so running it needs \
             `--allow-precompiled` (use it only for files you made with `tenon compile` or trust as much)",
            path.display()
        );
    }
    let failed = || format!("failed to load `{}`", path.display());
    let compiled = || format!("failed to compile `{}`", path.display());
    if precompiled == Some(Precompiled::Component) || (precompiled.is_none() && is_component(&bytes)) {
        let component = match precompiled {
            // SAFETY: the user vouched for the file with `--allow-precompiled`.
            Some(_) => unsafe { Component::deserialize(&engine, &bytes) }.with_context(failed)?,
            None => Component::new(&engine, &bytes).with_context(compiled)?,
        };
        return crate::run_component::run(&mut store, path, &component, invoke, args);
    }
    let module = match precompiled {
        // SAFETY: as for a component above.
        Some(_) => unsafe { Module::deserialize(&engine, &bytes) }.with_context(failed)?,
        None => Module::new(&engine, &bytes).with_context(compiled)?,
    };
    let results = run_module(&mut store, path, &module, invoke, args)?;
    Ok(results.iter().map(format_val).collect())
}

/// `tenon compile`: compiles the module or component at `path` (binary or text) for an engine with the
/// settings of `options` and writes the artifact to `out`.
pub fn compile(path: &Path, out: &Path, options: &RunOptions) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let engine = engine(options)?;
    let artifact = if is_component(&bytes) { engine.precompile_component(&bytes) } else { engine.precompile_module(&bytes) };
    let artifact = artifact.with_context(|| format!("failed to compile `{}`", path.display()))?;
    std::fs::write(out, artifact).with_context(|| format!("failed to write `{}`", out.display()))
}

/// Whether `bytes` are a component, in binary or text form.
fn is_component(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\0asm") {
        return wasmparser::Parser::is_component(bytes);
    }
    // Text: the first form, after whitespace and comments, says.
    let text = String::from_utf8_lossy(bytes);
    let mut rest = text.trim_start();
    while let Some(comment) = rest.strip_prefix(";;") {
        rest = comment.split_once('\n').map_or("", |(_, after)| after).trim_start();
    }
    rest.strip_prefix('(').is_some_and(|form| form.trim_start().starts_with("component"))
}

/// The engine for `options`.
fn engine(options: &RunOptions) -> Result<Engine> {
    let mut config = Config::new();
    config
        .consume_fuel(options.fuel.is_some())
        .epoch_interruption(options.timeout.is_some())
        .profiler(options.profiler);
    if let Some(bytes) = options.max_wasm_stack {
        config.max_wasm_stack(bytes);
    }
    Engine::new(&config)
}

/// A store with the limits, fuel and timeout of `options`.
fn store(engine: &Engine, options: &RunOptions) -> Result<Store<StoreLimits>> {
    let mut limits = StoreLimitsBuilder::new();
    if let Some(bytes) = options.max_memory_size {
        limits = limits.memory_size(bytes);
    }
    let mut store: Store<StoreLimits> = Store::new(engine, limits.build());
    store.limiter(|limits| limits);
    if let Some(fuel) = options.fuel {
        store.set_fuel(fuel)?;
    }
    if let Some(timeout) = options.timeout {
        store.set_epoch_deadline(1);
        let engine = engine.clone();
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            engine.increment_epoch();
        });
    }
    Ok(store)
}

/// Runs core module `module` (read from `path`): its `_start`, or `invoke` with `args`.
fn run_module(store: &mut Store<StoreLimits>, path: &Path, module: &Module, invoke: Option<&str>, args: &[String]) -> Result<Vec<Val>> {
    let linker = Linker::new(store.engine());
    let instance = linker.instantiate(&mut *store, module)?;
    let name = invoke.unwrap_or("_start");
    let func = instance
        .get_func(&mut *store, name)
        .with_context(|| format!("`{}` has no function export named `{name}`", path.display()))?;
    let ty = func.ty(&*store);
    if args.len() != ty.param_types().len() {
        bail!("`{name}` takes {} arguments ({ty}), but {} were given", ty.param_types().len(), args.len());
    }
    let params = ty
        .param_types()
        .iter()
        .zip(args)
        .map(|(ty, arg)| parse_arg(ty, arg).with_context(|| format!("invalid argument `{arg}` for a parameter of type {ty}")))
        .collect::<Result<Vec<_>>>()?;
    let mut results = vec![Val::I32(0); ty.results().len()];
    func.call(&mut *store, &params, &mut results)?;
    Ok(results)
}

fn parse_arg(ty: &ValType, arg: &str) -> Result<Val> {
    Ok(match ty {
        ValType::I32 => Val::I32(arg.parse::<i32>().or_else(|_| arg.parse::<u32>().map(|v| v as i32))?),
        ValType::I64 => Val::I64(arg.parse::<i64>().or_else(|_| arg.parse::<u64>().map(|v| v as i64))?),
        ValType::F32 => Val::F32(arg.parse::<f32>()?.to_bits()),
        ValType::F64 => Val::F64(arg.parse::<f64>()?.to_bits()),
        other => bail!("arguments of type {other} cannot be given on the command line"),
    })
}

/// Formats a result value for printing.
fn format_val(val: &Val) -> String {
    match val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(v) => format!("{:#034x}", v.as_u128()),
        Val::FuncRef(f) => if f.is_some() { "funcref".into() } else { "null funcref".into() },
        Val::ExternRef(e) => if e.is_some() { "externref".into() } else { "null externref".into() },
    }
}
