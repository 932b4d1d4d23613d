//! Rust types as component values: [`ComponentType`] (which component type a Rust type is, and its layout),
//! [`Lower`] (into a guest) and [`Lift`] (out of one), split as Wasmtime splits them, so that a value that
//! can only go one way (`&str` in, [`WasmStr`](super) views out) is a compile error the other way.
//!
//! Each function's types are checked against the component's once (when a `TypedFunc` or host function is
//! made), never per call; the lifting and lowering code here then runs straight through, reading its
//! layouts from the canonical ABI's one layout module.

use super::abi::layout::{CanonicalAbiInfo, field_offsets, map_entry_offsets};
use super::abi::lift::{FlatValues, LiftContext, char_from, f32_from, f64_from, offset};
use super::abi::lower::{Allocation, FlatBuf, LowerContext};
use super::derived::{self, CaseReader, LiftSource, LowerDest};
use super::abi::{AbiError, AbiResult};
use super::type_table::{ComponentTypes, InterfaceType, MapType};
use crate::Trap;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::rc::Rc;
use std::sync::Arc;

/// A Rust type that stands for a component value type.
pub trait ComponentType {
    /// The type's layout.
    #[doc(hidden)]
    const ABI: CanonicalAbiInfo;

    /// Whether this is `()`, which stands for an absent payload (of a `result` case, say).
    #[doc(hidden)]
    const IS_UNIT: bool = false;

    /// Checks that the component type `ty` is this type.
    #[doc(hidden)]
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()>;
}

/// A value the host can pass into a guest.
///
/// An impl gives either `lower_to` or both `lower_flat` and `store` (each has a default calling the other
/// side): derived types give `lower_to`, one body for both, which keeps a crate of bindings quick to compile.
pub trait Lower: ComponentType {
    /// Lowers to flat core values.
    #[doc(hidden)]
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        self.lower_to(cx, ty, LowerDest::Flat(dst))
    }

    /// Stores at `ptr` (aligned and in bounds for the type).
    #[doc(hidden)]
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        self.lower_to(cx, ty, LowerDest::Memory(ptr))
    }

    /// Lowers to flat values or stores, as `dst` says.
    #[doc(hidden)]
    fn lower_to(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: LowerDest<'_>) -> AbiResult<()> {
        match dst {
            LowerDest::Flat(dst) => self.lower_flat(cx, ty, dst),
            LowerDest::Memory(ptr) => self.store(cx, ty, ptr),
        }
    }

    /// For a [`ComponentNamedList`]: lowers the values flat, as consecutive values of types `tys`.
    #[doc(hidden)]
    fn lower_list_flat(&self, _cx: &mut LowerContext<'_>, _tys: &[InterfaceType], _dst: &mut FlatBuf) -> AbiResult<()> {
        Err(AbiError::msg("not a parameter or result list"))
    }

    /// For a [`ComponentNamedList`]: stores the values as a tuple of types `tys` at `ptr`.
    #[doc(hidden)]
    fn store_fields(&self, _cx: &mut LowerContext<'_>, _tys: &[InterfaceType], _ptr: u32) -> AbiResult<()> {
        Err(AbiError::msg("not a parameter or result list"))
    }

    /// Stores `items` one after another from `ptr` (lists: numbers override this to copy in bulk).
    #[doc(hidden)]
    fn store_list(items: &[Self], cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()>
    where
        Self: Sized,
    {
        for (n, item) in items.iter().enumerate() {
            item.store(cx, ty, offset(ptr, n as u32 * Self::ABI.size)?).map_err(|e| e.at_index(n))?;
        }
        Ok(())
    }
}

/// A value the host can take out of a guest.
///
/// An impl gives either `lift_from` or both `lift_flat` and `load` (each has a default calling the other
/// side): derived types give `lift_from`, one body for both, which keeps a crate of bindings quick to compile.
pub trait Lift: ComponentType + Sized {
    /// Lifts from flat core values.
    #[doc(hidden)]
    fn lift_flat(cx: &LiftContext<'_>, ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
        Self::lift_from(cx, ty, LiftSource::Flat(src))
    }

    /// Loads from `ptr` (aligned and in bounds for the type).
    #[doc(hidden)]
    fn load(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
        Self::lift_from(cx, ty, LiftSource::Memory(ptr))
    }

