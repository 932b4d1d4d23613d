//! What the derive macros' code calls (`#[derive(ComponentType, Lift, Lower)]`, `flags!`): one generic
//! implementation per kind of type (record, variant, enum, flags), so that a derived impl is a few lines
//! listing its fields or cases, and types compile fast however many a crate derives. `Option` and `Result`
//! use the same variant code. Not a public API: the macros reach it as `tenon::component::__internal`.

use super::abi::layout::{CanonicalAbiInfo, align_to, discriminant_size};
use super::abi::lift::{FlatValues, LiftContext, offset};
use super::abi::lower::{FlatBuf, LowerContext};
use super::abi::{AbiError, AbiResult};
use super::type_table::{ComponentTypes, InterfaceType};
use super::typed::{DynLower, Lift, bad_case, describe, payload_slots};
use anyhow::{Context, Result, bail};

/// A Rust type's check against a component type: its `ComponentType::typecheck`.
pub type Typecheck = fn(InterfaceType, &ComponentTypes) -> Result<()>;

/// The refusal of Rust type `rust` for component type `ty`.
fn not(rust: &str, ty: InterfaceType) -> anyhow::Error {
    anyhow::anyhow!("type mismatch: `{rust}` is not the component type {}", describe(ty))
}

/// Checks that names `ours` (the Rust type's) are `theirs` (the component type's), in order.
fn same_names<'a>(rust: &str, what: &str, ours: impl ExactSizeIterator<Item = &'a str>, theirs: &[&str]) -> Result<()> {
    let ours: Vec<&str> = ours.collect();
    if ours != theirs {
        let list = |names: &[&str]| names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        bail!("type mismatch: `{rust}` has the {what} {}, the component type has {}", list(&ours), list(theirs));
    }
    Ok(())
}

// Records.

/// Checks record type `ty` against a Rust type `rust` with `fields` (component names and checks), in order.
pub fn typecheck_record(ty: InterfaceType, types: &ComponentTypes, rust: &str, fields: &[(&str, Typecheck)]) -> Result<()> {
    let InterfaceType::Record(i) = ty else { return Err(not(rust, ty)) };
    let theirs = &types.record(i).fields;
    let names: Vec<&str> = theirs.iter().map(|(name, _)| name.as_str()).collect();
    same_names(rust, "fields", fields.iter().map(|(name, _)| *name), &names)?;
    for ((name, check), (_, field_ty)) in fields.iter().zip(theirs.iter()) {
        check(*field_ty, types).with_context(|| format!("field `{name}`"))?;
    }
    Ok(())
}

/// The fields of record type `ty` (checked before).
fn record_fields(types: &ComponentTypes, ty: InterfaceType) -> AbiResult<&[(String, InterfaceType)]> {
    match ty {
        InterfaceType::Record(i) => Ok(&types.record(i).fields),
        other => Err(AbiError::mismatch("record", &describe(other))),
    }
}

/// Where a value is lifted from: flat values, or memory at a pointer (aligned and in bounds for its type).
pub enum LiftSource<'a, 'v> {
    /// Flat core values.
    Flat(&'a mut FlatValues<'v>),
    /// Memory at this address.
    Memory(u32),
}

/// Where a value is lowered to: flat values, or memory at a pointer (aligned and in bounds for its type).
pub enum LowerDest<'a> {
    /// Flat core values.
    Flat(&'a mut FlatBuf),
    /// Memory at this address.
    Memory(u32),
}

/// Lowers a record's `fields` (in order) to `dst`.
pub fn lower_record(cx: &mut LowerContext<'_>, ty: InterfaceType, fields: &[&dyn DynLower], dst: LowerDest<'_>) -> AbiResult<()> {
    match dst {
        LowerDest::Flat(dst) => lower_record_flat(cx, ty, fields, dst),
        LowerDest::Memory(ptr) => store_record(cx, ty, fields, ptr),
    }
}

/// Lowers a record's `fields` (in order) flat.
fn lower_record_flat(cx: &mut LowerContext<'_>, ty: InterfaceType, fields: &[&dyn DynLower], dst: &mut FlatBuf) -> AbiResult<()> {
    let types = cx.types;
    for ((name, field_ty), value) in record_fields(types, ty)?.iter().zip(fields) {
        value.lower_flat_dyn(cx, *field_ty, dst).map_err(|e| e.at_name(name))?;
    }
    Ok(())
}

