//! Functions: handles to wasm or host functions, calling them, and defining host functions.

pub(crate) mod entry;
mod typed;

pub use typed::{IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};

use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut, StoreInner, StoreOpaque, Stored};
use crate::types::FuncType;
use crate::vm::host::{HostCall, HostFuncHandle, NativeEntry};
use crate::vm::{StorePtr, ValRaw, VMFuncRef};
use crate::{Extern, Instance, Result, Val};
use std::sync::Arc;

/// A WebAssembly or host function in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func(pub(crate) Stored);

/// The data of one function handle.
pub(crate) struct FuncData {
    /// The function as compiled code sees it: where its `VMFuncRef` is (what references to it hold)...
    pub funcref: *const VMFuncRef,
    /// ... and what it holds, which never changes.
    pub contents: VMFuncRef,
    /// Its type.
    pub ty: FuncType,
}

/// A host function not yet placed in a store (what a [`Linker`](crate::Linker) keeps).
#[doc(hidden)]
pub struct HostFunc<T: 'static> {
    ty: FuncType,
    call: Arc<dyn HostCall<StoreInner<T>>>,
    native: Option<NativeEntry<StoreInner<T>>>,
}

/// A host function's body over a `[ValRaw]` array: `Func::new`'s closures, and any function as the exit
/// trampoline calls it.
struct ArrayCall<F>(F);

impl<T: 'static, F> HostCall<StoreInner<T>> for ArrayCall<F>
where
    F: Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync + 'static,
{
    fn call(&self, store: StorePtr<'_, StoreInner<T>>, caller: Option<u32>, values: &mut [ValRaw]) -> Result<()> {
        (self.0)(Caller::new(store, caller), values)
    }
}

impl<T: 'static> HostFunc<T> {
    /// A host function of type `ty` whose body works on raw values.
    pub(crate) fn new(
        ty: FuncType,
        call: impl Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        HostFunc { ty, call: Arc::new(ArrayCall(call)), native: None }
    }

    /// A host function of type `ty` with body `call` and, if it has one, a direct entry.
    pub(crate) fn with_entries(
        ty: FuncType,
        call: Arc<dyn HostCall<StoreInner<T>>>,
        native: Option<NativeEntry<StoreInner<T>>>,
    ) -> Self {
        HostFunc { ty, call, native }
    }

    /// Wraps a closure over `Val`s, as `Func::new` takes it.
    pub(crate) fn from_vals(
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        let sig = ty.clone();
        HostFunc::new(ty, move |mut caller, raw| {
            let store = caller.opaque();
            let params = sig
                .params()
                .zip(raw.iter())
                .map(|(t, &r)| Val::from_raw(store, &t, r))
                .collect::<Result<Vec<_>>>()?;
            let mut results: Vec<Val> = sig.results().map(|t| Val::zero_of(&t)).collect();
            f(caller.reborrow(), &params, &mut results)?;
            let store = caller.opaque();
            for ((value, ty), slot) in results.iter().zip(sig.results()).zip(raw.iter_mut()) {
                value.check(store, &ty).map_err(|e| e.context("host function returned a value of the wrong type"))?;
                *slot = value.to_raw(store);
            }
            Ok(())
        })
    }

    /// The function's type.
    pub(crate) fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// Places the function in the store `store` lends.
    pub(crate) fn place_in(&self, store: &mut StorePtr<'_, StoreInner<T>>) -> Result<Func> {
        let root = store.as_raw();
        let opaque = &mut store.get_mut().opaque;
        let exit = self.ty.registered().trampolines(&opaque.engine)?.exit;
        let handle =
            HostFuncHandle::new(root, self.call.clone(), self.native.as_ref(), exit as *const u8, self.ty.registered().id());
        let funcref = handle.funcref();
        opaque.host_funcs.push(handle);
        let index = opaque.func_from_raw(funcref)?;
        Ok(Func(opaque.stored(index as usize)))
    }
}

impl Func {
    /// Defines a host function of type `ty` whose body works on [`Val`]s.
    ///
    /// Panics if the trampolines of `ty` cannot be compiled (only when the system is out of executable
    /// memory).
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        HostFunc::from_vals(ty, func)
            .place_in(&mut store.as_context_mut().0)
            .expect("compiling the trampolines of a host function")
    }

    /// Defines a host function from a closure with typed parameters and results, optionally taking a
    /// [`Caller`] first; it may return a value, a tuple, or a `Result` of either.
    ///
    /// Panics as [`Func::new`] does.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        func.into_host_func()
            .place_in(&mut store.as_context_mut().0)
            .expect("compiling the trampolines of a host function")
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = &store.as_context().0.opaque;
        store.funcs[store.index(self.0)].ty.clone()
    }

    /// Whether the function's type matches `ty`.
    pub fn matches_ty(&self, store: impl AsContext, ty: &FuncType) -> bool {
        self.ty(store).matches(ty)
    }

    /// Calls the function with `params`, writing its results to `results`.
    ///
    /// Errors if the arguments do not match the function's type, if `results` has the wrong length, or if the
    /// call traps (the error downcasts to [`Trap`](crate::Trap)) or a host function it calls fails.
    pub fn call(&self, mut store: impl AsContextMut, params: &[Val], results: &mut [Val]) -> Result<()> {
        entry::call_vals(&mut store.as_context_mut().0, *self, params, results)
    }

    /// A typed view of the function; errors if `Params` and `Results` do not match its type.
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        TypedFunc::new(&store.as_context().0.opaque, *self)
    }
}

/// The context a host function is called in: access to the store and to the calling instance's exports.
pub struct Caller<'a, T: 'static> {
    pub(crate) store: StorePtr<'a, StoreInner<T>>,
    caller: Option<Instance>,
}

impl<'a, T: 'static> Caller<'a, T> {
    /// The context of a host function the instance with index `caller` called (none: the host called it).
    pub(crate) fn new(store: StorePtr<'a, StoreInner<T>>, caller: Option<u32>) -> Self {
        let caller = caller.map(|index| Instance(store.get().opaque.stored(index as usize)));
        Caller { store, caller }
    }

    /// The untyped part of the store.
    pub(crate) fn opaque(&mut self) -> &mut StoreOpaque {
        &mut self.store.get_mut().opaque
    }

    /// The same context, for a shorter time.
    pub(crate) fn reborrow(&mut self) -> Caller<'_, T> {
        Caller { store: self.store.reborrow(), caller: self.caller }
    }

    /// The host state.
    pub fn data(&self) -> &T {
        &self.store.get().data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.get_mut().data
    }

    /// The store's engine.
    pub fn engine(&self) -> &crate::Engine {
        &self.store.get().opaque.engine
    }

    /// Sets the store's fuel (see [`Store::set_fuel`](crate::Store::set_fuel)).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.opaque().set_fuel(fuel)
    }

    /// The store's remaining fuel (see [`Store::get_fuel`](crate::Store::get_fuel)).
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.get().opaque.get_fuel()
    }

    /// Sets the store's epoch deadline (see [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.opaque().set_epoch_deadline(ticks);
    }

    /// The calling instance's export `name` (e.g. its memory), if the caller is a wasm instance.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = self.caller?;
        instance.get_export(&mut *self, name)
    }
}

impl<T: 'static> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store.get())
    }
}

impl<T: 'static> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store.reborrow())
    }
}
