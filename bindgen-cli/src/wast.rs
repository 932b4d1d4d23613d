//! Running WebAssembly spec test scripts (`.wast`): the code behind `tenon wast` and the spec-suite tests.

use anyhow::{Context, Result, anyhow, bail};
use std::collections::HashMap;
use std::path::Path;
use tenon::{Engine, ExternRef, Instance, Linker, Module, Store, Trap, Val};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// Modules to skip, each with the reason: `file.wast:LINE reason` per line (`#` starts a comment). The line
/// is that of the module directive; the commands that use the skipped module are skipped with it.
#[derive(Debug, Default)]
pub struct SkipList {
    entries: HashMap<(String, usize), String>,
}

impl SkipList {
    /// Parses the list's text.
    pub fn parse(text: &str) -> Result<Self> {
        let mut entries = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (location, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let (file, module_line) = location
                .rsplit_once(':')
                .and_then(|(f, l)| Some((f, l.parse::<usize>().ok()?)))
                .with_context(|| format!("skip list line {}: expected `file.wast:LINE reason`", n + 1))?;
            if reason.trim().is_empty() {
                bail!("skip list line {}: every entry needs a reason", n + 1);
            }
            entries.insert((file.to_string(), module_line), reason.trim().to_string());
        }
        Ok(SkipList { entries })
    }

    fn reason(&self, file: &str, line: usize) -> Option<&str> {
        self.entries.get(&(file.to_string(), line)).map(String::as_str)
    }
}

/// The outcome of one script.
#[derive(Debug, Default)]
pub struct Summary {
    /// Commands that passed.
    pub passed: usize,
    /// Commands that failed.
    pub failed: usize,
    /// Commands skipped through the skip list.
    pub skipped: usize,
    /// One line per failure: `file:line: what went wrong`.
    pub failures: Vec<String>,
}

/// Runs the script at `path`, skipping what `skips` lists.
pub fn run_file(engine: &Engine, path: &Path, skips: &SkipList) -> Result<Summary> {
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    run_script(engine, &file, &text, skips)
}

/// Runs a script given as text; `file` names it in messages and in the skip list.
pub fn run_script(engine: &Engine, file: &str, text: &str, skips: &SkipList) -> Result<Summary> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = ParseBuffer::new_with_lexer(lexer).map_err(|e| with_text(e, file, text))?;
    let script: Wast<'_> = parser::parse(&buffer).map_err(|e| with_text(e, file, text))?;
    let mut runner = Runner::new(engine)?;
    let mut summary = Summary::default();
    let mut skipping = false;
    for directive in script.directives {
        let (line, _) = directive.span().linecol_in(text);
        let line = line + 1;
        if let WastDirective::Module(_) | WastDirective::ModuleDefinition(_) = &directive {
            skipping = skips.reason(file, line).is_some();
        }
        if skipping {
            summary.skipped += 1;
            continue;
        }
        match runner.directive(directive) {
            Ok(()) => summary.passed += 1,
            Err(e) => {
                summary.failed += 1;
                summary.failures.push(format!("{file}:{line}: {e:#}"));
            }
        }
    }
    Ok(summary)
}

fn with_text(mut e: wast::Error, file: &str, text: &str) -> anyhow::Error {
    e.set_path(Path::new(file));
    e.set_text(text);
    anyhow!("{e}")
}

struct Runner {
    store: Store<()>,
    linker: Linker<()>,
    current: Option<Instance>,
    instances: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
}

impl Runner {
    fn new(engine: &Engine) -> Result<Self> {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        linker.allow_shadowing(true);
        crate::spectest::define(&mut linker, &mut store)?;
        Ok(Runner { store, linker, current: None, instances: HashMap::new(), definitions: HashMap::new() })
    }

