//! `tenon run` for components: calls one export, given as a WAVE function call (`add(1, 2)`,
//! `pkg:name/iface#greet("you")`), and prints its results in WAVE, one per line. `tenon run` provides no
//! imports (no WASI yet): a component that imports anything is refused with the name of each import.

use anyhow::{Context, Result, bail};
use std::path::Path;
use tenon::component::types::{ComponentItem, Type};
use tenon::component::{Component, Func, Instance, Linker, Val};
use tenon::{Store, StoreLimits};
use wasm_wave::untyped::UntypedFuncCall;
use wasm_wave::value::{Type as WaveType, Value};
use wasm_wave::wasm::{WasmTypeKind, WasmValue};

/// Instantiates `component` (read from `path`) in `store` and makes the call `invoke`; the results in WAVE.
pub fn run(store: &mut Store<StoreLimits>, path: &Path, component: &Component, invoke: Option<&str>, args: &[String]) -> Result<Vec<String>> {
    let engine = store.engine().clone();
    let imports: Vec<String> = component
        .component_type()
        .imports(&engine)
        .map(|(name, item)| format!("`{name}` ({})", kind(&item.ty)))
        .collect();
    if !imports.is_empty() {
        bail!("`{}` needs imports that `tenon run` does not provide: {}", path.display(), imports.join(", "));
    }
    let Some(invoke) = invoke else {
        bail!("a component runs with `--invoke 'NAME(ARGS)'` (WAVE syntax): `tenon run` has no WASI, so it cannot run `wasi:cli/run` yet")
    };
    if !args.is_empty() {
        bail!("a component's arguments go inside the `--invoke` call, in WAVE syntax: `--invoke 'f(1, \"two\")'`");
    }
    let (interface, call) = split_call(invoke)?;
    let call = UntypedFuncCall::parse(&call).map_err(|e| anyhow::anyhow!("invalid `--invoke` call `{invoke}`: {e}"))?;
    let instance = Linker::new(&engine).instantiate(&mut *store, component)?;
    let func = export(store, component, instance, interface.as_deref(), call.name()).with_context(|| {
        let name = interface.map_or(String::new(), |i| format!("{i}#")) + call.name();
        format!("`{}` has no function export named `{name}`", path.display())
    })?;
    let ty = func.ty(&*store);
    let param_types: Vec<WaveType> = ty.params().map(|(_, ty)| wave_type(&ty)).collect::<Result<_>>()?;
    let params: Vec<Value> = call.to_wasm_params(&param_types).map_err(|e| anyhow::anyhow!("invalid arguments in `{invoke}`: {e}"))?;
    let params: Vec<Val> = params.iter().map(val).collect::<Result<_>>()?;
    let result_types: Vec<Type> = ty.results().collect();
    let mut results = vec![Val::Bool(false); result_types.len()];
    func.call(&mut *store, &params, &mut results)?;
    results
        .iter()
        .zip(&result_types)
        .map(|(result, ty)| Ok(wasm_wave::to_string(&wave_value(result, &wave_type(ty)?)?)?))
        .collect()
}

/// Splits the call `invoke` into the exported instance it names, if any, and the call of a function by its
/// plain name. Instances are named as in WIT's `use` (`pkg:name/iface.fn(...)`, `iface.fn@1.0.0(...)`, as
/// WAVE and Wasmtime spell them) or with the export's full name before a `#`
/// (`wasi:cli/run@0.2.0#run()`).
fn split_call(invoke: &str) -> Result<(Option<String>, String)> {
    let (name, args) = invoke.split_at(invoke.find('(').unwrap_or(invoke.len()));
    let name = name.trim();
    if let Some((interface, func)) = name.rsplit_once('#') {
        return Ok((Some(interface.to_string()), format!("{func}{args}")));
    }
    let (name, version) = match name.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (name, None),
    };
    match name.rsplit_once('.') {
        Some((interface, func)) => {
            let interface = version.map_or(interface.to_string(), |v| format!("{interface}@{v}"));
            Ok((Some(interface), format!("{func}{args}")))
        }
        None if name.contains('/') || version.is_some() => {
            bail!("`{invoke}` names an interface but no function: call `INTERFACE.FUNCTION(ARGS)`")
        }
        None => Ok((None, format!("{name}{args}"))),
    }
}