    /// Lifts from flat values or loads, as `src` says.
    #[doc(hidden)]
    fn lift_from(cx: &LiftContext<'_>, ty: InterfaceType, src: LiftSource<'_, '_>) -> AbiResult<Self> {
        match src {
            LiftSource::Flat(src) => Self::lift_flat(cx, ty, src),
            LiftSource::Memory(ptr) => Self::load(cx, ty, ptr),
        }
    }

    /// For a [`ComponentNamedList`]: lifts consecutive flat values of types `tys`.
    #[doc(hidden)]
    fn lift_list_flat(_cx: &LiftContext<'_>, _tys: &[InterfaceType], _src: &mut FlatValues<'_>) -> AbiResult<Self> {
        Err(AbiError::msg("not a parameter or result list"))
    }

    /// For a [`ComponentNamedList`]: loads a tuple of types `tys` from `ptr`.
    #[doc(hidden)]
    fn load_fields(_cx: &LiftContext<'_>, _tys: &[InterfaceType], _ptr: u32) -> AbiResult<Self> {
        Err(AbiError::msg("not a parameter or result list"))
    }

    /// Loads `len` elements from `ptr`, a range already checked (numbers override this to copy in bulk).
    #[doc(hidden)]
    fn load_list(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32, len: u32) -> AbiResult<Vec<Self>> {
        (0..len).map(|n| Self::load(cx, ty, offset(ptr, n * Self::ABI.size)?).map_err(|e| e.at_index(n as usize))).collect()
    }
}

/// The error for a Rust type that is not the component type `ty`.
pub(super) fn mismatch<T: ?Sized>(ty: InterfaceType) -> anyhow::Error {
    anyhow::anyhow!("type mismatch: `{}` is not the component type {}", std::any::type_name::<T>(), describe(ty))
}

/// A short description of a component type, for type errors.
pub(crate) fn describe(ty: InterfaceType) -> String {
    let name = format!("{ty:?}");
    name.split('(').next().unwrap_or_default().to_lowercase()
}

/// Scalars: numbers, `bool` and `char`, each one flat value and `size` bytes in memory. `to` gives a value's
/// raw bits, `from` the value of raw bits (checking what a guest may get wrong). `bulk` says how lists of
/// them are copied: `native` for numbers (with one bounds check, in their little-endian byte form),
/// `checked` for the others (element by element, each validated).
macro_rules! scalars {
    ($($ty:ty => $variant:ident, $size:literal, $to:expr, $from:expr, $bulk:ident;)*) => {$(
        impl ComponentType for $ty {
            const ABI: CanonicalAbiInfo = CanonicalAbiInfo::scalar_of($size);
            fn typecheck(ty: InterfaceType, _types: &ComponentTypes) -> Result<()> {
                match ty {
                    InterfaceType::$variant => Ok(()),
                    other => Err(mismatch::<$ty>(other)),
                }
            }
        }

        impl Lower for $ty {
            fn lower_flat(&self, _cx: &mut LowerContext<'_>, _ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
                let to: fn(&$ty) -> u64 = $to;
                dst.push(to(self))
            }
            fn store(&self, cx: &mut LowerContext<'_>, _ty: InterfaceType, ptr: u32) -> AbiResult<()> {
                let to: fn(&$ty) -> u64 = $to;
                cx.write(ptr, &to(self).to_le_bytes()[..$size])
            }
            bulk_store!($bulk, $ty, $size);
        }

        impl Lift for $ty {
            fn lift_flat(_cx: &LiftContext<'_>, _ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
                let from: fn(u64) -> AbiResult<$ty> = $from;
                from(src.next_u64()?)
            }
            fn load(cx: &LiftContext<'_>, _ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
                let from: fn(u64) -> AbiResult<$ty> = $from;
                from(cx.uint(ptr, $size)?)
            }
            bulk_load!($bulk, $ty, $size, $from);
        }
    )*};
}

/// `store_list` for a scalar list: `native` copies the little-endian bytes with one bounds check; `checked`
/// keeps the default.
macro_rules! bulk_store {
    (native, $ty:ty, $size:literal) => {
        fn store_list(items: &[Self], cx: &mut LowerContext<'_>, _ty: InterfaceType, ptr: u32) -> AbiResult<()> {
            let memory = cx.memory_range(ptr, items.len() * $size)?;
            for (chunk, item) in memory.chunks_exact_mut($size).zip(items) {
                chunk.copy_from_slice(&item.to_le_bytes());
            }
            Ok(())
        }
    };
    (checked, $ty:ty, $size:literal) => {};
}

