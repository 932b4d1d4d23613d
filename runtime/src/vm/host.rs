//! Host functions as compiled code calls them.
//!
//! A host function placed in a store gets a context ([`HostFuncContext`]) whose `VMFuncRef` compiled code
//! calls like any function. Through the exit trampoline of its type, the call reaches [`host_shim`], which
//! hands the arguments as a `[ValRaw]` array to the function's [`HostCall`]. A function whose values all
//! travel in registers may also have a [`NativeEntry`]: a shim compiled code calls directly with the wasm
//! calling convention (which for such signatures is System V's on x86-64), which hands the register values
//! to a [`NativeCall`]. Either way the host code receives the store as a [`StorePtr`] made from the store's
//! owning pointer, and its errors and panics end the call into wasm and come out of it.

use super::builtins::{self, BuiltinTable};
use super::store::{ErasedBox, StorePtr, VmBox};
use super::traphandlers::{self, UnwindReason, catch_host_failure};
use super::vmcontext::{VMFuncRef, ValRaw};
use crate::environ::offsets;
use std::any::Any;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::Arc;

/// A host function's body, called with the arguments in a `[ValRaw]` array that receives the results.
pub trait HostCall<S>: Send + Sync + 'static {
    /// Runs the function with access to store `store`, called by the instance with index `caller` (none
    /// when called from the host).
    fn call(&self, store: StorePtr<'_, S>, caller: Option<u32>, values: &mut [ValRaw]) -> anyhow::Result<()>;
}

/// A host function's body for direct calls: its arguments `Args` and result arrive in registers.
pub trait NativeCall<Args>: Send + Sync + 'static {
    /// The store the function runs in.
    type Store: 'static;
    /// The result, as compiled code receives it in a register (or `()`).
    type Ret: Copy;
    /// Runs the function (see [`HostCall::call`]).
    fn call(&self, store: StorePtr<'_, Self::Store>, caller: Option<u32>, args: Args) -> anyhow::Result<Self::Ret>;
}

/// A tuple of register-sized argument types for which Tenon has a direct-call shim.
pub trait NativeArgs: Sized {
    /// The address of the shim that calls `N`.
    fn shim<N: NativeCall<Self>>() -> usize;
}

/// A host function's direct entry: the shim for its [`NativeCall`] and the value it calls.
pub struct NativeEntry<S> {
    code: usize,
    data: Arc<dyn Any + Send + Sync>,
    /// Raw pointer to the `N` inside `data`.
    native: *const (),
    _store: PhantomData<fn(S)>,
}

// SAFETY: `native` points into `data`, which is `Send + Sync`.
unsafe impl<S> Send for NativeEntry<S> {}
// SAFETY: as above.
unsafe impl<S> Sync for NativeEntry<S> {}

impl<S: 'static> NativeEntry<S> {
    /// The direct entry that calls `native` with arguments `A`.
    pub fn new<A: NativeArgs, N: NativeCall<A, Store = S>>(native: Arc<N>) -> Self {
        let ptr = Arc::as_ptr(&native).cast::<()>();
        NativeEntry { code: A::shim::<N>(), data: native, native: ptr, _store: PhantomData }
    }
}

const HOST_FUNC_MAGIC: u64 = u64::from_le_bytes(*b"tenonhst");

/// The context a host function is called with (its `VMFuncRef`'s `vmctx`): the exit trampoline finds
/// `shim` and `builtins` at fixed offsets.
#[repr(C)]
struct HostFuncContext<S: 'static> {
    magic: u64,
    shim: unsafe extern "sysv64" fn(*mut u8, *mut u8, *mut ValRaw, usize) -> bool,
    builtins: *const BuiltinTable,
    funcref: VMFuncRef,
    /// The owning pointer of the store the function was placed in.
    store: NonNull<S>,
    call: Arc<dyn HostCall<S>>,
    /// What a native shim calls (see `NativeEntry::native`), null without one; kept alive by `_native`.
    native: *const (),
    _native: Option<Arc<dyn Any + Send + Sync>>,
}

const _: () = {
    assert!(std::mem::offset_of!(HostFuncContext<()>, shim) == offsets::host_func::SHIM as usize);
    assert!(std::mem::offset_of!(HostFuncContext<()>, builtins) == offsets::host_func::BUILTINS as usize);
};

// SAFETY: the store pointer is only used while that store lends itself to a call into wasm, on the thread
// making the call; everything else in the context is `Send + Sync` or points into it.
unsafe impl<S> Send for HostFuncContext<S> {}

/// A host function placed in a store: the store keeps it, and compiled code calls its funcref.
pub struct HostFuncHandle {
    funcref: *const VMFuncRef,
    _context: ErasedBox,
}

// SAFETY: `funcref` points into the context, which the handle owns.
unsafe impl Send for HostFuncHandle {}
// SAFETY: as above; the handle gives no access through `&self` beyond the pointer's value.
unsafe impl Sync for HostFuncHandle {}