/// Stores a record's `fields` (in order) at `ptr`.
fn store_record(cx: &mut LowerContext<'_>, ty: InterfaceType, fields: &[&dyn DynLower], ptr: u32) -> AbiResult<()> {
    let types = cx.types;
    let mut at = 0;
    for ((name, field_ty), value) in record_fields(types, ty)?.iter().zip(fields) {
        let abi = types.abi(*field_ty);
        at = align_to(at, abi.align);
        value.store_dyn(cx, *field_ty, offset(ptr, at)?).map_err(|e| e.at_name(name))?;
        at += abi.size;
    }
    Ok(())
}

/// Reads a record's fields one after the other, from flat values or from memory.
pub struct RecordReader<'a, 'c, 'v> {
    cx: &'a LiftContext<'c>,
    fields: std::slice::Iter<'a, (String, InterfaceType)>,
    from: Source<'a, 'v>,
}

/// Where values are read from.
enum Source<'a, 'v> {
    Flat(&'a mut FlatValues<'v>),
    /// A record at `ptr`, whose next field is at `at` or after.
    Memory { ptr: u32, at: u32 },
}

impl<'a, 'c, 'v> RecordReader<'a, 'c, 'v> {
    /// Reads record `ty` from `src`.
    pub fn new(cx: &'a LiftContext<'c>, ty: InterfaceType, src: LiftSource<'a, 'v>) -> AbiResult<Self> {
        let from = match src {
            LiftSource::Flat(src) => Source::Flat(src),
            LiftSource::Memory(ptr) => Source::Memory { ptr, at: 0 },
        };
        Ok(RecordReader { cx, fields: record_fields(cx.types, ty)?.iter(), from })
    }

    /// The next field, as a `T`.
    pub fn field<T: Lift>(&mut self) -> AbiResult<T> {
        let (name, ty) = self.fields.next().ok_or_else(|| AbiError::msg("more fields than the record type has"))?;
        let value = match &mut self.from {
            Source::Flat(src) => T::lift_flat(self.cx, *ty, src),
            Source::Memory { ptr, at } => {
                let abi = self.cx.types.abi(*ty);
                let field_at = align_to(*at, abi.align);
                *at = field_at + abi.size;
                T::load(self.cx, *ty, offset(*ptr, field_at)?)
            }
        };
        value.map_err(|e| e.at_name(name))
    }
}

// Variants and enums.

/// Checks variant type `ty` against a Rust enum `rust` with `cases` (component names and payload checks, in
/// order).
pub fn typecheck_variant(ty: InterfaceType, types: &ComponentTypes, rust: &str, cases: &[(&str, Option<Typecheck>)]) -> Result<()> {
    let InterfaceType::Variant(i) = ty else { return Err(not(rust, ty)) };
    let theirs = &types.variant(i).cases;
    let names: Vec<&str> = theirs.iter().map(|(name, _)| name.as_str()).collect();
    same_names(rust, "cases", cases.iter().map(|(name, _)| *name), &names)?;
    for ((name, check), (_, payload)) in cases.iter().zip(theirs.iter()) {
        match (check, payload) {
            (Some(check), Some(payload)) => check(*payload, types).with_context(|| format!("case `{name}`"))?,
            (None, None) => {}
            (Some(_), None) => bail!("type mismatch: case `{name}` of `{rust}` has a payload, the component type's has none"),
            (None, Some(_)) => bail!("type mismatch: case `{name}` of `{rust}` has no payload, the component type's has one"),
        }
    }
    Ok(())
}

/// Checks enum type `ty` against a Rust enum `rust` with case `names` (in order).
pub fn typecheck_enum(ty: InterfaceType, types: &ComponentTypes, rust: &str, names: &[&str]) -> Result<()> {
    let InterfaceType::Enum(i) = ty else { return Err(not(rust, ty)) };
    let theirs: Vec<&str> = types.enum_(i).names.iter().map(String::as_str).collect();
    same_names(rust, "cases", names.iter().copied(), &theirs)
}

/// The number of cases of variant or enum type `ty`.
fn case_count(types: &ComponentTypes, ty: InterfaceType) -> AbiResult<usize> {
    match ty {
        InterfaceType::Variant(i) => Ok(types.variant(i).cases.len()),
        InterfaceType::Enum(i) => Ok(types.enum_(i).names.len()),
        InterfaceType::Option(_) | InterfaceType::Result(_) => Ok(2),
        other => Err(AbiError::mismatch("variant", &describe(other))),
    }
}

