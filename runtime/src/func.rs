//! Functions: handles to wasm or host functions, calling them, and defining host functions.

mod typed;

pub use typed::{IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};

use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut, StoreInner, StoreOpaque, Stored};
use crate::trap::WasmBacktrace;
use crate::types::{FuncType, ValType};
use crate::vm::instance::InstanceData;
use crate::vm::traphandlers::{self, Returned, UnwindReason};
use crate::vm::{ValRaw, VMFuncRef};
use crate::{Extern, Instance, Result, Val};
use anyhow::bail;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

/// A WebAssembly or host function in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func(pub(crate) Stored);

/// A host function's body: reads its arguments from and writes its results to the `ValRaw` array.
type HostCall<T> = dyn Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A host function not yet placed in a store (what a [`Linker`](crate::Linker) keeps).
#[doc(hidden)]
pub struct HostFunc<T> {
    pub(crate) ty: FuncType,
    call: Box<HostCall<T>>,
    native: Option<NativeShim>,
}

/// A host function's direct entry: a shim compiled code calls with the wasm calling convention (which,
/// for values that all travel in registers, is System V's), and the closure the shim calls.
struct NativeShim {
    /// `unsafe extern "sysv64" fn(context, caller_vmctx, params...) -> result`.
    code: usize,
    /// The closure, of the type the shim was instantiated for.
    closure: Arc<dyn std::any::Any + Send + Sync>,
}

/// Integer and float parameters the System V convention passes in registers, after the two contexts.
const NATIVE_INT_PARAMS: usize = 4;
const NATIVE_FLOAT_PARAMS: usize = 8;

impl<T> HostFunc<T> {
    pub(crate) fn new(ty: FuncType, call: impl Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync + 'static) -> Self {
        HostFunc { ty, call: Box::new(call), native: None }
    }

    /// Adds a direct entry, used when every value of the function's type travels in a register: `code` is a
    /// shim instantiated for the closure type of `closure`, and `native_result` says whether the closure's
    /// result fits in one register.
    pub(crate) fn with_native<F: Send + Sync + 'static>(mut self, native_result: bool, code: usize, closure: Arc<F>) -> Self {
        let params = self.ty.param_types();
        let floats = params.iter().filter(|t| matches!(t, ValType::F32 | ValType::F64)).count();
        let ints = params.len() - floats;
        let fits = native_result
            && self.ty.result_types().len() <= 1
            && ints <= NATIVE_INT_PARAMS
            && floats <= NATIVE_FLOAT_PARAMS;
        if fits {
            self.native = Some(NativeShim { code, closure });
        }
        self
    }

    /// Wraps a closure over `Val`s, as `Func::new` takes it.
    pub(crate) fn from_vals(
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Self
    where
        T: 'static,
    {
        let sig = ty.clone();
        HostFunc::new(ty, move |mut caller, raw| {
            let store = caller.store.opaque();
            let params = sig
                .param_types()
                .iter()
                .zip(raw.iter())
                .map(|(&t, &r)| Val::from_raw(store, t, r))
                .collect::<Result<Vec<_>>>()?;
            let mut results: Vec<Val> = sig.result_types().iter().map(|&t| Val::default_for_ty(t)).collect();
            f(caller.sub_caller(), &params, &mut results)?;
            let store = caller.store.opaque();
            for ((value, &ty), slot) in results.iter().zip(sig.result_types()).zip(raw.iter_mut()) {
                value.check(store, ty).map_err(|e| e.context("host function returned a value of the wrong type"))?;
                *slot = value.to_raw(store);
            }
            Ok(())
        })
    }

    /// Places the function in a store.
    pub(crate) fn into_func(self: Arc<Self>, store: &mut StoreInner<T>) -> Result<Func>
    where
        T: 'static,
    {
        let store_ptr: *mut StoreInner<T> = store;
        let opaque = store.opaque();
        let type_id = crate::types::registry::intern(&self.ty);
        let trampolines = opaque.engine.trampolines(type_id)?;
        let (entry, closure) = match &self.native {
            Some(native) => (native.code as *const u8, Arc::as_ptr(&native.closure) as *const ()),
            None => (trampolines.exit, std::ptr::null()),
        };
        let mut context = Box::new(HostFuncContext {
            magic: HOST_FUNC_MAGIC,
            shim: host_shim::<T>,
            funcref: VMFuncRef { func_ptr: entry, vmctx: std::ptr::null_mut(), type_id },
            store: store_ptr,
            func: self.clone(),
            closure,
        });
        context.funcref.vmctx = (&mut *context as *mut HostFuncContext<T>).cast();
        let funcref: *const VMFuncRef = &context.funcref;
        opaque.host_funcs.push(context);
        let index = opaque.add_func(funcref, self.ty.clone())?;
        Ok(Func(opaque.stored(index as usize)))
    }
}