/// The exported function `name`, in the exported instance `interface` if one is given; otherwise at the
/// root, or failing that in the one exported instance that has a function of that name.
fn export(store: &mut Store<StoreLimits>, component: &Component, instance: Instance, interface: Option<&str>, name: &str) -> Option<Func> {
    if let Some(interface) = interface {
        let outer = instance.get_export_index(&*store, None, interface)?;
        let inner = instance.get_export_index(&*store, Some(&outer), name)?;
        return instance.get_func(&mut *store, &inner);
    }
    if let Some(func) = instance.get_func(&mut *store, name) {
        return Some(func);
    }
    let ty = component.component_type();
    let engine = store.engine().clone();
    let mut found = ty.exports(&engine).filter_map(|(outer, item)| match item.ty {
        ComponentItem::ComponentInstance(i) if matches!(i.get_export(&engine, name).map(|e| e.ty), Some(ComponentItem::ComponentFunc(_))) => {
            Some(outer.to_string())
        }
        _ => None,
    });
    let (outer, ambiguous) = (found.next()?, found.next().is_some());
    if ambiguous {
        return None;
    }
    export(store, component, instance, Some(&outer), name)
}

/// What kind of item an import is, for the error.
fn kind(item: &ComponentItem) -> &'static str {
    match item {
        ComponentItem::ComponentFunc(_) => "a function",
        ComponentItem::ComponentInstance(_) => "an instance",
        ComponentItem::Module => "a core module",
        ComponentItem::Component => "a component",
        ComponentItem::Type(_) => "a type",
        ComponentItem::Resource(_) => "a resource type",
    }
}

/// The WAVE type of component type `ty`.
fn wave_type(ty: &Type) -> Result<WaveType> {
    let invalid = || anyhow::anyhow!("WAVE cannot describe the type {ty:?}");
    Ok(match ty {
        Type::Bool => WaveType::BOOL,
        Type::S8 => WaveType::S8,
        Type::U8 => WaveType::U8,
        Type::S16 => WaveType::S16,
        Type::U16 => WaveType::U16,
        Type::S32 => WaveType::S32,
        Type::U32 => WaveType::U32,
        Type::S64 => WaveType::S64,
        Type::U64 => WaveType::U64,
        Type::Float32 => WaveType::F32,
        Type::Float64 => WaveType::F64,
        Type::Char => WaveType::CHAR,
        Type::String => WaveType::STRING,
        Type::List(list) => match list.fixed_len() {
            None => WaveType::list(wave_type(&list.ty())?),
            Some(len) => WaveType::fixed_length_list(wave_type(&list.ty())?, len),
        },
        Type::Map(map) => WaveType::map(wave_type(&map.key())?, wave_type(&map.value())?).ok_or_else(invalid)?,
        Type::Record(record) => {
            let fields = record.fields().map(|f| Ok((f.name.to_string(), wave_type(&f.ty)?))).collect::<Result<Vec<_>>>()?;
            WaveType::record(fields).ok_or_else(invalid)?
        }
        Type::Tuple(tuple) => WaveType::tuple(tuple.types().map(|t| wave_type(&t)).collect::<Result<Vec<_>>>()?).ok_or_else(invalid)?,
        Type::Variant(variant) => {
            let cases = variant.cases().map(|c| Ok((c.name.to_string(), c.ty.as_ref().map(wave_type).transpose()?))).collect::<Result<Vec<_>>>()?;
            WaveType::variant(cases).ok_or_else(invalid)?
        }
        Type::Enum(e) => WaveType::enum_ty(e.names()).ok_or_else(invalid)?,
        Type::Option(option) => WaveType::option(wave_type(&option.ty())?),
        Type::Result(result) => WaveType::result(result.ok().as_ref().map(wave_type).transpose()?, result.err().as_ref().map(wave_type).transpose()?),
        Type::Flags(flags) => WaveType::flags(flags.names()).ok_or_else(invalid)?,
        Type::Own(_) | Type::Borrow(_) => return Err(invalid()),
    })
}

