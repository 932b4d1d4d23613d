//! Statically typed functions: [`TypedFunc`] for calling wasm, [`IntoFunc`] for defining host functions.

use super::entry::{self, TypedTarget};
use super::{Caller, Func, HostFunc};
use crate::store::{AsContextMut, StoreInner, StoreOpaque};
use crate::types::{FuncType, HeapType, RefType, ValType};
use crate::vm::arch::Returned;
use crate::vm::host::{HostCall, NativeCall, NativeEntry, native_fits};
use crate::vm::{StorePtr, ValRaw};
use crate::{ExternRef, Ref, Result, Rooted};
use anyhow::bail;
use std::marker::PhantomData;
use std::sync::Arc;

/// A Rust type that is a wasm value type.
pub trait WasmTy: Sized + Send + Sync + 'static {
    /// Whether the value travels in a float register (otherwise in an integer one).
    #[doc(hidden)]
    const FLOAT: bool = false;
    /// The wasm type.
    fn valtype() -> ValType;
    /// Checks that the value may be used in `store`.
    #[doc(hidden)]
    fn check_store(&self, _store: &StoreOpaque) -> Result<()> {
        Ok(())
    }
    /// The raw form of the value.
    #[doc(hidden)]
    fn into_raw(self, store: &StoreOpaque) -> ValRaw;
    /// The value from its raw form.
    #[doc(hidden)]
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Result<Self>;
    /// The type compiled code passes the value as, in a register, when it calls a host function directly.
    #[doc(hidden)]
    type Abi: Copy + 'static;
    /// The value as compiled code passes it.
    #[doc(hidden)]
    fn into_abi(self, store: &StoreOpaque) -> Self::Abi;
    /// The value from the form compiled code passes it in.
    #[doc(hidden)]
    fn from_abi(abi: Self::Abi, store: &mut StoreOpaque) -> Result<Self>;
}

macro_rules! wasm_ty_num {
    ($($t:ty => $vt:ident, $to:expr, $from:expr;)*) => {$(
        impl WasmTy for $t {
            const FLOAT: bool = matches!(ValType::$vt, ValType::F32 | ValType::F64);
            fn valtype() -> ValType {
                ValType::$vt
            }
            #[inline]
            fn into_raw(self, _: &StoreOpaque) -> ValRaw {
                ($to)(self)
            }
            #[inline]
            fn from_raw(_: &mut StoreOpaque, raw: ValRaw) -> Result<Self> {
                Ok(($from)(raw))
            }
            type Abi = $t;
            #[inline]
            fn into_abi(self, _: &StoreOpaque) -> $t {
                self
            }
            #[inline]
            fn from_abi(abi: $t, _: &mut StoreOpaque) -> Result<Self> {
                Ok(abi)
            }
        }
    )*};
}

wasm_ty_num! {
    i32 => I32, ValRaw::i32, |r: ValRaw| r.get_i32();
    u32 => I32, |v: u32| ValRaw::i32(v as i32), |r: ValRaw| r.get_i32() as u32;
    i64 => I64, ValRaw::i64, |r: ValRaw| r.get_i64();
    u64 => I64, |v: u64| ValRaw::i64(v as i64), |r: ValRaw| r.get_i64() as u64;
    f32 => F32, |v: f32| ValRaw::f32(v.to_bits()), |r: ValRaw| f32::from_bits(r.get_f32());
    f64 => F64, |v: f64| ValRaw::f64(v.to_bits()), |r: ValRaw| f64::from_bits(r.get_f64());
}

/// `WasmTy` for a reference type: `$ty` is the Rust type, `$ref_ty` the wasm reference type, and `$wrap`
/// and `$unwrap` convert between the Rust value and a [`Ref`].
macro_rules! wasm_ty_ref {
    ($($ty:ty => $ref_ty:expr, $wrap:expr, $unwrap:expr;)*) => {$(
        impl WasmTy for $ty {
            fn valtype() -> ValType {
                ValType::Ref($ref_ty)
            }
            fn check_store(&self, store: &StoreOpaque) -> Result<()> {
                ($wrap)(*self).check(store, &$ref_ty)
            }
            fn into_raw(self, store: &StoreOpaque) -> ValRaw {
                ValRaw::reference(($wrap)(self).to_raw(store))
            }
            fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Result<Self> {
                ($unwrap)(Ref::from_raw(store, &$ref_ty, raw.get_reference())?)
            }
            type Abi = usize;
            fn into_abi(self, store: &StoreOpaque) -> usize {
                self.into_raw(store).get_reference()
            }
            fn from_abi(abi: usize, store: &mut StoreOpaque) -> Result<Self> {
                Self::from_raw(store, ValRaw::reference(abi))
            }
        }
    )*};
}