/// `load_list` for a scalar list: `native` reads the little-endian bytes of a range checked once (with
/// `from` applied only where it changes something: canonical NaNs); `checked` keeps the default.
macro_rules! bulk_load {
    (native, $ty:ty, $size:literal, $from:expr) => {
        fn load_list(cx: &LiftContext<'_>, _ty: InterfaceType, ptr: u32, len: u32) -> AbiResult<Vec<Self>> {
            let bytes = cx.bytes(ptr, len * $size, Trap::ListOutOfBounds)?;
            Ok(bytes.chunks_exact($size).map(|chunk| canonical(<$ty>::from_le_bytes(chunk.try_into().expect("sized chunks")))).collect())
        }
    };
    (checked, $ty:ty, $size:literal, $from:expr) => {};
}

/// A number as lifting delivers it: NaNs canonical (see [`Canonical`]).
fn canonical<T: Canonical>(value: T) -> T {
    value.canonical()
}

/// Numbers whose lifted form can differ from their bits: floats, whose NaNs lifting makes canonical.
trait Canonical {
    fn canonical(self) -> Self;
}

macro_rules! exact {
    ($($ty:ty),*) => {$(
        impl Canonical for $ty {
            fn canonical(self) -> Self {
                self
            }
        }
    )*};
}

exact!(u8, i8, u16, i16, u32, i32, u64, i64);

impl Canonical for f32 {
    fn canonical(self) -> Self {
        f32_from(self.to_bits())
    }
}

impl Canonical for f64 {
    fn canonical(self) -> Self {
        f64_from(self.to_bits())
    }
}

scalars! {
    bool => Bool, 1, |v| *v as u64, |f| Ok(f as u32 != 0), checked;
    u8 => U8, 1, |v| *v as u64, |f| Ok(f as u8), native;
    i8 => S8, 1, |v| *v as i32 as u32 as u64, |f| Ok(f as u8 as i8), native;
    u16 => U16, 2, |v| *v as u64, |f| Ok(f as u16), native;
    i16 => S16, 2, |v| *v as i32 as u32 as u64, |f| Ok(f as u16 as i16), native;
    u32 => U32, 4, |v| *v as u64, |f| Ok(f as u32), native;
    i32 => S32, 4, |v| *v as u32 as u64, |f| Ok(f as u32 as i32), native;
    u64 => U64, 8, |v| *v, Ok, native;
    i64 => S64, 8, |v| *v as u64, |f| Ok(f as i64), native;
    f32 => Float32, 4, |v| v.to_bits() as u64, |f| Ok(f32_from(f as u32)), native;
    f64 => Float64, 8, |v| v.to_bits(), |f| Ok(f64_from(f)), native;
    char => Char, 4, |v| *v as u64, |f| char_from(f as u32), checked;
}

// Strings: `str` (behind any pointer) lowers; `String`, `Box<str>` and `Arc<str>` lift too.

impl ComponentType for str {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;
    fn typecheck(ty: InterfaceType, _types: &ComponentTypes) -> Result<()> {
        match ty {
            InterfaceType::String => Ok(()),
            other => Err(mismatch::<str>(other)),
        }
    }
}

impl Lower for str {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, _ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        let (ptr, len) = cx.string(self)?;
        dst.push(ptr as u64)?;
        dst.push(len as u64)
    }
    fn store(&self, cx: &mut LowerContext<'_>, _ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        let (begin, len) = cx.string(self)?;
        cx.write_pair(ptr, begin, len)
    }
}

impl ComponentType for String {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        str::typecheck(ty, types)
    }
}

impl Lower for String {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        self.as_str().lower_flat(cx, ty, dst)
    }
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        self.as_str().store(cx, ty, ptr)
    }
}

