//! Lazily read views of a guest's strings and lists: [`WasmStr`] and [`WasmList`] lift as a pointer into
//! the guest's memory, checked once, and read (and decode) only what the host asks for, when it asks.

use super::abi::layout::CanonicalAbiInfo;
use super::abi::lift::{FlatValues, LiftContext, decode_string, offset};
use super::abi::{AbiError, AbiResult};
use super::translate::StringEncoding;
use super::typed::{ComponentType, Lift, list_element};
use super::type_table::{ComponentTypes, InterfaceType};
use crate::{AsContext, AsContextMut, Memory, StoreContext, StoreContextMut};
use anyhow::{Context, Result};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

/// A string in a guest's memory, lifted without copying: its bounds were checked when it was lifted, its
/// contents are decoded (and checked) by [`to_str`](WasmStr::to_str). Lift-only: the host passes `&str` or
/// `String` to a guest. Meant for host functions' arguments, read while the guest waits: an export's result
/// is read after the call's `post-return` ran, when the guest may have freed it (as in Wasmtime).
#[derive(Clone, Debug)]
pub struct WasmStr {
    ptr: u32,
    /// Its length in bytes.
    byte_len: u32,
    encoding: StringEncoding,
    /// Whether a `latin1+utf16` string is UTF-16.
    utf16: bool,
    memory: Memory,
}

impl WasmStr {
    /// The string, read from the guest's memory in `store`: borrowed when it is UTF-8, or an error if it is
    /// not valid in its encoding.
    pub fn to_str<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>) -> Result<Cow<'a, str>> {
        self.to_str_from_memory(self.memory.data(store))
    }

    /// The string, read from `memory` (the guest memory's contents, e.g. from
    /// [`Memory::data`](crate::Memory::data)).
    pub fn to_str_from_memory<'a>(&self, memory: &'a [u8]) -> Result<Cow<'a, str>> {
        let bytes = memory
            .get(self.ptr as usize..self.ptr as usize + self.byte_len as usize)
            .context("string pointer/length out of bounds of memory")?;
        decode_string(bytes, self.encoding, self.utf16).map_err(|e| e.into_error("string"))
    }

    fn lift(cx: &LiftContext<'_>, ptr: u32, len: u32) -> AbiResult<Self> {
        let (bytes, utf16) = cx.string_bytes(ptr, len)?;
        let memory = cx.memory_handle.ok_or_else(|| AbiError::msg("a string needs a memory option"))?;
        Ok(WasmStr { ptr, byte_len: bytes.len() as u32, encoding: cx.encoding, utf16, memory })
    }
}

impl ComponentType for WasmStr {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        String::typecheck(ty, types)
    }
}

impl Lift for WasmStr {
    fn lift_flat(cx: &LiftContext<'_>, _ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
        let (ptr, len) = (src.next_u32()?, src.next_u32()?);
        WasmStr::lift(cx, ptr, len)
    }
    fn load(cx: &LiftContext<'_>, _ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
        let (begin, len) = (cx.uint(ptr, 4)? as u32, cx.uint(offset(ptr, 4)?, 4)? as u32);
        WasmStr::lift(cx, begin, len)
    }
}

/// A list in a guest's memory, lifted without copying: its bounds and alignment were checked when it was
/// lifted; each element is lifted (and checked) when [`get`](WasmList::get) or [`iter`](WasmList::iter)
/// reads it. Lists of numbers can also be read in place with `as_le_slice`. Lift-only: the host passes
/// `&[T]` or `Vec<T>` to a guest. Like [`WasmStr`], meant for host functions' arguments.
pub struct WasmList<T> {
    ptr: u32,
    len: u32,
    element: InterfaceType,
    types: Arc<ComponentTypes>,
    encoding: StringEncoding,
    memory: Memory,
    _element: PhantomData<fn() -> T>,
}

impl<T> Clone for WasmList<T> {
    fn clone(&self) -> Self {
        WasmList { types: self.types.clone(), _element: PhantomData, ..*self }
    }
}

impl<T> std::fmt::Debug for WasmList<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmList").field("ptr", &self.ptr).field("len", &self.len).finish_non_exhaustive()
    }
}

