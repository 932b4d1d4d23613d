//! [`Func`]: a component function the host calls; the call path that lowers arguments into the guest,
//! calls the lifted core function, lifts its results and runs `post-return`, locking the instance down if
//! anything traps.

use super::abi::layout::field_offsets;
use super::abi::lift::{FlatValues, LiftContext, offset};
use super::abi::lower::{Allocation, FlatBuf, GuestMemory, LowerContext, typecheck};
use super::abi::{AbiError, AbiResult, FlatType, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use super::store::{FuncData, Options};
use super::info::ResourceSlot;
use super::type_table::{ComponentTypes, InterfaceType, TypeFuncIndex, TypeResourceIndex};
use super::types::{ComponentFunc, Type};
use super::values::Val;
use super::handles::Handle;
use super::resources::ResourceAny;
use crate::func::entry::{RawTarget, call_raw};
use crate::store::Stored;
use crate::{AsContext, AsContextMut, StoreContextMut, Trap};
use anyhow::{Result, bail};
use std::sync::Arc;

/// A function a component instance exports, called with [`Val`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func(pub(crate) Stored);

impl Func {
    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> ComponentFunc {
        let store = &store.as_context().0.opaque;
        let data = store.components.funcs[store.index(self.0)];
        ComponentFunc::new(store.components.instances[data.instance].component.types(), data.ty)
    }

    /// The parameters' names and types (a shorthand for [`ty`](Self::ty)`.params()`).
    pub fn params(&self, store: impl AsContext) -> Box<[(String, Type)]> {
        self.ty(store).params().map(|(name, ty)| (name.to_string(), ty)).collect()
    }

    /// The result types, none or one (a shorthand for [`ty`](Self::ty)`.results()`).
    pub fn results(&self, store: impl AsContext) -> Box<[Type]> {
        self.ty(store).results().collect()
    }

    /// Calls the function with `params`, writing its results (none or one) to `results`. Arguments are
    /// checked against the function's type first; then they are lowered into the guest (through its
    /// `realloc` where they need memory), the core function runs, the results are lifted, and the guest's
    /// `post-return` runs, all inside this call: there is no `post_return` to call afterwards.
    ///
    /// If the guest traps at any point (or produces a value it may not, such as an invalid `char`), the
    /// error is returned and the instance is locked down: every later call into it fails with
    /// [`Trap::CannotEnterComponent`].
    pub fn call(&self, mut store: impl AsContextMut, params: &[Val], results: &mut [Val]) -> Result<()> {
        let mut store = store.as_context_mut();
        super::guest_resource::run_dropped(&mut store)?;
        let opaque = &store.0.get().opaque;
        let data = opaque.components.funcs[opaque.index(self.0)];
        call_lifted(&mut store, data, params, results)
    }

    /// Does nothing: Tenon runs `post-return` inside [`call`](Self::call). Kept so that code written for
    /// Wasmtime, where this is required (Wasmtime 48 deprecates it too), compiles unchanged.
    #[deprecated = "post-return runs inside `call`; this does nothing"]
    pub fn post_return(&self, _store: impl AsContextMut) -> Result<()> {
        Ok(())
    }
}

/// Calls a lifted function with `Val`s: the host calling an export.
pub(crate) fn call_lifted<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    func: FuncData,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let instance = &store.0.get().opaque.components.instances[func.instance];
    let (types, name) = (instance.component.types().clone(), instance.func_names[func.name as usize].clone());
    let ty = types.func(func.ty);
    if params.len() != ty.params.len() {
        bail!("expected {} arguments, got {}", ty.params.len(), params.len());
    }
    let expected_results = ty.result.iter().count();
    if results.len() != expected_results {
        bail!("expected {expected_results} result slots, got {}", results.len());
    }
    for ((param, param_ty), value) in ty.params.iter().zip(params) {
        typecheck(&types, *param_ty, value).map_err(|e| e.into_error(&format!("`{name}` argument `{param}`")))?;
    }
    entered(store, func, |store| run_lifted(store, &types, func, &name, params, results))
}

/// Runs `call` with the (nested) instance `func` belongs to and its ancestors marked as running (what a call
/// from the host enters, see [`ComponentInfo::entering_set`](super::info::ComponentInfo::entering_set));
/// refuses with [`Trap::CannotEnterComponent`] if any may not be entered (after a trap, or while it runs
/// already), and locks the instance down if `call` fails.
pub(crate) fn entered<T: 'static, R>(
    store: &mut StoreContextMut<'_, T>,
    func: FuncData,
    call: impl FnOnce(&mut StoreContextMut<'_, T>) -> Result<R>,
) -> Result<R> {
    let instance = &mut store.0.get_mut().opaque.components.instances[func.instance];
    let nested = func.options.nested;
    if instance.refuses_entry(nested) {
        return Err(Trap::CannotEnterComponent.into());
    }
    instance.set_entered(nested, true);
    let result = call(store);
    let instance = &mut store.0.get_mut().opaque.components.instances[func.instance];
    instance.set_entered(nested, false);
    // The callee must have dropped every handle lent to it for the call.
    let left = std::mem::take(&mut instance.borrows[nested]);
    let result = match result {
        Ok(_) if left > 0 => Err(anyhow::anyhow!("{left} borrowed handle(s) still remain at the end of the call")),
        other => other,
    };
    if result.is_err() {
        instance.poison();
    }
    result
}

