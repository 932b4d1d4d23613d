//! Lifting: reading component values out of a guest's flat core values and memory (`lift_flat` and `load`
//! in the spec), validating everything the guest could get wrong.

use super::layout::{CanonicalAbiInfo, discriminant_size, field_offsets, map_entry_offsets};
use super::{AbiError, AbiResult, MAX_BYTE_LENGTH, UTF16_TAG};
use crate::Trap;
use crate::component::translate::StringEncoding;
use crate::component::handles::{Handle, HandleTable};
use crate::component::resources::{ResourceAny, ResourceType};
use crate::component::info::ResourceSlot;
use crate::component::type_table::{ComponentTypes, InterfaceType, MapType, TypeResourceIndex};
use crate::component::values::Val;
use crate::component::store::{InstanceData, Options};
use crate::{Memory, StoreContext};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// Flat core values being lifted, as raw bits (`i32` and `f32` in the low 32 bits).
pub struct FlatValues<'a> {
    values: &'a [u64],
    next: usize,
}

impl<'a> FlatValues<'a> {
    /// Lifts from `values`, first to last.
    pub fn new(values: &'a [u64]) -> Self {
        FlatValues { values, next: 0 }
    }

    /// The next value.
    pub fn next_u64(&mut self) -> AbiResult<u64> {
        let value = self.values.get(self.next).copied().ok_or_else(|| AbiError::msg("too few core values"))?;
        self.next += 1;
        Ok(value)
    }

    /// How many values were read so far.
    pub fn position(&self) -> usize {
        self.next
    }

    /// Continues reading at `position` (skipping the unused slots of a variant's other cases).
    pub fn seek(&mut self, position: usize) {
        self.next = position;
    }

    /// The next value as 32 bits.
    pub fn next_u32(&mut self) -> AbiResult<u32> {
        // A wider value in this slot (a variant joined to i64) is wrapped, as the spec's coercion does.
        Ok(self.next_u64()? as u32)
    }
}

/// What lifting reads from: the types, the guest's memory (empty if the function has no memory option), and
/// its string encoding; and how many more bytes the host may allocate for the values lifted (the hostcall
/// fuel).
pub struct LiftContext<'a> {
    pub types: &'a Arc<ComponentTypes>,
    pub memory: &'a [u8],
    pub encoding: StringEncoding,
    /// The memory `memory` is the contents of, for values read later ([`WasmStr`](crate::component::WasmStr),
    /// [`WasmList`](crate::component::WasmList)).
    pub memory_handle: Option<Memory>,
    fuel: Cell<usize>,
    /// The lifting instance's handles, if handles may be lifted here.
    resources: Option<LiftResources<'a>>,
}

/// The handles lifting reads: the instance's table and resource types, and the owned handles lifted so far
/// (which the caller removes from the table once lifting is done, see [`LiftContext::taken_handles`]).
struct LiftResources<'a> {
    /// The instance, whose (nested) instance `nested` lifts, of types numbering resources as instance `ns`
    /// does: what they point to is looked up only when a handle is lifted.
    data: &'a InstanceData,
    nested: usize,
    ns: usize,
    taken: RefCell<Vec<(u32, ResourceSlot, Option<u64>)>>,
    /// The owned handles lent (lifted as borrows) for the call: they cannot be moved out in the same call.
    lent: RefCell<Vec<u32>>,
}

impl LiftResources<'_> {
    /// The slot of resource type number `ty`.
    fn slot(&self, ty: TypeResourceIndex) -> ResourceSlot {
        self.data.component.info().frame_resources[self.ns][ty.0 as usize]
    }

    /// The lifting instance's handles.
    fn handles(&self) -> &HandleTable {
        &self.data.handles[self.nested]
    }

    /// The resource type in `slot`.
    fn ty(&self, slot: ResourceSlot) -> ResourceType {
        self.data.resource_types[slot.0 as usize]
    }
}

/// The canonical NaN of `f32`; lifting replaces every NaN with it.
const CANONICAL_NAN32: u32 = 0x7fc0_0000;
/// The canonical NaN of `f64`.
const CANONICAL_NAN64: u64 = 0x7ff8_0000_0000_0000;