/// Lifting for owned string types, from the `String` lifted.
macro_rules! lift_strings {
    ($($ty:ty => $from:expr;)*) => {$(
        impl Lift for $ty {
            fn lift_flat(cx: &LiftContext<'_>, _ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
                let (ptr, len) = (src.next_u32()?, src.next_u32()?);
                let from: fn(String) -> $ty = $from;
                Ok(from(cx.string(ptr, len)?))
            }
            fn load(cx: &LiftContext<'_>, _ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
                let (begin, len) = (cx.uint(ptr, 4)? as u32, cx.uint(offset(ptr, 4)?, 4)? as u32);
                let from: fn(String) -> $ty = $from;
                Ok(from(cx.string(begin, len)?))
            }
        }
    )*};
}

lift_strings! {
    String => |s| s;
    Box<str> => String::into_boxed_str;
    Arc<str> => Arc::from;
}

// Lists: `[T]` (behind any pointer) lowers; `Vec<T>`, `Box<[T]>` and `Arc<[T]>` lift too.

/// The element type of list type `ty`, or the mismatch error.
pub(super) fn list_element<T: ?Sized>(ty: InterfaceType, types: &ComponentTypes) -> Result<InterfaceType> {
    match ty {
        InterfaceType::List(i) => Ok(types.list(i).element),
        other => Err(mismatch::<T>(other)),
    }
}

/// The element type of list type `ty` at run time (checked before).
fn element_of(cx_types: &ComponentTypes, ty: InterfaceType) -> AbiResult<InterfaceType> {
    match ty {
        InterfaceType::List(i) => Ok(cx_types.list(i).element),
        other => Err(AbiError::mismatch("list", &describe(other))),
    }
}

impl<T: ComponentType> ComponentType for [T] {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        T::typecheck(list_element::<[T]>(ty, types)?, types)
    }
}

impl<T: Lower> Lower for [T] {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        let (ptr, len) = lower_list(self, cx, ty)?;
        dst.push(ptr as u64)?;
        dst.push(len as u64)
    }
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        let (begin, len) = lower_list(self, cx, ty)?;
        cx.write_pair(ptr, begin, len)
    }
}

/// Allocates a list's elements in the guest and stores them; its pointer and length.
fn lower_list<T: Lower>(items: &[T], cx: &mut LowerContext<'_>, ty: InterfaceType) -> AbiResult<(u32, u32)> {
    let element = element_of(cx.types, ty)?;
    let len = u32::try_from(items.len()).map_err(|_| AbiError::msg("list too long"))?;
    let bytes = len.checked_mul(T::ABI.size).ok_or_else(|| AbiError::msg("list too long"))?;
    let ptr = cx.allocate(Allocation::List, T::ABI.align, bytes)?;
    T::store_list(items, cx, element, ptr)?;
    Ok((ptr, len))
}

/// Lifts a list at `ptr` of `len` elements.
fn lift_list<T: Lift>(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32, len: u32) -> AbiResult<Vec<T>> {
    let element = element_of(cx.types, ty)?;
    cx.list_bytes(T::ABI, ptr, len)?;
    cx.consume_fuel(len as usize, size_of::<T>())?;
    T::load_list(cx, element, ptr, len)
}

// Maps: `HashMap<K, V>` both ways, as `map<K, V>` (in memory, the list of its entries).

impl<K: ComponentType, V: ComponentType, S> ComponentType for HashMap<K, V, S> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        let InterfaceType::Map(i) = ty else { return Err(mismatch::<Self>(ty)) };
        let map = types.map(i);
        K::typecheck(map.key, types).context("the map's keys do not match")?;
        V::typecheck(map.value, types).context("the map's values do not match")
    }
}

impl<K: Lower, V: Lower, S> Lower for HashMap<K, V, S> {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        let (ptr, len) = lower_map(self, cx, ty)?;
        dst.push(ptr as u64)?;
        dst.push(len as u64)
    }
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        let (begin, len) = lower_map(self, cx, ty)?;
        cx.write_pair(ptr, begin, len)
    }
}

/// The map type `ty` at run time (checked before).
fn map_of(types: &ComponentTypes, ty: InterfaceType) -> AbiResult<&MapType> {
    match ty {
        InterfaceType::Map(i) => Ok(types.map(i)),
        other => Err(AbiError::mismatch("map", &describe(other))),
    }
}

