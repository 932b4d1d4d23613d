//! The host side of the boundary into compiled code: calling a function with checked arguments, and taking
//! back the function references compiled code returns. Every `unsafe` operation of the API's call paths is
//! here, behind functions whose checks (or whose arguments' types, made only here) establish what the
//! unsafe operations need: that compiled code receives values of exactly the types it was compiled for, and
//! that a raw function reference names a live function of the store.

use super::typed::{WasmParams, WasmResults};
use super::{Func, FuncData};
use crate::store::{StoreInner, StoreOpaque};
use crate::trap::WasmBacktrace;
use crate::types::{FuncType, ValType};
use crate::vm::arch::{self, Returned};
use crate::vm::traphandlers::{self, UnwindReason};
use crate::vm::{StorePtr, ValRaw, VMFuncRef};
use crate::{Result, Val};
use anyhow::bail;
use std::marker::PhantomData;
use std::panic;

/// Everything a call into a function needs, resolved from its handle once.
#[derive(Clone, Copy, Debug)]
struct CallTarget {
    /// The entry trampoline of the function's type.
    entry: usize,
    /// The function's code and context.
    func_ptr: usize,
    vmctx: usize,
}

impl CallTarget {
    /// The target of `func`, which must belong to `store`.
    fn of(store: &StoreOpaque, func: Func) -> Result<CallTarget> {
        let data = &store.funcs[store.index(func.0)];
        let entry = data.ty.registered().trampolines(&store.engine)?.entry;
        Ok(CallTarget { entry, func_ptr: data.contents.func_ptr as usize, vmctx: data.contents.vmctx as usize })
    }
}

/// A function whose type was checked against `Params` and `Results` (made only by [`TypedTarget::new`],
/// which checks), resolved for calls.
pub(crate) struct TypedTarget<Params, Results> {
    /// The function (which says which store it belongs to).
    func: Func,
    target: CallTarget,
    _types: PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedTarget<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedTarget<P, R> {}

impl<Params: WasmParams, Results: WasmResults> TypedTarget<Params, Results> {
    /// `func`, a function of `store`, if its type fits `Params` and `Results`.
    pub(crate) fn new(store: &StoreOpaque, func: Func) -> Result<Self> {
        let ty = &store.funcs[store.index(func.0)].ty;
        // Arguments flow into the function and results out of it, so each must fit where it goes.
        let fits = |from: &[ValType], to: &[ValType]| from.len() == to.len() && from.iter().zip(to).all(|(f, t)| f.matches(t));
        if !fits(&Params::types(), ty.param_types()) || !fits(ty.result_types(), &Results::types()) {
            let expected = FuncType::from_parts(Params::types().into(), Results::types().into());
            bail!("type mismatch with parameters and results: expected {expected}, found {ty}");
        }
        Ok(TypedTarget { func, target: CallTarget::of(store, func)?, _types: PhantomData })
    }
}

/// Most core values a raw call passes: a lifted function's core signature has at most 16 parameters.
pub(crate) const MAX_RAW_PARAMS: usize = 16;

/// A function checked (by [`RawTarget::new`], once) to take at most [`MAX_RAW_PARAMS`] numbers and return at
/// most one, resolved for calls with their raw bits: how the component layer calls lifted core functions
/// without allocating.
#[derive(Clone, Debug)]
pub(crate) struct RawTarget {
    func: Func,
    target: CallTarget,
    /// The parameter types, in order: whether each is a float.
    float_params: [bool; MAX_RAW_PARAMS],
    params: usize,
    /// The result's type, if there is one.
    result: Option<ValType>,
    /// Whether the parameters fit in registers (at most two of each class), for a call without trampoline.
    direct: bool,
}

impl RawTarget {
    /// `func`, a function of `store`, if its type has only numeric parameters (at most
    /// [`MAX_RAW_PARAMS`]) and at most one numeric result.
    pub(crate) fn new(store: &StoreOpaque, func: Func) -> Result<RawTarget> {
        let ty = &store.funcs[store.index(func.0)].ty;
        let numeric = |t: &ValType| matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64);
        let (params, results) = (ty.param_types(), ty.result_types());
        if params.len() > MAX_RAW_PARAMS || results.len() > 1 || !params.iter().chain(results).all(numeric) {
            bail!("a raw call needs at most {MAX_RAW_PARAMS} numeric parameters and one numeric result, found {ty}");
        }
        let mut float_params = [false; MAX_RAW_PARAMS];
        for (slot, t) in float_params.iter_mut().zip(params) {
            *slot = matches!(t, ValType::F32 | ValType::F64);
        }
        let floats = float_params[..params.len()].iter().filter(|&&f| f).count();
        let direct = cfg!(target_arch = "x86_64") && floats <= 2 && params.len() - floats <= 2;
        let target = CallTarget::of(store, func)?;
        Ok(RawTarget { func, target, float_params, params: params.len(), result: results.first().cloned(), direct })
    }
}

