//! Layout: sizes, alignments, discriminants and flattening, exactly as `CanonicalABI.md` defines them
//! (32-bit memories). The typed and the dynamic paths both read their layouts from here.

use crate::component::type_table::{ComponentTypes, InterfaceType, MapType};

/// Most core parameters a function passes flat; beyond, they go through memory.
pub const MAX_FLAT_PARAMS: usize = 16;
/// Most core results a function returns flat; beyond, they go through memory.
pub const MAX_FLAT_RESULTS: usize = 1;

/// Size, alignment and flat width of a value type.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CanonicalAbiInfo {
    /// Bytes a value takes in memory (its `elem_size`).
    pub size: u32,
    /// Alignment in memory, a power of two.
    pub align: u32,
    /// Core values it flattens to, or `None` beyond `MAX_FLAT_PARAMS` (16).
    pub flat_count: Option<u8>,
}

/// `ptr` rounded up to a multiple of `align` (a power of two).
pub const fn align_to(ptr: u32, align: u32) -> u32 {
    (ptr + align - 1) & !(align - 1)
}

/// The size in bytes of a variant's discriminant with `cases` cases.
pub const fn discriminant_size(cases: usize) -> u32 {
    if cases <= 1 << 8 {
        1
    } else if cases <= 1 << 16 {
        2
    } else {
        4
    }
}

/// Adds two flat counts, `None` once past the limit.
const fn add_flat(a: Option<u8>, b: Option<u8>) -> Option<u8> {
    match (a, b) {
        (Some(a), Some(b)) if (a as usize + b as usize) <= MAX_FLAT_PARAMS => Some(a + b),
        _ => None,
    }
}

impl CanonicalAbiInfo {
    /// `bool`, `s8`, `u8`.
    pub const SCALAR1: Self = Self::scalar_of(1);
    /// `s16`, `u16`.
    pub const SCALAR2: Self = Self::scalar_of(2);
    /// `s32`, `u32`, `f32`, `char`.
    pub const SCALAR4: Self = Self::scalar_of(4);
    /// `s64`, `u64`, `f64`.
    pub const SCALAR8: Self = Self::scalar_of(8);
    /// `string` and `list<T>`: a pointer and a length.
    pub const POINTER_PAIR: Self = CanonicalAbiInfo { size: 8, align: 4, flat_count: Some(2) };

    /// A number of `size` bytes: as aligned as it is large, one flat value.
    pub const fn scalar_of(size: u32) -> Self {
        CanonicalAbiInfo { size, align: size, flat_count: Some(1) }
    }

    /// A record (or tuple, or a function's parameters) of fields with these layouts.
    pub fn record(fields: impl IntoIterator<Item = CanonicalAbiInfo>) -> Self {
        Self::record_of(&fields.into_iter().collect::<Vec<_>>())
    }

    /// [`record`](Self::record), as a constant (for the layouts of Rust types).
    pub const fn record_of(fields: &[CanonicalAbiInfo]) -> Self {
        let (mut size, mut align, mut flat_count, mut i) = (0, 1, Some(0), 0);
        while i < fields.len() {
            let field = fields[i];
            size = align_to(size, field.align) + field.size;
            if field.align > align {
                align = field.align;
            }
            flat_count = add_flat(flat_count, field.flat_count);
            i += 1;
        }
        CanonicalAbiInfo { size: align_to(size, align), align, flat_count }
    }

    /// A variant whose cases have these payload layouts (`None`: no payload). Enums, options and results
    /// are variants.
    pub fn variant(cases: impl IntoIterator<Item = Option<CanonicalAbiInfo>>) -> Self {
        Self::variant_of(&cases.into_iter().collect::<Vec<_>>())
    }