/// Allocates a map's entries in the guest and stores them; their pointer and count.
fn lower_map<K: Lower, V: Lower, S>(map: &HashMap<K, V, S>, cx: &mut LowerContext<'_>, ty: InterfaceType) -> AbiResult<(u32, u32)> {
    let types = cx.types;
    let map_ty = map_of(types, ty)?;
    let entry = types.abi(map_ty.entry);
    let (key_at, value_at) = map_entry_offsets(types, map_ty);
    let len = u32::try_from(map.len()).map_err(|_| AbiError::msg("map too large"))?;
    let bytes = len.checked_mul(entry.size).ok_or_else(|| AbiError::msg("map too large"))?;
    let ptr = cx.allocate(Allocation::List, entry.align, bytes)?;
    for (n, (key, value)) in map.iter().enumerate() {
        let at = offset(ptr, n as u32 * entry.size)?;
        key.store(cx, map_ty.key, offset(at, key_at)?).map_err(|e| e.at_name("key").at_index(n))?;
        value.store(cx, map_ty.value, offset(at, value_at)?).map_err(|e| e.at_name("value").at_index(n))?;
    }
    Ok((ptr, len))
}

impl<K: Lift + Eq + Hash, V: Lift, S: BuildHasher + Default> Lift for HashMap<K, V, S> {
    fn lift_flat(cx: &LiftContext<'_>, ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
        let (ptr, len) = (src.next_u32()?, src.next_u32()?);
        lift_map(cx, ty, ptr, len)
    }
    fn load(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
        let (begin, len) = (cx.uint(ptr, 4)? as u32, cx.uint(offset(ptr, 4)?, 4)? as u32);
        lift_map(cx, ty, begin, len)
    }
}

/// Lifts a map of `len` entries at `ptr`; a key that comes again replaces the earlier entry.
fn lift_map<K: Lift + Eq + Hash, V: Lift, S: BuildHasher + Default>(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32, len: u32) -> AbiResult<HashMap<K, V, S>> {
    let map_ty = map_of(cx.types, ty)?;
    let entry = cx.types.abi(map_ty.entry);
    cx.list_bytes(entry, ptr, len)?;
    cx.consume_fuel(len as usize, size_of::<(K, V)>())?;
    let (key_at, value_at) = map_entry_offsets(cx.types, map_ty);
    let mut map = HashMap::with_capacity_and_hasher(len as usize, S::default());
    for n in 0..len {
        let at = offset(ptr, n * entry.size)?;
        let key = K::load(cx, map_ty.key, offset(at, key_at)?).map_err(|e| e.at_name("key").at_index(n as usize))?;
        let value = V::load(cx, map_ty.value, offset(at, value_at)?).map_err(|e| e.at_name("value").at_index(n as usize))?;
        map.insert(key, value);
    }
    Ok(map)
}

impl<T: ComponentType> ComponentType for Vec<T> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        <[T]>::typecheck(ty, types)
    }
}

impl<T: Lower> Lower for Vec<T> {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        self.as_slice().lower_flat(cx, ty, dst)
    }
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        self.as_slice().store(cx, ty, ptr)
    }
}

/// Lifting for owned list types, from the `Vec` lifted.
macro_rules! lift_lists {
    ($($ty:ty => $from:expr;)*) => {$(
        impl<T: Lift> Lift for $ty {
            fn lift_flat(cx: &LiftContext<'_>, ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
                let (ptr, len) = (src.next_u32()?, src.next_u32()?);
                let from: fn(Vec<T>) -> $ty = $from;
                Ok(from(lift_list(cx, ty, ptr, len)?))
            }
            fn load(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
                let (begin, len) = (cx.uint(ptr, 4)? as u32, cx.uint(offset(ptr, 4)?, 4)? as u32);
                let from: fn(Vec<T>) -> $ty = $from;
                Ok(from(lift_list(cx, ty, begin, len)?))
            }
        }
    )*};
}

lift_lists! {
    Vec<T> => |v| v;
    Box<[T]> => Vec::into_boxed_slice;
    Arc<[T]> => Arc::from;
}

// Values behind references and smart pointers lower as the value (`&Rc<Arc<[u8]>>` is a `list<u8>`).

macro_rules! pointers {
    ($($ptr:ident),*) => {$(
        impl<T: ComponentType + ?Sized> ComponentType for $ptr<T> {
            const ABI: CanonicalAbiInfo = T::ABI;
            fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
                T::typecheck(ty, types)
            }
        }

        impl<T: Lower + ?Sized> Lower for $ptr<T> {
            fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
                (**self).lower_flat(cx, ty, dst)
            }
            fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
                (**self).store(cx, ty, ptr)
            }
        }
    )*};
}

