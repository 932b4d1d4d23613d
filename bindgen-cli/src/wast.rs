//! Running WebAssembly spec test scripts (`.wast`): the code behind `tenon wast` and the spec-suite tests.

use anyhow::{Context, Result, anyhow, bail};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use crate::wast_component::{Components, is_component};
use tenon::component::Component;
use tenon::{Engine, ExternRef, Func, Instance, Linker, Module, Store, Trap, Val};
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

    /// The files the entries name.
    pub fn files(&self) -> BTreeSet<String> {
        self.entries.keys().map(|(file, _)| file.clone()).collect()
    }

    /// The entries for `file` that name none of the lines in `used` (no module there: stale or mistyped),
    /// as `file:LINE`.
    pub fn unused(&self, file: &str, used: &[usize]) -> Vec<String> {
        let mut unused: Vec<String> = self
            .entries
            .keys()
            .filter(|(f, line)| f == file && !used.contains(line))
            .map(|(f, line)| format!("{f}:{line}"))
            .collect();
        unused.sort();
        unused
    }
}

/// What happened to one command.
enum Outcome {
    /// It did what the script expects, for the reason the script expects.
    Passed,
    /// It did not; why.
    Failed(String),
    /// Tenon refused it (or the module it needs) as using something not supported yet; why.
    Unsupported(String),
    /// It uses a module the skip list skips.
    Skipped,
}

/// The outcome of one script.
#[derive(Debug, Default)]
pub struct Summary {
    /// Commands that passed.
    pub passed: usize,
    /// Commands that failed.
    pub failed: usize,
    /// Commands Tenon refused as using something not supported yet (never counted as passed).
    pub unsupported: usize,
    /// Commands skipped through the skip list (the listed modules and the commands that use them).
    pub skipped: usize,
    /// One line per failure: `file:line: what went wrong`.
    pub failures: Vec<String>,
    /// One line per command refused as unsupported: `file:line: the reason`.
    pub unsupported_reasons: Vec<String>,
    /// The lines of the skip list's entries for this file that named one of its modules.
    pub skips_used: Vec<usize>,
    /// Listed modules that compile now (their entries must go): `file:line`.
    pub revived: Vec<String>,
}

impl Summary {
    /// Whether the script passes: it ran at least one command, none failed, and no skipped module works now.
    pub fn passes(&self) -> bool {
        self.passed > 0 && self.failed == 0 && self.revived.is_empty()
    }

    /// Adds `other`'s command counts to these (for a total over several scripts).
    pub fn add_counts(&mut self, other: &Summary) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.unsupported += other.unsupported;
        self.skipped += other.skipped;
    }

    /// `N passed, N failed, N unsupported, N skipped`.
    pub fn counts(&self) -> String {
        format!("{} passed, {} failed, {} unsupported, {} skipped", self.passed, self.failed, self.unsupported, self.skipped)
    }
}

/// The configuration scripts run with: the default, plus the component-model features the Component Model
/// reference tests are written for (as Wasmtime's runner enables them); what Tenon does not implement of
/// them is validated, then refused as not supported yet.
pub fn config() -> tenon::Config {
    let mut config = tenon::Config::new();
    config
        .wasm_component_model_async(true)
        .wasm_component_model_more_async_builtins(true)
        .wasm_component_model_async_stackful(true)
        .wasm_component_model_threading(true)
        .wasm_component_model_implements(true)
        .wasm_component_model_fixed_length_lists(true)
        .wasm_component_model_map(true);
    config
}

/// How a script's modules and components are made ready to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Loading {
    /// Compiled.
    #[default]
    Compiled,
    /// Compiled, serialized to an artifact, and loaded from it (`Module::deserialize`): what runs is what an
    /// artifact holds.
    Precompiled,
}

/// Runs the script at `path`, skipping what `skips` lists.
pub fn run_file(engine: &Engine, path: &Path, skips: &SkipList, loading: Loading) -> Result<Summary> {
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    run_script(engine, &file, &text, skips, loading)
}

