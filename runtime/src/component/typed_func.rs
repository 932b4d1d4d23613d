//! [`TypedFunc`]: a component function called with Rust values, its types checked once. A call allocates
//! nothing and looks nothing up: arguments are lowered into a fixed array of flat values (or into the
//! guest's memory) and reach the core function the way core `TypedFunc` calls do, in registers where the
//! signature allows.

use super::abi::lift::{FlatValues, LiftContext};
use super::abi::lower::{Allocation, FlatBuf, LowerContext};
use super::abi::AbiResult;
use super::func::{Func, StoreGuest, check_pointer, entered};
use super::store::FuncData;
use super::type_table::ComponentTypes;
use super::typed::{ComponentNamedList, Lift, Lower};
use crate::func::entry::{RawTarget, call_raw};
use crate::{AsContext, AsContextMut, StoreContextMut};
use super::guest_resource::run_dropped;
use anyhow::{Context, Result};
use std::marker::PhantomData;
use std::sync::Arc;

/// A component function with parameters `Params` (a tuple) and results `Return` (`()` or a 1-tuple), as
/// Wasmtime's `component::TypedFunc`.
pub struct TypedFunc<Params, Return> {
    func: Func,
    data: FuncData,
    types: Arc<ComponentTypes>,
    core: RawTarget,
    post_return: Option<RawTarget>,
    /// The function's name, for errors.
    name: Arc<str>,
    _types: PhantomData<fn(Params) -> Return>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        TypedFunc {
            func: self.func,
            data: self.data,
            types: self.types.clone(),
            core: self.core.clone(),
            post_return: self.post_return.clone(),
            name: self.name.clone(),
            _types: PhantomData,
        }
    }
}

impl Func {
    /// A typed view of the function; errors if `Params` and `Return` do not match its type.
    pub fn typed<Params, Return>(&self, store: impl AsContext) -> Result<TypedFunc<Params, Return>>
    where
        Params: ComponentNamedList + Lower,
        Return: ComponentNamedList + Lift,
    {
        let store = store.as_context();
        let opaque = &store.0.opaque;
        let data = opaque.components.funcs[opaque.index(self.0)];
        let instance = &opaque.components.instances[data.instance];
        let (types, name) = (instance.component.types().clone(), instance.func_names[data.name as usize].clone());
        let ty = types.func(data.ty);
        Params::typecheck_list(&ty.param_types, &types).context("the parameters do not match")?;
        Return::typecheck_list(ty.result.as_slice(), &types).context("the results do not match")?;
        let core = RawTarget::new(opaque, data.core)?;
        let post_return = data.options.post_return.map(|f| RawTarget::new(opaque, f)).transpose()?;
        Ok(TypedFunc { func: *self, data, types, core, post_return, name, _types: PhantomData })
    }
}

impl<Params, Return> TypedFunc<Params, Return>
where
    Params: ComponentNamedList + Lower,
    Return: ComponentNamedList + Lift,
{
    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function: lowers `params`, runs it, lifts its results and runs `post-return`. As for
    /// [`Func::call`], a trap locks the instance down.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Return> {
        let mut store = store.as_context_mut();
        run_dropped(&mut store)?;
        entered(&mut store, self.data, |store| self.run(store, &params))
    }

    /// Does nothing: `post-return` runs inside [`call`](Self::call) (see [`Func::post_return`]).
    #[deprecated = "post-return runs inside `call`; this does nothing"]
    pub fn post_return(&self, _store: impl AsContextMut) -> Result<()> {
        Ok(())
    }

    /// Calls the function with `params` of type `P`, which stands for the same component types as `Params`
    /// but may borrow (`&str` for `String`): what generated bindings call. A `P` of other types fails to
    /// lower with an error, as a wrong `Val` does.
    #[doc(hidden)]
    pub fn __call_as<P: ComponentNamedList + Lower>(&self, mut store: impl AsContextMut, params: P) -> Result<Return> {
        let mut store = store.as_context_mut();
        run_dropped(&mut store)?;
        entered(&mut store, self.data, |store| self.run(store, &params))
    }

    /// The same function, called with parameters of type `P`, which stand for the same component types as
    /// `Params` but may borrow (`&str` for `String`): what generated bindings hand out. A `P` of other types
    /// fails to lower with an error, as in [`TypedFunc::__call_as`].
    #[doc(hidden)]
    pub fn __with_params<P>(&self) -> TypedFunc<P, Return> {
        let TypedFunc { func, data, types, core, post_return, name, _types } = self.clone();
        TypedFunc { func, data, types, core, post_return, name, _types: PhantomData }
    }

    fn run<T: 'static, P: ComponentNamedList + Lower>(&self, store: &mut StoreContextMut<'_, T>, params: &P) -> Result<Return> {
        let (types, options) = (&*self.types, self.data.options);
        let ty = types.func(self.data.ty);
        let mut flat = FlatBuf::default();
        {
            let mut guest = StoreGuest { store: &mut *store, options, instance: self.data.instance, ns: options.nested };
            let mut cx = LowerContext { types, guest: &mut guest, encoding: options.encoding, between_components: false };
            let lowered: AbiResult<()> = match ty.params_abi.flat_count {
                Some(_) => params.lower_list_flat(&mut cx, &ty.param_types, &mut flat),
                None => cx
                    .allocate(Allocation::Params, ty.params_abi.align, ty.params_abi.size)
                    .and_then(|ptr| params.store_fields(&mut cx, &ty.param_types, ptr).and_then(|()| flat.push(ptr as u64))),
            };
            lowered.map_err(|e| e.in_arguments(&self.name, &ty.params))?;
        }
        let raw = call_raw(&mut store.0, &self.core, flat.as_slice())?;
        let (result, taken) = {
            let cx = match ty.result {
                None => LiftContext::nothing(&self.types),
                Some(_) => {
                    let fuel = store.hostcall_fuel();
                    LiftContext::new(&self.types, options, store.as_context(), fuel, self.data.instance, options.nested)
                }
            };
            let memory = cx.memory;
            let raw = raw.as_slice();
            let lifted = match ty.result {
                Some(result) if ty.result_in_memory => {
                    let ptr = raw.first().copied().unwrap_or(0) as u32;
                    let abi = types.abi(result);
                    check_pointer(ptr, abi.align, abi.size, memory.len()).and_then(|()| Return::load_fields(&cx, &[result], ptr))
                }
                result => Return::lift_list_flat(&cx, result.as_slice(), &mut FlatValues::new(raw)),
            };
            (lifted.map_err(|e| e.in_results(&self.name))?, cx.taken_handles())
        };
        super::func::remove_taken(store, self.data.instance, options.nested, &taken);
        if let Some(post_return) = &self.post_return {
            super::func::set_may_leave(store, self.data.instance, options, false);
            let done = call_raw(&mut store.0, post_return, raw.as_slice());
            super::func::set_may_leave(store, self.data.instance, options, true);
            done?;
        }
        Ok(result)
    }
}
