//! Calls out of a component instance into the host: a lowered import is a core host function that lifts the
//! guest's arguments, calls the host function and lowers the results back into the guest. (A call into
//! another component instance goes through a fused adapter instead, see [`adapter`](super::adapter).)

use super::abi::layout::field_offsets;
use super::abi::lift::{FlatValues, LiftContext, offset};
use super::abi::lower::{FlatBuf, LowerContext, typecheck};
use super::abi::{AbiError, AbiResult, MAX_FLAT_PARAMS};
use super::func::{StoreGuest, check_pointer, lowered_signature, remove_taken};
use super::store::Options;
use super::handles::Handle;
use super::linker::ResourceDtor;
use super::info::ResourceSlot;
use super::type_table::{self, ComponentTypes, InterfaceType, TypeFuncIndex};
use super::types::ComponentFunc;
use super::values::Val;
use crate::func::HostFunc as CoreHostFunc;
use crate::vm::ValRaw;
use crate::{AsContext, AsContextMut, Caller, Func, FuncType, StoreContextMut, Trap, ValType};
use super::typed::{ComponentNamedList, Lift, Lower};
use anyhow::{Context, Result};
use std::sync::Arc;

/// A host function taking and returning [`Val`]s.
pub(crate) type DynamicFn<T> = dyn Fn(StoreContextMut<'_, T>, ComponentFunc, &[Val], &mut [Val]) -> Result<()> + Send + Sync;

/// A host function given to a component [`Linker`](super::Linker).
pub(crate) enum HostFunc<T: 'static> {
    /// Called with [`Val`]s (`func_new`).
    Dynamic(Arc<DynamicFn<T>>),
    /// Called with Rust values (`func_wrap`).
    Typed(Arc<dyn TypedHostFunc<T>>),
}

impl<T: 'static> Clone for HostFunc<T> {
    fn clone(&self) -> Self {
        match self {
            HostFunc::Dynamic(f) => HostFunc::Dynamic(f.clone()),
            HostFunc::Typed(f) => HostFunc::Typed(f.clone()),
        }
    }
}

impl<T: 'static> HostFunc<T> {
    /// Checks that the function can be an import of type `ty`.
    pub(crate) fn typecheck(&self, types: &ComponentTypes, ty: TypeFuncIndex) -> Result<()> {
        match self {
            // Checked at each call: its results against the type.
            HostFunc::Dynamic(_) => Ok(()),
            HostFunc::Typed(f) => f.typecheck(types, ty),
        }
    }
}

/// A typed host function, its Rust parameter and result types erased.
pub(crate) trait TypedHostFunc<T: 'static>: Send + Sync {
    /// Checks its Rust types against the import's function type `ty`.
    fn typecheck(&self, types: &ComponentTypes, ty: TypeFuncIndex) -> Result<()>;
    /// Its Rust type, for errors: `fn((String,)) -> (u32,)`.
    fn rust_type(&self) -> String;
    /// Lifts the arguments from the guest's core arguments `raw_args`, calls the function, and lowers its
    /// result: its flat value's bits, or `None` when it went through the return pointer (or there is none).
    fn call(&self, store: &mut StoreContextMut<'_, T>, types: &Arc<ComponentTypes>, target: &Target, raw_args: &[u64]) -> Result<Option<u64>>;
}

/// A closure with Rust parameters `P` and results `R`.
pub(crate) struct TypedHost<F, P, R> {
    pub func: F,
    pub _types: std::marker::PhantomData<fn(P) -> R>,
}