/// Runs a script given as text; `file` names it in messages and in the skip list.
pub fn run_script(engine: &Engine, file: &str, text: &str, skips: &SkipList, loading: Loading) -> Result<Summary> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = ParseBuffer::new_with_lexer(lexer).map_err(|e| with_text(e, file, text))?;
    let script: Wast<'_> = parser::parse(&buffer).map_err(|e| with_text(e, file, text))?;
    let mut runner = Runner::new(engine, loading)?;
    let mut summary = Summary::default();
    for directive in script.directives {
        let (line, _) = directive.span().linecol_in(text);
        let line = line + 1;
        let listed = match &directive {
            WastDirective::Module(_) | WastDirective::ModuleDefinition(_) => skips.reason(file, line).is_some(),
            _ => false,
        };
        let outcome = if listed {
            summary.skips_used.push(line);
            if runner.skip(directive) {
                summary.revived.push(format!("{file}:{line}"));
            }
            Outcome::Skipped
        } else {
            runner.directive(directive)
        };
        match outcome {
            Outcome::Passed => summary.passed += 1,
            Outcome::Failed(why) => {
                summary.failed += 1;
                summary.failures.push(format!("{file}:{line}: {why}"));
            }
            Outcome::Unsupported(why) => {
                summary.unsupported += 1;
                summary.unsupported_reasons.push(format!("{file}:{line}: {why}"));
            }
            Outcome::Skipped => summary.skipped += 1,
        }
    }
    Ok(summary)
}

fn with_text(mut e: wast::Error, file: &str, text: &str) -> anyhow::Error {
    e.set_path(Path::new(file));
    e.set_text(text);
    anyhow!("{e}")
}

/// Whether `error` refuses something Tenon does not support yet (rather than something invalid): Tenon's
/// own "not supported yet", or the validator's refusal of a proposal the engine does not enable.
fn is_unsupported(error: &anyhow::Error) -> bool {
    let message = format!("{error:#}");
    ["not supported yet", "support is not enabled", "must be enabled", "proposal not enabled", "requires the component model"]
        .iter()
        .any(|m| message.contains(m))
}

/// Where Tenon's wording of a rejection legitimately differs from the reference interpreter's, which the
/// scripts expect: `the script's text | a part of Tenon's message` per line (see the file).
const MESSAGE_EQUIVALENTS: &str = include_str!("wast_messages.txt");

/// The entries of [`MESSAGE_EQUIVALENTS`]: `(expected, what Tenon says instead)`.
fn message_equivalents() -> impl Iterator<Item = (&'static str, &'static str)> {
    MESSAGE_EQUIVALENTS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" | "))
        .map(|(expected, tenon)| (expected.trim(), tenon.trim()))
}

/// Whether `actual` says what `expected` (a script's message) says.
fn message_matches(actual: &str, expected: &str) -> bool {
    if actual.contains(expected) {
        return true;
    }
    // A trailing index ("uninitialized element 2") is not part of Tenon's messages.
    let trimmed = expected.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ');
    if !trimmed.is_empty() && trimmed != expected && actual.contains(trimmed) {
        return true;
    }
    message_equivalents().any(|(e, tenon)| e == expected && actual.contains(tenon))
}

/// The outcome of a command that expects `result` to be an error saying `expected`.
fn expect_error<T>(result: Result<T>, expected: &str, what: &str) -> Outcome {
    match result {
        Ok(_) => Outcome::Failed(format!("expected {what} `{expected}`, but it succeeded")),
        Err(e) if is_unsupported(&e) => Outcome::Unsupported(format!("{e:#}")),
        Err(e) => {
            let actual = format!("{e:#}");
            if message_matches(&actual, expected) {
                Outcome::Passed
            } else {
                Outcome::Failed(format!("expected {what} `{expected}`, got: {actual}"))
            }
        }
    }
}

/// The outcome of a command that must succeed.
fn expect_ok(result: Result<()>) -> Outcome {
    match result {
        Ok(()) => Outcome::Passed,
        Err(e) => Outcome::Failed(format!("{e:#}")),
    }
}

/// A module's function exports: the function index each names, and its name.
type FuncExports = Vec<(u32, String)>;

/// A compiled script module.
enum Compiled {
    Module(Module, FuncExports),
    Component(Component),
}

/// The outcome of comparing a component invocation's results with what the script expects.
fn check_component_results(actual: &[tenon::component::Val], expected: &[WastRet<'_>]) -> Outcome {
    if actual.len() != expected.len() {
        return Outcome::Failed(format!("expected {} results, got {}", expected.len(), actual.len()));
    }
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        match crate::wast_component::matches(a, e) {
            Some(true) => {}
            Some(false) => return Outcome::Failed(format!("result {i}: expected {e:?}, got {a:?}")),
            None => return Outcome::Failed(format!("result {i}: a core value expected from a component")),
        }
    }
    Outcome::Passed
}