/// The `f32` of `bits`, with NaNs made canonical (as lifting does).
pub fn f32_from(bits: u32) -> f32 {
    let f = f32::from_bits(bits);
    if f.is_nan() { f32::from_bits(CANONICAL_NAN32) } else { f }
}

/// The `f64` of `bits`, with NaNs made canonical.
pub fn f64_from(bits: u64) -> f64 {
    let f = f64::from_bits(bits);
    if f.is_nan() { f64::from_bits(CANONICAL_NAN64) } else { f }
}

/// The `char` of `bits`, or the trap for a surrogate or a value beyond `0x10FFFF`.
pub fn char_from(bits: u32) -> AbiResult<char> {
    char::from_u32(bits).ok_or_else(|| AbiError::trap(Trap::InvalidChar, format!("{bits:#x}")))
}

impl<'a> LiftContext<'a> {
    /// Lifts with canonical options `options` from the memory they name in `store`, allocating at most
    /// `fuel` bytes for the values, of types whose resource numbers are (nested) component instance `ns`'s.
    pub(crate) fn new<T: 'static>(
        types: &'a Arc<ComponentTypes>,
        options: Options,
        store: StoreContext<'a, T>,
        fuel: usize,
        instance: usize,
        ns: usize,
    ) -> Self {
        let memory = options.memory.map_or(&[][..], |m| m.data(StoreContext(store.0)));
        let data = &store.0.opaque.components.instances[instance];
        let resources = LiftResources {
            data,
            nested: options.nested,
            ns,
            taken: RefCell::new(Vec::new()),
            lent: RefCell::new(Vec::new()),
        };
        LiftContext { types, memory, encoding: options.encoding, memory_handle: options.memory, fuel: Cell::new(fuel), resources: Some(resources) }
    }

    /// The owned handles lifted (moved to the host): the caller removes them from the instance's table.
    #[inline]
    pub(crate) fn taken_handles(self) -> Vec<(u32, ResourceSlot, Option<u64>)> {
        self.resources.map(|r| r.taken.into_inner()).unwrap_or_default()
    }

    /// Lifts owned handle `index` of resource type `ty`: the resource, moved out of the guest.
    pub fn lift_own(&self, ty: TypeResourceIndex, index: u32) -> AbiResult<ResourceAny> {
        let resources = self.resources.as_ref().ok_or_else(|| AbiError::msg("resource handles cannot be lifted here"))?;
        let slot = resources.slot(ty);
        let Handle::Own { rep, .. } = resources.handles().get(index, slot)? else {
            return Err(AbiError::msg(format!("handle index {index} is borrowed, not owned")));
        };
        let mut taken = resources.taken.borrow_mut();
        if taken.iter().any(|(i, _, _)| *i == index) {
            return Err(AbiError::msg(format!("unknown handle index {index}")));
        }
        // Lent in this call, or to a call into another instance that is still running.
        if resources.lent.borrow().contains(&index) || resources.data.is_lent(resources.nested, index) {
            return Err(AbiError::msg(format!("cannot remove owned resource while borrowed (handle index {index})")));
        }
        let resource = ResourceAny::given(resources.ty(slot), rep);
        taken.push((index, slot, resource.token()));
        Ok(resource)
    }

    /// Lifts borrowed handle `index` of resource type `ty` (an owned or a borrowed handle of the guest).
    pub fn lift_borrow(&self, ty: TypeResourceIndex, index: u32) -> AbiResult<ResourceAny> {
        let resources = self.resources.as_ref().ok_or_else(|| AbiError::msg("resource handles cannot be lifted here"))?;
        if resources.taken.borrow().iter().any(|(i, _, _)| *i == index) {
            return Err(AbiError::msg(format!("unknown handle index {index}")));
        }
        let slot = resources.slot(ty);
        let rep = match resources.handles().get(index, slot)? {
            Handle::Own { rep, .. } => {
                resources.lent.borrow_mut().push(index);
                rep
            }
            Handle::Borrow { rep, .. } => rep,
        };
        Ok(ResourceAny::new(resources.ty(slot), rep, false))
    }

    /// Lifts nothing: for a function without results, whose call need not look at memory or handles.
    pub(crate) fn nothing(types: &'a Arc<ComponentTypes>) -> Self {
        LiftContext { types, memory: &[], encoding: StringEncoding::Utf8, memory_handle: None, fuel: Cell::new(0), resources: None }
    }

    /// Lifts from `memory` (the contents of `handle`) later, after the call that lifted a lazy view:
    /// nothing is allocated for the host beyond the values asked for, so no fuel is counted.
    pub(crate) fn for_memory(types: &'a Arc<ComponentTypes>, memory: &'a [u8], encoding: StringEncoding, handle: Memory) -> Self {
        LiftContext { types, memory, encoding, memory_handle: Some(handle), fuel: Cell::new(usize::MAX), resources: None }
    }

    /// Spends the fuel for `count` lifted items of `size` bytes each, or fails if there is not enough left.
    pub fn consume_fuel(&self, count: usize, size: usize) -> AbiResult<()> {
        match count.checked_mul(size).and_then(|bytes| self.fuel.get().checked_sub(bytes)) {
            Some(left) => {
                self.fuel.set(left);
                Ok(())
            }
            None => Err(AbiError::msg(
                "too much data is being copied between the host and the guest: fuel allocated for hostcalls has been exhausted",
            )),
        }
    }

    /// Lifts a value of type `ty` from flat core values.
    pub fn lift_flat(&self, ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Val> {
        use InterfaceType as I;
        Ok(match ty {
            I::Bool => Val::Bool(src.next_u32()? != 0),
            I::S8 => Val::S8(src.next_u32()? as i8),
            I::U8 => Val::U8(src.next_u32()? as u8),
            I::S16 => Val::S16(src.next_u32()? as i16),
            I::U16 => Val::U16(src.next_u32()? as u16),
            I::S32 => Val::S32(src.next_u32()? as i32),
            I::U32 => Val::U32(src.next_u32()?),
            I::S64 => Val::S64(src.next_u64()? as i64),
            I::U64 => Val::U64(src.next_u64()?),
            I::Float32 => Val::Float32(f32_from(src.next_u32()?)),
            I::Float64 => Val::Float64(f64_from(src.next_u64()?)),
            I::Char => Val::Char(char_from(src.next_u32()?)?),
            I::String => {
                let (ptr, len) = (src.next_u32()?, src.next_u32()?);
                Val::String(self.string(ptr, len)?)
            }
            I::List(i) => {
                let (ptr, len) = (src.next_u32()?, src.next_u32()?);
                Val::List(self.list(self.types.list(i).element, ptr, len)?)
            }
            I::Map(i) => {
                let (ptr, len) = (src.next_u32()?, src.next_u32()?);
                Val::Map(self.map(self.types.map(i), ptr, len)?)
            }
            I::FixedList(i) => {
                let list = self.types.fixed_list(i);
                Val::List(
                    (0..list.len as usize)
                        .map(|n| self.lift_flat(list.element, src).map_err(|e| e.at_index(n)))
                        .collect::<AbiResult<_>>()?,
                )
            }
            I::Record(i) => Val::Record(
                self.types
                    .record(i)
                    .fields
                    .iter()
                    .map(|(name, ty)| Ok((name.clone(), self.lift_flat(*ty, src).map_err(|e| e.at_name(name))?)))
                    .collect::<AbiResult<_>>()?,
            ),
            I::Tuple(i) => Val::Tuple(
                self.types
                    .tuple(i)
                    .types
                    .iter()
                    .enumerate()
                    .map(|(n, ty)| self.lift_flat(*ty, src).map_err(|e| e.at_index(n)))
                    .collect::<AbiResult<_>>()?,
            ),
            I::Flags(i) => Val::Flags(flag_names(&self.types.flags(i).names, src.next_u32()?)),
            I::Own(i) => Val::Resource(self.lift_own(i, src.next_u32()?)?),
            I::Borrow(i) => Val::Resource(self.lift_borrow(i, src.next_u32()?)?),
            I::Enum(i) => {
                let names = &self.types.enum_(i).names;
                let case = src.next_u32()?;
                Val::Enum(names.get(case as usize).ok_or_else(|| bad_discriminant(case, names.len()))?.clone())
            }
            I::Variant(_) | I::Option(_) | I::Result(_) => {
                // The payload takes the joined slots of all cases: skip those this case does not use.
                let slots = self.types.abi(ty).flat_count.map_or(0, |n| n as usize);
                let start = src.next;
                let case = src.next_u32()?;
                let value = self.variant(ty, case, |ty| self.lift_flat(ty, src))?;
                src.next = start + slots;
                value
            }
        })
    }

    /// Loads a value of type `ty` stored at `ptr` (which the caller has checked is aligned and in bounds
    /// for the type; a bad one is still an error, never an access outside the memory).
    pub fn load(&self, ty: InterfaceType, ptr: u32) -> AbiResult<Val> {
        use InterfaceType as I;
        Ok(match ty {
            I::Bool => Val::Bool(self.uint(ptr, 1)? != 0),
            I::S8 => Val::S8(self.uint(ptr, 1)? as i8),
            I::U8 => Val::U8(self.uint(ptr, 1)? as u8),
            I::S16 => Val::S16(self.uint(ptr, 2)? as i16),
            I::U16 => Val::U16(self.uint(ptr, 2)? as u16),
            I::S32 => Val::S32(self.uint(ptr, 4)? as i32),
            I::U32 => Val::U32(self.uint(ptr, 4)? as u32),
            I::S64 => Val::S64(self.uint(ptr, 8)? as i64),
            I::U64 => Val::U64(self.uint(ptr, 8)?),
            I::Float32 => Val::Float32(f32_from(self.uint(ptr, 4)? as u32)),
            I::Float64 => Val::Float64(f64_from(self.uint(ptr, 8)?)),
            I::Char => Val::Char(char_from(self.uint(ptr, 4)? as u32)?),
            I::String => {
                let (begin, len) = (self.uint(ptr, 4)? as u32, self.uint(offset(ptr, 4)?, 4)? as u32);
                Val::String(self.string(begin, len)?)
            }
            I::List(i) => {
                let (begin, len) = (self.uint(ptr, 4)? as u32, self.uint(offset(ptr, 4)?, 4)? as u32);
                Val::List(self.list(self.types.list(i).element, begin, len)?)
            }
            I::Map(i) => {
                let (begin, len) = (self.uint(ptr, 4)? as u32, self.uint(offset(ptr, 4)?, 4)? as u32);
                Val::Map(self.map(self.types.map(i), begin, len)?)
            }
            I::FixedList(i) => {
                let list = self.types.fixed_list(i);
                Val::List(self.elements(list.element, ptr, list.len)?)
            }
            I::Record(i) => {
                let fields = &self.types.record(i).fields;
                let offsets = field_offsets(self.types, fields.iter().map(|(_, ty)| *ty));
                let values = offsets.zip(fields).map(|((ty, at), (name, _))| {
                    Ok((name.clone(), self.load(ty, offset(ptr, at)?).map_err(|e| e.at_name(name))?))
                });
                Val::Record(values.collect::<AbiResult<_>>()?)
            }
            I::Tuple(i) => {
                let offsets = field_offsets(self.types, self.types.tuple(i).types.iter().copied());
                let elements = offsets.enumerate().map(|(n, (ty, at))| self.load(ty, offset(ptr, at)?).map_err(|e| e.at_index(n)));
                Val::Tuple(elements.collect::<AbiResult<_>>()?)
            }
            I::Flags(i) => {
                let flags = self.types.flags(i);
                Val::Flags(flag_names(&flags.names, self.uint(ptr, flags.abi.size)? as u32))
            }
            I::Own(i) => Val::Resource(self.lift_own(i, self.uint(ptr, 4)? as u32)?),
            I::Borrow(i) => Val::Resource(self.lift_borrow(i, self.uint(ptr, 4)? as u32)?),
            I::Enum(i) => {
                let names = &self.types.enum_(i).names;
                let case = self.uint(ptr, discriminant_size(names.len()))? as u32;
                Val::Enum(names.get(case as usize).ok_or_else(|| bad_discriminant(case, names.len()))?.clone())
            }
            I::Variant(_) | I::Option(_) | I::Result(_) => {
                let (cases, abi) = (self.case_count(ty), self.types.abi(ty));
                let case = self.uint(ptr, discriminant_size(cases))? as u32;
                let payload = offset(ptr, abi.payload_offset(cases))?;
                self.variant(ty, case, |ty| self.load(ty, payload))?
            }
        })
    }

    /// The number of cases of a variant-like type.
    fn case_count(&self, ty: InterfaceType) -> usize {
        match ty {
            InterfaceType::Variant(i) => self.types.variant(i).cases.len(),
            _ => 2,
        }
    }

    /// Builds variant-like value `ty` of case `case`, lifting its payload with `payload`.
    fn variant(&self, ty: InterfaceType, case: u32, payload: impl FnOnce(InterfaceType) -> AbiResult<Val>) -> AbiResult<Val> {
        let boxed = |ty: Option<InterfaceType>, name: &str| -> AbiResult<Option<Box<Val>>> {
            ty.map(|ty| payload(ty).map(Box::new).map_err(|e| e.at_name(name))).transpose()
        };
        Ok(match (ty, case) {
            (InterfaceType::Variant(i), _) => {
                let cases = &self.types.variant(i).cases;
                let (name, ty) = cases.get(case as usize).ok_or_else(|| bad_discriminant(case, cases.len()))?;
                Val::Variant(name.clone(), boxed(*ty, name)?)
            }
            (InterfaceType::Option(_), 0) => Val::Option(None),
            (InterfaceType::Option(i), 1) => Val::Option(boxed(Some(self.types.option(i).ty), "some")?),
            (InterfaceType::Result(i), 0) => Val::Result(Ok(boxed(self.types.result(i).ok, "ok")?)),
            (InterfaceType::Result(i), 1) => Val::Result(Err(boxed(self.types.result(i).err, "err")?)),
            _ => return Err(bad_discriminant(case, 2)),
        })
    }

    /// `size` (1, 2, 4 or 8) little-endian bytes at `ptr`, zero-extended.
    pub fn uint(&self, ptr: u32, size: u32) -> AbiResult<u64> {
        let bytes = self.bytes(ptr, size, Trap::MemoryOutOfBounds)?;
        let mut buf = [0u8; 8];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(u64::from_le_bytes(buf))
    }

    /// `len` bytes at `ptr`, or `trap` if they are not all in the memory.
    pub fn bytes(&self, ptr: u32, len: u32, trap: Trap) -> AbiResult<&'a [u8]> {
        let end = ptr as u64 + len as u64;
        self.memory
            .get(ptr as usize..end as usize)
            .ok_or_else(|| AbiError::trap(trap, format!("{len} bytes at {ptr:#x}, memory of {} bytes", self.memory.len())))
    }

    /// A string at `ptr` of `len` code units (tagged for `latin1+utf16`), in the context's encoding.
    pub fn string(&self, ptr: u32, len: u32) -> AbiResult<String> {
        let (bytes, utf16) = self.string_bytes(ptr, len)?;
        Ok(decode_string(bytes, self.encoding, utf16)?.into_owned())
    }

    /// The bytes of a string at `ptr` of `len` code units, checked (aligned, in bounds, not too long) and
    /// paid for with fuel, and whether they are UTF-16.
    pub fn string_bytes(&self, ptr: u32, len: u32) -> AbiResult<(&'a [u8], bool)> {
        let (utf16, units) = match self.encoding {
            StringEncoding::Utf8 => (false, len),
            StringEncoding::Utf16 => (true, len),
            StringEncoding::CompactUtf16 => (len & UTF16_TAG != 0, len & !UTF16_TAG),
        };
        let unit = if utf16 { 2 } else { 1 };
        let byte_len = units as u64 * unit;
        if byte_len > MAX_BYTE_LENGTH {
            return Err(AbiError::trap(Trap::StringOutOfBounds, format!("{byte_len} bytes is too long")));
        }
        let align = if self.encoding == StringEncoding::Utf8 { 1 } else { 2 };
        if !ptr.is_multiple_of(align) {
            return Err(AbiError::trap(Trap::UnalignedPointer, format!("string at {ptr:#x}")));
        }
        let bytes = self
            .bytes(ptr, byte_len as u32, Trap::StringOutOfBounds)
            .map_err(|e| AbiError::trap(Trap::StringOutOfBounds, format!("string pointer/length out of bounds of memory: {}", e.message)))?;
        self.consume_fuel(bytes.len(), 1)?;
        Ok((bytes, utf16))
    }

    /// A list of `len` elements of type `element` at `ptr`.
    pub fn list(&self, element: InterfaceType, ptr: u32, len: u32) -> AbiResult<Vec<Val>> {
        self.list_bytes(self.types.abi(element), ptr, len)?;
        self.elements(element, ptr, len)
    }

    /// A map of `len` entries at `ptr`: a list of `tuple<K, V>`.
    fn map(&self, map: &MapType, ptr: u32, len: u32) -> AbiResult<Vec<(Val, Val)>> {
        let entry = self.types.abi(map.entry);
        self.list_bytes(entry, ptr, len)?;
        self.consume_fuel(len as usize, size_of::<(Val, Val)>())?;
        let (key_at, value_at) = map_entry_offsets(self.types, map);
        let load_entry = |at: u32| -> AbiResult<(Val, Val)> {
            let key = self.load(map.key, offset(at, key_at)?).map_err(|e| e.at_name("key"))?;
            let value = self.load(map.value, offset(at, value_at)?).map_err(|e| e.at_name("value"))?;
            Ok((key, value))
        };
        (0..len).map(|n| load_entry(offset(ptr, n * entry.size)?).map_err(|e| e.at_index(n as usize))).collect()
    }

    /// The bytes of a list of `len` elements of layout `element` at `ptr`, checked: aligned, in bounds, and
    /// not beyond the largest list.
    pub fn list_bytes(&self, element: CanonicalAbiInfo, ptr: u32, len: u32) -> AbiResult<&'a [u8]> {
        let byte_len = len as u64 * element.size as u64;
        if byte_len > MAX_BYTE_LENGTH {
            return Err(AbiError::trap(Trap::ListOutOfBounds, format!("{len} elements is too long")));
        }
        if !ptr.is_multiple_of(element.align) {
            return Err(AbiError::trap(Trap::UnalignedPointer, format!("list at {ptr:#x}")));
        }
        self.bytes(ptr, byte_len as u32, Trap::ListOutOfBounds)
            .map_err(|e| AbiError::trap(Trap::ListOutOfBounds, format!("list pointer/length out of bounds of memory: {}", e.message)))
    }

    /// `len` elements of type `element` from `ptr` on, in a range already checked.
    fn elements(&self, element: InterfaceType, ptr: u32, len: u32) -> AbiResult<Vec<Val>> {
        self.consume_fuel(len as usize, size_of::<Val>())?;
        let size = self.types.abi(element).size;
        if element == InterfaceType::U8 {
            // The common byte list, in bulk.
            return Ok(self.bytes(ptr, len, Trap::ListOutOfBounds)?.iter().map(|&b| Val::U8(b)).collect());
        }
        (0..len).map(|n| self.load(element, offset(ptr, n * size)?).map_err(|e| e.at_index(n as usize))).collect()
    }
}