/// Sets whether the (nested) instance of `options` may call its imports.
pub(crate) fn set_may_leave<T: 'static>(store: &mut StoreContextMut<'_, T>, instance: usize, options: Options, may: bool) {
    store.0.get_mut().opaque.components.instances[instance].set_may_leave(options.nested, may);
}

/// Lowers, calls, lifts and runs `post-return`; any error here locks the instance down.
fn run_lifted<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    types: &Arc<ComponentTypes>,
    func: FuncData,
    name: &str,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let ty = types.func(func.ty);
    let mut flat = FlatBuf::default();
    {
        let mut guest = StoreGuest { store: &mut *store, options: func.options, instance: func.instance, ns: func.options.nested };
        let mut cx = LowerContext { types, guest: &mut guest, encoding: func.options.encoding, between_components: false };
        match ty.params_abi.flat_count {
            Some(_) => {
                for ((param, param_ty), value) in ty.params.iter().zip(params) {
                    cx.lower_flat(*param_ty, value, &mut flat).map_err(|e| e.into_error(&format!("`{name}` argument `{param}`")))?;
                }
            }
            None => {
                store_tuple(&mut cx, ty.params.iter().map(|(_, ty)| *ty), params, ty.params_abi.align, ty.params_abi.size)
                    .and_then(|ptr| flat.push(ptr as u64))
                    .map_err(|e| e.in_arguments(name, &ty.params))?;
            }
        }
    }
    // Flat parameters are at most 16 numbers and results at most one (validation checked the core type).
    let core = RawTarget::new(&store.0.get().opaque, func.core)?;
    let raw: Option<u64> = call_raw(&mut store.0, &core, flat.as_slice())?;
    let raw = raw.as_slice();
    if let (Some(result_ty), Some(slot)) = (ty.result, results.first_mut()) {
        let fuel = store.hostcall_fuel();
        *slot = lift_result(store, types, &func, result_ty, ty.result_in_memory, raw, fuel).map_err(|e| e.into_error(&format!("`{name}` result")))?;
    }
    if let Some(post_return) = func.options.post_return {
        let post_return = RawTarget::new(&store.0.get().opaque, post_return)?;
        set_may_leave(store, func.instance, func.options, false);
        let result = call_raw(&mut store.0, &post_return, raw);
        set_may_leave(store, func.instance, func.options, true);
        result?;
    }
    Ok(())
}

/// Lifts a function's result of type `ty` from its flat core results (the value itself, or, `in_memory`, a
/// pointer to it), allocating at most `fuel` bytes.
fn lift_result<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    types: &Arc<ComponentTypes>,
    func: &FuncData,
    ty: InterfaceType,
    in_memory: bool,
    raw: &[u64],
    fuel: usize,
) -> AbiResult<Val> {
    let (value, taken) = {
        let cx = LiftContext::new(types, func.options, store.as_context(), fuel, func.instance, func.options.nested);
        let memory = cx.memory;
        let value = match in_memory {
            false => cx.lift_flat(ty, &mut FlatValues::new(raw))?,
            true => {
                let ptr = raw.first().copied().unwrap_or(0) as u32;
                let abi = types.abi(ty);
                check_pointer(ptr, abi.align, abi.size, memory.len())?;
                cx.load(ty, ptr)?
            }
        };
        (value, cx.taken_handles())
    };
    remove_taken(store, func.instance, func.options.nested, &taken);
    Ok(value)
}

/// Removes from (nested) instance `nested` of `instance` the owned handles a lift moved to the host.
pub(crate) fn remove_taken<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    instance: usize,
    nested: usize,
    taken: &[(u32, ResourceSlot, Option<u64>)],
) {
    if taken.is_empty() {
        return;
    }
    let components = &mut store.0.get_mut().opaque.components;
    for &(index, ty, token) in taken {
        // Checked when lifted; nothing ran in between.
        let _ = components.instances[instance].handles[nested].remove(index, ty);
        components.host_owned.extend(token);
    }
}

/// Allocates room for a tuple of `values` of types `tys` in the guest and stores them there; its address.
pub(crate) fn store_tuple(
    cx: &mut LowerContext<'_>,
    tys: impl Iterator<Item = InterfaceType>,
    values: &[Val],
    align: u32,
    size: u32,
) -> AbiResult<u32> {
    let ptr = cx.allocate(Allocation::Params, align, size)?;
    let types = cx.types;
    for (n, ((ty, at), value)) in field_offsets(types, tys).zip(values).enumerate() {
        cx.store(ty, value, offset(ptr, at)?).map_err(|e| e.at_index(n))?;
    }
    Ok(ptr)
}