/// The reference a `WasmTy` of a reference type expects, or an error naming what came instead.
fn expect_ref<T>(value: Option<T>, what: &str) -> Result<T> {
    match value {
        Some(value) => Ok(value),
        None => bail!("type mismatch: expected {what}"),
    }
}

wasm_ty_ref! {
    Option<Func> => RefType::FUNCREF, Ref::Func,
        |r: Ref| expect_ref(r.as_func().map(|f| f.copied()), "a function reference");
    Func => RefType::new(false, HeapType::Func), |f| Ref::Func(Some(f)),
        |r: Ref| expect_ref(r.as_func().and_then(|f| f.copied()), "a non-null function reference");
    Option<Rooted<ExternRef>> => RefType::EXTERNREF, Ref::Extern,
        |r: Ref| expect_ref(r.as_extern().map(|e| e.copied()), "a host reference");
    Rooted<ExternRef> => RefType::new(false, HeapType::Extern), |e| Ref::Extern(Some(e)),
        |r: Ref| expect_ref(r.as_extern().and_then(|e| e.copied()), "a non-null host reference");
}

/// A list of wasm values: a single [`WasmTy`], or a tuple of them (`()` for none).
pub trait WasmParams: Send + Sized {
    /// How many values.
    const LEN: usize;
    /// Room for the values in raw form: `[ValRaw; LEN]`.
    #[doc(hidden)]
    type Raw: Default + AsRef<[ValRaw]> + AsMut<[ValRaw]>;
    /// Their types.
    fn types() -> Vec<ValType>;
    /// Checks that every value may be used in `store`.
    #[doc(hidden)]
    fn check_store(&self, store: &StoreOpaque) -> Result<()>;
    /// Writes the values to `out`.
    #[doc(hidden)]
    fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]);
    /// Reads the values from `raw`.
    #[doc(hidden)]
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Result<Self>;
    /// How many values travel in integer registers, and how many in float registers.
    #[doc(hidden)]
    const INTS: usize;
    #[doc(hidden)]
    const FLOATS: usize;
    /// Puts the values in argument registers, each class in order (at most two of each; more are dropped).
    #[doc(hidden)]
    fn to_registers(self, store: &StoreOpaque, ints: &mut [usize; 2], floats: &mut [f64; 2]);
    /// Reads at most one value from the result registers.
    #[doc(hidden)]
    fn from_registers(store: &mut StoreOpaque, returned: Returned) -> Result<Self>;
}

/// `value`'s raw form, in the register class it travels in.
#[inline]
fn to_register<A: WasmTy>(value: A, store: &StoreOpaque, ints: &mut [usize; 2], floats: &mut [f64; 2], counts: &mut (usize, usize)) {
    let raw = value.into_raw(store);
    if A::FLOAT {
        if let Some(slot) = floats.get_mut(counts.1) {
            *slot = f64::from_bits(raw.get_f64());
        }
        counts.1 += 1;
    } else {
        if let Some(slot) = ints.get_mut(counts.0) {
            *slot = raw.get_i64() as usize;
        }
        counts.0 += 1;
    }
}

/// A single result from the register of its class.
#[inline]
fn from_register<A: WasmTy>(store: &mut StoreOpaque, returned: Returned) -> Result<A> {
    A::from_raw(store, ValRaw::i64((if A::FLOAT { returned.float_bits } else { returned.int }) as i64))
}

/// The results of a [`TypedFunc`]: the same shapes as [`WasmParams`].
pub trait WasmResults: WasmParams {}
impl<T: WasmParams> WasmResults for T {}

impl<A: WasmTy> WasmParams for A {
    const LEN: usize = 1;
    type Raw = [ValRaw; 1];
    fn types() -> Vec<ValType> {
        vec![A::valtype()]
    }
    #[inline]
    fn check_store(&self, store: &StoreOpaque) -> Result<()> {
        WasmTy::check_store(self, store)
    }
    #[inline]
    fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]) {
        out[0] = self.into_raw(store);
    }
    #[inline]
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Result<Self> {
        A::from_raw(store, raw[0])
    }
    const INTS: usize = !A::FLOAT as usize;
    const FLOATS: usize = A::FLOAT as usize;
    #[inline]
    fn to_registers(self, store: &StoreOpaque, ints: &mut [usize; 2], floats: &mut [f64; 2]) {
        to_register(self, store, ints, floats, &mut (0, 0));
    }
    #[inline]
    fn from_registers(store: &mut StoreOpaque, returned: Returned) -> Result<Self> {
        from_register(store, returned)
    }
}