/// The string in `bytes`, encoded as `encoding` says (`utf16` for a `latin1+utf16` string that is UTF-16):
/// borrowed when it is UTF-8, or an error for invalid UTF-8 or UTF-16.
pub(crate) fn decode_string(bytes: &[u8], encoding: StringEncoding, utf16: bool) -> AbiResult<Cow<'_, str>> {
    match (encoding, utf16) {
        (StringEncoding::Utf8, _) => std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| AbiError::msg(e.to_string())),
        (_, true) => {
            let units = bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]]));
            char::decode_utf16(units)
                .enumerate()
                .map(|(i, c)| c.map_err(|_| AbiError::msg(format!("invalid utf-16: unpaired surrogate at code unit {i}"))))
                .collect::<AbiResult<String>>()
                .map(Cow::Owned)
        }
        (_, false) => Ok(Cow::Owned(bytes.iter().map(|&b| b as char).collect())),
    }
}

/// `ptr + by`, or an out-of-bounds error if that leaves the 32-bit address space.
pub(crate) fn offset(ptr: u32, by: u32) -> AbiResult<u32> {
    ptr.checked_add(by).ok_or_else(|| AbiError::trap(Trap::MemoryOutOfBounds, format!("{ptr:#x} + {by}")))
}

/// The names of the flags set in `bits` (bits beyond the flags are ignored, as the spec says).
fn flag_names(names: &[String], bits: u32) -> Vec<String> {
    names.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, name)| name.clone()).collect()
}

fn bad_discriminant(case: u32, cases: usize) -> AbiError {
    AbiError::trap(Trap::InvalidDiscriminant, format!("{case} of {cases} cases"))
}
