//! The component half of `tenon wast`: components in scripts, their instances, and invoking their exports
//! with component values.

use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use tenon::component::{Component, Instance, Linker, Val};
use tenon::{Engine, Store};
use wast::component::WastVal;
use wast::{WastArg, WastRet};

/// Whether a script module's binary is a component.
pub fn is_component(binary: &[u8]) -> bool {
    wasmparser::Parser::is_component(binary)
}

/// The components of a script.
pub struct Components {
    linker: Linker<()>,
    /// Named instances.
    instances: HashMap<String, Instance>,
    /// Named component definitions (`(component definition $c ...)`).
    definitions: HashMap<String, Component>,
    /// The latest instance.
    current: Option<Instance>,
}

impl Components {
    /// No components yet.
    pub fn new(engine: &Engine) -> Self {
        Components { linker: Linker::new(engine), instances: HashMap::new(), definitions: HashMap::new(), current: None }
    }

    /// Instantiates `component` (with no host imports), as the current instance and as `name` if given.
    pub fn instantiate(&mut self, store: &mut Store<()>, component: &Component, name: Option<String>) -> Result<()> {
        let instance = self.linker.instantiate(&mut *store, component)?;
        self.current = Some(instance);
        if let Some(name) = name {
            self.instances.insert(name, instance);
        }
        Ok(())
    }

    /// Keeps a component definition under `name`.
    pub fn define(&mut self, name: String, component: Component) {
        self.definitions.insert(name, component);
    }

    /// The component definition `name`, if there is one.
    pub fn definition(&self, name: &str) -> Option<Component> {
        self.definitions.get(name).cloned()
    }

    /// Whether `name` names a component instance.
    pub fn has_instance(&self, name: &str) -> bool {
        self.instances.contains_key(name)
    }

    /// Calls export `func` of instance `module` (the current one for `None`) with `args`.
    pub fn invoke(&self, store: &mut Store<()>, module: Option<&str>, func: &str, args: &[WastArg<'_>]) -> Result<Vec<Val>> {
        let instance = match module {
            Some(name) => *self.instances.get(name).with_context(|| format!("unknown component instance `{name}`"))?,
            None => self.current.context("no component has been instantiated")?,
        };
        let export = instance.get_func(&mut *store, func).with_context(|| format!("no function export `{func}`"))?;
        let args = args.iter().map(value).collect::<Result<Vec<_>>>()?;
        let mut results = vec![Val::Bool(false); export.ty(&*store).results().len()];
        export.call(&mut *store, &args, &mut results)?;
        Ok(results)
    }
}

/// The component value of a script argument.
fn value(arg: &WastArg<'_>) -> Result<Val> {
    match arg {
        WastArg::Component(v) => convert(v),
        other => bail!("a core argument {other:?} to a component function"),
    }
}

fn convert(v: &WastVal<'_>) -> Result<Val> {
    let boxed = |v: &Option<Box<WastVal<'_>>>| v.as_ref().map(|v| convert(v).map(Box::new)).transpose();
    Ok(match v {
        WastVal::Bool(b) => Val::Bool(*b),
        WastVal::U8(n) => Val::U8(*n),
        WastVal::S8(n) => Val::S8(*n),
        WastVal::U16(n) => Val::U16(*n),
        WastVal::S16(n) => Val::S16(*n),
        WastVal::U32(n) => Val::U32(*n),
        WastVal::S32(n) => Val::S32(*n),
        WastVal::U64(n) => Val::U64(*n),
        WastVal::S64(n) => Val::S64(*n),
        WastVal::F32(f) => Val::Float32(f32::from_bits(f.bits)),
        WastVal::F64(f) => Val::Float64(f64::from_bits(f.bits)),
        WastVal::Char(c) => Val::Char(*c),
        WastVal::String(s) => Val::String(s.to_string()),
        WastVal::List(items) => Val::List(items.iter().map(convert).collect::<Result<_>>()?),
        WastVal::Tuple(items) => Val::Tuple(items.iter().map(convert).collect::<Result<_>>()?),
        WastVal::Record(fields) => {
            Val::Record(fields.iter().map(|(name, v)| Ok((name.to_string(), convert(v)?))).collect::<Result<_>>()?)
        }
        WastVal::Variant(name, payload) => Val::Variant(name.to_string(), boxed(payload)?),
        WastVal::Enum(name) => Val::Enum(name.to_string()),
        WastVal::Option(v) => Val::Option(boxed(v)?),
        WastVal::Result(Ok(v)) => Val::Result(Ok(boxed(v)?)),
        WastVal::Result(Err(v)) => Val::Result(Err(boxed(v)?)),
        WastVal::Flags(names) => Val::Flags(names.iter().map(|n| n.to_string()).collect()),
        WastVal::Map(_) => bail!("`map` values are not supported yet"),
    })
}

/// Whether a component result matches what the script expects; `None` if the expectation is not a
/// component value.
pub fn matches(actual: &Val, expected: &WastRet<'_>) -> Option<bool> {
    let WastRet::Component(expected) = expected else { return None };
    Some(convert(expected).is_ok_and(|expected| same(actual, &expected)))
}

/// Value equality, with any NaN equal to any NaN (lifting makes them canonical; the script cannot say
/// which).
fn same(a: &Val, b: &Val) -> bool {
    let boxed = |a: &Option<Box<Val>>, b: &Option<Box<Val>>| match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    };
    match (a, b) {
        (Val::Float32(a), Val::Float32(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
        (Val::Float64(a), Val::Float64(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
        (Val::List(a), Val::List(b)) | (Val::Tuple(a), Val::Tuple(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b)),
        (Val::Map(a), Val::Map(b)) => a.len() == b.len() && a.iter().zip(b).all(|((k, v), (l, w))| same(k, l) && same(v, w)),
        (Val::Record(a), Val::Record(b)) => a.len() == b.len() && a.iter().zip(b).all(|((n, a), (m, b))| n == m && same(a, b)),
        (Val::Variant(n, a), Val::Variant(m, b)) => n == m && boxed(a, b),
        (Val::Option(a), Val::Option(b)) => boxed(a, b),
        (Val::Result(Ok(a)), Val::Result(Ok(b))) | (Val::Result(Err(a)), Val::Result(Err(b))) => boxed(a, b),
        (a, b) => a == b,
    }
}