/// A typed host closure: what both of a host function's entries call. `P` are its wasm parameters and `R`
/// its result, `T` the store's data.
struct TypedHostFunc<T, F, P, R> {
    func: F,
    _types: PhantomData<fn(T, P) -> R>,
}

macro_rules! tuples {
    ($($n:literal: ($($t:ident $i:tt),*);)*) => {$(
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            const LEN: usize = $n;
            type Raw = [ValRaw; $n];
            fn types() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            #[inline]
            #[allow(unused_variables)]
            fn check_store(&self, store: &StoreOpaque) -> Result<()> {
                $(self.$i.check_store(store)?;)*
                Ok(())
            }
            #[inline]
            #[allow(unused_variables)]
            fn store_raw(self, store: &StoreOpaque, out: &mut [ValRaw]) {
                $(out[$i] = self.$i.into_raw(store);)*
            }
            #[inline]
            #[allow(unused_variables)]
            fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Result<Self> {
                Ok(($($t::from_raw(store, raw[$i])?,)*))
            }
            const INTS: usize = 0 $(+ !$t::FLOAT as usize)*;
            const FLOATS: usize = 0 $(+ $t::FLOAT as usize)*;
            #[inline]
            #[allow(unused_variables)]
            fn to_registers(self, store: &StoreOpaque, ints: &mut [usize; 2], floats: &mut [f64; 2]) {
                #[allow(unused_mut)]
                let mut counts = (0, 0);
                $(to_register(self.$i, store, ints, floats, &mut counts);)*
            }
            #[inline]
            #[allow(unused_variables)]
            fn from_registers(store: &mut StoreOpaque, returned: Returned) -> Result<Self> {
                if $n > 1 {
                    bail!("at most one result comes back in registers");
                }
                Ok(($(from_register::<$t>(store, returned)?,)*))
            }
        }

        impl<T: 'static, F, $($t: WasmTy,)* R: WasmRet + 'static> IntoFunc<T, ($($t,)*), R> for F
        where
            F: Fn($($t),*) -> R + Send + Sync + 'static,
        {
            fn into_host_func(self) -> HostFunc<T> {
                // The same as a closure that ignores its caller (which then costs nothing).
                #[allow(non_snake_case)]
                let ignoring_caller = move |_: Caller<'_, T>, $($t: $t),*| self($($t),*);
                IntoFunc::<T, (Caller<'static, T>, $($t,)*), R>::into_host_func(ignoring_caller)
            }
        }

        impl<T: 'static, F, $($t: WasmTy,)* R: WasmRet + 'static> IntoFunc<T, (Caller<'static, T>, $($t,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($t),*) -> R + Send + Sync + 'static,
        {
            fn into_host_func(self) -> HostFunc<T> {
                let ty = FuncType::from_parts(Box::new([$($t::valtype()),*]), R::types().into());
                let func = Arc::new(TypedHostFunc::<T, F, ($($t,)*), R> { func: self, _types: PhantomData });
                let ints = 0 $(+ !$t::FLOAT as usize)*;
                let floats = 0 $(+ $t::FLOAT as usize)*;
                let native = (R::NATIVE && native_fits(ints, floats, ty.result_types().len()))
                    .then(|| NativeEntry::new::<($($t::Abi,)*), _>(func.clone()));
                HostFunc::with_entries(ty, func, native)
            }
        }

        impl<T: 'static, F, $($t: WasmTy,)* R: WasmRet + 'static> HostCall<StoreInner<T>> for TypedHostFunc<T, F, ($($t,)*), R>
        where
            F: Fn(Caller<'_, T>, $($t),*) -> R + Send + Sync + 'static,
        {
            fn call(&self, store: StorePtr<'_, StoreInner<T>>, caller: Option<u32>, raw: &mut [ValRaw]) -> Result<()> {
                let mut caller = Caller::new(store, caller);
                #[allow(unused_variables)]
                let store = caller.opaque();
                $(#[allow(non_snake_case)] let $t = $t::from_raw(store, raw[$i])?;)*
                let result = (self.func)(caller.reborrow(), $($t),*);
                result.store_results(caller.opaque(), raw)
            }
        }

        impl<T: 'static, F, $($t: WasmTy,)* R: WasmRet + 'static> NativeCall<($($t::Abi,)*)> for TypedHostFunc<T, F, ($($t,)*), R>
        where
            F: Fn(Caller<'_, T>, $($t),*) -> R + Send + Sync + 'static,
        {
            type Store = StoreInner<T>;
            type Ret = R::Abi;
            #[inline]
            #[allow(non_snake_case)]
            fn call(
                &self,
                store: StorePtr<'_, StoreInner<T>>,
                caller: Option<u32>,
                ($($t,)*): ($($t::Abi,)*),
            ) -> Result<R::Abi> {
                let mut caller = Caller::new(store, caller);
                #[allow(unused_variables)]
                let store = caller.opaque();
                $(let $t = $t::from_abi($t, store)?;)*
                (self.func)(caller.reborrow(), $($t),*).into_abi(caller.opaque())
            }
        }

        impl<$($t: WasmTy),*> WasmRet for ($($t,)*) {
            // Tuples of values come back through the trampoline's array; only `()` is native.
            const NATIVE: bool = $n == 0;
            type Abi = ();
            fn into_abi(self, _: &mut StoreOpaque) -> Result<()> {
                if !Self::NATIVE {
                    bail!("multiple results never use the native shim");
                }
                Ok(())
            }
            fn types() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            #[allow(unused_variables)]
            fn store_results(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
                $(self.$i.check_store(store)?; out[$i] = self.$i.into_raw(store);)*
                Ok(())
            }
        }
    )*};
}

tuples! {
    0: ();
    1: (A1 0);
    2: (A1 0, A2 1);
    3: (A1 0, A2 1, A3 2);
    4: (A1 0, A2 1, A3 2, A4 3);
    5: (A1 0, A2 1, A3 2, A4 3, A5 4);
    6: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5);
    7: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6);
    8: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7);
    9: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8);
    10: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8, A10 9);
    11: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8, A10 9, A11 10);
    12: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8, A10 9, A11 10, A12 11);
    13: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8, A10 9, A11 10, A12 11, A13 12);
    14: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8, A10 9, A11 10, A12 11, A13 12, A14 13);
    15: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8, A10 9, A11 10, A12 11, A13 12, A14 13, A15 14);
    16: (A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8, A10 9, A11 10, A12 11, A13 12, A14 13, A15 14, A16 15);
}