/// The function exports of a module binary (none if it does not parse: it then does not compile either).
fn func_exports(binary: &[u8]) -> FuncExports {
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(binary) {
        if let Ok(wasmparser::Payload::ExportSection(section)) = payload {
            let funcs = section.into_iter().flatten().filter(|e| e.kind == wasmparser::ExternalKind::Func);
            exports.extend(funcs.map(|e| (e.index, e.name.to_string())));
        }
    }
    exports
}

struct Runner {
    store: Store<()>,
    linker: Linker<()>,
    current: Option<Instance>,
    instances: HashMap<String, Instance>,
    /// Module definitions by name, with the function indices their exports name.
    definitions: HashMap<String, (Module, FuncExports)>,
    /// Each instance's exported functions by function index, to check `(ref.func N)` results.
    exported_funcs: HashMap<Instance, Vec<(u32, Func)>>,
    /// The script's components and their instances.
    components: Components,
    /// Whether the latest module instantiated is a component (unnamed commands then go to it).
    current_is_component: bool,
    /// Whether the current module is unavailable (skipped by the list, or refused as not supported yet).
    current_unavailable: Option<Unavailable>,
    /// Names of unavailable modules (and module definitions), whose commands are unavailable too.
    unavailable_modules: HashMap<String, Unavailable>,
    /// Names under which unavailable modules were registered: a module importing from one is too.
    unavailable_registrations: HashMap<String, Unavailable>,
    loading: Loading,
}

/// Why a module is unavailable to the commands that use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unavailable {
    /// The skip list names it.
    Skipped,
    /// It was refused as using something not supported yet.
    Unsupported,
}

impl Unavailable {
    /// The outcome of a command using such a module.
    fn outcome(self) -> Outcome {
        match self {
            Unavailable::Skipped => Outcome::Skipped,
            Unavailable::Unsupported => Outcome::Unsupported("uses a module that is not supported yet".into()),
        }
    }
}

impl Runner {
    fn new(engine: &Engine, loading: Loading) -> Result<Self> {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        linker.allow_shadowing(true);
        crate::spectest::define(&mut linker, &mut store)?;
        Ok(Runner {
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            exported_funcs: HashMap::new(),
            components: Components::new(engine),
            current_is_component: false,
            current_unavailable: None,
            unavailable_modules: HashMap::new(),
            unavailable_registrations: HashMap::new(),
            loading,
        })
    }

    /// Module `binary`, compiled (and, when loading precompiled, serialized and loaded again).
    fn module(&self, binary: &[u8]) -> Result<Module> {
        let module = Module::from_binary(self.engine(), binary)?;
        if self.loading == Loading::Compiled {
            return Ok(module);
        }
        let artifact = module.serialize()?;
        // SAFETY: the artifact was made just now by this process.
        unsafe { Module::deserialize(self.engine(), &artifact) }
    }

    /// Component `binary`, as [`module`](Self::module) makes a module.
    fn component(&self, binary: &[u8]) -> Result<Component> {
        let component = Component::from_binary(self.engine(), binary)?;
        if self.loading == Loading::Compiled {
            return Ok(component);
        }
        let artifact = component.serialize()?;
        // SAFETY: as in `module`.
        unsafe { Component::deserialize(self.engine(), &artifact) }
    }

    fn engine(&self) -> &Engine {
        self.store.engine()
    }

