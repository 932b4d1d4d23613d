//! Wasm values as the host sees them.

use crate::store::{AsContextMut, StoreContext, StoreContextMut, StoreOpaque, Stored};
use crate::types::{HeapType, RefType, ValType};
use crate::vm::{VMFuncRef, ValRaw};
use crate::{AsContext, Func, Result};
use anyhow::bail;
use std::any::Any;
use std::ops::Deref;

/// A 128-bit vector value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct V128(u128);

impl V128 {
    /// The bits as an integer.
    pub fn as_u128(&self) -> u128 {
        self.0
    }
}

impl From<u128> for V128 {
    fn from(v: u128) -> Self {
        V128(v)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A reference to a garbage-collected object; Tenon has one kind, [`ExternRef`].
pub trait GcRef: sealed::Sealed + Copy + Send + Sync + 'static {}

/// A root for a reference: a handle the host holds, valid as long as its store. Tenon has no garbage
/// collector (host references live as long as their store), so unlike Wasmtime's a root never expires and
/// needs no scope; it exists so that code written for Wasmtime compiles unchanged. It dereferences to the
/// reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rooted<T: GcRef>(T);

impl<T: GcRef> Deref for Rooted<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: GcRef + PartialEq> Rooted<T> {
    /// Whether two roots are roots of the same reference.
    pub fn rooted_eq(a: Self, b: Self) -> bool {
        a == b
    }

    /// Whether two roots refer to the same object (errors if either belongs to another store).
    pub fn ref_eq(store: impl AsContext, a: &Self, b: &Self) -> Result<bool> {
        let _ = store.as_context();
        Ok(a.0 == b.0)
    }
}

/// A reference to a host value, created with [`ExternRef::new`]; it lives as long as its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef(pub(crate) Stored);

impl sealed::Sealed for ExternRef {}
impl GcRef for ExternRef {}

impl ExternRef {
    /// Wraps `value` in a new reference owned by the store.
    pub fn new<T: Any + Send + Sync>(mut store: impl AsContextMut, value: T) -> Result<Rooted<ExternRef>> {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        store.externrefs.push(Box::new(value));
        Ok(Rooted(ExternRef(store.stored(store.externrefs.len() - 1))))
    }

    /// The host value this reference wraps (always `Some`: every Tenon host reference wraps a value).
    pub fn data<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>) -> Result<Option<&'a (dyn Any + Send + Sync)>> {
        let store = &store.into().0.opaque;
        Ok(Some(&*store.externrefs[store.index(self.0)]))
    }

    /// The host value this reference wraps, mutably.
    pub fn data_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> Result<Option<&'a mut (dyn Any + Send + Sync)>> {
        let store = &mut store.into().0.into_mut().opaque;
        let index = store.index(self.0);
        Ok(Some(&mut *store.externrefs[index]))
    }

    fn to_raw(self, store: &StoreOpaque) -> usize {
        store.index(self.0) + 1
    }
}

/// A reference value: what tables hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ref {
    /// A function reference, or null.
    Func(Option<Func>),
    /// A host reference, or null.
    Extern(Option<Rooted<ExternRef>>),
}

impl From<Func> for Ref {
    fn from(f: Func) -> Ref {
        Ref::Func(Some(f))
    }
}
impl From<Option<Func>> for Ref {
    fn from(f: Option<Func>) -> Ref {
        Ref::Func(f)
    }
}
impl From<Rooted<ExternRef>> for Ref {
    fn from(e: Rooted<ExternRef>) -> Ref {
        Ref::Extern(Some(e))
    }
}
impl From<Option<Rooted<ExternRef>>> for Ref {
    fn from(e: Option<Rooted<ExternRef>>) -> Ref {
        Ref::Extern(e)
    }
}

impl Ref {
    /// The null reference of `heap_type`'s hierarchy.
    pub fn null(heap_type: &HeapType) -> Ref {
        if heap_type.top().is_func() { Ref::Func(None) } else { Ref::Extern(None) }
    }
    /// Whether this is a null reference.
    pub fn is_null(&self) -> bool {
        matches!(self, Ref::Func(None) | Ref::Extern(None))
    }
    /// Whether this is not a null reference.
    pub fn is_non_null(&self) -> bool {
        !self.is_null()
    }
    /// Whether this is a function reference (or null function reference).
    pub fn is_func(&self) -> bool {
        matches!(self, Ref::Func(_))
    }
    /// Whether this is a host reference (or null host reference).
    pub fn is_extern(&self) -> bool {
        matches!(self, Ref::Extern(_))
    }
    /// The function reference, if this is one.
    pub fn as_func(&self) -> Option<Option<&Func>> {
        match self {
            Ref::Func(f) => Some(f.as_ref()),
            Ref::Extern(_) => None,
        }
    }
    /// The function, if this is a non-null function reference.
    pub fn unwrap_func(&self) -> Option<&Func> {
        self.as_func().expect("a function reference")
    }
    /// The host reference, if this is one.
    pub fn as_extern(&self) -> Option<Option<&Rooted<ExternRef>>> {
        match self {
            Ref::Extern(e) => Some(e.as_ref()),
            Ref::Func(_) => None,
        }
    }
    /// The host reference, if this is a non-null one; panics if this is not a host reference.
    pub fn unwrap_extern(&self) -> Option<&Rooted<ExternRef>> {
        self.as_extern().expect("a host reference")
    }