impl HostFuncHandle {
    /// Places a host function in the store whose owning pointer is `store`: `call` is its body, `native` its
    /// direct entry if it has one, `exit` the exit trampoline of its type and `type_id` the type's id.
    pub fn new<S: 'static>(
        store: NonNull<S>,
        call: Arc<dyn HostCall<S>>,
        native: Option<&NativeEntry<S>>,
        exit: *const u8,
        type_id: u32,
    ) -> HostFuncHandle {
        let (entry, native_ptr, native_data) = match native {
            Some(n) => (n.code as *const u8, n.native, Some(n.data.clone())),
            None => (exit, std::ptr::null(), None),
        };
        let context = VmBox::new(HostFuncContext {
            magic: HOST_FUNC_MAGIC,
            shim: host_shim::<S>,
            builtins: builtins::table(),
            funcref: VMFuncRef { func_ptr: entry, vmctx: std::ptr::null_mut(), type_id },
            store,
            call,
            native: native_ptr,
            _native: native_data,
        });
        let context_ptr = context.as_ptr().as_ptr();
        // SAFETY: `context_ptr` is the owning pointer of the fresh box, which nothing else references; the
        // funcref is a field of it, projected without making a reference.
        let funcref = unsafe {
            let funcref = &raw mut (*context_ptr).funcref;
            (*funcref).vmctx = context_ptr.cast();
            funcref
        };
        HostFuncHandle { funcref, _context: ErasedBox::new(context) }
    }

    /// The function as compiled code sees it; valid as long as the handle.
    pub fn funcref(&self) -> *const VMFuncRef {
        self.funcref
    }
}

/// The index of the instance whose context is `vmctx` (none for null: a call from the host).
///
/// # Safety
/// A non-null `vmctx` must be the context of a live instance.
#[inline]
unsafe fn caller_index(vmctx: *mut u8) -> Option<u32> {
    if vmctx.is_null() {
        return None;
    }
    // SAFETY: a live context's first word points to its instance, whose index is read and nothing else.
    Some(unsafe { (*(*vmctx.cast::<*const super::instance::InstanceData>())).index })
}

/// Called by the exit trampoline: runs the host function, catching its errors and panics (which it records
/// for the trap the trampoline raises when this returns `false`).
unsafe extern "sysv64" fn host_shim<S: 'static>(
    context: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> bool {
    // SAFETY: the exit trampoline passes the context this shim was stored in, which its store keeps alive;
    // the store lends itself to the call into wasm that led here, which holds no reference into it; `values`
    // is the trampoline's array of `len` slots; a non-null caller context is a live instance's.
    let (call, store, values, caller) = unsafe {
        let context = &*context.cast::<HostFuncContext<S>>();
        debug_assert_eq!(context.magic, HOST_FUNC_MAGIC);
        (
            &*Arc::as_ptr(&context.call),
            StorePtr::from_raw(context.store),
            std::slice::from_raw_parts_mut(values, len),
            caller_index(caller_vmctx),
        )
    };
    let reason = match panic::catch_unwind(AssertUnwindSafe(|| call.call(store, caller, values))) {
        Ok(Ok(())) => return true,
        Ok(Err(error)) => UnwindReason::HostError(error),
        Err(payload) => UnwindReason::Panic(payload),
    };
    // The shim only runs inside a call into wasm, so there is an activation to record the reason in.
    traphandlers::set_pending(reason);
    false
}

/// The body of a native shim: calls the context's `N` with `args` and returns its result to compiled code;
/// an error or panic ends the call into wasm instead.
///
/// # Safety
/// `context` must be the context of a host function made with a [`NativeEntry`] for `N`, and the shim
/// calling this must have been called directly by compiled code.
#[inline(always)]
unsafe fn run_native<A, N: NativeCall<A>>(context: *mut u8, caller_vmctx: *mut u8, args: A) -> N::Ret {
    // SAFETY: per the contract: the context's `native` points to an `N` (see `NativeEntry::new`), and as in
    // `host_shim` for the rest.
    let (native, store, caller) = unsafe {
        let context = &*context.cast::<HostFuncContext<N::Store>>();
        (&*context.native.cast::<N>(), StorePtr::from_raw(context.store), caller_index(caller_vmctx))
    };
    // SAFETY: called (through the inlined shim) directly by compiled code; the closure owns nothing when it
    // returns.
    unsafe { catch_host_failure(|| native.call(store, caller, args)) }
}

macro_rules! native_shims {
    ($(($($a:ident),*);)*) => {$(
        impl<$($a: Copy + 'static),*> NativeArgs for ($($a,)*) {
            fn shim<N: NativeCall<Self>>() -> usize {
                /// Called by compiled code directly, with the arguments in registers.
                #[allow(non_snake_case)]
                unsafe extern "sysv64" fn shim<N: NativeCall<($($a,)*)>, $($a: Copy + 'static),*>(
                    context: *mut u8,
                    caller_vmctx: *mut u8,
                    $($a: $a,)*
                ) -> N::Ret {
                    // SAFETY: compiled code calls this shim only through the funcref of a context made with
                    // a `NativeEntry` for `N` (see `HostFuncHandle::new`).
                    unsafe { run_native::<_, N>(context, caller_vmctx, ($($a,)*)) }
                }
                shim::<N, $($a),*> as *const () as usize
            }
        }
    )*};
}

native_shims! {
    ();
    (A1);
    (A1, A2);
    (A1, A2, A3);
    (A1, A2, A3, A4);
    (A1, A2, A3, A4, A5);
    (A1, A2, A3, A4, A5, A6);
    (A1, A2, A3, A4, A5, A6, A7);
    (A1, A2, A3, A4, A5, A6, A7, A8);
    (A1, A2, A3, A4, A5, A6, A7, A8, A9);
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11);
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12);
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13);
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14);
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15);
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16);
}

/// Integer and float parameters a direct call can pass in registers (System V, after the two contexts).
pub const NATIVE_INT_PARAMS: usize = 4;
/// See [`NATIVE_INT_PARAMS`].
pub const NATIVE_FLOAT_PARAMS: usize = 8;

/// Whether a host function with `ints` integer and `floats` float parameters and `results` results (at
/// most one) can be called directly by compiled code on this architecture.
pub fn native_fits(ints: usize, floats: usize, results: usize) -> bool {
    cfg!(target_arch = "x86_64") && ints <= NATIVE_INT_PARAMS && floats <= NATIVE_FLOAT_PARAMS && results <= 1
}