impl<T: 'static, F, P, R> TypedHostFunc<T> for TypedHost<F, P, R>
where
    F: Fn(StoreContextMut<'_, T>, P) -> Result<R> + Send + Sync,
    P: ComponentNamedList + Lift,
    R: ComponentNamedList + Lower,
{
    fn typecheck(&self, types: &ComponentTypes, ty: TypeFuncIndex) -> Result<()> {
        let func = types.func(ty);
        P::typecheck_list(&func.param_types, types).context("the parameters do not match")?;
        R::typecheck_list(func.result.as_slice(), types).context("the results do not match")
    }

    fn rust_type(&self) -> String {
        format!("fn({}) -> {}", std::any::type_name::<P>(), std::any::type_name::<R>())
    }

    fn call(&self, store: &mut StoreContextMut<'_, T>, types: &Arc<ComponentTypes>, target: &Target, raw_args: &[u64]) -> Result<Option<u64>> {
        let func = types.func(target.ty);
        let (params, taken) = {
            let fuel = store.hostcall_fuel();
            let cx = LiftContext::new(types, target.options, store.as_context(), fuel, target.instance, target.ns);
            let memory = cx.memory;
            let lifted = match func.params_abi.flat_count {
                Some(_) => P::lift_list_flat(&cx, &func.param_types, &mut FlatValues::new(raw_args)),
                None => {
                    let ptr = raw_args.first().copied().unwrap_or(0) as u32;
                    check_pointer(ptr, func.params_abi.align, func.params_abi.size, memory.len())
                        .and_then(|()| P::load_fields(&cx, &func.param_types, ptr))
                }
            };
            (lifted.map_err(|e| e.in_arguments(&target.name, &func.params))?, cx.taken_handles())
        };
        remove_taken(store, target.instance, target.options.nested, &taken);
        let result = (self.func)(store.as_context_mut(), params)?;
        let Some(result_ty) = func.result else { return Ok(None) };
        let mut guest = StoreGuest { store, options: target.options, instance: target.instance, ns: target.ns };
        let mut cx = LowerContext { types, guest: &mut guest, encoding: target.options.encoding, between_components: false };
        let lowered = match func.result_in_memory {
            false => {
                let mut flat = FlatBuf::default();
                result.lower_list_flat(&mut cx, &[result_ty], &mut flat).map(|()| flat.as_slice().first().copied())
            }
            true => {
                let ptr = raw_args.last().copied().unwrap_or(0) as u32;
                let abi = types.abi(result_ty);
                cx.guest
                    .memory()
                    .and_then(|memory| check_pointer(ptr, abi.align, abi.size, memory.len()))
                    .and_then(|()| result.store_fields(&mut cx, &[result_ty], ptr))
                    .map(|()| None)
            }
        };
        lowered.map_err(|e| e.in_results(&target.name))
    }
}

/// Makes the core function through which instance `instance` calls host function `callee` (of type `ty`)
/// with canonical options `options`.
pub(crate) fn lower<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    instance: usize,
    types: &Arc<ComponentTypes>,
    ty: TypeFuncIndex,
    options: Options,
    callee: HostFunc<T>,
    name: Arc<str>,
) -> Func {
    // An import's type numbers resources as the root does.
    let ns = 0;
    let (params, results) = lowered_signature(types, ty);
    let core_ty = FuncType::new(store.engine(), params.clone(), results.clone());
    let types = types.clone();
    let target = Target { instance, ty, ns, options, params: params.into(), result: results.first().cloned(), name };
    // The core function works on raw values: numbers only, converted without allocating.
    CoreHostFunc::new(core_ty, move |mut caller: Caller<'_, T>, raw: &mut [ValRaw]| {
        call_lowered(&mut caller, &types, &target, &callee, raw)
    })
    .place_in(&mut store.0)
    .expect("compiling the trampolines of a lowered import")
}

/// Makes the core function `canon resource.drop` of resource type `resource` becomes in instance
/// `instance`: it drops a handle of (nested) instance `nested`; dropping an owned handle runs the host
/// resource's destructor `dtor` with the resource's `rep`.
pub(crate) fn resource_drop<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    instance: usize,
    nested: usize,
    resource: ResourceSlot,
    dtor: Option<Arc<ResourceDtor<T>>>,
) -> Func {
    let core_ty = FuncType::new(store.engine(), [ValType::I32], []);
    CoreHostFunc::new(core_ty, move |mut caller: Caller<'_, T>, raw: &mut [ValRaw]| {
        let index = raw.first().map_or(0, |v| v.get_i32() as u32);
        let mut store = caller.as_context_mut();
        let data = &mut store.0.get_mut().opaque.components.instances[instance];
        if !data.may_leave(nested) {
            return Err(Trap::CannotLeaveComponent.into());
        }
        // A handle lent to a call that is still running (the callee calling its caller back) stays.
        if data.is_lent(nested, index) {
            let error = AbiError::msg(format!("cannot drop handle index {index}: it is lent to a call that is still running"));
            return Err(error.into_error("`resource.drop`"));
        }
        let handle = data.handles[nested].remove(index, resource).map_err(|e| e.into_error("`resource.drop`"))?;
        if let Handle::Borrow { scope, .. } = handle {
            data.borrow_dropped(nested, scope);
        }
        let guest_dtor = data.guest_dtors[resource.0 as usize];
        match (handle, &dtor, guest_dtor) {
            (Handle::Own { rep, .. }, Some(dtor), _) => dtor(store, rep),
            (Handle::Own { rep, .. }, None, Some(guest_dtor)) => guest_dtor.call(&mut store, &[crate::Val::I32(rep as i32)], &mut []),
            _ => Ok(()),
        }
    })
    .place_in(&mut store.0)
    .expect("compiling the trampolines of `resource.drop`")
}