    /// The reference's type: `(ref func)` or `(ref (func ...))` for functions, `(ref extern)`, or the
    /// nullable abstract type for a null.
    pub fn ty(&self, store: impl AsContext) -> Result<RefType> {
        Ok(self.ty_in(&store.as_context().0.opaque))
    }

    fn ty_in(&self, store: &StoreOpaque) -> RefType {
        match self {
            Ref::Func(None) => RefType::FUNCREF,
            Ref::Extern(None) => RefType::EXTERNREF,
            Ref::Func(Some(f)) => RefType::new(false, HeapType::ConcreteFunc(store.funcs[store.index(f.0)].ty.clone())),
            Ref::Extern(Some(_)) => RefType::new(false, HeapType::Extern),
        }
    }

    /// Whether this reference is a value of type `ty`.
    pub fn matches_ty(&self, store: impl AsContext, ty: &RefType) -> Result<bool> {
        Ok(self.check(&store.as_context().0.opaque, ty).is_ok())
    }

    pub(crate) fn to_raw(self, store: &StoreOpaque) -> usize {
        match self {
            Ref::Func(Some(f)) => store.funcs[store.index(f.0)].funcref as usize,
            Ref::Extern(Some(e)) => e.to_raw(store),
            Ref::Func(None) | Ref::Extern(None) => 0,
        }
    }

    pub(crate) fn from_raw(store: &mut StoreOpaque, ty: &RefType, raw: usize) -> Result<Ref> {
        Ok(match ty.heap_type() {
            heap_type if raw == 0 => Ref::null(heap_type),
            HeapType::Func | HeapType::ConcreteFunc(_) => {
                let index = store.func_from_raw(raw as *const VMFuncRef)?;
                Ref::Func(Some(Func(store.stored(index as usize))))
            }
            HeapType::Extern => Ref::Extern(Some(Rooted(ExternRef(store.stored(raw - 1))))),
        })
    }

    /// Checks that this reference fits `ty` and belongs to `store`.
    pub(crate) fn check(&self, store: &StoreOpaque, ty: &RefType) -> Result<()> {
        let owned = match self {
            Ref::Func(Some(f)) => store.owns(f.0),
            Ref::Extern(Some(e)) => store.owns(e.0.0),
            _ => true,
        };
        if !owned {
            bail!("reference used with the wrong store");
        }
        let fits = match (self, ty.heap_type()) {
            (Ref::Func(Some(f)), HeapType::ConcreteFunc(t)) => store.funcs[store.index(f.0)].ty == *t,
            (Ref::Func(_), heap_type) => heap_type.top().is_func(),
            (Ref::Extern(_), heap_type) => heap_type.is_extern(),
        };
        if !fits {
            bail!("type mismatch: expected {ty}, found {}", self.ty_in(store));
        }
        if self.is_null() && !ty.is_nullable() {
            bail!("type mismatch: null where {ty} is expected");
        }
        Ok(())
    }
}

/// A wasm value. Values compare equal when they are the same value (floats by their bits, references by
/// identity).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bits (so that NaN payloads survive).
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    /// A `v128`.
    V128(V128),
    /// A `funcref`.
    FuncRef(Option<Func>),
    /// An `externref`.
    ExternRef(Option<Rooted<ExternRef>>),
}

macro_rules! accessors {
    ($($variant:ident($ty:ty) $get:ident $unwrap:ident $convert:expr;)*) => {$(
        /// The value, if it has this type.
        pub fn $get(&self) -> Option<$ty> {
            match self {
                Val::$variant(v) => Some(($convert)(v)),
                _ => None,
            }
        }
        /// The value; panics if it does not have this type.
        pub fn $unwrap(&self) -> $ty {
            self.$get().expect(concat!("expected ", stringify!($ty)))
        }
    )*};
}

impl Val {
    accessors! {
        I32(i32) i32 unwrap_i32 |v: &i32| *v;
        I64(i64) i64 unwrap_i64 |v: &i64| *v;
        F32(f32) f32 unwrap_f32 |v: &u32| f32::from_bits(*v);
        F64(f64) f64 unwrap_f64 |v: &u64| f64::from_bits(*v);
        V128(V128) v128 unwrap_v128 |v: &V128| *v;
    }

    /// The null reference of `heap_type`'s hierarchy.
    pub fn null_ref(heap_type: &HeapType) -> Val {
        Ref::null(heap_type).into()
    }
    /// The null function reference.
    pub const fn null_func_ref() -> Val {
        Val::FuncRef(None)
    }
    /// The null host reference.
    pub const fn null_extern_ref() -> Val {
        Val::ExternRef(None)
    }