const HOST_FUNC_MAGIC: u64 = u64::from_le_bytes(*b"tenonhst");

/// The context a host function is called with: the exit trampoline finds `shim` at a fixed offset.
#[repr(C)]
struct HostFuncContext<T> {
    magic: u64,
    shim: unsafe extern "sysv64" fn(*mut HostFuncContext<T>, *mut u8, *mut ValRaw, usize) -> bool,
    funcref: VMFuncRef,
    store: *mut StoreInner<T>,
    func: Arc<HostFunc<T>>,
    /// The closure of `func`'s native shim (null without one), kept alive by `func`.
    closure: *const (),
}

const _: () = assert!(std::mem::offset_of!(HostFuncContext<()>, shim) == crate::vm::offsets::host_func::SHIM as usize);

/// Called by the exit trampoline: runs the host function, catching its errors and panics.
unsafe extern "sysv64" fn host_shim<T: 'static>(
    context: *mut HostFuncContext<T>,
    caller_vmctx: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> bool {
    // SAFETY: the exit trampoline passes the context this shim was stored in, which lives in its store; the
    // store is exclusively borrowed by the call into wasm that led here, and `values` is the trampoline's
    // array of `len` slots. The store never drops a host function context before the store itself, so the
    // function outlives this call without a reference count.
    let (func, store, values) = unsafe {
        let context = &*context;
        (&*Arc::as_ptr(&context.func), &mut *context.store, std::slice::from_raw_parts_mut(values, len))
    };
    // SAFETY: the trampoline passes the context of the wasm caller, if any.
    let caller = unsafe { caller_instance(&store.opaque, caller_vmctx) };
    let result = panic::catch_unwind(AssertUnwindSafe(|| (func.call)(Caller { store, caller }, values)));
    let reason = match result {
        Ok(Ok(())) => return true,
        Ok(Err(error)) => UnwindReason::HostError(error),
        Err(payload) => UnwindReason::Panic(payload),
    };
    // The shim only runs inside a call into wasm, so there is an activation to record the reason in.
    traphandlers::set_pending(reason);
    false
}

/// The instance whose code has context `caller_vmctx` (none for null: a call from the host).
///
/// # Safety
/// A non-null `caller_vmctx` must be the context of a live instance of `store`.
#[inline]
unsafe fn caller_instance(store: &StoreOpaque, caller_vmctx: *mut u8) -> Option<Instance> {
    if caller_vmctx.is_null() {
        return None;
    }
    // SAFETY: per the contract, the context of a live instance.
    let instance = unsafe { InstanceData::from_vmctx(caller_vmctx) };
    Some(Instance(store.stored(instance.index as usize)))
}

/// The body of a native shim (see `HostFunc::with_native`): runs `body` with the shim's closure and a
/// `Caller`, and returns its result to compiled code; an error or panic ends the call into wasm instead.
///
/// # Safety
/// `context` must be the `HostFuncContext<T>` of a host function whose native shim is the caller and whose
/// closure has type `F`; `caller_vmctx` is what compiled code passed along with it.
#[inline(always)]
pub(crate) unsafe fn run_native<T: 'static, F, A>(
    context: *mut u8,
    caller_vmctx: *mut u8,
    body: impl FnOnce(&F, Caller<'_, T>) -> Result<A>,
) -> A {
    // SAFETY: per the contract; the store is exclusively borrowed by the call into wasm that led here, and
    // the closure lives as long as the context.
    let (f, store) = unsafe {
        let context = &*context.cast::<HostFuncContext<T>>();
        (&*context.closure.cast::<F>(), &mut *context.store)
    };
    // SAFETY: compiled code passes its own context, or null from an entry trampoline.
    let caller = unsafe { caller_instance(&store.opaque, caller_vmctx) };
    let reason = match panic::catch_unwind(AssertUnwindSafe(|| body(f, Caller { store, caller }))) {
        Ok(Ok(value)) => return value,
        Ok(Err(error)) => UnwindReason::HostError(error),
        Err(payload) => UnwindReason::Panic(payload),
    };
    // SAFETY: called directly by compiled code (through this inlined body), with nothing left to drop here.
    unsafe { traphandlers::raise_host_failure(reason) }
}

