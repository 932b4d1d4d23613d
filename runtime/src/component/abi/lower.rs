//! Lowering: writing component values into a guest's flat core values and memory (`lower_flat` and
//! `store` in the spec), allocating with the guest's `realloc` and checking what it returns; and the type
//! check of host values that comes first, so that a host mistake is found before the guest runs.

use super::layout::{discriminant_size, field_offsets};
use super::lift::offset;
use super::{AbiError, AbiResult, MAX_FLAT_PARAMS, UTF16_TAG};
use crate::Trap;
use crate::component::translate::StringEncoding;
use crate::component::resources::ResourceAny;
use crate::component::type_table::{ComponentTypes, InterfaceType, TypeResourceIndex};
use crate::component::values::Val;

/// The guest side of lowering: its memory and its allocator.
pub trait GuestMemory {
    /// The guest's memory as it is now (`realloc` may grow it); an error if the function has no memory.
    fn memory(&mut self) -> AbiResult<&mut [u8]>;
    /// Calls the guest's `realloc(old_ptr, old_size, align, new_size)`.
    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> AbiResult<u32>;
    /// Gives the guest a handle of resource type `ty` to `resource`: owned (`own<R>`) or lent for the call
    /// (`borrow<R>`); its index in the guest's handle table.
    fn lower_handle(&mut self, ty: TypeResourceIndex, resource: &ResourceAny, own: bool) -> AbiResult<u32>;
}

/// Flat core values being written (raw bits: `i32` and `f32` in the low 32 bits), at most
/// `MAX_FLAT_PARAMS` (16), kept on the stack.
#[derive(Clone, Debug)]
pub struct FlatBuf {
    values: [u64; MAX_FLAT_PARAMS],
    len: usize,
}

impl Default for FlatBuf {
    fn default() -> Self {
        FlatBuf { values: [0; MAX_FLAT_PARAMS], len: 0 }
    }
}

impl FlatBuf {
    /// Appends a value.
    pub fn push(&mut self, value: u64) -> AbiResult<()> {
        let slot = self.values.get_mut(self.len).ok_or_else(|| AbiError::msg("more flat values than a function may pass"))?;
        *slot = value;
        self.len += 1;
        Ok(())
    }

    /// Appends zeros up to `len` values (the unused joined slots of a variant's other cases).
    pub fn pad_to(&mut self, len: usize) -> AbiResult<()> {
        while self.len < len {
            self.push(0)?;
        }
        Ok(())
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The values.
    pub fn as_slice(&self) -> &[u64] {
        &self.values[..self.len]
    }
}

/// What lowering writes to.
pub struct LowerContext<'a> {
    pub types: &'a ComponentTypes,
    pub guest: &'a mut dyn GuestMemory,
    pub encoding: StringEncoding,
    /// Whether the values come from another component (through an adapter) rather than from the host:
    /// a bad `realloc` result is then a trap of what was being copied, as Wasmtime's fused adapters raise
    /// it, instead of the host's error.
    pub between_components: bool,
}

/// What an allocation is for, which decides how a bad `realloc` result is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocation {
    /// A string's contents.
    String,
    /// A list's elements.
    List,
    /// Parameters passed in memory.
    Params,
}

