//! Calls out of a component instance: a lowered import is a core host function that lifts the guest's
//! arguments, calls the host function (or, for an import satisfied by another component's export, that
//! lifted function) and lowers the results back into the guest.

use super::abi::layout::field_offsets;
use super::abi::lift::{FlatValues, LiftContext, offset};
use super::abi::lower::{LowerContext, typecheck};
use super::abi::{AbiResult, MAX_FLAT_PARAMS};
use super::func::{StoreGuest, call_lifted, check_pointer, core_val, lowered_signature, raw_bits};
use super::store::{FuncData, Options};
use super::type_table::{ComponentTypes, InterfaceType, TypeFuncIndex};
use super::types::ComponentFunc;
use super::values::Val;
use crate::{AsContextMut, Caller, Func, FuncType, StoreContextMut, Trap};
use anyhow::Result;
use std::sync::Arc;

/// A host function given to a component [`Linker`](super::Linker), called with [`Val`]s.
pub(crate) type HostFn<T> = dyn Fn(StoreContextMut<'_, T>, ComponentFunc, &[Val], &mut [Val]) -> Result<()> + Send + Sync;

/// What a lowered import calls.
pub(crate) enum Callee<T: 'static> {
    /// A host function.
    Host(Arc<HostFn<T>>),
    /// A function another part of the component lifted (a component-to-component call, adapted through the
    /// host).
    Lifted(FuncData),
}

/// Makes the core function through which instance `instance` calls `callee` (of type `ty`) with canonical
/// options `options`.
pub(crate) fn lower<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    instance: usize,
    types: &Arc<ComponentTypes>,
    ty: TypeFuncIndex,
    options: Options,
    callee: Callee<T>,
) -> Func {
    let (params, results) = lowered_signature(types, ty);
    let core_result = results.first().cloned();
    let core_ty = FuncType::new(store.engine(), params, results);
    let types = types.clone();
    let target = Target { instance, ty, options, core_result };
    Func::new(&mut *store, core_ty, move |mut caller: Caller<'_, T>, args, results| {
        call_lowered(&mut caller, &types, &target, &callee, args, results)
    })
}

/// What a lowered function lowers: for instance `instance`, a function of type `ty` with options
/// `options`, whose core signature returns `core_result` (if anything).
struct Target {
    instance: usize,
    ty: TypeFuncIndex,
    options: Options,
    core_result: Option<crate::ValType>,
}

/// A call from wasm through a lowered import.
fn call_lowered<T: 'static>(
    caller: &mut Caller<'_, T>,
    types: &Arc<ComponentTypes>,
    target: &Target,
    callee: &Callee<T>,
    core_args: &[crate::Val],
    core_results: &mut [crate::Val],
) -> Result<()> {
    let Target { instance, ty, options, ref core_result } = *target;
    let mut store = caller.as_context_mut();
    if !store.0.get().opaque.components.instances[instance].nested[options.nested].may_leave {
        return Err(Trap::CannotLeaveComponent.into());
    }
    let func = types.func(ty);
    let raw: Vec<u64> = core_args.iter().map(raw_bits).collect();
    let params = lift_params(&mut store, types, ty, options, &raw).map_err(|e| e.into_error("arguments"))?;
    let mut results = vec![Val::Bool(false); func.result.iter().count()];
    match callee {
        Callee::Host(host) => {
            host(store.as_context_mut(), ComponentFunc::new(types, ty), &params, &mut results)?;
            if let (Some(ty), Some(value)) = (func.result, results.first()) {
                typecheck(types, ty, value).map_err(|e| e.into_error("the host function's result"))?;
            }
        }
        Callee::Lifted(lifted) => call_lifted(&mut store, *lifted, &params, &mut results, true)?,
    }
    let Some(result_ty) = func.result else { return Ok(()) };
    let mut guest = StoreGuest { store: &mut store, options, instance };
    let between_components = matches!(callee, Callee::Lifted(_));
    let mut cx = LowerContext { types, guest: &mut guest, encoding: options.encoding, between_components };
    lower_result(&mut cx, result_ty, &results[0], &raw, core_result.clone(), core_results).map_err(|e| e.into_error("result"))
}

/// Lowers a lowered call's result: into the flat core result, or through the pointer the guest passed
/// after its arguments.
fn lower_result(
    cx: &mut LowerContext<'_>,
    ty: InterfaceType,
    value: &Val,
    raw_args: &[u64],
    core_result: Option<crate::ValType>,
    core_results: &mut [crate::Val],
) -> AbiResult<()> {
    match (core_result, core_results.first_mut()) {
        (Some(core_ty), Some(slot)) => {
            let mut flat = Vec::new();
            cx.lower_flat(ty, value, &mut flat)?;
            *slot = core_val(&core_ty, flat.first().copied().unwrap_or(0));
            Ok(())
        }
        _ => {
            let ptr = raw_args.last().copied().unwrap_or(0) as u32;
            let abi = cx.types.abi(ty);
            let memory_len = cx.guest.memory()?.len();
            check_pointer(ptr, abi.align, abi.size, memory_len)?;
            cx.store(ty, value, ptr)
        }
    }
}

/// Lifts a lowered call's arguments: from the flat core arguments, or from the memory they point to.
fn lift_params<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    types: &ComponentTypes,
    ty: TypeFuncIndex,
    options: Options,
    raw: &[u64],
) -> AbiResult<Vec<Val>> {
    let func = types.func(ty);
    let memory = options.memory.map_or(&[][..], |m| m.data(&*store));
    let cx = LiftContext { types, memory, encoding: options.encoding };
    match func.params_abi.flat_count {
        Some(n) if (n as usize) <= MAX_FLAT_PARAMS => {
            let mut src = FlatValues::new(raw);
            func.params.iter().map(|(name, ty)| cx.lift_flat(*ty, &mut src).map_err(|e| e.at_name(name))).collect()
        }
        _ => {
            let ptr = raw.first().copied().unwrap_or(0) as u32;
            check_pointer(ptr, func.params_abi.align, func.params_abi.size, memory.len())?;
            let offsets = field_offsets(types, func.params.iter().map(|(_, ty)| *ty));
            offsets.zip(func.params.iter()).map(|((ty, at), (name, _))| cx.load(ty, offset(ptr, at)?).map_err(|e| e.at_name(name))).collect()
        }
    }
}