    /// [`variant`](Self::variant), as a constant.
    pub const fn variant_of(cases: &[Option<CanonicalAbiInfo>]) -> Self {
        let (mut payload_size, mut payload_align, mut payload_flat, mut i) = (0, 1, Some(0), 0);
        while i < cases.len() {
            if let Some(payload) = cases[i] {
                if payload.size > payload_size {
                    payload_size = payload.size;
                }
                if payload.align > payload_align {
                    payload_align = payload.align;
                }
                payload_flat = match (payload_flat, payload.flat_count) {
                    (Some(a), Some(b)) => Some(if a > b { a } else { b }),
                    _ => None,
                };
            }
            i += 1;
        }
        let discriminant = discriminant_size(cases.len());
        let align = if discriminant > payload_align { discriminant } else { payload_align };
        let size = align_to(align_to(discriminant, payload_align) + payload_size, align);
        CanonicalAbiInfo { size, align, flat_count: add_flat(Some(1), payload_flat) }
    }

    /// `flags` with `count` flags (at most 32).
    pub fn flags(count: usize) -> Self {
        match count {
            0..=8 => Self::SCALAR1,
            9..=16 => Self::SCALAR2,
            _ => Self::SCALAR4,
        }
        .with_flat_count(1)
    }

    /// `list<T, len>` of elements with layout `element`.
    pub fn fixed_list(element: CanonicalAbiInfo, len: u32) -> Self {
        let flat_count = match element.flat_count {
            Some(n) if n as usize * len as usize <= MAX_FLAT_PARAMS => Some(n * len as u8),
            _ => None,
        };
        CanonicalAbiInfo { size: element.size.saturating_mul(len), align: element.align, flat_count }
    }

    const fn with_flat_count(self, n: u8) -> Self {
        CanonicalAbiInfo { flat_count: Some(n), ..self }
    }

    /// Where the payload of a variant with this layout and `cases` cases starts: after the discriminant,
    /// aligned to the largest payload alignment. (The variant's alignment is the larger of that and the
    /// discriminant's, a power of two the discriminant's size divides, so aligning to it is the same.)
    pub fn payload_offset(&self, cases: usize) -> u32 {
        align_to(discriminant_size(cases), self.align)
    }
}

/// Each of `tys` with its offset in a record (or tuple, or parameter list) of those types.
pub fn field_offsets<'a>(
    types: &'a ComponentTypes,
    tys: impl IntoIterator<Item = InterfaceType> + 'a,
) -> impl Iterator<Item = (InterfaceType, u32)> + 'a {
    let mut next = 0;
    tys.into_iter().map(move |ty| {
        let abi = types.abi(ty);
        let at = align_to(next, abi.align);
        next = at + abi.size;
        (ty, at)
    })
}

/// Where a map entry's key and value are, from the entry's start: the fields of `tuple<K, V>`.
pub fn map_entry_offsets(types: &ComponentTypes, map: &MapType) -> (u32, u32) {
    let value_at = align_to(types.abi(map.key).size, types.abi(map.value).align);
    (0, value_at)
}

/// A core value type in a flattening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlatType {
    I32,
    I64,
    F32,
    F64,
}

impl FlatType {
    /// The type both `self` and `other` can be carried in (`join` in the spec).
    pub fn join(self, other: FlatType) -> FlatType {
        match (self, other) {
            (a, b) if a == b => a,
            (FlatType::I32, FlatType::F32) | (FlatType::F32, FlatType::I32) => FlatType::I32,
            _ => FlatType::I64,
        }
    }
}

/// The core types a sequence of value types flattens to, up to a limit.
#[derive(Clone, Debug)]
pub struct FlatTypes {
    types: Vec<FlatType>,
    limit: usize,
}

impl FlatTypes {
    /// An empty flattening that holds at most `limit` types.
    pub fn new(limit: usize) -> Self {
        FlatTypes { types: Vec::new(), limit }
    }

    /// The types so far.
    pub fn as_slice(&self) -> &[FlatType] {
        &self.types
    }

    fn push(&mut self, ty: FlatType) -> bool {
        self.types.push(ty);
        self.types.len() <= self.limit
    }