impl LowerContext<'_> {
    /// Lowers `val`, of type `ty`, to flat core values (raw bits) appended to `dst`.
    pub fn lower_flat(&mut self, ty: InterfaceType, val: &Val, dst: &mut FlatBuf) -> AbiResult<()> {
        use InterfaceType as I;
        match (ty, val) {
            (I::Bool, Val::Bool(v)) => dst.push(*v as u64)?,
            (I::S8, Val::S8(v)) => dst.push(*v as i32 as u32 as u64)?,
            (I::U8, Val::U8(v)) => dst.push(*v as u64)?,
            (I::S16, Val::S16(v)) => dst.push(*v as i32 as u32 as u64)?,
            (I::U16, Val::U16(v)) => dst.push(*v as u64)?,
            (I::S32, Val::S32(v)) => dst.push(*v as u32 as u64)?,
            (I::U32, Val::U32(v)) => dst.push(*v as u64)?,
            (I::S64, Val::S64(v)) => dst.push(*v as u64)?,
            (I::U64, Val::U64(v)) => dst.push(*v)?,
            (I::Float32, Val::Float32(v)) => dst.push(v.to_bits() as u64)?,
            (I::Float64, Val::Float64(v)) => dst.push(v.to_bits())?,
            (I::Char, Val::Char(v)) => dst.push(*v as u64)?,
            (I::String, Val::String(s)) => {
                let (ptr, len) = self.string(s)?;
                dst.push(ptr as u64)?;
                dst.push(len as u64)?;
            }
            (I::List(i), Val::List(items)) => {
                let (ptr, len) = self.list(self.types.list(i).element, items)?;
                dst.push(ptr as u64)?;
                dst.push(len as u64)?;
            }
            (I::Map(i), Val::Map(entries)) => {
                let (ptr, len) = self.list(self.types.map(i).entry, &map_entries(entries))?;
                dst.push(ptr as u64)?;
                dst.push(len as u64)?;
            }
            (I::FixedList(i), Val::List(items)) => {
                let list = self.types.fixed_list(i);
                check_len(list.len as usize, items.len())?;
                for (n, item) in items.iter().enumerate() {
                    self.lower_flat(list.element, item, dst).map_err(|e| e.at_index(n))?;
                }
            }
            (I::Record(i), Val::Record(fields)) => {
                for (name, ty, value) in record_fields(self.types, i, fields)? {
                    self.lower_flat(ty, value, dst).map_err(|e| e.at_name(name))?;
                }
            }
            (I::Tuple(i), Val::Tuple(items)) => {
                let types = &self.types.tuple(i).types;
                check_len(types.len(), items.len())?;
                for (n, (ty, item)) in types.iter().zip(items).enumerate() {
                    self.lower_flat(*ty, item, dst).map_err(|e| e.at_index(n))?;
                }
            }
            (I::Flags(i), Val::Flags(names)) => dst.push(flag_bits(&self.types.flags(i).names, names)? as u64)?,
            (I::Own(i), Val::Resource(r)) => dst.push(self.guest.lower_handle(i, r, true)? as u64)?,
            (I::Borrow(i), Val::Resource(r)) => dst.push(self.guest.lower_handle(i, r, false)? as u64)?,
            (I::Enum(i), Val::Enum(name)) => dst.push(case_of(&self.types.enum_(i).names, name)? as u64)?,
            (I::Variant(_) | I::Option(_) | I::Result(_), _) => {
                let (case, payload) = self.case(ty, val)?;
                let slots = self.types.abi(ty).flat_count.map_or(0, |n| n as usize);
                let start = dst.len();
                dst.push(case as u64)?;
                if let Some((ty, value, name)) = payload {
                    self.lower_flat(ty, value, dst).map_err(|e| e.at_name(name))?;
                }
                // The unused joined slots of other cases are zero.
                dst.pad_to(start + slots)?;
            }
            (ty, val) => return Err(AbiError::mismatch(&type_name(ty), val.kind())),
        }
        Ok(())
    }

    /// Stores `val`, of type `ty`, at `ptr` (in bounds and aligned, as the caller checked).
    pub fn store(&mut self, ty: InterfaceType, val: &Val, ptr: u32) -> AbiResult<()> {
        use InterfaceType as I;
        match (ty, val) {
            (I::Bool, Val::Bool(v)) => self.write(ptr, &[*v as u8]),
            (I::S8, Val::S8(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::U8, Val::U8(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::S16, Val::S16(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::U16, Val::U16(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::S32, Val::S32(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::U32, Val::U32(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::S64, Val::S64(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::U64, Val::U64(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::Float32, Val::Float32(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::Float64, Val::Float64(v)) => self.write(ptr, &v.to_le_bytes()),
            (I::Char, Val::Char(v)) => self.write(ptr, &(*v as u32).to_le_bytes()),
            (I::String, Val::String(s)) => {
                let (begin, len) = self.string(s)?;
                self.write_pair(ptr, begin, len)
            }
            (I::List(i), Val::List(items)) => {
                let (begin, len) = self.list(self.types.list(i).element, items)?;
                self.write_pair(ptr, begin, len)
            }
            (I::Map(i), Val::Map(entries)) => {
                let (begin, len) = self.list(self.types.map(i).entry, &map_entries(entries))?;
                self.write_pair(ptr, begin, len)
            }
            (I::FixedList(i), Val::List(items)) => {
                let list = self.types.fixed_list(i);
                check_len(list.len as usize, items.len())?;
                self.elements(list.element, items, ptr)
            }
            (I::Record(i), Val::Record(fields)) => {
                let fields = record_fields(self.types, i, fields)?;
                let offsets = field_offsets(self.types, fields.iter().map(|(_, ty, _)| *ty));
                for ((ty, at), (name, _, value)) in offsets.zip(&fields) {
                    self.store(ty, value, offset(ptr, at)?).map_err(|e| e.at_name(name))?;
                }
                Ok(())
            }
            (I::Tuple(i), Val::Tuple(items)) => {
                let types = &self.types.tuple(i).types;
                check_len(types.len(), items.len())?;
                for (n, ((ty, at), item)) in field_offsets(self.types, types.iter().copied()).zip(items).enumerate() {
                    self.store(ty, item, offset(ptr, at)?).map_err(|e| e.at_index(n))?;
                }
                Ok(())
            }
            (I::Flags(i), Val::Flags(names)) => {
                let flags = self.types.flags(i);
                let bits = flag_bits(&flags.names, names)?.to_le_bytes();
                self.write(ptr, &bits[..flags.abi.size as usize])
            }
            (I::Own(i), Val::Resource(r)) => {
                let index = self.guest.lower_handle(i, r, true)?;
                self.write(ptr, &index.to_le_bytes())
            }
            (I::Borrow(i), Val::Resource(r)) => {
                let index = self.guest.lower_handle(i, r, false)?;
                self.write(ptr, &index.to_le_bytes())
            }
            (I::Enum(i), Val::Enum(name)) => {
                let names = &self.types.enum_(i).names;
                let case = case_of(names, name)?.to_le_bytes();
                self.write(ptr, &case[..discriminant_size(names.len()) as usize])
            }
            (I::Variant(_) | I::Option(_) | I::Result(_), _) => {
                let (case, payload) = self.case(ty, val)?;
                let cases = match ty {
                    I::Variant(i) => self.types.variant(i).cases.len(),
                    _ => 2,
                };
                let discriminant = case.to_le_bytes();
                self.write(ptr, &discriminant[..discriminant_size(cases) as usize])?;
                match payload {
                    Some((payload_ty, value, name)) => {
                        let at = offset(ptr, self.types.abi(ty).payload_offset(cases))?;
                        self.store(payload_ty, value, at).map_err(|e| e.at_name(name))
                    }
                    None => Ok(()),
                }
            }
            (ty, val) => Err(AbiError::mismatch(&type_name(ty), val.kind())),
        }
    }
    /// The case index of variant-like `val` of type `ty`, and its payload's type, value and case name.
    fn case<'v>(&self, ty: InterfaceType, val: &'v Val) -> AbiResult<Case<'v>> {
        case_and_payload(self.types, ty, val)
    }

    /// Writes a string in the context's encoding, allocating with `realloc` as the spec's
    /// `store_string_into_range` does for a UTF-8 source; its pointer and (tagged) length in code units.
    pub fn string(&mut self, s: &str) -> AbiResult<(u32, u32)> {
        let src_units = u32::try_from(s.len()).map_err(|_| AbiError::msg("string too long"))?;
        match self.encoding {
            StringEncoding::Utf8 => {
                let ptr = self.allocate(Allocation::String, 1, src_units)?;
                self.write(ptr, s.as_bytes())?;
                Ok((ptr, src_units))
            }
            StringEncoding::Utf16 => {
                let worst = src_units.checked_mul(2).ok_or_else(|| AbiError::msg("string too long"))?;
                let mut ptr = self.allocate(Allocation::String, 2, worst)?;
                let encoded: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
                self.write(ptr, &encoded)?;
                let len = encoded.len() as u32;
                if len < worst {
                    ptr = self.reallocate(Allocation::String, ptr, worst, 2, len)?;
                }
                Ok((ptr, len / 2))
            }
            StringEncoding::CompactUtf16 => {
                let mut ptr = self.allocate(Allocation::String, 2, src_units)?;
                if s.chars().all(|c| (c as u32) < 0x100) {
                    let latin1: Vec<u8> = s.chars().map(|c| c as u8).collect();
                    self.write(ptr, &latin1)?;
                    let len = latin1.len() as u32;
                    if len < src_units {
                        ptr = self.reallocate(Allocation::String, ptr, src_units, 2, len)?;
                    }
                    return Ok((ptr, len));
                }
                let worst = src_units.checked_mul(2).ok_or_else(|| AbiError::msg("string too long"))?;
                ptr = self.reallocate(Allocation::String, ptr, src_units, 2, worst)?;
                let encoded: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
                self.write(ptr, &encoded)?;
                let len = encoded.len() as u32;
                if len < worst {
                    ptr = self.reallocate(Allocation::String, ptr, worst, 2, len)?;
                }
                Ok((ptr, (len / 2) | UTF16_TAG))
            }
        }
    }

    /// Writes a list's elements into memory allocated for them; its pointer and length.
    fn list(&mut self, element: InterfaceType, items: &[Val]) -> AbiResult<(u32, u32)> {
        let abi = self.types.abi(element);
        let len = u32::try_from(items.len()).map_err(|_| AbiError::msg("list too long"))?;
        let bytes = len.checked_mul(abi.size).ok_or_else(|| AbiError::msg("list too long"))?;
        let ptr = self.allocate(Allocation::List, abi.align, bytes)?;
        self.elements(element, items, ptr)?;
        Ok((ptr, len))
    }

    /// Stores `items`, of type `element`, one after the other from `ptr` on.
    fn elements(&mut self, element: InterfaceType, items: &[Val], ptr: u32) -> AbiResult<()> {
        if element == InterfaceType::U8 {
            // The common byte list, in bulk.
            let bytes = items
                .iter()
                .enumerate()
                .map(|(n, item)| match item {
                    Val::U8(b) => Ok(*b),
                    other => Err(AbiError::mismatch("u8", other.kind()).at_index(n)),
                })
                .collect::<AbiResult<Vec<u8>>>()?;
            return self.write(ptr, &bytes);
        }
        let size = self.types.abi(element).size;
        for (n, item) in items.iter().enumerate() {
            self.store(element, item, offset(ptr, n as u32 * size)?).map_err(|e| e.at_index(n))?;
        }
        Ok(())
    }

    /// `realloc(0, 0, align, size)` for `purpose`, checked.
    pub fn allocate(&mut self, purpose: Allocation, align: u32, size: u32) -> AbiResult<u32> {
        self.reallocate(purpose, 0, 0, align, size)
    }

    /// `realloc(old_ptr, old_size, align, size)`; the result must be aligned and leave `size` bytes in bounds.
    fn reallocate(&mut self, purpose: Allocation, old_ptr: u32, old_size: u32, align: u32, size: u32) -> AbiResult<u32> {
        let ptr = self.guest.realloc(old_ptr, old_size, align, size)?;
        let memory = self.guest.memory()?.len() as u64;
        let details = || format!("`realloc` returned {ptr:#x} for {size} bytes aligned to {align}, memory of {memory} bytes");
        if !ptr.is_multiple_of(align) {
            return Err(match self.between_components {
                true => AbiError::trap(Trap::UnalignedPointer, details()),
                false => AbiError::msg(format!("realloc return: result not aligned ({})", details())),
            });
        }
        if ptr as u64 + size as u64 > memory {
            return Err(match (self.between_components, purpose) {
                (true, Allocation::String) => AbiError::trap(Trap::StringOutOfBounds, details()),
                (true, Allocation::List) => AbiError::trap(Trap::ListOutOfBounds, details()),
                (true, Allocation::Params) => AbiError::trap(Trap::MemoryOutOfBounds, details()),
                (false, _) => AbiError::msg(format!("realloc return: beyond end of memory ({})", details())),
            });
        }
        Ok(ptr)
    }

    /// Writes a pointer and a length at `ptr`.
    pub fn write_pair(&mut self, ptr: u32, first: u32, second: u32) -> AbiResult<()> {
        self.write(ptr, &first.to_le_bytes())?;
        self.write(offset(ptr, 4)?, &second.to_le_bytes())
    }

    /// Writes `bytes` at `ptr`.
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> AbiResult<()> {
        self.memory_range(ptr, bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// The `len` bytes of memory at `ptr`, to write, checked once.
    pub fn memory_range(&mut self, ptr: u32, len: usize) -> AbiResult<&mut [u8]> {
        let memory = self.guest.memory()?;
        let size = memory.len();
        memory
            .get_mut(ptr as usize..ptr as usize + len)
            .ok_or_else(|| AbiError::trap(Trap::MemoryOutOfBounds, format!("{len} bytes at {ptr:#x}, memory of {size} bytes")))
    }
}

/// A variant-like value's case index, and its payload's type, value and case name.
type Case<'v> = (u32, Option<(InterfaceType, &'v Val, &'v str)>);

/// A map's entries as the tuples its canonical layout stores.
fn map_entries(entries: &[(Val, Val)]) -> Vec<Val> {
    entries.iter().map(|(key, value)| Val::Tuple(vec![key.clone(), value.clone()])).collect()
}

/// Checks that `val` has type `ty` (the host's values, before any guest code runs).
pub fn typecheck(types: &ComponentTypes, ty: InterfaceType, val: &Val) -> AbiResult<()> {
    use InterfaceType as I;
    match (ty, val) {
        (I::Bool, Val::Bool(_))
        | (I::S8, Val::S8(_))
        | (I::U8, Val::U8(_))
        | (I::S16, Val::S16(_))
        | (I::U16, Val::U16(_))
        | (I::S32, Val::S32(_))
        | (I::U32, Val::U32(_))
        | (I::S64, Val::S64(_))
        | (I::U64, Val::U64(_))
        | (I::Float32, Val::Float32(_))
        | (I::Float64, Val::Float64(_))
        | (I::Char, Val::Char(_))
        | (I::String, Val::String(_)) => Ok(()),
        (I::List(i), Val::List(items)) => {
            let element = types.list(i).element;
            items.iter().enumerate().try_for_each(|(n, item)| typecheck(types, element, item).map_err(|e| e.at_index(n)))
        }
        (I::Map(i), Val::Map(entries)) => {
            let map = types.map(i);
            entries.iter().enumerate().try_for_each(|(n, (key, value))| {
                typecheck(types, map.key, key).map_err(|e| e.at_name("key"))?;
                typecheck(types, map.value, value).map_err(|e| e.at_name("value"))
            }.map_err(|e| e.at_index(n)))
        }
        (I::FixedList(i), Val::List(items)) => {
            let list = types.fixed_list(i);
            check_len(list.len as usize, items.len())?;
            items.iter().enumerate().try_for_each(|(n, item)| typecheck(types, list.element, item).map_err(|e| e.at_index(n)))
        }
        (I::Record(i), Val::Record(fields)) => record_fields(types, i, fields)?
            .into_iter()
            .try_for_each(|(name, ty, value)| typecheck(types, ty, value).map_err(|e| e.at_name(name))),
        (I::Tuple(i), Val::Tuple(items)) => {
            let tys = &types.tuple(i).types;
            check_len(tys.len(), items.len())?;
            tys.iter().zip(items).enumerate().try_for_each(|(n, (ty, item))| typecheck(types, *ty, item).map_err(|e| e.at_index(n)))
        }
        (I::Flags(i), Val::Flags(names)) => flag_bits(&types.flags(i).names, names).map(drop),
        (I::Own(_), Val::Resource(r)) if !r.owned() => Err(AbiError::msg("a borrowed handle cannot be given as an owned one")),
        (I::Own(_) | I::Borrow(_), Val::Resource(_)) => Ok(()),
        (I::Enum(i), Val::Enum(name)) => case_of(&types.enum_(i).names, name).map(drop),
        (I::Variant(_) | I::Option(_) | I::Result(_), _) => match case_and_payload(types, ty, val)? {
            (_, Some((ty, value, name))) => typecheck(types, ty, value).map_err(|e| e.at_name(name)),
            (_, None) => Ok(()),
        },
        (ty, val) => Err(AbiError::mismatch(&type_name(ty), val.kind())),
    }
}

/// The case index of variant-like `val` of type `ty`, and its payload's type, value and case name.
fn case_and_payload<'v>(
    types: &ComponentTypes,
    ty: InterfaceType,
    val: &'v Val,
) -> AbiResult<Case<'v>> {
    let payload = |ty: Option<InterfaceType>, value: &'v Option<Box<Val>>, name: &'v str| match (ty, value) {
        (Some(ty), Some(value)) => Ok(Some((ty, &**value, name))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(AbiError::msg(format!("case `{name}` needs a payload"))),
        (None, Some(_)) => Err(AbiError::msg(format!("case `{name}` has no payload"))),
    };
    match (ty, val) {
        (InterfaceType::Variant(i), Val::Variant(name, value)) => {
            let cases = &types.variant(i).cases;
            let case = cases.iter().position(|(n, _)| n == name).ok_or_else(|| AbiError::msg(format!("no case `{name}`")))?;
            let payload = payload(cases[case].1, value, name)?;
            Ok((case as u32, payload))
        }
        (InterfaceType::Option(_), Val::Option(None)) => Ok((0, None)),
        (InterfaceType::Option(i), Val::Option(value @ Some(_))) => Ok((1, payload(Some(types.option(i).ty), value, "some")?)),
        (InterfaceType::Result(i), Val::Result(Ok(value))) => Ok((0, payload(types.result(i).ok, value, "ok")?)),
        (InterfaceType::Result(i), Val::Result(Err(value))) => Ok((1, payload(types.result(i).err, value, "err")?)),
        (ty, val) => Err(AbiError::mismatch(&type_name(ty), val.kind())),
    }
}

/// The fields of record `index` paired with the values of `fields`, which must name them in order.
fn record_fields<'a, 'v>(
    types: &'a ComponentTypes,
    index: crate::component::type_table::TypeRecordIndex,
    fields: &'v [(String, Val)],
) -> AbiResult<Vec<(&'a str, InterfaceType, &'v Val)>> {
    let expected = &types.record(index).fields;
    if expected.len() != fields.len() {
        let names = |names: &mut dyn Iterator<Item = &String>| names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        let (wanted, given) = (names(&mut expected.iter().map(|(n, _)| n)), names(&mut fields.iter().map(|(n, _)| n)));
        return Err(AbiError::msg(format!("expected the fields {wanted}, found {given}")));
    }
    expected
        .iter()
        .zip(fields)
        .map(|((name, ty), (given, value))| {
            if name != given {
                return Err(AbiError::msg(format!("expected field `{name}`, found `{given}`")));
            }
            Ok((name.as_str(), *ty, value))
        })
        .collect()
}

fn check_len(expected: usize, found: usize) -> AbiResult<()> {
    if expected != found {
        return Err(AbiError::msg(format!("expected {expected} elements, found {found}")));
    }
    Ok(())
}

/// The bits of the flags named in `set`.
fn flag_bits(names: &[String], set: &[String]) -> AbiResult<u32> {
    set.iter().try_fold(0, |bits, flag| {
        let i = names.iter().position(|n| n == flag).ok_or_else(|| AbiError::msg(format!("no flag `{flag}`")))?;
        Ok(bits | 1 << i)
    })
}

/// The index of case `name` among `names`.
fn case_of(names: &[String], name: &str) -> AbiResult<u32> {
    names.iter().position(|n| n == name).map(|i| i as u32).ok_or_else(|| AbiError::msg(format!("no case `{name}`")))
}

/// A short name of a type, for type-mismatch errors.
fn type_name(ty: InterfaceType) -> String {
    let name = format!("{ty:?}");
    name.split('(').next().unwrap_or_default().to_lowercase()
}