/// The number of cases of variant-like type `ty` (a variant, enum, option or result), and the name and
/// payload type of case `case`.
fn case_of(types: &ComponentTypes, ty: InterfaceType, case: u32) -> AbiResult<(usize, &str, Option<InterfaceType>)> {
    match ty {
        InterfaceType::Variant(i) => {
            let cases = &types.variant(i).cases;
            let (name, payload) = cases.get(case as usize).ok_or_else(|| bad_case(case, cases.len()))?;
            Ok((cases.len(), name, *payload))
        }
        InterfaceType::Enum(i) => {
            let names = &types.enum_(i).names;
            Ok((names.len(), names.get(case as usize).ok_or_else(|| bad_case(case, names.len()))?, None))
        }
        InterfaceType::Option(i) => match case {
            0 => Ok((2, "none", None)),
            1 => Ok((2, "some", Some(types.option(i).ty))),
            _ => Err(bad_case(case, 2)),
        },
        InterfaceType::Result(i) => match case {
            0 => Ok((2, "ok", types.result(i).ok)),
            1 => Ok((2, "err", types.result(i).err)),
            _ => Err(bad_case(case, 2)),
        },
        other => Err(AbiError::mismatch("variant", &describe(other))),
    }
}

/// Lowers case `case` of a variant or enum of layout `abi` to `dst`, with its payload if it has one.
pub fn lower_case(
    cx: &mut LowerContext<'_>,
    ty: InterfaceType,
    abi: CanonicalAbiInfo,
    case: u32,
    payload: Option<&dyn DynLower>,
    dst: LowerDest<'_>,
) -> AbiResult<()> {
    match dst {
        LowerDest::Flat(dst) => lower_case_flat(cx, ty, abi, case, payload, dst),
        LowerDest::Memory(ptr) => store_case(cx, ty, abi, case, payload, ptr),
    }
}

/// Lowers case `case` of a variant or enum of layout `abi` flat, with its payload if it has one.
fn lower_case_flat(
    cx: &mut LowerContext<'_>,
    ty: InterfaceType,
    abi: CanonicalAbiInfo,
    case: u32,
    payload: Option<&dyn DynLower>,
    dst: &mut FlatBuf,
) -> AbiResult<()> {
    let (_, name, payload_ty) = case_of(cx.types, ty, case)?;
    dst.push(case as u64)?;
    let start = dst.len();
    if let (Some(value), Some(payload_ty)) = (payload, payload_ty) {
        value.lower_flat_dyn(cx, payload_ty, dst).map_err(|e| e.at_name(name))?;
    }
    dst.pad_to(start + payload_slots(abi))
}

/// Stores case `case` of a variant or enum of layout `abi` at `ptr`, with its payload if it has one.
fn store_case(
    cx: &mut LowerContext<'_>,
    ty: InterfaceType,
    abi: CanonicalAbiInfo,
    case: u32,
    payload: Option<&dyn DynLower>,
    ptr: u32,
) -> AbiResult<()> {
    let (cases, name, payload_ty) = case_of(cx.types, ty, case)?;
    cx.write(ptr, &case.to_le_bytes()[..discriminant_size(cases) as usize])?;
    match (payload, payload_ty) {
        (Some(value), Some(payload_ty)) => {
            value.store_dyn(cx, payload_ty, offset(ptr, abi.payload_offset(cases))?).map_err(|e| e.at_name(name))
        }
        _ => Ok(()),
    }
}

/// The case a variant or enum value read is, and where its payload is.
pub struct CaseReader<'a, 'c, 'v> {
    cx: &'a LiftContext<'c>,
    case: u32,
    name: &'a str,
    payload: Option<InterfaceType>,
    from: Source<'a, 'v>,
}

impl CaseReader<'_, '_, '_> {
    /// The case's payload, as a `T` (`()` for a case without one, as the type check allows).
    pub fn payload<T: Lift>(&mut self) -> AbiResult<T> {
        let Some(ty) = self.payload else {
            return match T::IS_UNIT {
                true => T::lift_flat(self.cx, InterfaceType::Bool, &mut FlatValues::new(&[])),
                false => Err(AbiError::msg(format!("case `{}` has no payload", self.name))),
            };
        };
        let value = match &mut self.from {
            Source::Flat(src) => T::lift_flat(self.cx, ty, src),
            Source::Memory { ptr, .. } => T::load(self.cx, ty, *ptr),
        };
        value.map_err(|e| e.at_name(self.name))
    }

    /// The error for a case the Rust type does not have (which the type check excludes).
    pub fn bad_case(&self) -> AbiError {
        AbiError::msg(format!("case {} is not one of the Rust type's", self.case))
    }
}