/// Everything a call into a function needs, resolved from its handle once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallTarget {
    /// The entry trampoline of the function's type.
    entry: usize,
    /// The function's code and context.
    func_ptr: usize,
    vmctx: usize,
}

impl CallTarget {
    /// The target of `func`, which must belong to `store`.
    pub(crate) fn of(store: &StoreOpaque, func: Func) -> CallTarget {
        let data = &store.funcs[store.index(func.0)];
        // SAFETY: the funcref of a function handle stays valid as long as its store.
        let (func_ptr, vmctx) = unsafe { ((*data.funcref).func_ptr, (*data.funcref).vmctx) };
        CallTarget { entry: data.trampolines.entry as usize, func_ptr: func_ptr as usize, vmctx: vmctx as usize }
    }
}

/// Calls function `func` of `store` with the arguments in `values`, which receives the results.
///
/// `values` must hold at least as many slots as the function has parameters and results, with arguments of
/// the right types.
pub(crate) fn invoke(store: &mut StoreOpaque, func: Func, values: &mut [ValRaw]) -> Result<()> {
    let ty = &store.funcs[store.index(func.0)].ty;
    assert!(values.len() >= ty.param_types().len().max(ty.result_types().len()));
    let values = values.as_mut_ptr();
    // SAFETY: `values` holds the function's arguments and has room for its results.
    unsafe { invoke_target(store, CallTarget::of(store, func), values, values) }
}

/// Calls `target`, a function of `store`, with the arguments in `args`; its results go to `results`.
///
/// # Safety
/// `args` must hold as many arguments as the function has parameters, of its parameter types, and
/// `results` must have room for its results (it may be `args`).
#[inline]
pub(crate) unsafe fn invoke_target(
    store: &mut StoreOpaque,
    target: CallTarget,
    args: *const ValRaw,
    results: *mut ValRaw,
) -> Result<()> {
    let ints = [target.vmctx, target.func_ptr, args as usize, results as usize];
    // SAFETY: `entry` is the entry trampoline of the function's type, which takes the function's context and
    // code and arrays that fit its type (the caller's promise).
    unsafe { invoke_code(store, target.entry, ints, [0.0; 2]).map(drop) }
}

/// Calls `target`, a function of `store` whose parameters all travel in registers, directly: `ints` are
/// its integer-class arguments and `floats` its float-class ones, in order; returns its result registers.
///
/// # Safety
/// The function must take exactly these arguments and return at most one value.
#[inline]
pub(crate) unsafe fn invoke_direct(
    store: &mut StoreOpaque,
    target: CallTarget,
    ints: [usize; 2],
    floats: [f64; 2],
) -> Result<Returned> {
    // A wasm function's own context, no caller context, then the arguments.
    let ints = [target.vmctx, 0, ints[0], ints[1]];
    // SAFETY: wasm's calling convention passes such arguments in the same registers as System V (the
    // caller's promise covers the rest).
    unsafe { invoke_code(store, target.func_ptr, ints, floats) }
}

/// Enters compiled code `code` of `store` with the given argument registers.
///
/// # Safety
/// `code` must be compiled code of `store` (or a trampoline) that takes these arguments.
#[inline(always)]
unsafe fn invoke_code(store: &mut StoreOpaque, code: usize, ints: [usize; 4], floats: [f64; 2]) -> Result<Returned> {
    let first = store.enter_wasm();
    let store_ptr: *mut StoreOpaque = store;
    // The call reaches the store through the instance context: make the compiler assume it may.
    std::hint::black_box(store_ptr);
    // SAFETY: the caller's promise; `store` is exclusively borrowed for the duration of the call.
    let result = unsafe { traphandlers::enter(code as *const u8, ints, floats) };
    store.exit_wasm(first);
    match result {
        Ok(returned) => Ok(returned),
        Err(unwind) => Err(unwind_error(*unwind)),
    }
}

