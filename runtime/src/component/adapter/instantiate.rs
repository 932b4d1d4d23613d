//! Instantiating a fused adapter: its core module, given the two instances' items and the helpers that
//! do what only the runtime can (see [`Helper`]).

use super::{Direction, FAIL_TRAPS, Helper, flags_instance, names};
use crate::component::abi::lift::{FlatValues, LiftContext, decode_string};
use crate::component::abi::lower::{FlatBuf, LowerContext};
use crate::component::compiled::Adapter;
use crate::component::func::{StoreGuest, remove_taken};
use crate::component::store::{CallBorrows, FuncData, Options};
use crate::component::type_table::{ComponentTypes, InterfaceType};
use crate::func::HostFunc as CoreHostFunc;
use crate::vm::ValRaw;
use crate::{AsContext, AsContextMut, Caller, Extern, Func, FuncType, StoreContextMut, Trap, ValType};
use anyhow::{Context, Result, anyhow};
use std::sync::Arc;

/// What an adapter's helpers know: the two sides and the value types they move.
struct Call {
    /// The component instance both sides belong to.
    instance: usize,
    caller: Options,
    callee: FuncData,
    types: Arc<ComponentTypes>,
    resources: Arc<[(InterfaceType, Direction)]>,
    /// The callee's name, for errors.
    name: Arc<str>,
}

impl Call {
    /// The options of the side values come from and of the side they go to.
    fn sides_of(&self, dir: Direction) -> (Options, Options) {
        match dir {
            Direction::Params => (self.caller, self.callee.options),
            Direction::Results => (self.callee.options, self.caller),
        }
    }

    /// What an error says it happened in.
    fn what(&self, dir: Direction) -> String {
        match dir {
            Direction::Params => format!("`{}` arguments (between components)", self.name),
            Direction::Results => format!("`{}` result (between components)", self.name),
        }
    }

    /// Moves (or lends) one value of type `ty` from one side's flat values `from_flat` to the other's: the
    /// lifting and lowering of the host path, for the values only the runtime can move.
    fn carry<T: 'static>(&self, store: &mut StoreContextMut<'_, T>, ty: InterfaceType, dir: Direction, from_flat: &[u64]) -> Result<FlatBuf> {
        let (from, to) = self.sides_of(dir);
        let ns = self.callee.options.nested;
        let (value, taken) = {
            let cx = LiftContext::new(&self.types, from, store.as_context(), usize::MAX, self.instance, ns);
            (cx.lift_flat(ty, &mut FlatValues::new(from_flat)), cx.taken_handles())
        };
        let value = value.map_err(|e| e.into_error(&self.what(dir)))?;
        remove_taken(store, self.instance, from.nested, &taken);
        let mut guest = StoreGuest { store, options: to, instance: self.instance, ns };
        let mut cx = LowerContext { types: &self.types, guest: &mut guest, encoding: to.encoding, between_components: true };
        let mut flat = FlatBuf::default();
        cx.lower_flat(ty, &value, &mut flat).map_err(|e| e.into_error(&self.what(dir)))?;
        Ok(flat)
    }
}

/// Instantiates `adapter` in instance `instance` for a call from a caller with options `caller` to
/// `callee` (named `name` in errors): the core function the caller imports.
pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    instance: usize,
    adapter: &Adapter,
    caller: Options,
    callee: FuncData,
    name: Arc<str>,
) -> Result<Func> {
    let types = store.0.get().opaque.components.instances[instance].component.types().clone();
    let call = Arc::new(Call { instance, caller, callee, types, resources: adapter.resources.clone(), name });
    let module = &adapter.module;
    let mut externs = Vec::with_capacity(module.imports().len());
    for import in module.imports() {
        let missing = || anyhow!("a fused adapter imports `{}`, which the component does not have", import.name());
        let item: Extern = match import.name() {
            names::CALLEE => callee.core.into(),
            names::CALLER_MEMORY => caller.memory.ok_or_else(missing)?.into(),
            names::CALLEE_MEMORY => callee.options.memory.ok_or_else(missing)?.into(),
            names::CALLER_REALLOC => caller.realloc.ok_or_else(missing)?.into(),
            names::CALLEE_REALLOC => callee.options.realloc.ok_or_else(missing)?.into(),
            names::POST_RETURN => callee.options.post_return.ok_or_else(missing)?.into(),
            other => match flags_instance(other) {
                Some(nested) => flags_global(store, instance, nested).into(),
                None => helper(store, Helper::from_name(other).ok_or_else(missing)?, call.clone()).into(),
            },
        };
        externs.push(item);
    }
    let core = crate::Instance::new(&mut *store, module, &externs)?;
    core.get_func(&mut *store, names::ADAPTER).context("a fused adapter without its function")
}