    /// Skips a module the skip list names, remembering it so that the commands using it are skipped too;
    /// returns whether it compiles now (then its entry is stale).
    fn skip(&mut self, directive: WastDirective<'_>) -> bool {
        let (name, compiles) = match directive {
            WastDirective::Module(mut module) | WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let compiles = module.encode().is_ok_and(|binary| Module::from_binary(self.engine(), &binary).is_ok());
                (name, compiles)
            }
            _ => (None, false),
        };
        self.mark_unavailable(name, Unavailable::Skipped);
        compiles
    }

    /// Makes the current module, and `name` if given, unavailable for `why`.
    fn mark_unavailable(&mut self, name: Option<String>, why: Unavailable) {
        self.current_unavailable = Some(why);
        if let Some(name) = name {
            self.unavailable_modules.insert(name, why);
        }
    }

    /// Makes the current module, and `name` if given, available.
    fn mark_available(&mut self, name: Option<&str>) {
        self.current_unavailable = None;
        if let Some(name) = name {
            self.unavailable_modules.remove(name);
        }
    }

    /// Whether a command on the module named `name` (the current one for `None`) uses an unavailable one.
    fn unavailable(&self, name: Option<&str>) -> Option<Unavailable> {
        match name {
            Some(name) => self.unavailable_modules.get(name).copied(),
            None => self.current_unavailable,
        }
    }

    /// Whether `module` imports from a module registered from an unavailable one.
    fn imports_unavailable(&self, module: &Module) -> Option<Unavailable> {
        module.imports().find_map(|import| self.unavailable_registrations.get(import.module()).copied())
    }

    /// The outcome of a failure to compile a script module: unsupported (and the module unavailable to the
    /// commands that use it) if it uses something not supported yet, else a failure.
    fn compile_failure(&mut self, name: Option<String>, error: anyhow::Error) -> Outcome {
        if is_unsupported(&error) {
            self.mark_unavailable(name, Unavailable::Unsupported);
            return Outcome::Unsupported(format!("{error:#}"));
        }
        Outcome::Failed(format!("{error:#}"))
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let (compiled, func_exports) = match self.compile(&mut module) {
                    Ok(Compiled::Module(compiled, func_exports)) => (compiled, func_exports),
                    Ok(Compiled::Component(component)) => {
                        self.current_is_component = true;
                        self.mark_available(name.as_deref());
                        return expect_ok(self.components.instantiate(&mut self.store, &component, name));
                    }
                    Err(e) => return self.compile_failure(name, e),
                };
                self.current_is_component = false;
                if let Some(why) = self.imports_unavailable(&compiled) {
                    self.mark_unavailable(name, why);
                    return why.outcome();
                }
                match self.linker.instantiate(&mut self.store, &compiled) {
                    Ok(instance) => {
                        self.record_func_exports(instance, &func_exports);
                        self.current = Some(instance);
                        self.mark_available(name.as_deref());
                        if let Some(name) = name {
                            self.instances.insert(name, instance);
                        }
                        Outcome::Passed
                    }
                    Err(e) => Outcome::Failed(format!("{e:#}")),
                }
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                match self.compile(&mut module) {
                    Ok(Compiled::Module(compiled, func_exports)) => {
                        if let Some(name) = name {
                            self.unavailable_modules.remove(&name);
                            self.definitions.insert(name, (compiled, func_exports));
                        }
                        Outcome::Passed
                    }
                    Ok(Compiled::Component(component)) => {
                        if let Some(name) = name {
                            self.unavailable_modules.remove(&name);
                            self.components.define(name, component);
                        }
                        Outcome::Passed
                    }
                    Err(e) => {
                        // A definition does not become the current module.
                        let current = self.current_unavailable;
                        let outcome = self.compile_failure(name, e);
                        self.current_unavailable = current;
                        outcome
                    }
                }
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                let Some(module) = module else { return Outcome::Failed("a module instance needs a module name".into()) };
                if let Some(why) = self.unavailable(Some(module.name())) {
                    self.mark_unavailable(instance.map(|i| i.name().to_string()), why);
                    return why.outcome();
                }
                if let Some(component) = self.components.definition(module.name()) {
                    self.current_is_component = true;
                    let name = instance.map(|i| i.name().to_string());
                    self.mark_available(name.as_deref());
                    return expect_ok(self.components.instantiate(&mut self.store, &component, name));
                }
                let Some((compiled, func_exports)) = self.definitions.get(module.name()).cloned() else {
                    return Outcome::Failed(format!("unknown module definition `{}`", module.name()));
                };
                self.current_is_component = false;
                match self.linker.instantiate(&mut self.store, &compiled) {
                    Ok(created) => {
                        self.record_func_exports(created, &func_exports);
                        self.current = Some(created);
                        self.current_unavailable = None;
                        if let Some(name) = instance {
                            self.instances.insert(name.name().to_string(), created);
                        }
                        Outcome::Passed
                    }
                    Err(e) => Outcome::Failed(format!("{e:#}")),
                }
            }
            WastDirective::Register { name, module, .. } => {
                if let Some(why) = self.unavailable(module.map(|m| m.name())) {
                    self.unavailable_registrations.insert(name.to_string(), why);
                    return why.outcome();
                }
                self.unavailable_registrations.remove(name);
                expect_ok(self.instance(module.map(|m| m.name())).and_then(|instance| {
                    self.linker.instance(&mut self.store, name, instance)?;
                    Ok(())
                }))
            }
            WastDirective::Invoke(invoke) => {
                if let Some(why) = self.unavailable(invoke.module.map(|m| m.name())) {
                    return why.outcome();
                }
                if self.targets_component(invoke.module.map(|m| m.name())) {
                    return expect_ok(self.invoke_component(&invoke).map(drop));
                }
                expect_ok(self.invoke(&invoke).map(drop))
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                if let Some(why) = self.execution_unavailable(&exec) {
                    return why.outcome();
                }
                if let WastExecute::Invoke(invoke) = &exec
                    && self.targets_component(invoke.module.map(|m| m.name()))
                {
                    return match self.invoke_component(invoke) {
                        Ok(actual) => check_component_results(&actual, &results),
                        Err(e) => Outcome::Failed(format!("{e:#}")),
                    };
                }
                let instance = match &exec {
                    WastExecute::Invoke(invoke) => self.instance(invoke.module.map(|m| m.name())).ok(),
                    WastExecute::Get { module, .. } => self.instance(module.map(|m| m.name())).ok(),
                    WastExecute::Wat(_) => None,
                };
                match self.execute(exec) {
                    Ok(actual) => self.check_results(instance, &actual, &results),
                    Err(e) => Outcome::Failed(format!("{e:#}")),
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                if let Some(why) = self.execution_unavailable(&exec) {
                    return why.outcome();
                }
                if let WastExecute::Invoke(invoke) = &exec
                    && self.targets_component(invoke.module.map(|m| m.name()))
                {
                    return expect_error(self.invoke_component(invoke), message, "trap");
                }
                let result = self.execute(exec);
                expect_error(result, message, "trap")
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                if let Some(why) = self.unavailable(call.module.map(|m| m.name())) {
                    return why.outcome();
                }
                match self.invoke(&call) {
                    Ok(values) => Outcome::Failed(format!("expected stack exhaustion `{message}`, got {values:?}")),
                    Err(e) if e.downcast_ref::<Trap>() != Some(&Trap::StackOverflow) => {
                        Outcome::Failed(format!("expected stack exhaustion, got: {e:#}"))
                    }
                    Err(e) => expect_error::<()>(Err(e), message, "stack exhaustion"),
                }
            }
            WastDirective::AssertInvalid { module, message, .. } => {
                let result = self.compile_quoted(module);
                expect_error(result, message, "rejection")
            }
            WastDirective::AssertMalformed { module, message, .. } => {
                let result = self.compile_quoted(module);
                expect_error(result, message, "rejection")
            }
            WastDirective::AssertUnlinkable { module, message, .. } => {
                let compiled = match self.compile(&mut QuoteWat::Wat(module)) {
                    Ok(Compiled::Module(compiled, _)) => compiled,
                    Ok(Compiled::Component(component)) => {
                        let result = self.components.instantiate(&mut self.store, &component, None);
                        return expect_error(result, message, "link error");
                    }
                    Err(e) if is_unsupported(&e) => return Outcome::Unsupported(format!("{e:#}")),
                    Err(e) => return Outcome::Failed(format!("the module should compile: {e:#}")),
                };
                if let Some(why) = self.imports_unavailable(&compiled) {
                    return why.outcome();
                }
                let result = self.linker.instantiate(&mut self.store, &compiled);
                expect_error(result, message, "link error")
            }
            other => Outcome::Unsupported(format!("directive {other:?}")),
        }
    }

    /// Whether an action uses an unavailable module.
    fn execution_unavailable(&mut self, exec: &WastExecute<'_>) -> Option<Unavailable> {
        match exec {
            WastExecute::Invoke(invoke) => self.unavailable(invoke.module.map(|m| m.name())),
            WastExecute::Get { module, .. } => self.unavailable(module.map(|m| m.name())),
            WastExecute::Wat(_) => None,
        }
    }

    /// Compiles a script module or component (with, for a module, the function indices its exports name).
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Compiled> {
        let binary = module.encode()?;
        if is_component(&binary) {
            return Ok(Compiled::Component(self.component(&binary)?));
        }
        let compiled = self.module(&binary)?;
        Ok(Compiled::Module(compiled, func_exports(&binary)))
    }

    /// Whether a command on `module` (the current one for `None`) goes to a component instance.
    fn targets_component(&self, module: Option<&str>) -> bool {
        match module {
            Some(name) => self.components.has_instance(name),
            None => self.current_is_component,
        }
    }

    /// Invokes a component instance's export.
    fn invoke_component(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<tenon::component::Val>> {
        self.components.invoke(&mut self.store, invoke.module.map(|m| m.name()), invoke.name, &invoke.args)
    }

    /// Remembers `instance`'s exported functions by index.
    fn record_func_exports(&mut self, instance: Instance, exports: &FuncExports) {
        let funcs = exports
            .iter()
            .filter_map(|(index, name)| Some((*index, instance.get_func(&mut self.store, name)?)))
            .collect();
        self.exported_funcs.insert(instance, funcs);
    }

    fn compile_quoted(&mut self, mut module: QuoteWat<'_>) -> Result<()> {
        self.compile(&mut module).map(drop)
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
                let compiled = self.module(&QuoteWat::Wat(wat).encode()?)?;
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

    /// Checks `actual` against `expected`, for a command on `instance` (which `(ref.func N)` refers to).
    fn check_results(&self, instance: Option<Instance>, actual: &[Val], expected: &[WastRet<'_>]) -> Outcome {
        if actual.len() != expected.len() {
            return Outcome::Failed(format!("expected {} results, got {}", expected.len(), actual.len()));
        }
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            let WastRet::Core(e) = e else { return Outcome::Unsupported("component results".into()) };
            match self.matches(instance, a, e) {
                Ok(true) => {}
                Ok(false) => return Outcome::Failed(format!("result {i}: expected {e:?}, got {a:?}")),
                Err(why) => return Outcome::Unsupported(format!("result {i}: {why:#}")),
            }
        }
        Outcome::Passed
    }

    fn matches(&self, instance: Option<Instance>, actual: &Val, expected: &WastRetCore<'_>) -> Result<bool> {
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
            // A null of the right hierarchy: `(ref.null func)` is not `(ref.null extern)`.
            (Val::FuncRef(f), WastRetCore::RefNull(ty)) => f.is_none() && null_of(ty.as_ref(), "func")?,
            (Val::ExternRef(e), WastRetCore::RefNull(ty)) => e.is_none() && null_of(ty.as_ref(), "extern")?,
            (Val::FuncRef(f), WastRetCore::RefFunc(None)) => f.is_some(),
            (Val::FuncRef(f), WastRetCore::RefFunc(Some(index))) => {
                let expected = match index {
                    wast::token::Index::Num(n, _) => instance
                        .and_then(|instance| self.exported_funcs.get(&instance))
                        .and_then(|funcs| funcs.iter().find(|(i, _)| i == n))
                        .map(|&(_, func)| func),
                    wast::token::Index::Id(_) => None,
                };
                // Only exported functions have handles the runner can compare with.
                let Some(expected) = expected else {
                    bail!("checking `(ref.func {index:?})` needs the function to be exported: not supported yet")
                };
                *f == Some(expected)
            }
            (Val::ExternRef(e), WastRetCore::RefExtern(expected)) => match (e, expected) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(e), Some(n)) => e.data(&self.store)?.and_then(|d| d.downcast_ref::<u32>()) == Some(n),
            },
            (_, WastRetCore::Either(options)) => {
                for option in options {
                    if self.matches(instance, actual, option)? {
                        return Ok(true);
                    }
                }
                false
            }
            _ => false,
        })
    }
}

/// Whether a null of hierarchy `hierarchy` is what `(ref.null ty)` expects (any null without a type).
fn null_of(ty: Option<&wast::core::HeapType<'_>>, hierarchy: &str) -> Result<bool> {
    Ok(match ty {
        None => true,
        Some(ty) => heap_type_hierarchy(ty)? == hierarchy,
    })
}

/// The hierarchy (`func` or `extern`) of a heap type a script names; an error for the GC proposal's.
fn heap_type_hierarchy(ty: &wast::core::HeapType<'_>) -> Result<&'static str> {
    use wast::core::{AbstractHeapType as A, HeapType as H};
    Ok(match ty {
        H::Abstract { ty: A::Func | A::NoFunc, .. } | H::Concrete(_) | H::Exact(_) => "func",
        H::Abstract { ty: A::Extern | A::NoExtern, .. } => "extern",
        other => bail!("the heap type {other:?} is not supported yet"),
    })
}