impl<T: Lift> WasmList<T> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element `index`, lifted from the guest's memory in `store` now; `None` past the end, an error if the
    /// guest's bytes are not a valid `T`.
    pub fn get(&self, mut store: impl AsContextMut, index: usize) -> Option<Result<T>> {
        let store = store.as_context_mut();
        (index < self.len()).then(|| self.lift_element(store.as_context(), index))
    }

    /// The elements, each lifted when the iterator reaches it.
    pub fn iter<'a, U: 'static>(&'a self, store: impl Into<StoreContextMut<'a, U>>) -> impl ExactSizeIterator<Item = Result<T>> + 'a {
        let store: StoreContext<'a, U> = store.into().into();
        (0..self.len()).map(move |index| self.lift_element(StoreContext(store.0), index))
    }

    fn lift_element<U: 'static>(&self, store: StoreContext<'_, U>, index: usize) -> Result<T> {
        let memory = self.memory.data(store);
        let cx = LiftContext::for_memory(&self.types, memory, self.encoding, self.memory);
        let ptr = self.ptr + index as u32 * T::ABI.size;
        T::load(&cx, self.element, ptr).map_err(|e| e.at_index(index).into_error("list element"))
    }

    fn lift(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32, len: u32) -> AbiResult<Self> {
        let element = match ty {
            InterfaceType::List(i) => cx.types.list(i).element,
            other => return Err(AbiError::mismatch("list", &super::typed::describe(other))),
        };
        cx.list_bytes(T::ABI, ptr, len)?;
        let memory = cx.memory_handle.ok_or_else(|| AbiError::msg("a list needs a memory option"))?;
        Ok(WasmList { ptr, len, element, types: cx.types.clone(), encoding: cx.encoding, memory, _element: PhantomData })
    }
}

impl<T: ComponentType> ComponentType for WasmList<T> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;
    fn typecheck(ty: InterfaceType, types: &ComponentTypes) -> Result<()> {
        T::typecheck(list_element::<WasmList<T>>(ty, types)?, types)
    }
}

impl<T: Lift> Lift for WasmList<T> {
    fn lift_flat(cx: &LiftContext<'_>, ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
        let (ptr, len) = (src.next_u32()?, src.next_u32()?);
        WasmList::lift(cx, ty, ptr, len)
    }
    fn load(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
        let (begin, len) = (cx.uint(ptr, 4)? as u32, cx.uint(offset(ptr, 4)?, 4)? as u32);
        WasmList::lift(cx, ty, begin, len)
    }
}

/// Numbers whose every bit pattern is a valid value, read in place from guest memory.
mod le {
    /// Implemented only for the integer and float types.
    pub trait Number: Copy {}
    impl Number for u8 {}
    impl Number for i8 {}
    impl Number for u16 {}
    impl Number for i16 {}
    impl Number for u32 {}
    impl Number for i32 {}
    impl Number for u64 {}
    impl Number for i64 {}
    impl Number for f32 {}
    impl Number for f64 {}
}

impl<T: Lift + le::Number> WasmList<T> {
    /// The elements in place in the guest's memory in `store`, without copying (the host is little-endian,
    /// as wasm is). Floats are as the guest wrote them: NaNs are not made canonical here.
    pub fn as_le_slice<'a, U: 'static>(&self, store: impl Into<StoreContext<'a, U>>) -> &'a [T] {
        let bytes = &self.memory.data(store)[self.ptr as usize..][..self.len as usize * size_of::<T>()];
        // SAFETY: `T` is an integer or float type (`le::Number`), for which every bit pattern is a valid
        // value, so reinterpreting initialized bytes as `T`s is sound; `align_to` only yields a middle part
        // that is aligned for `T`. The bytes were checked to be in bounds when the list was lifted, and
        // memory never shrinks.
        let (prefix, elements, _) = unsafe { bytes.align_to::<T>() };
        // The list's address was checked to be aligned for `T` when it was lifted, and guest memory starts
        // on a page boundary, so the whole list is the aligned middle part.
        assert!(prefix.is_empty() && elements.len() == self.len(), "guest memory is page-aligned");
        elements
    }
}

#[cfg(not(target_endian = "little"))]
compile_error!("reading guest lists in place assumes a little-endian host");