pointers!(Box, Rc, Arc);

impl<T: ComponentType + ?Sized> ComponentType for &T {
    const ABI: CanonicalAbiInfo = T::ABI;
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        T::typecheck(ty, types)
    }
}

impl<T: Lower + ?Sized> Lower for &T {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        (**self).lower_flat(cx, ty, dst)
    }
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        (**self).store(cx, ty, ptr)
    }
}

// `option` and `result`.

/// The flat slots a variant of layout `abi` takes after its discriminant.
pub(super) fn payload_slots(abi: CanonicalAbiInfo) -> usize {
    abi.flat_count.map_or(0, |n| n as usize - 1)
}

/// Checks a case payload: absent exactly when the Rust type is `()`.
fn typecheck_payload<T: ComponentType>(ty: Option<InterfaceType>, types: &ComponentTypes) -> Result<()> {
    match (ty, T::IS_UNIT) {
        (None, true) => Ok(()),
        (Some(ty), false) => T::typecheck(ty, types),
        (None, false) => bail!("type mismatch: the case has no payload, but `{}` is not `()`", std::any::type_name::<T>()),
        (Some(ty), true) => Err(mismatch::<T>(ty)),
    }
}

pub(super) fn bad_case(case: u32, cases: usize) -> AbiError {
    AbiError::trap(Trap::InvalidDiscriminant, format!("{case} of {cases} cases"))
}

impl<T: ComponentType> ComponentType for Option<T> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::variant_of(&[None, Some(T::ABI)]);
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        match ty {
            InterfaceType::Option(i) => T::typecheck(types.option(i).ty, types),
            other => Err(mismatch::<Self>(other)),
        }
    }
}

// Options and results lower and lift as the variants they are, through the code derived variants use.

impl<T: Lower> Lower for Option<T> {
    fn lower_to(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: LowerDest<'_>) -> AbiResult<()> {
        match self {
            None => derived::lower_case(cx, ty, Self::ABI, 0, None, dst),
            Some(v) => derived::lower_case(cx, ty, Self::ABI, 1, Some(v), dst),
        }
    }
}

/// An option from its case and a reader of its payload.
fn option_case<T: Lift>(case: u32, payload: &mut CaseReader<'_, '_, '_>) -> AbiResult<Option<T>> {
    match case {
        0 => Ok(None),
        1 => payload.payload().map(Some),
        _ => Err(payload.bad_case()),
    }
}

impl<T: Lift> Lift for Option<T> {
    fn lift_from(cx: &LiftContext<'_>, ty: InterfaceType, src: LiftSource<'_, '_>) -> AbiResult<Self> {
        derived::lift_case(cx, ty, Self::ABI, src, option_case)
    }
}

/// The layout of a result payload: none for `()`.
const fn payload_abi<T: ComponentType>() -> Option<CanonicalAbiInfo> {
    if T::IS_UNIT { None } else { Some(T::ABI) }
}

impl<T: ComponentType, E: ComponentType> ComponentType for Result<T, E> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::variant_of(&[payload_abi::<T>(), payload_abi::<E>()]);
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        match ty {
            InterfaceType::Result(i) => {
                typecheck_payload::<T>(types.result(i).ok, types)?;
                typecheck_payload::<E>(types.result(i).err, types)
            }
            other => Err(mismatch::<Self>(other)),
        }
    }
}

impl<T: Lower, E: Lower> Lower for Result<T, E> {
    fn lower_to(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: LowerDest<'_>) -> AbiResult<()> {
        match self {
            Ok(v) => derived::lower_case(cx, ty, Self::ABI, 0, Some(v), dst),
            Err(e) => derived::lower_case(cx, ty, Self::ABI, 1, Some(e), dst),
        }
    }
}

/// A result from its case and a reader of its payload (`()` for a case without one).
fn result_case<T: Lift, E: Lift>(case: u32, payload: &mut CaseReader<'_, '_, '_>) -> AbiResult<Result<T, E>> {
    match case {
        0 => payload.payload().map(Ok),
        1 => payload.payload().map(Err),
        _ => Err(payload.bad_case()),
    }
}