/// What a host closure may return: a value, a tuple of values, or a `Result` of either.
pub trait WasmRet {
    /// Whether compiled code may receive the result in a register from a native shim (at most one value).
    #[doc(hidden)]
    const NATIVE: bool;
    /// The form a native shim returns the result in.
    #[doc(hidden)]
    type Abi: Copy;
    /// The result in that form, or the closure's error.
    #[doc(hidden)]
    fn into_abi(self, store: &mut StoreOpaque) -> Result<Self::Abi>;
    /// The result types.
    fn types() -> Vec<ValType>;
    /// Writes the results to `out`, or returns the closure's error.
    #[doc(hidden)]
    fn store_results(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()>;
}

impl<A: WasmTy> WasmRet for A {
    const NATIVE: bool = true;
    type Abi = A::Abi;
    #[inline]
    fn into_abi(self, store: &mut StoreOpaque) -> Result<A::Abi> {
        self.check_store(store)?;
        Ok(WasmTy::into_abi(self, store))
    }
    fn types() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn store_results(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
        self.check_store(store)?;
        out[0] = self.into_raw(store);
        Ok(())
    }
}

impl<R: WasmRet + 'static> WasmRet for Result<R> {
    const NATIVE: bool = R::NATIVE;
    type Abi = R::Abi;
    #[inline]
    fn into_abi(self, store: &mut StoreOpaque) -> Result<R::Abi> {
        self?.into_abi(store)
    }
    fn types() -> Vec<ValType> {
        R::types()
    }
    fn store_results(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
        self?.store_results(store, out)
    }
}

/// A closure that can become a host function: `Fn(A1, ..., An) -> R` or `Fn(Caller<T>, A1, ..., An) -> R`.
pub trait IntoFunc<T: 'static, Params, Results>: Send + Sync + 'static {
    /// The host function.
    #[doc(hidden)]
    fn into_host_func(self) -> HostFunc<T>;
}

/// A function whose type was checked once, when the `TypedFunc` was made, so calls skip all checks.
pub struct TypedFunc<Params, Results> {
    func: Func,
    /// Resolved and checked against `Params` and `Results` when the `TypedFunc` is made; valid while the
    /// function's store lives, and only used with that store (checked on every call).
    target: TypedTarget<Params, Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    /// Checks `func`'s type against `Params` and `Results`.
    pub(crate) fn new(store: &StoreOpaque, func: Func) -> Result<Self> {
        Ok(TypedFunc { func, target: TypedTarget::new(store, func)? })
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function. Errors if the call traps or a host function it calls fails.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        entry::call_typed(&mut store.as_context_mut().0, &self.target, params)
    }
}