/// The global holding the flags of (nested) instance `nested` of instance `instance` (made once).
fn flags_global<T: 'static>(store: &mut StoreContextMut<'_, T>, instance: usize, nested: usize) -> crate::Global {
    let components = &mut store.0.get_mut().opaque.components;
    if let Some(global) = components.instances[instance].flag_globals[nested] {
        return global;
    }
    let storage = components.instances[instance].flags.storage(nested);
    let ty = crate::GlobalType::new(ValType::I32, crate::Mutability::Var);
    let store = &mut store.0.get_mut().opaque;
    let index = store.add_global(storage, ty) as usize;
    let global = crate::Global(store.stored(index));
    store.components.instances[instance].flag_globals[nested] = Some(global);
    global
}

/// The host function `helper` of an adapter making `call`.
fn helper<T: 'static>(store: &mut StoreContextMut<'_, T>, helper: Helper, call: Arc<Call>) -> Func {
    let (params, results) = helper.arity();
    let ty = FuncType::new(store.engine(), vec![ValType::I32; params], vec![ValType::I32; results]);
    CoreHostFunc::new(ty, move |mut caller: Caller<'_, T>, raw: &mut [ValRaw]| {
        let mut store = caller.as_context_mut();
        let arg = |i: usize| raw.get(i).map_or(0, |v| v.get_i32());
        let callee_nested = call.callee.options.nested;
        match helper {
            Helper::BeginCall => {
                // The call has its own borrows; the callee may be running another call already (its parent
                // calling it back).
                let data = &mut store.0.get_mut().opaque.components.instances[call.instance];
                let outer = CallBorrows { count: std::mem::take(&mut data.borrows[callee_nested]), lent: std::mem::take(&mut data.lent[callee_nested]) };
                data.outer_calls[callee_nested].push(outer);
            }
            Helper::EndCall => {
                let data = &mut store.0.get_mut().opaque.components.instances[call.instance];
                let outer = data.outer_calls[callee_nested].pop().unwrap_or_default();
                let left = std::mem::replace(&mut data.borrows[callee_nested], outer.count);
                data.lent[callee_nested] = outer.lent;
                if left > 0 {
                    return Err(anyhow!("{left} borrowed handle(s) still remain at the end of the call of `{}`", call.name));
                }
            }
            Helper::Fail => {
                let trap = FAIL_TRAPS.get(arg(0) as usize).copied().unwrap_or(Trap::UnreachableCodeReached);
                return Err(anyhow::Error::new(trap).context(format!("in a call of `{}` between components", call.name)));
            }
            Helper::Resource => {
                let (ty, dir) = *call.resources.get(arg(0) as usize).context("an unknown resource code")?;
                let handle = arg(1) as u32;
                let data = &mut store.0.get_mut().opaque.components.instances[call.instance];
                let (from, _) = call.sides_of(dir);
                // An owned handle lent to a call that is running (this one, or one this call interrupted)
                // cannot move.
                match ty {
                    InterfaceType::Own(_) if data.is_lent(from.nested, handle) => {
                        return Err(anyhow!("cannot remove owned resource while borrowed (handle index {handle})"))
                            .context(call.what(dir));
                    }
                    InterfaceType::Borrow(_) => data.lent[callee_nested].push((from.nested, handle)),
                    _ => {}
                }
                let flat = call.carry(&mut store, ty, dir, &[handle as u64])?;
                raw[0] = ValRaw::i32(flat.as_slice()[0] as i32);
            }
            Helper::Validate => {
                // The adapter checked the string's bounds and alignment: only its contents are left.
                let dir = Direction::from_code(arg(0));
                let (from, _) = call.sides_of(dir);
                let cx = LiftContext::new(&call.types, from, store.as_context(), usize::MAX, call.instance, callee_nested);
                let checked = cx.string_bytes(arg(1) as u32, arg(2) as u32).and_then(|(bytes, utf16)| decode_string(bytes, from.encoding, utf16));
                checked.map_err(|e| e.into_error(&call.what(dir)))?;
            }
            Helper::Transcode => {
                let dir = Direction::from_code(arg(0));
                let from = [arg(1) as u32 as u64, arg(2) as u32 as u64];
                let flat = call.carry(&mut store, InterfaceType::String, dir, &from)?;
                raw[0] = ValRaw::i32(flat.as_slice()[0] as i32);
                raw[1] = ValRaw::i32(flat.as_slice()[1] as i32);
            }
        }
        Ok(())
    })
    .place_in(&mut store.0)
    .expect("compiling the trampolines of an adapter's helper")
}