/// The error a call that did not return normally reports (or the panic it resumes).
#[cold]
fn unwind_error(unwind: traphandlers::Unwind) -> anyhow::Error {
    let backtrace = unwind.backtrace.map(|b| WasmBacktrace::from_pcs(b.pcs()));
    let error = match unwind.reason {
        UnwindReason::Trap(trap) => anyhow::Error::new(trap),
        UnwindReason::HostError(error) => error,
        UnwindReason::Panic(payload) => panic::resume_unwind(payload),
    };
    match backtrace {
        Some(b) if !b.frames().is_empty() => error.context(b),
        _ => error,
    }
}

impl Func {
    /// Defines a host function of type `ty` whose body works on [`Val`]s.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        Arc::new(HostFunc::from_vals(ty, func))
            .into_func(store.as_context_mut().0)
            .expect("compiling the trampolines of a host function")
    }

    /// Defines a host function from a closure with typed parameters and results, optionally taking a
    /// [`Caller`] first; it may return a value, a tuple, or a `Result` of either.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        Arc::new(func.into_host_func())
            .into_func(store.as_context_mut().0)
            .expect("compiling the trampolines of a host function")
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = &store.as_context().0.opaque;
        store.funcs[store.index(self.0)].ty.clone()
    }

    /// Calls the function with `params`, writing its results to `results`.
    ///
    /// Errors if the arguments do not match the function's type, if `results` has the wrong length, or if the
    /// call traps (the error downcasts to [`Trap`](crate::Trap)) or a host function it calls fails.
    pub fn call(&self, mut store: impl AsContextMut, params: &[Val], results: &mut [Val]) -> Result<()> {
        let store = store.as_context_mut().0.opaque();
        let ty = store.funcs[store.index(self.0)].ty.clone();
        if params.len() != ty.param_types().len() {
            bail!("expected {} arguments, got {}", ty.param_types().len(), params.len());
        }
        if results.len() != ty.result_types().len() {
            bail!("expected {} results, got {}", ty.result_types().len(), results.len());
        }
        let mut values = vec![ValRaw::default(); params.len().max(results.len())];
        for (i, ((param, &expected), slot)) in params.iter().zip(ty.param_types()).zip(&mut values).enumerate() {
            param.check(store, expected).map_err(|e| e.context(format!("argument {i} of the wrong type")))?;
            *slot = param.to_raw(store);
        }
        invoke(store, *self, &mut values)?;
        for ((result, &ty), raw) in results.iter_mut().zip(ty.result_types()).zip(&values) {
            *result = Val::from_raw(store, ty, *raw)?;
        }
        Ok(())
    }

    /// A typed view of the function; errors if `Params` and `Results` do not match its type.
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        TypedFunc::new(store.as_context(), *self)
    }
}

/// The context a host function is called in: access to the store and to the calling instance's exports.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    caller: Option<Instance>,
}

impl<T> Caller<'_, T> {
    /// The host state.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The store's engine.
    pub fn engine(&self) -> &crate::Engine {
        &self.store.opaque.engine
    }

    /// Sets the store's fuel (see [`Store::set_fuel`](crate::Store::set_fuel)).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.opaque.set_fuel(fuel)
    }

    /// The store's remaining fuel (see [`Store::get_fuel`](crate::Store::get_fuel)).
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.opaque.get_fuel()
    }

    /// Sets the store's epoch deadline (see [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.store.opaque.set_epoch_deadline(ticks);
    }

    /// The calling instance's export `name` (e.g. its memory), if the caller is a wasm instance.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = self.caller?;
        instance.get_export(&mut *self, name)
    }

    fn sub_caller(&mut self) -> Caller<'_, T> {
        Caller { store: self.store, caller: self.caller }
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store)
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}

impl<'a, T> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(caller: &'a Caller<'_, T>) -> Self {
        StoreContext(caller.store)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(caller: &'a mut Caller<'_, T>) -> Self {
        StoreContext(caller.store)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(caller: &'a mut Caller<'_, T>) -> Self {
        StoreContextMut(caller.store)
    }
}