impl<T: Lift, E: Lift> Lift for Result<T, E> {
    fn lift_from(cx: &LiftContext<'_>, ty: InterfaceType, src: LiftSource<'_, '_>) -> AbiResult<Self> {
        derived::lift_case(cx, ty, Self::ABI, src, result_case)
    }
}

// `()`: no value; it stands for an absent result or payload.

impl ComponentType for () {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::record_of(&[]);
    const IS_UNIT: bool = true;
    fn typecheck(ty: InterfaceType, _types: &ComponentTypes) -> Result<()> {
        Err(mismatch::<()>(ty))
    }
}

impl Lower for () {
    fn lower_flat(&self, _cx: &mut LowerContext<'_>, _ty: InterfaceType, _dst: &mut FlatBuf) -> AbiResult<()> {
        Ok(())
    }
    fn lower_list_flat(&self, _cx: &mut LowerContext<'_>, _tys: &[InterfaceType], _dst: &mut FlatBuf) -> AbiResult<()> {
        Ok(())
    }
    fn store_fields(&self, _cx: &mut LowerContext<'_>, _tys: &[InterfaceType], _ptr: u32) -> AbiResult<()> {
        Ok(())
    }
    fn store(&self, _cx: &mut LowerContext<'_>, _ty: InterfaceType, _ptr: u32) -> AbiResult<()> {
        Ok(())
    }
}

impl Lift for () {
    fn lift_flat(_cx: &LiftContext<'_>, _ty: InterfaceType, _src: &mut FlatValues<'_>) -> AbiResult<Self> {
        Ok(())
    }
    fn lift_list_flat(_cx: &LiftContext<'_>, _tys: &[InterfaceType], _src: &mut FlatValues<'_>) -> AbiResult<Self> {
        Ok(())
    }
    fn load_fields(_cx: &LiftContext<'_>, _tys: &[InterfaceType], _ptr: u32) -> AbiResult<Self> {
        Ok(())
    }
    fn load(_cx: &LiftContext<'_>, _ty: InterfaceType, _ptr: u32) -> AbiResult<Self> {
        Ok(())
    }
}

/// A function's parameters or results as a Rust tuple: `(A, B, ...)` for parameters, `()` or `(T,)` for
/// results. Names are not checked, only types, in order.
pub trait ComponentNamedList: ComponentType {
    /// Checks the types of a parameter or result list.
    #[doc(hidden)]
    fn typecheck_list(tys: &[InterfaceType], types: &ComponentTypes) -> Result<()>;
}

impl ComponentNamedList for () {
    fn typecheck_list(tys: &[InterfaceType], _types: &ComponentTypes) -> Result<()> {
        if !tys.is_empty() {
            bail!("type mismatch: expected no values, the function has {}", tys.len());
        }
        Ok(())
    }
}

/// The element types of tuple type `ty`.
fn tuple_types(types: &ComponentTypes, ty: InterfaceType) -> AbiResult<&[InterfaceType]> {
    match ty {
        InterfaceType::Tuple(i) => Ok(&types.tuple(i).types),
        other => Err(AbiError::mismatch("tuple", &describe(other))),
    }
}