    /// Appends the flattening of `ty`; false once the limit is passed (the contents are then unspecified).
    pub fn push_type(&mut self, types: &ComponentTypes, ty: InterfaceType) -> bool {
        use InterfaceType as I;
        match ty {
            I::Bool | I::S8 | I::U8 | I::S16 | I::U16 | I::S32 | I::U32 | I::Char => self.push(FlatType::I32),
            I::S64 | I::U64 => self.push(FlatType::I64),
            I::Float32 => self.push(FlatType::F32),
            I::Float64 => self.push(FlatType::F64),
            I::String | I::List(_) | I::Map(_) => self.push(FlatType::I32) && self.push(FlatType::I32),
            I::Own(_) | I::Borrow(_) => self.push(FlatType::I32),
            I::Flags(_) | I::Enum(_) => self.push(FlatType::I32),
            I::FixedList(i) => {
                let list = types.fixed_list(i);
                (0..list.len).all(|_| self.push_type(types, list.element))
            }
            I::Record(i) => types.record(i).fields.iter().all(|(_, ty)| self.push_type(types, *ty)),
            I::Tuple(i) => types.tuple(i).types.iter().all(|ty| self.push_type(types, *ty)),
            I::Variant(i) => self.push_variant(types, types.variant(i).cases.iter().map(|(_, ty)| *ty)),
            I::Option(i) => self.push_variant(types, [None, Some(types.option(i).ty)]),
            I::Result(i) => {
                let result = types.result(i);
                self.push_variant(types, [result.ok, result.err])
            }
        }
    }

    /// Appends a variant: its discriminant, then the join of its cases' flattenings.
    fn push_variant(&mut self, types: &ComponentTypes, cases: impl IntoIterator<Item = Option<InterfaceType>>) -> bool {
        if !self.push(FlatType::I32) {
            return false;
        }
        let start = self.types.len();
        for ty in cases.into_iter().flatten() {
            let mut case = FlatTypes::new(self.limit);
            if !case.push_type(types, ty) {
                return false;
            }
            for (i, flat) in case.types.into_iter().enumerate() {
                if start + i < self.types.len() {
                    self.types[start + i] = self.types[start + i].join(flat);
                } else if !self.push(flat) {
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_the_spec() {
        // record { a: u8, b: u32, c: u16 }: 1 + 3 padding + 4 + 2 = 10, aligned to 4 -> 12.
        let r = CanonicalAbiInfo::record([CanonicalAbiInfo::SCALAR1, CanonicalAbiInfo::SCALAR4, CanonicalAbiInfo::SCALAR2]);
        assert_eq!((r.size, r.align, r.flat_count), (12, 4, Some(3)));
        // option<u64>: discriminant 1, payload at 8, size 16.
        let o = CanonicalAbiInfo::variant([None, Some(CanonicalAbiInfo::SCALAR8)]);
        assert_eq!((o.size, o.align, o.flat_count, o.payload_offset(2)), (16, 8, Some(2), 8));
        // An enum of 257 cases has a 2-byte discriminant.
        let e = CanonicalAbiInfo::variant((0..257).map(|_| None));
        assert_eq!((e.size, e.align), (2, 2));
        // A variant whose payload is less aligned than its discriminant.
        let v = CanonicalAbiInfo::variant((0..300).map(|_| Some(CanonicalAbiInfo::SCALAR1)));
        assert_eq!((v.size, v.align, v.payload_offset(300)), (4, 2, 2));
        assert_eq!(CanonicalAbiInfo::flags(9).size, 2);
        assert_eq!(CanonicalAbiInfo::flags(32).size, 4);
        // 17 flat values do not fit.
        assert_eq!(CanonicalAbiInfo::record((0..17).map(|_| CanonicalAbiInfo::SCALAR4)).flat_count, None);
        assert_eq!(FlatType::I32.join(FlatType::F32), FlatType::I32);
        assert_eq!(FlatType::F32.join(FlatType::I64), FlatType::I64);
        assert_eq!(FlatType::F64.join(FlatType::I32), FlatType::I64);
    }
}