    /// The default value of `ty` (zero, or null), or `None` for a non-nullable reference type.
    pub fn default_for_ty(ty: &ValType) -> Option<Val> {
        match ty {
            ValType::Ref(r) if !r.is_nullable() => None,
            _ => Some(Val::zero_of(ty)),
        }
    }

    /// The zero (or null) value of `ty`: what a result slot holds before a call fills it.
    pub(crate) fn zero_of(ty: &ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128(0)),
            ValType::Ref(r) => Val::null_ref(r.heap_type()),
        }
    }

    /// The value's type (a function's concrete type for a function reference).
    pub fn ty(&self, store: impl AsContext) -> Result<ValType> {
        Ok(match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(f) => ValType::Ref(Ref::Func(*f).ty(store)?),
            Val::ExternRef(e) => ValType::Ref(Ref::Extern(*e).ty(store)?),
        })
    }

    /// Whether this value is a value of type `ty`.
    pub fn matches_ty(&self, store: impl AsContext, ty: &ValType) -> Result<bool> {
        Ok(self.check(&store.as_context().0.opaque, ty).is_ok())
    }

    /// The function reference, if this is a `funcref`.
    pub fn funcref(&self) -> Option<Option<&Func>> {
        match self {
            Val::FuncRef(f) => Some(f.as_ref()),
            _ => None,
        }
    }
    /// The function, if this is a non-null `funcref`; panics if it is not a `funcref`.
    pub fn unwrap_funcref(&self) -> Option<&Func> {
        self.funcref().expect("expected a funcref")
    }
    /// The host reference, if this is an `externref`.
    pub fn externref(&self) -> Option<Option<&Rooted<ExternRef>>> {
        match self {
            Val::ExternRef(e) => Some(e.as_ref()),
            _ => None,
        }
    }
    /// The host reference, if this is a non-null `externref`; panics if it is not an `externref`.
    pub fn unwrap_externref(&self) -> Option<&Rooted<ExternRef>> {
        self.externref().expect("expected an externref")
    }

    /// The reference, if this is one.
    pub fn ref_(self) -> Option<Ref> {
        match self {
            Val::FuncRef(f) => Some(Ref::Func(f)),
            Val::ExternRef(e) => Some(Ref::Extern(e)),
            _ => None,
        }
    }

    /// Checks that the value has type `ty` and belongs to `store`.
    pub(crate) fn check(&self, store: &StoreOpaque, ty: &ValType) -> Result<()> {
        let actual = match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) | Val::ExternRef(_) => match ty {
                ValType::Ref(rt) => return self.ref_().expect("a reference").check(store, rt),
                _ => bail!("type mismatch: expected {ty}, found a reference"),
            },
        };
        if actual != *ty {
            bail!("type mismatch: expected {ty}, found {actual}");
        }
        Ok(())
    }

    pub(crate) fn to_raw(self, store: &StoreOpaque) -> ValRaw {
        match self {
            Val::I32(v) => ValRaw::i32(v),
            Val::I64(v) => ValRaw::i64(v),
            Val::F32(v) => ValRaw::f32(v),
            Val::F64(v) => ValRaw::f64(v),
            Val::V128(v) => ValRaw::v128(v.0),
            Val::FuncRef(f) => ValRaw::reference(Ref::Func(f).to_raw(store)),
            Val::ExternRef(e) => ValRaw::reference(Ref::Extern(e).to_raw(store)),
        }
    }

    pub(crate) fn from_raw(store: &mut StoreOpaque, ty: &ValType, raw: ValRaw) -> Result<Val> {
        Ok(match ty {
            ValType::I32 => Val::I32(raw.get_i32()),
            ValType::I64 => Val::I64(raw.get_i64()),
            ValType::F32 => Val::F32(raw.get_f32()),
            ValType::F64 => Val::F64(raw.get_f64()),
            ValType::V128 => Val::V128(V128(raw.get_v128())),
            ValType::Ref(r) => Ref::from_raw(store, r, raw.get_reference())?.into(),
        })
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
impl From<V128> for Val {
    fn from(v: V128) -> Val {
        Val::V128(v)
    }
}
impl From<u128> for Val {
    fn from(v: u128) -> Val {
        Val::V128(V128(v))
    }
}
impl From<Func> for Val {
    fn from(f: Func) -> Val {
        Val::FuncRef(Some(f))
    }
}
impl From<Option<Func>> for Val {
    fn from(f: Option<Func>) -> Val {
        Val::FuncRef(f)
    }
}
impl From<Rooted<ExternRef>> for Val {
    fn from(e: Rooted<ExternRef>) -> Val {
        Val::ExternRef(Some(e))
    }
}
impl From<Option<Rooted<ExternRef>>> for Val {
    fn from(e: Option<Rooted<ExternRef>>) -> Val {
        Val::ExternRef(e)
    }
}
impl From<Ref> for Val {
    fn from(r: Ref) -> Val {
        match r {
            Ref::Func(f) => Val::FuncRef(f),
            Ref::Extern(e) => Val::ExternRef(e),
        }
    }
}