/// The component value of a WAVE value (parsed against the parameter's type, so its shape is right).
fn val(value: &Value) -> Result<Val> {
    let boxed = |v: Option<std::borrow::Cow<'_, Value>>| v.map(|v| val(&v).map(Box::new)).transpose();
    Ok(match value.kind() {
        WasmTypeKind::Bool => Val::Bool(value.unwrap_bool()),
        WasmTypeKind::S8 => Val::S8(value.unwrap_s8()),
        WasmTypeKind::U8 => Val::U8(value.unwrap_u8()),
        WasmTypeKind::S16 => Val::S16(value.unwrap_s16()),
        WasmTypeKind::U16 => Val::U16(value.unwrap_u16()),
        WasmTypeKind::S32 => Val::S32(value.unwrap_s32()),
        WasmTypeKind::U32 => Val::U32(value.unwrap_u32()),
        WasmTypeKind::S64 => Val::S64(value.unwrap_s64()),
        WasmTypeKind::U64 => Val::U64(value.unwrap_u64()),
        WasmTypeKind::F32 => Val::Float32(value.unwrap_f32()),
        WasmTypeKind::F64 => Val::Float64(value.unwrap_f64()),
        WasmTypeKind::Char => Val::Char(value.unwrap_char()),
        WasmTypeKind::String => Val::String(value.unwrap_string().into_owned()),
        WasmTypeKind::List | WasmTypeKind::FixedLengthList => Val::List(value.unwrap_list().map(|v| val(&v)).collect::<Result<_>>()?),
        WasmTypeKind::Map => Val::Map(value.unwrap_map().map(|(k, v)| Ok((val(&k)?, val(&v)?))).collect::<Result<_>>()?),
        WasmTypeKind::Record => {
            Val::Record(value.unwrap_record().map(|(name, v)| Ok((name.into_owned(), val(&v)?))).collect::<Result<_>>()?)
        }
        WasmTypeKind::Tuple => Val::Tuple(value.unwrap_tuple().map(|v| val(&v)).collect::<Result<_>>()?),
        WasmTypeKind::Variant => {
            let (case, payload) = value.unwrap_variant();
            Val::Variant(case.into_owned(), boxed(payload)?)
        }
        WasmTypeKind::Enum => Val::Enum(value.unwrap_enum().into_owned()),
        WasmTypeKind::Option => Val::Option(boxed(value.unwrap_option())?),
        WasmTypeKind::Result => Val::Result(match value.unwrap_result() {
            Ok(payload) => Ok(boxed(payload)?),
            Err(payload) => Err(boxed(payload)?),
        }),
        WasmTypeKind::Flags => Val::Flags(value.unwrap_flags().map(|name| name.into_owned()).collect()),
        other => bail!("values of kind {other} are not supported"),
    })
}

/// The WAVE value of component value `value` of WAVE type `ty`.
fn wave_value(value: &Val, ty: &WaveType) -> Result<Value> {
    use wasm_wave::wasm::WasmType;
    let payload = |v: &Option<Box<Val>>, ty: Option<WaveType>| -> Result<Option<Value>> {
        match (v, ty) {
            (Some(v), Some(ty)) => Ok(Some(wave_value(v, &ty)?)),
            _ => Ok(None),
        }
    };
    Ok(match value {
        Val::Bool(v) => Value::make_bool(*v),
        Val::S8(v) => Value::make_s8(*v),
        Val::U8(v) => Value::make_u8(*v),
        Val::S16(v) => Value::make_s16(*v),
        Val::U16(v) => Value::make_u16(*v),
        Val::S32(v) => Value::make_s32(*v),
        Val::U32(v) => Value::make_u32(*v),
        Val::S64(v) => Value::make_s64(*v),
        Val::U64(v) => Value::make_u64(*v),
        Val::Float32(v) => Value::make_f32(*v),
        Val::Float64(v) => Value::make_f64(*v),
        Val::Char(v) => Value::make_char(*v),
        Val::String(v) => Value::make_string(v.into()),
        Val::List(items) => {
            let element = ty.list_element_type().context("a list value of another type")?;
            Value::make_list(ty, items.iter().map(|v| wave_value(v, &element)).collect::<Result<Vec<_>>>()?)?
        }
        Val::Map(entries) => {
            let (key, value) = ty.map_key_value_types().context("a map value of another type")?;
            let entries = entries.iter().map(|(k, v)| Ok((wave_value(k, &key)?, wave_value(v, &value)?))).collect::<Result<Vec<_>>>()?;
            Value::make_map(ty, entries)?
        }
        Val::Record(fields) => {
            let types: Vec<WaveType> = ty.record_fields().map(|(_, ty)| ty).collect();
            let values = fields.iter().zip(&types).map(|((name, v), ty)| Ok((name.as_str(), wave_value(v, ty)?))).collect::<Result<Vec<_>>>()?;
            Value::make_record(ty, values)?
        }
        Val::Tuple(items) => {
            let types: Vec<WaveType> = ty.tuple_element_types().collect();
            Value::make_tuple(ty, items.iter().zip(&types).map(|(v, ty)| wave_value(v, ty)).collect::<Result<Vec<_>>>()?)?
        }
        Val::Variant(case, v) => {
            let case_ty = ty.variant_cases().find(|(name, _)| name == case).and_then(|(_, ty)| ty);
            Value::make_variant(ty, case, payload(v, case_ty)?)?
        }
        Val::Enum(case) => Value::make_enum(ty, case)?,
        Val::Option(v) => Value::make_option(ty, payload(v, ty.option_some_type())?)?,
        Val::Result(result) => {
            let (ok, err) = ty.result_types().context("a result value of another type")?;
            Value::make_result(ty, match result {
                Ok(v) => Ok(payload(v, ok)?),
                Err(v) => Err(payload(v, err)?),
            })?
        }
        Val::Flags(names) => Value::make_flags(ty, names.iter().map(String::as_str))?,
        Val::Resource(_) => bail!("WAVE cannot show a resource handle"),
    })
}
