//! `tenon run`: instantiate a module and call its `_start` or a named export.

use anyhow::{Context, Result, bail};
use std::path::Path;
use tenon::{Engine, Linker, Module, Store, Val, ValType};

/// Runs `path`'s `_start` export, or `invoke` with `args` parsed by its parameter types; returns the results.
pub fn run(path: &Path, invoke: Option<&str>, args: &[String]) -> Result<Vec<Val>> {
    let engine = Engine::default();
    let module = Module::from_file(&engine, path)?;
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let instance = linker.instantiate(&mut store, &module)?;
    let name = invoke.unwrap_or("_start");
    let func = instance
        .get_func(&mut store, name)
        .with_context(|| format!("`{}` has no function export named `{name}`", path.display()))?;
    let ty = func.ty(&store);
    if args.len() != ty.param_types().len() {
        bail!("`{name}` takes {} arguments ({ty}), but {} were given", ty.param_types().len(), args.len());
    }
    let params = ty
        .param_types()
        .iter()
        .zip(args)
        .map(|(&ty, arg)| parse_arg(ty, arg).with_context(|| format!("invalid argument `{arg}` for a parameter of type {ty}")))
        .collect::<Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.result_types().iter().map(|&t| Val::default_for_ty(t)).collect();
    func.call(&mut store, &params, &mut results)?;
    Ok(results)
}

fn parse_arg(ty: ValType, arg: &str) -> Result<Val> {
    Ok(match ty {
        ValType::I32 => Val::I32(arg.parse::<i32>().or_else(|_| arg.parse::<u32>().map(|v| v as i32))?),
        ValType::I64 => Val::I64(arg.parse::<i64>().or_else(|_| arg.parse::<u64>().map(|v| v as i64))?),
        ValType::F32 => Val::F32(arg.parse::<f32>()?.to_bits()),
        ValType::F64 => Val::F64(arg.parse::<f64>()?.to_bits()),
        other => bail!("arguments of type {other} cannot be given on the command line"),
    })
}

/// Formats a result value for printing.
pub fn format_val(val: &Val) -> String {
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