/// Calls `target`, a function of the store `store` lends, with `args` (raw bits: `i32` and `f32` in the low 32
/// bits); returns its result's raw bits, if it has a result.
#[inline]
pub(crate) fn call_raw<T: 'static>(
    store: &mut StorePtr<'_, StoreInner<T>>,
    target: &RawTarget,
    args: &[u64],
) -> Result<Option<u64>> {
    assert!(store.get().opaque.owns(target.func.0), "object used with the wrong store");
    if args.len() != target.params {
        bail!("expected {} core arguments, got {}", target.params, args.len());
    }
    let narrow = |ty: &ValType, bits: u64| match ty {
        ValType::I32 | ValType::F32 => bits as u32 as u64,
        _ => bits,
    };
    if target.direct {
        let (mut ints, mut floats, mut counts) = ([0usize; 2], [0.0f64; arch::ENTRY_FLOAT_ARGS], (0, 0));
        for (&bits, &float) in args.iter().zip(&target.float_params) {
            if float {
                floats[counts.1] = f64::from_bits(bits);
                counts.1 += 1;
            } else {
                ints[counts.0] = bits as usize;
                counts.0 += 1;
            }
        }
        let ints = [target.target.vmctx, 0, ints[0], ints[1]];
        // SAFETY: the function's type was checked when `target` was made: numbers only, at most two of each
        // class (so they all travel in these registers, as wasm's calling convention passes them), at most one
        // result; the function belongs to this store (checked above). Any bits are a valid number.
        let returned = unsafe { enter(store, target.target.func_ptr, ints, floats)? };
        return Ok(target.result.as_ref().map(|ty| {
            let bits = if matches!(ty, ValType::F32 | ValType::F64) { returned.float_bits } else { returned.int };
            narrow(ty, bits)
        }));
    }
    let mut values = [ValRaw::default(); MAX_RAW_PARAMS];
    for (slot, &bits) in values.iter_mut().zip(args) {
        *slot = ValRaw::i64(bits as i64);
    }
    let array = values.as_mut_ptr() as usize;
    let ints = [target.target.vmctx, target.target.func_ptr, array, array];
    // SAFETY: the entry trampoline of the function's type takes its context, its code, and arrays that fit its
    // type: numbers only (any bits are valid), as many arguments as `args` holds (checked above), and room for
    // the one result in the same array.
    unsafe { enter(store, target.target.entry, ints, [0.0; arch::ENTRY_FLOAT_ARGS])? };
    Ok(target.result.as_ref().map(|ty| narrow(ty, values[0].get_i64() as u64)))
}

/// Calls `target`, a function of the store `store` lends, with `params`.
#[inline]
pub(crate) fn call_typed<T: 'static, Params: WasmParams, Results: WasmResults>(
    store: &mut StorePtr<'_, StoreInner<T>>,
    target: &TypedTarget<Params, Results>,
    params: Params,
) -> Result<Results> {
    let opaque = &mut store.get_mut().opaque;
    assert!(opaque.owns(target.func.0), "object used with the wrong store");
    let target = target.target;
    params.check_store(opaque)?;
    let direct = cfg!(target_arch = "x86_64") && Params::INTS <= 2 && Params::FLOATS <= 2 && Results::LEN <= 1;
    if direct {
        // Everything fits in registers: call the function directly, without trampoline or arrays.
        let (mut ints, mut floats) = ([0; 2], [0.0; arch::ENTRY_FLOAT_ARGS]);
        params.to_registers(opaque, &mut ints, &mut floats);
        // A wasm function's own context, no caller context, then the arguments.
        let ints = [target.vmctx, 0, ints[0], ints[1]];
        // SAFETY: the function's type was checked against `Params` and `Results` when `target` was made; the
        // function and the values belong to this store (checked above); wasm's calling convention passes such
        // arguments in the same registers as System V (see `arch::call_with_jmpbuf`).
        let returned = unsafe { enter(store, target.func_ptr, ints, floats)? };
        return Results::from_registers(&mut store.get_mut().opaque, returned);
    }
    let mut args = Params::Raw::default();
    params.store_raw(opaque, args.as_mut());
    let mut results = Results::Raw::default();
    let ints = [target.vmctx, target.func_ptr, args.as_ref().as_ptr() as usize, results.as_mut().as_mut_ptr() as usize];
    // SAFETY: the entry trampoline of the function's type takes its context, its code, and arrays that fit
    // its type, which was checked against `Params` and `Results` when `target` was made.
    unsafe { enter(store, target.entry, ints, [0.0; arch::ENTRY_FLOAT_ARGS])? };
    Results::load_raw(&mut store.get_mut().opaque, results.as_ref())
}