/// Makes the core function `canon resource.new` of resource type `resource` becomes: a new owned handle,
/// in (nested) instance `nested` of `instance`, to the resource represented by its argument.
pub(crate) fn resource_new<T: 'static>(store: &mut StoreContextMut<'_, T>, instance: usize, nested: usize, resource: ResourceSlot) -> Func {
    let core_ty = FuncType::new(store.engine(), [ValType::I32], [ValType::I32]);
    CoreHostFunc::new(core_ty, move |mut caller: Caller<'_, T>, raw: &mut [ValRaw]| {
        let rep = raw.first().map_or(0, |v| v.get_i32() as u32);
        let mut store = caller.as_context_mut();
        let handles = &mut store.0.get_mut().opaque.components.instances[instance].handles[nested];
        let index = handles.insert(Handle::Own { ty: resource, rep }).map_err(|e| e.into_error("`resource.new`"))?;
        raw[0] = ValRaw::i32(index as i32);
        Ok(())
    })
    .place_in(&mut store.0)
    .expect("compiling the trampolines of `resource.new`")
}

/// Makes the core function `canon resource.rep` of resource type `resource` becomes: the representation
/// of the resource a handle of (nested) instance `nested` of `instance` names.
pub(crate) fn resource_rep<T: 'static>(store: &mut StoreContextMut<'_, T>, instance: usize, nested: usize, resource: ResourceSlot) -> Func {
    let core_ty = FuncType::new(store.engine(), [ValType::I32], [ValType::I32]);
    CoreHostFunc::new(core_ty, move |mut caller: Caller<'_, T>, raw: &mut [ValRaw]| {
        let index = raw.first().map_or(0, |v| v.get_i32() as u32);
        let store = caller.as_context_mut();
        let handles = &store.0.get().opaque.components.instances[instance].handles[nested];
        let (Handle::Own { rep, .. } | Handle::Borrow { rep, .. }) = handles.get(index, resource).map_err(|e| e.into_error("`resource.rep`"))?;
        raw[0] = ValRaw::i32(rep as i32);
        Ok(())
    })
    .place_in(&mut store.0)
    .expect("compiling the trampolines of `resource.rep`")
}

/// What a lowered function lowers: for instance `instance`, a function of type `ty` with options
/// `options`, whose core signature returns `core_result` (if anything).
pub(crate) struct Target {
    instance: usize,
    ty: TypeFuncIndex,
    /// The (nested) component instance whose resource type numbers `ty` uses (the root's).
    ns: usize,
    options: Options,
    /// The core parameter types.
    params: Box<[ValType]>,
    /// The core result type, if the result is flat.
    result: Option<ValType>,
    /// The import's name, for errors.
    name: Arc<str>,
}

/// A call from wasm through a lowered import.
fn call_lowered<T: 'static>(
    caller: &mut Caller<'_, T>,
    types: &Arc<ComponentTypes>,
    target: &Target,
    callee: &HostFunc<T>,
    core_values: &mut [ValRaw],
) -> Result<()> {
    let (instance, options) = (target.instance, target.options);
    let mut store = caller.as_context_mut();
    if !store.0.get().opaque.components.instances[instance].may_leave(options.nested) {
        return Err(Trap::CannotLeaveComponent.into());
    }
    // At most 16 flat parameters and a return pointer: no allocation on the way in.
    let mut raw_buf = [0u64; MAX_FLAT_PARAMS + 1];
    for ((slot, value), ty) in raw_buf.iter_mut().zip(core_values.iter()).zip(&target.params) {
        *slot = match ty {
            ValType::I64 | ValType::F64 => value.get_i64() as u64,
            _ => value.get_i32() as u32 as u64,
        };
    }
    let raw = &raw_buf[..target.params.len().min(raw_buf.len())];
    let result = match callee {
        HostFunc::Typed(host) => host.call(&mut store, types, target, raw)?,
        HostFunc::Dynamic(host) => call_with_vals(&mut store, types, target, &**host, raw)?,
    };
    if let (Some(bits), Some(ty), Some(slot)) = (result, &target.result, core_values.first_mut()) {
        *slot = match ty {
            ValType::I64 | ValType::F64 => ValRaw::i64(bits as i64),
            _ => ValRaw::i32(bits as u32 as i32),
        };
    }
    Ok(())
}