/// Lifts a variant or enum of type `ty` and layout `abi` from `src`: `lift` gets the case (checked to be
/// one of the type's) and a reader of its payload.
pub fn lift_case<V>(
    cx: &LiftContext<'_>,
    ty: InterfaceType,
    abi: CanonicalAbiInfo,
    src: LiftSource<'_, '_>,
    lift: impl FnOnce(u32, &mut CaseReader<'_, '_, '_>) -> AbiResult<V>,
) -> AbiResult<V> {
    match src {
        LiftSource::Flat(src) => lift_case_flat(cx, ty, abi, src, lift),
        LiftSource::Memory(ptr) => load_case(cx, ty, abi, ptr, lift),
    }
}

/// Lifts a variant or enum of type `ty` and layout `abi` from flat values, as [`lift_case`] does.
fn lift_case_flat<V>(
    cx: &LiftContext<'_>,
    ty: InterfaceType,
    abi: CanonicalAbiInfo,
    src: &mut FlatValues<'_>,
    lift: impl FnOnce(u32, &mut CaseReader<'_, '_, '_>) -> AbiResult<V>,
) -> AbiResult<V> {
    let case = src.next_u32()?;
    let (_, name, payload) = case_of(cx.types, ty, case)?;
    let start = src.position();
    let value = lift(case, &mut CaseReader { cx, case, name, payload, from: Source::Flat(&mut *src) })?;
    src.seek(start + payload_slots(abi));
    Ok(value)
}

/// Lifts a variant or enum of type `ty` and layout `abi` stored at `ptr`, as [`lift_case`] does.
fn load_case<V>(
    cx: &LiftContext<'_>,
    ty: InterfaceType,
    abi: CanonicalAbiInfo,
    ptr: u32,
    lift: impl FnOnce(u32, &mut CaseReader<'_, '_, '_>) -> AbiResult<V>,
) -> AbiResult<V> {
    let cases = case_count(cx.types, ty)?;
    let case = cx.uint(ptr, discriminant_size(cases))? as u32;
    let (_, name, payload) = case_of(cx.types, ty, case)?;
    let payload_at = offset(ptr, abi.payload_offset(cases))?;
    lift(case, &mut CaseReader { cx, case, name, payload, from: Source::Memory { ptr: payload_at, at: 0 } })
}

// Flags.

/// The layout of flags with `count` members (at most 32).
pub const fn flags_abi(count: usize) -> CanonicalAbiInfo {
    match count {
        0..=8 => CanonicalAbiInfo::SCALAR1,
        9..=16 => CanonicalAbiInfo::SCALAR2,
        _ => CanonicalAbiInfo::SCALAR4,
    }
}

/// Checks flags type `ty` against a Rust type `rust` with flag `names` (in bit order).
pub fn typecheck_flags(ty: InterfaceType, types: &ComponentTypes, rust: &str, names: &[&str]) -> Result<()> {
    let InterfaceType::Flags(i) = ty else { return Err(not(rust, ty)) };
    let theirs: Vec<&str> = types.flags(i).names.iter().map(String::as_str).collect();
    same_names(rust, "flags", names.iter().copied(), &theirs)
}

/// Lowers flags given as `bits`, of layout `abi`, to `dst`.
pub fn lower_flags(cx: &mut LowerContext<'_>, abi: CanonicalAbiInfo, bits: u32, dst: LowerDest<'_>) -> AbiResult<()> {
    match dst {
        LowerDest::Flat(dst) => dst.push(bits as u64),
        LowerDest::Memory(ptr) => cx.write(ptr, &bits.to_le_bytes()[..abi.size as usize]),
    }
}

/// The bits of `count` flags of layout `abi` lifted from `src` (bits beyond the flags are ignored, as the
/// spec says).
pub fn lift_flags(cx: &LiftContext<'_>, abi: CanonicalAbiInfo, count: usize, src: LiftSource<'_, '_>) -> AbiResult<u32> {
    let bits = match src {
        LiftSource::Flat(src) => src.next_u32()?,
        LiftSource::Memory(ptr) => cx.uint(ptr, abi.size)? as u32,
    };
    Ok(bits & flags_mask(count))
}

fn flags_mask(count: usize) -> u32 {
    if count >= 32 { u32::MAX } else { (1 << count) - 1 }
}

/// Formats flags as `Name(A | B)`: the Rust names of the flags set in `bits`.
pub fn format_flags(f: &mut std::fmt::Formatter<'_>, name: &str, bits: u32, names: &[&str]) -> std::fmt::Result {
    let set: Vec<&str> = names.iter().enumerate().filter(|(n, _)| bits & (1 << n) != 0).map(|(_, name)| *name).collect();
    write!(f, "{name}({})", set.join(" | "))
}