/// Checks that `size` bytes at `ptr` are aligned to `align` and inside a memory of `memory_len` bytes.
pub(crate) fn check_pointer(ptr: u32, align: u32, size: u32, memory_len: usize) -> AbiResult<()> {
    if !ptr.is_multiple_of(align) {
        return Err(AbiError::trap(Trap::UnalignedPointer, format!("{ptr:#x} for alignment {align}")));
    }
    if ptr as u64 + size as u64 > memory_len as u64 {
        return Err(AbiError::trap(Trap::MemoryOutOfBounds, format!("{size} bytes at {ptr:#x}, memory of {memory_len} bytes")));
    }
    Ok(())
}

/// The core value type of a flat type.
pub(crate) fn core_type(ty: FlatType) -> crate::ValType {
    match ty {
        FlatType::I32 => crate::ValType::I32,
        FlatType::I64 => crate::ValType::I64,
        FlatType::F32 => crate::ValType::F32,
        FlatType::F64 => crate::ValType::F64,
    }
}

/// The core signature of function type `ty` as `canon lower` makes it: flat parameters (or one pointer
/// beyond [`MAX_FLAT_PARAMS`]), then a return pointer if the result does not fit in [`MAX_FLAT_RESULTS`].
pub(crate) fn lowered_signature(types: &ComponentTypes, ty: TypeFuncIndex) -> (Vec<crate::ValType>, Vec<crate::ValType>) {
    let func = types.func(ty);
    let mut params = super::abi::FlatTypes::new(MAX_FLAT_PARAMS);
    let fits = func.params.iter().all(|(_, ty)| params.push_type(types, *ty));
    let mut core_params: Vec<_> =
        if fits { params.as_slice().iter().map(|t| core_type(*t)).collect() } else { vec![crate::ValType::I32] };
    let mut core_results = Vec::new();
    if let Some(result) = func.result {
        match types.flat(result, MAX_FLAT_RESULTS) {
            Some(flat) => core_results.extend(flat.as_slice().iter().map(|t| core_type(*t))),
            None => core_params.push(crate::ValType::I32),
        }
    }
    (core_params, core_results)
}

/// A guest's memory and `realloc` as a lowering sees them, through the store.
pub(crate) struct StoreGuest<'a, 'b, T: 'static> {
    pub store: &'a mut StoreContextMut<'b, T>,
    pub options: Options,
    /// The instance whose `realloc` this is (it may not call imports while `realloc` runs).
    pub instance: usize,
    /// The (nested) component instance whose resource type numbers the lowered types use.
    pub ns: usize,
}

impl<T: 'static> GuestMemory for StoreGuest<'_, '_, T> {
    fn memory(&mut self) -> AbiResult<&mut [u8]> {
        let memory = self.options.memory.ok_or_else(|| AbiError::msg("the function has no `memory` option"))?;
        Ok(memory.data_mut(&mut *self.store))
    }

    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> AbiResult<u32> {
        let realloc = self.options.realloc.ok_or_else(|| AbiError::msg("the function has no `realloc` option"))?;
        // Validation checked its type: (i32, i32, i32, i32) -> i32.
        let target = RawTarget::new(&self.store.0.get().opaque, realloc).map_err(|e| AbiError::guest(e, "in `realloc`"))?;
        let args = [old_ptr, old_size, align, new_size].map(u64::from);
        set_may_leave(self.store, self.instance, self.options, false);
        let called = call_raw(&mut self.store.0, &target, &args);
        set_may_leave(self.store, self.instance, self.options, true);
        let result = called.map_err(|e| AbiError::guest(e, "in `realloc`"))?;
        Ok(result.unwrap_or(0) as u32)
    }

    fn lower_handle(&mut self, ty: TypeResourceIndex, resource: &ResourceAny, own: bool) -> AbiResult<u32> {
        let nested = self.options.nested;
        let instance = &mut self.store.0.get_mut().opaque.components.instances[self.instance];
        let ty = instance.component.info().frame_resources[self.ns][ty.0 as usize];
        let expected = instance.resource_types[ty.0 as usize];
        if resource.ty() != expected {
            return Err(AbiError::msg(format!("resource type mismatch: {:?} given for {expected:?}", resource.ty())));
        }
        if own && !resource.owned() {
            return Err(AbiError::msg("a borrowed handle cannot be given as an owned one"));
        }
        if let Some(token) = resource.token() {
            let host_owned = &mut self.store.0.get_mut().opaque.components.host_owned;
            let live = if own { host_owned.remove(&token) } else { host_owned.contains(&token) };
            if !live {
                return Err(AbiError::msg("this resource handle was given away or dropped already"));
            }
        }
        let instance = &mut self.store.0.get_mut().opaque.components.instances[self.instance];
        let rep = resource.rep();
        if own {
            return instance.handles[nested].insert(Handle::Own { ty, rep });
        }
        // A resource lent to the instance that defines it is its representation itself.
        if instance.resource_owners[ty.0 as usize] == Some(nested) {
            return Ok(rep);
        }
        let scope = instance.outer_calls[nested].len() as u32;
        let index = instance.handles[nested].insert(Handle::Borrow { ty, rep, scope })?;
        instance.borrows[nested] += 1;
        Ok(index)
    }
}