    fn engine(&self) -> &Engine {
        self.store.engine()
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Result<()> {
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let compiled = Module::new(self.engine(), module.encode()?)?;
                let instance = self.linker.instantiate(&mut self.store, &compiled)?;
                self.current = Some(instance);
                if let Some(name) = name {
                    self.instances.insert(name, instance);
                }
                Ok(())
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let compiled = Module::new(self.engine(), module.encode()?)?;
                if let Some(name) = name {
                    self.definitions.insert(name, compiled);
                }
                Ok(())
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                let module = module.context("a module instance needs a module name")?;
                let compiled = self
                    .definitions
                    .get(module.name())
                    .with_context(|| format!("unknown module definition `{}`", module.name()))?
                    .clone();
                let created = self.linker.instantiate(&mut self.store, &compiled)?;
                self.current = Some(created);
                if let Some(name) = instance {
                    self.instances.insert(name.name().to_string(), created);
                }
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module.map(|m| m.name()))?;
                self.linker.instance(&mut self.store, name, instance)?;
                Ok(())
            }
            WastDirective::Invoke(invoke) => self.invoke(&invoke).map(drop),
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = self.execute(exec)?;
                self.check_results(&actual, &results)
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec) {
                Ok(values) => bail!("expected trap `{message}`, got {values:?}"),
                Err(e) => check_error(&e, message),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Ok(values) => bail!("expected stack exhaustion `{message}`, got {values:?}"),
                Err(e) => {
                    if e.downcast_ref::<Trap>() != Some(&Trap::StackOverflow) {
                        bail!("expected stack exhaustion, got: {e:#}");
                    }
                    check_error(&e, message)
                }
            },
            WastDirective::AssertInvalid { module, .. } | WastDirective::AssertMalformed { module, .. } => {
                match self.compile_quoted(module) {
                    Ok(()) => bail!("expected the module to be rejected, but it compiled"),
                    Err(_) => Ok(()),
                }
            }
            WastDirective::AssertUnlinkable { module, message, .. } => {
                let compiled = Module::new(self.engine(), QuoteWat::Wat(module).encode()?)?;
                match self.linker.instantiate(&mut self.store, &compiled) {
                    Ok(_) => bail!("expected the module to fail to link with `{message}`"),
                    Err(e) => check_error(&e, message),
                }
            }
            other => bail!("unsupported directive {other:?}"),
        }
    }

    fn compile_quoted(&mut self, mut module: QuoteWat<'_>) -> Result<()> {
        let binary = module.encode()?;
        Module::new(self.engine(), binary)?;
        Ok(())
    }

    fn instance(&self, name: Option<&str>) -> Result<Instance> {
        match name {
            Some(name) => self.instances.get(name).copied().with_context(|| format!("unknown module `{name}`")),
            None => self.current.context("no module has been instantiated"),
        }
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(wat) => {
                let compiled = Module::new(self.engine(), QuoteWat::Wat(wat).encode()?)?;
                self.linker.instantiate(&mut self.store, &compiled)?;
                Ok(Vec::new())
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module.map(|m| m.name()))?;
                let global = instance
                    .get_global(&mut self.store, global)
                    .with_context(|| format!("no global export `{global}`"))?;
                Ok(vec![global.get(&mut self.store)])
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>> {
        let instance = self.instance(invoke.module.map(|m| m.name()))?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .with_context(|| format!("no function export `{}`", invoke.name))?;
        let params = invoke.args.iter().map(|a| self.arg(a)).collect::<Result<Vec<_>>>()?;
        let ty = func.ty(&self.store);
        let mut results = vec![Val::I32(0); ty.results().len()];
        func.call(&mut self.store, &params, &mut results)?;
        Ok(results)
    }

    fn arg(&mut self, arg: &WastArg<'_>) -> Result<Val> {
        let WastArg::Core(arg) = arg else { bail!("component arguments are not supported") };
        Ok(match arg {
            WastArgCore::I32(v) => Val::I32(*v),
            WastArgCore::I64(v) => Val::I64(*v),
            WastArgCore::F32(v) => Val::F32(v.bits),
            WastArgCore::F64(v) => Val::F64(v.bits),
            WastArgCore::RefNull(wast::core::HeapType::Abstract { ty: wast::core::AbstractHeapType::Func, .. }) => {
                Val::FuncRef(None)
            }
            WastArgCore::RefNull(_) => Val::ExternRef(None),
            WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(&mut self.store, *n)?)),
            other => bail!("unsupported argument {other:?}"),
        })
    }

    fn check_results(&self, actual: &[Val], expected: &[WastRet<'_>]) -> Result<()> {
        if actual.len() != expected.len() {
            bail!("expected {} results, got {}", expected.len(), actual.len());
        }
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            let WastRet::Core(e) = e else { bail!("component results are not supported") };
            if !self.matches(a, e)? {
                bail!("result {i}: expected {e:?}, got {a:?}");
            }
        }
        Ok(())
    }

    fn matches(&self, actual: &Val, expected: &WastRetCore<'_>) -> Result<bool> {
        Ok(match (actual, expected) {
            (Val::I32(a), WastRetCore::I32(e)) => a == e,
            (Val::I64(a), WastRetCore::I64(e)) => a == e,
            (Val::F32(a), WastRetCore::F32(e)) => match e {
                NanPattern::CanonicalNan => a & 0x7fff_ffff == 0x7fc0_0000,
                NanPattern::ArithmeticNan => f32::from_bits(*a).is_nan() && a & 0x0040_0000 != 0,
                NanPattern::Value(v) => *a == v.bits,
            },
            (Val::F64(a), WastRetCore::F64(e)) => match e {
                NanPattern::CanonicalNan => a & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
                NanPattern::ArithmeticNan => f64::from_bits(*a).is_nan() && a & 0x0008_0000_0000_0000 != 0,
                NanPattern::Value(v) => *a == v.bits,
            },
            (Val::FuncRef(f), WastRetCore::RefNull(_)) => f.is_none(),
            (Val::ExternRef(e), WastRetCore::RefNull(_)) => e.is_none(),
            (Val::FuncRef(f), WastRetCore::RefFunc(_)) => f.is_some(),
            (Val::ExternRef(e), WastRetCore::RefExtern(expected)) => match (e, expected) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(e), Some(n)) => e.data(&self.store)?.and_then(|d| d.downcast_ref::<u32>()) == Some(n),
            },
            (_, WastRetCore::Either(options)) => {
                for option in options {
                    if self.matches(actual, option)? {
                        return Ok(true);
                    }
                }
                false
            }
            _ => false,
        })
    }
}

/// Checks that `error` says `expected`, as Wasmtime's spec runner does (a trailing index in the expected text,
/// as in "uninitialized element 2", is not part of Tenon's messages).
fn check_error(error: &anyhow::Error, expected: &str) -> Result<()> {
    let actual = format!("{error:#}");
    let trimmed = expected.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ');
    if actual.contains(expected) || (!trimmed.is_empty() && actual.contains(trimmed)) {
        Ok(())
    } else {
        bail!("expected error `{expected}`, got: {actual}")
    }
}