macro_rules! tuples {
    ($($n:literal: ($($t:ident $i:tt),+);)*) => {$(
        impl<$($t: ComponentType),+> ComponentType for ($($t,)+) {
            const ABI: CanonicalAbiInfo = CanonicalAbiInfo::record_of(&[$($t::ABI),+]);
            fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
                match ty {
                    InterfaceType::Tuple(i) => Self::typecheck_list(&types.tuple(i).types, types),
                    other => Err(mismatch::<Self>(other)),
                }
            }
        }

        impl<$($t: ComponentType),+> ComponentNamedList for ($($t,)+) {
            fn typecheck_list(tys: &[InterfaceType], types: &ComponentTypes) -> Result<()> {
                if tys.len() != $n {
                    bail!("type mismatch: expected {} values, the function has {}", $n, tys.len());
                }
                $($t::typecheck(tys[$i], types)?;)+
                Ok(())
            }
        }

        impl<$($t: Lower),+> Lower for ($($t,)+) {
            fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
                let tys = tuple_types(cx.types, ty)?;
                self.lower_list_flat(cx, tys, dst)
            }
            fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
                let tys = tuple_types(cx.types, ty)?;
                self.store_fields(cx, tys, ptr)
            }
            fn lower_list_flat(&self, cx: &mut LowerContext<'_>, tys: &[InterfaceType], dst: &mut FlatBuf) -> AbiResult<()> {
                lower_each(cx, tys, dst, &[$(&self.$i as &dyn DynLower),+])
            }
            fn store_fields(&self, cx: &mut LowerContext<'_>, tys: &[InterfaceType], ptr: u32) -> AbiResult<()> {
                store_each(cx, tys, ptr, &[$(&self.$i as &dyn DynLower),+])
            }
        }

        impl<$($t: Lift),+> Lift for ($($t,)+) {
            fn lift_flat(cx: &LiftContext<'_>, ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
                Self::lift_list_flat(cx, tuple_types(cx.types, ty)?, src)
            }
            fn load(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
                Self::load_fields(cx, tuple_types(cx.types, ty)?, ptr)
            }
            fn lift_list_flat(cx: &LiftContext<'_>, tys: &[InterfaceType], src: &mut FlatValues<'_>) -> AbiResult<Self> {
                check_count(tys, $n)?;
                Ok(($(lift_flat_at::<$t>(cx, tys[$i], src, $i)?,)+))
            }
            fn load_fields(cx: &LiftContext<'_>, tys: &[InterfaceType], ptr: u32) -> AbiResult<Self> {
                check_count(tys, $n)?;
                let mut offsets = field_offsets(cx.types, tys.iter().copied());
                Ok(($(load_at::<$t>(cx, offsets.next(), ptr, $i)?,)+))
            }
        }
    )*};
}

/// A value to lower as part of a tuple or record, whatever its Rust type.
#[doc(hidden)]
pub trait DynLower {
    fn lower_flat_dyn(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()>;
    fn store_dyn(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()>;
}

impl<T: Lower + ?Sized> DynLower for T {
    fn lower_flat_dyn(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        self.lower_flat(cx, ty, dst)
    }
    fn store_dyn(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        self.store(cx, ty, ptr)
    }
}

fn check_count(tys: &[InterfaceType], n: usize) -> AbiResult<()> {
    if tys.len() != n {
        return Err(AbiError::msg(format!("expected {n} values, the type has {}", tys.len())));
    }
    Ok(())
}

/// Lowers `values` flat, one per type of `tys`.
fn lower_each(cx: &mut LowerContext<'_>, tys: &[InterfaceType], dst: &mut FlatBuf, values: &[&dyn DynLower]) -> AbiResult<()> {
    check_count(tys, values.len())?;
    for (n, (ty, value)) in tys.iter().zip(values).enumerate() {
        value.lower_flat_dyn(cx, *ty, dst).map_err(|e| e.at_index(n))?;
    }
    Ok(())
}

/// Stores `values` as a tuple of types `tys` at `ptr`.
fn store_each(cx: &mut LowerContext<'_>, tys: &[InterfaceType], ptr: u32, values: &[&dyn DynLower]) -> AbiResult<()> {
    check_count(tys, values.len())?;
    let types = cx.types;
    for (n, ((ty, at), value)) in field_offsets(types, tys.iter().copied()).zip(values).enumerate() {
        value.store_dyn(cx, ty, offset(ptr, at)?).map_err(|e| e.at_index(n))?;
    }
    Ok(())
}

fn lift_flat_at<T: Lift>(cx: &LiftContext<'_>, ty: InterfaceType, src: &mut FlatValues<'_>, n: usize) -> AbiResult<T> {
    T::lift_flat(cx, ty, src).map_err(|e| e.at_index(n))
}

fn load_at<T: Lift>(cx: &LiftContext<'_>, field: Option<(InterfaceType, u32)>, ptr: u32, n: usize) -> AbiResult<T> {
    let (ty, at) = field.ok_or_else(|| AbiError::msg("fewer types than values"))?;
    T::load(cx, ty, offset(ptr, at)?).map_err(|e| e.at_index(n))
}

tuples! {
    1: (A 0);
    2: (A 0, B 1);
    3: (A 0, B 1, C 2);
    4: (A 0, B 1, C 2, D 3);
    5: (A 0, B 1, C 2, D 3, E 4);
    6: (A 0, B 1, C 2, D 3, E 4, F 5);
    7: (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    9: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    10: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    11: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    12: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
    13: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
    14: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
    15: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
    16: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);
    17: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15, Q 16);
}
