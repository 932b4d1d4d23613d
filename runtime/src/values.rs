//! Wasm values as the host sees them.

use crate::store::{AsContext, AsContextMut, StoreOpaque, Stored};
use crate::types::{HeapType, RefType, ValType};
use crate::vm::ValRaw;
use crate::{Func, Result};
use anyhow::bail;
use std::any::Any;

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

/// A reference to a host value, created with [`ExternRef::new`]; it lives as long as its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef(pub(crate) Stored);

impl ExternRef {
    /// Wraps `value` in a new reference owned by the store.
    pub fn new<T: Any + Send + Sync>(mut store: impl AsContextMut, value: T) -> Result<ExternRef> {
        let store = store.as_context_mut().0.opaque();
        store.externrefs.push(Box::new(value));
        Ok(ExternRef(store.stored(store.externrefs.len() - 1)))
    }

    /// The host value this reference wraps.
    pub fn data<'a, C: AsContext>(&self, store: &'a C) -> Result<&'a (dyn Any + Send + Sync)> {
        let store = &store.as_context().0.opaque;
        Ok(&*store.externrefs[store.index(self.0)])
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
    Extern(Option<ExternRef>),
}

impl Ref {
    /// Whether this is a null reference.
    pub fn is_null(&self) -> bool {
        matches!(self, Ref::Func(None) | Ref::Extern(None))
    }

    /// The reference's type.
    pub fn ty(&self) -> RefType {
        match self {
            Ref::Func(_) => RefType::FUNCREF,
            Ref::Extern(_) => RefType::EXTERNREF,
        }
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
            HeapType::Func | HeapType::ConcreteFunc(_) if raw == 0 => Ref::Func(None),
            HeapType::Func | HeapType::ConcreteFunc(_) => {
                let index = store.func_from_raw(raw)?;
                Ref::Func(Some(Func(store.stored(index as usize))))
            }
            HeapType::Extern if raw == 0 => Ref::Extern(None),
            HeapType::Extern => Ref::Extern(Some(ExternRef(store.stored(raw - 1)))),
        })
    }

    /// Checks that this reference fits `ty` and belongs to `store`.
    pub(crate) fn check(&self, store: &StoreOpaque, ty: &RefType) -> Result<()> {
        let fits = match (self, ty.heap_type()) {
            (Ref::Func(Some(f)), HeapType::ConcreteFunc(t)) if store.owns(f.0) => {
                store.funcs[store.index(f.0)].ty == t.func_type()
            }
            (Ref::Func(_), heap_type) => heap_type.is_func(),
            (Ref::Extern(_), heap_type) => *heap_type == HeapType::Extern,
        };
        if !fits {
            bail!("type mismatch: expected {ty}, found {}", self.ty());
        }
        if self.is_null() && !ty.is_nullable() {
            bail!("type mismatch: null where {ty} is expected");
        }
        let owned = match self {
            Ref::Func(Some(f)) => store.owns(f.0),
            Ref::Extern(Some(e)) => store.owns(e.0),
            _ => true,
        };
        if !owned {
            bail!("reference used with the wrong store");
        }
        Ok(())
    }
}

/// A wasm value.
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
    ExternRef(Option<ExternRef>),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
        }
    }

    /// The zero (or null) value of `ty`.
    pub fn default_for_ty(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128(0)),
            ValType::Ref(r) => match r.heap_type() {
                HeapType::Func | HeapType::ConcreteFunc(_) => Val::FuncRef(None),
                HeapType::Extern => Val::ExternRef(None),
            },
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        match self {
            Val::I32(v) => Some(*v),
            _ => None,
        }
    }
    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Val::I64(v) => Some(*v),
            _ => None,
        }
    }
    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }
    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }
    /// The function reference, if this is a `funcref`.
    pub fn funcref(&self) -> Option<Option<&Func>> {
        match self {
            Val::FuncRef(f) => Some(f.as_ref()),
            _ => None,
        }
    }
    /// The host reference, if this is an `externref`.
    pub fn externref(&self) -> Option<Option<&ExternRef>> {
        match self {
            Val::ExternRef(e) => Some(e.as_ref()),
            _ => None,
        }
    }
    /// The `i32`; panics if this is not one.
    pub fn unwrap_i32(&self) -> i32 {
        self.i32().expect("expected an i32")
    }
    /// The `i64`; panics if this is not one.
    pub fn unwrap_i64(&self) -> i64 {
        self.i64().expect("expected an i64")
    }
    /// The `f32`; panics if this is not one.
    pub fn unwrap_f32(&self) -> f32 {
        self.f32().expect("expected an f32")
    }
    /// The `f64`; panics if this is not one.
    pub fn unwrap_f64(&self) -> f64 {
        self.f64().expect("expected an f64")
    }

    /// The reference, if this is one.
    pub fn as_ref(&self) -> Option<Ref> {
        match *self {
            Val::FuncRef(f) => Some(Ref::Func(f)),
            Val::ExternRef(e) => Some(Ref::Extern(e)),
            _ => None,
        }
    }

    /// Checks that the value has type `ty` and belongs to `store`.
    pub(crate) fn check(&self, store: &StoreOpaque, ty: ValType) -> Result<()> {
        match (self.as_ref(), ty) {
            (Some(r), ValType::Ref(rt)) => r.check(store, &rt),
            _ if self.ty() == ty => Ok(()),
            _ => bail!("type mismatch: expected {ty}, found {}", self.ty()),
        }
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

    pub(crate) fn from_raw(store: &mut StoreOpaque, ty: ValType, raw: ValRaw) -> Result<Val> {
        Ok(match ty {
            ValType::I32 => Val::I32(raw.get_i32()),
            ValType::I64 => Val::I64(raw.get_i64()),
            ValType::F32 => Val::F32(raw.get_f32()),
            ValType::F64 => Val::F64(raw.get_f64()),
            ValType::V128 => Val::V128(V128(raw.get_v128())),
            ValType::Ref(r) => match Ref::from_raw(store, &r, raw.get_reference())? {
                Ref::Func(f) => Val::FuncRef(f),
                Ref::Extern(e) => Val::ExternRef(e),
            },
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
impl From<Func> for Val {
    fn from(f: Func) -> Val {
        Val::FuncRef(Some(f))
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