/// Calls `func`, a function of the store `store` lends, with `params`, writing its results to `results`;
/// errors if the values do not fit the function's type.
pub(crate) fn call_vals<T: 'static>(
    store: &mut StorePtr<'_, StoreInner<T>>,
    func: Func,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let opaque = &mut store.get_mut().opaque;
    let ty = opaque.funcs[opaque.index(func.0)].ty.clone();
    if params.len() != ty.param_types().len() {
        bail!("expected {} arguments, got {}", ty.param_types().len(), params.len());
    }
    if results.len() != ty.result_types().len() {
        bail!("expected {} results, got {}", ty.result_types().len(), results.len());
    }
    let mut values = vec![ValRaw::default(); params.len().max(results.len())];
    for (i, ((param, expected), slot)) in params.iter().zip(ty.params()).zip(&mut values).enumerate() {
        param.check(opaque, &expected).map_err(|e| e.context(format!("argument {i} of the wrong type")))?;
        *slot = param.to_raw(opaque);
    }
    let target = CallTarget::of(opaque, func)?;
    let array = values.as_mut_ptr() as usize;
    let ints = [target.vmctx, target.func_ptr, array, array];
    // SAFETY: `entry` is the entry trampoline of the function's type, which takes the function's context and
    // code and arrays that fit its type: `values` holds arguments checked against it above, and has room for
    // the results.
    unsafe { enter(store, target.entry, ints, [0.0; arch::ENTRY_FLOAT_ARGS])? };
    let opaque = &mut store.get_mut().opaque;
    for ((result, ty), raw) in results.iter_mut().zip(ty.results()).zip(&values) {
        *result = Val::from_raw(opaque, &ty, *raw)?;
    }
    Ok(())
}

/// Enters compiled code `code` of the store `store` lends, with the given argument registers, and returns
/// what it left in the result registers.
///
/// # Safety
/// `code` must be compiled code of the store (or a trampoline of its engine) that takes exactly these
/// arguments, with values valid for their wasm types.
#[inline(always)]
unsafe fn enter<T: 'static>(
    store: &mut StorePtr<'_, StoreInner<T>>,
    code: usize,
    ints: [usize; arch::ENTRY_INT_ARGS],
    floats: [f64; arch::ENTRY_FLOAT_ARGS],
) -> Result<Returned> {
    let first = store.get_mut().opaque.enter_wasm()?;
    // SAFETY: the caller's promise; no reference into the store is live across the call (host functions and
    // builtins reach it through its owning pointer).
    let result = unsafe { traphandlers::enter(code as *const u8, ints, floats) };
    store.get_mut().opaque.exit_wasm(first);
    result.map_err(|unwind| unwind_error(*unwind, store.get().opaque.engine.config().wasm_backtrace_max_frames))
}

/// The error a call that did not return normally reports (or the panic it resumes), with the innermost
/// `max_frames` frames of its wasm backtrace (none for `None`).
#[cold]
fn unwind_error(unwind: traphandlers::Unwind, max_frames: Option<std::num::NonZeroUsize>) -> anyhow::Error {
    let backtrace = unwind.backtrace.zip(max_frames).map(|(b, max)| {
        let pcs = b.pcs();
        WasmBacktrace::from_pcs(&pcs[..pcs.len().min(max.get())])
    });
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

impl StoreOpaque {
    /// The function handle of `funcref`, a function of this store (an instance's function, a host function
    /// placed in it, or a non-null funcref value its compiled code produced), made on first use; compiles
    /// the trampolines of its type if need be.
    pub(crate) fn func_from_raw(&mut self, funcref: *const VMFuncRef) -> Result<u32> {
        if let Some(&index) = self.funcref_handles.get(&(funcref as usize)) {
            return Ok(index);
        }
        // SAFETY: the `VMFuncRef`s of a store's functions live as long as the store (in its instances'
        // contexts and its host functions' contexts), and compiled code only produces references to them.
        let contents = unsafe { *funcref };
        let ty = FuncType::from_id(contents.type_id)
            .ok_or_else(|| anyhow::anyhow!("a function reference of an unregistered type ({})", contents.type_id))?;
        ty.registered().trampolines(&self.engine)?;
        let index = self.funcs.len() as u32;
        self.funcs.push(FuncData { funcref, contents, ty });
        self.funcref_handles.insert(funcref as usize, index);
        Ok(index)
    }
}