/// A lowered call of a dynamic host function, through [`Val`]s; the flat result's bits, if it has one.
fn call_with_vals<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    types: &Arc<ComponentTypes>,
    target: &Target,
    host: &DynamicFn<T>,
    raw: &[u64],
) -> Result<Option<u64>> {
    let Target { instance, ty, options, ref name, .. } = *target;
    let func = types.func(ty);
    let fuel = store.hostcall_fuel();
    let params = lift_params(store, types, target, raw, fuel).map_err(|e| e.in_arguments(name, &func.params))?;
    let mut results = vec![Val::Bool(false); func.result.iter().count()];
    host(store.as_context_mut(), ComponentFunc::new(types, ty), &params, &mut results)?;
    if let (Some(ty), Some(value)) = (func.result, results.first()) {
        typecheck(types, ty, value).map_err(|e| e.into_error(&format!("`{name}` result from the host")))?;
    }
    let Some(result_ty) = func.result else { return Ok(None) };
    let mut guest = StoreGuest { store, options, instance, ns: target.ns };
    let mut cx = LowerContext { types, guest: &mut guest, encoding: options.encoding, between_components: false };
    lower_result(&mut cx, result_ty, &results[0], raw, func.result_in_memory).map_err(|e| e.into_error(&format!("`{name}` result")))
}

/// Lowers a lowered call's result: its flat value's bits, or (`in_memory`) through the pointer the guest
/// passed after its arguments.
fn lower_result(cx: &mut LowerContext<'_>, ty: InterfaceType, value: &Val, raw_args: &[u64], in_memory: bool) -> AbiResult<Option<u64>> {
    if !in_memory {
        let mut flat = FlatBuf::default();
        cx.lower_flat(ty, value, &mut flat)?;
        return Ok(flat.as_slice().first().copied());
    }
    let ptr = raw_args.last().copied().unwrap_or(0) as u32;
    let abi = cx.types.abi(ty);
    let memory_len = cx.guest.memory()?.len();
    check_pointer(ptr, abi.align, abi.size, memory_len)?;
    cx.store(ty, value, ptr).map(|()| None)
}

/// Lifts a lowered call's arguments (from the flat core arguments, or from the memory they point to),
/// allocating at most `fuel` bytes.
fn lift_params<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    types: &Arc<ComponentTypes>,
    target: &Target,
    raw: &[u64],
    fuel: usize,
) -> AbiResult<Vec<Val>> {
    let func = types.func(target.ty);
    let (params, taken) = {
        let cx = LiftContext::new(types, target.options, store.as_context(), fuel, target.instance, target.ns);
        (lift_values(&cx, types, func, raw)?, cx.taken_handles())
    };
    remove_taken(store, target.instance, target.options.nested, &taken);
    Ok(params)
}

/// The values of a lowered call's arguments, read by `cx`.
fn lift_values(cx: &LiftContext<'_>, types: &ComponentTypes, func: &type_table::FuncType, raw: &[u64]) -> AbiResult<Vec<Val>> {
    let memory = cx.memory;
    match func.params_abi.flat_count {
        Some(n) if (n as usize) <= MAX_FLAT_PARAMS => {
            let mut src = FlatValues::new(raw);
            func.params.iter().enumerate().map(|(n, (_, ty))| cx.lift_flat(*ty, &mut src).map_err(|e| e.at_index(n))).collect()
        }
        _ => {
            let ptr = raw.first().copied().unwrap_or(0) as u32;
            check_pointer(ptr, func.params_abi.align, func.params_abi.size, memory.len())?;
            let offsets = field_offsets(types, func.params.iter().map(|(_, ty)| *ty));
            offsets.enumerate().map(|(n, (ty, at))| cx.load(ty, offset(ptr, at)?).map_err(|e| e.at_index(n))).collect()
        }
    }
}
