//! The types of wasm values and of the things a module imports and exports, as Wasmtime spells them.
//!
//! A [`FuncType`] is registered process-wide while something uses it (a module, a function, a type the host
//! made), so that two equal function types are the same registered type and compare with one integer; the
//! registration ends when the last user drops it. Reference types that name a function type hold it, so
//! these types are `Clone` but not `Copy`. Like Wasmtime's, they have `eq` functions beside `PartialEq`.
#![allow(clippy::should_implement_trait)]

use crate::Engine;
use crate::environ::{EntityType, WasmFuncType, WasmGlobalType, WasmHeapType, WasmMemoryType, WasmRefType, WasmTableType, WasmValType};
use std::fmt;

pub(crate) mod registry;

pub(crate) use registry::RegisteredType;

/// Whether a global can be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

impl Mutability {
    /// Whether this is [`Mutability::Const`].
    pub fn is_const(&self) -> bool {
        *self == Mutability::Const
    }
    /// Whether this is [`Mutability::Var`].
    pub fn is_var(&self) -> bool {
        *self == Mutability::Var
    }
}

/// The kind of a reference's referent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeapType {
    /// Host references.
    Extern,
    /// Any function.
    Func,
    /// Functions of one type (`(ref $t)` of typed function references).
    ConcreteFunc(FuncType),
}

impl HeapType {
    /// Whether this is `extern`.
    pub fn is_extern(&self) -> bool {
        matches!(self, HeapType::Extern)
    }
    /// Whether this is the abstract `func` (see [`top`](HeapType::top) for the whole function hierarchy).
    pub fn is_func(&self) -> bool {
        matches!(self, HeapType::Func)
    }
    /// Whether this is an abstract heap type (not a concrete function type).
    pub fn is_abstract(&self) -> bool {
        !self.is_concrete()
    }
    /// Whether this is a concrete function type.
    pub fn is_concrete(&self) -> bool {
        self.is_concrete_func()
    }
    /// Whether this is a concrete function type.
    pub fn is_concrete_func(&self) -> bool {
        matches!(self, HeapType::ConcreteFunc(_))
    }
    /// The function type, if this is a concrete one.
    pub fn as_concrete_func(&self) -> Option<&FuncType> {
        match self {
            HeapType::ConcreteFunc(t) => Some(t),
            _ => None,
        }
    }
    /// The function type; panics if this is not a concrete one.
    pub fn unwrap_concrete_func(&self) -> &FuncType {
        self.as_concrete_func().expect("a concrete function heap type")
    }
    /// The top of this heap type's hierarchy (`func` or `extern`).
    pub fn top(&self) -> HeapType {
        match self {
            HeapType::Extern => HeapType::Extern,
            HeapType::Func | HeapType::ConcreteFunc(_) => HeapType::Func,
        }
    }
    /// Whether every reference to this heap type also refers to `other` (subtyping).
    pub fn matches(&self, other: &HeapType) -> bool {
        match (self, other) {
            (HeapType::ConcreteFunc(_), HeapType::Func) => true,
            _ => self == other,
        }
    }
    /// Whether `a` and `b` are the same heap type.
    pub fn eq(a: &HeapType, b: &HeapType) -> bool {
        a == b
    }
}

impl From<FuncType> for HeapType {
    fn from(ty: FuncType) -> HeapType {
        HeapType::ConcreteFunc(ty)
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Extern => f.write_str("extern"),
            HeapType::Func => f.write_str("func"),
            HeapType::ConcreteFunc(t) => write!(f, "(func {t})"),
        }
    }
}

/// A reference type: a heap type, and whether null is allowed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    nullable: bool,
    heap_type: HeapType,
}

impl RefType {
    /// `funcref`.
    pub const FUNCREF: RefType = RefType { nullable: true, heap_type: HeapType::Func };
    /// `externref`.
    pub const EXTERNREF: RefType = RefType { nullable: true, heap_type: HeapType::Extern };

    /// A reference type.
    pub fn new(is_nullable: bool, heap_type: HeapType) -> Self {
        RefType { nullable: is_nullable, heap_type }
    }
    /// Whether null is a value of this type.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
    /// The referent's kind.
    pub fn heap_type(&self) -> &HeapType {
        &self.heap_type
    }
    /// Whether every value of this type is also a value of `other` (subtyping).
    pub fn matches(&self, other: &RefType) -> bool {
        self.heap_type.matches(&other.heap_type) && (other.nullable || !self.nullable)
    }
    /// Whether `a` and `b` are the same reference type.
    pub fn eq(a: &RefType, b: &RefType) -> bool {
        a == b
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, &self.heap_type) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (true, heap_type) => write!(f, "(ref null {heap_type})"),
            (false, heap_type) => write!(f, "(ref {heap_type})"),
        }
    }
}

/// The type of a wasm value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector (SIMD is not supported yet).
    V128,
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// `funcref`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);

    /// Whether this is `i32`, `i64`, `f32` or `f64`.
    pub fn is_num(&self) -> bool {
        matches!(self, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64)
    }
    /// Whether this is `i32`.
    pub fn is_i32(&self) -> bool {
        matches!(self, ValType::I32)
    }
    /// Whether this is `i64`.
    pub fn is_i64(&self) -> bool {
        matches!(self, ValType::I64)
    }
    /// Whether this is `f32`.
    pub fn is_f32(&self) -> bool {
        matches!(self, ValType::F32)
    }
    /// Whether this is `f64`.
    pub fn is_f64(&self) -> bool {
        matches!(self, ValType::F64)
    }
    /// Whether this is `v128`.
    pub fn is_v128(&self) -> bool {
        matches!(self, ValType::V128)
    }
    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }
    /// Whether this is `funcref` (`(ref null func)`).
    pub fn is_funcref(&self) -> bool {
        *self == ValType::FUNCREF
    }
    /// Whether this is `externref` (`(ref null extern)`).
    pub fn is_externref(&self) -> bool {
        *self == ValType::EXTERNREF
    }
    /// The reference type, if this is one.
    pub fn as_ref(&self) -> Option<&RefType> {
        match self {
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }
    /// The reference type; panics if this is not one.
    pub fn unwrap_ref(&self) -> &RefType {
        self.as_ref().expect("a reference type")
    }
    /// Whether every value of this type is also a value of `other` (subtyping).
    pub fn matches(&self, other: &ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.matches(b),
            _ => self == other,
        }
    }
    /// Whether `a` and `b` are the same type.
    pub fn eq(a: &ValType, b: &ValType) -> bool {
        a == b
    }

    /// The type a module declares, with its type indices resolved to the module's registered `types`.
    pub(crate) fn from_wasm(ty: WasmValType, types: &[FuncType]) -> ValType {
        match ty {
            WasmValType::I32 => ValType::I32,
            WasmValType::I64 => ValType::I64,
            WasmValType::F32 => ValType::F32,
            WasmValType::F64 => ValType::F64,
            WasmValType::V128 => ValType::V128,
            WasmValType::Ref(r) => ValType::Ref(RefType::from_wasm(r, types)),
        }
    }

    /// The register class compiled code passes the value in (reference types all travel alike).
    pub(crate) fn to_wasm_class(&self) -> WasmValType {
        match self {
            ValType::I32 => WasmValType::I32,
            ValType::I64 => WasmValType::I64,
            ValType::F32 => WasmValType::F32,
            ValType::F64 => WasmValType::F64,
            ValType::V128 => WasmValType::V128,
            ValType::Ref(_) => WasmValType::Ref(WasmRefType::FUNCREF),
        }
    }
}

impl From<RefType> for ValType {
    fn from(r: RefType) -> ValType {
        ValType::Ref(r)
    }
}

impl RefType {
    pub(crate) fn from_wasm(r: WasmRefType, types: &[FuncType]) -> RefType {
        let heap_type = match r.heap_type {
            WasmHeapType::Func => HeapType::Func,
            WasmHeapType::Extern => HeapType::Extern,
            WasmHeapType::ConcreteFunc(i) => HeapType::ConcreteFunc(types[i as usize].clone()),
        };
        RefType { nullable: r.nullable, heap_type }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
    }
}

/// The type of a function: its parameters and results. Cheap to clone; two function types are equal exactly
/// when they have the same parameters and results.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FuncType(RegisteredType);

impl FuncType {
    /// A function type with these parameters and results (the engine is accepted for Wasmtime's signature:
    /// Tenon registers function types process-wide).
    pub fn new(
        _engine: &Engine,
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        FuncType::from_parts(params.into_iter().collect(), results.into_iter().collect())
    }

    pub(crate) fn from_parts(params: Box<[ValType]>, results: Box<[ValType]>) -> Self {
        FuncType(RegisteredType::register(params, results))
    }

    /// The type a module declares, with its type indices resolved to the module's registered `types`.
    pub(crate) fn from_wasm(ty: &WasmFuncType, types: &[FuncType]) -> Self {
        let convert = |tys: &[WasmValType]| tys.iter().map(|&t| ValType::from_wasm(t, types)).collect();
        FuncType::from_parts(convert(&ty.params), convert(&ty.results))
    }

    /// Parameter `i`'s type, if there is one.
    pub fn param(&self, i: usize) -> Option<ValType> {
        self.0.params().get(i).cloned()
    }
    /// The parameter types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.0.params().iter().cloned()
    }
    /// Result `i`'s type, if there is one.
    pub fn result(&self, i: usize) -> Option<ValType> {
        self.0.results().get(i).cloned()
    }
    /// The result types.
    pub fn results(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.0.results().iter().cloned()
    }
    /// The parameter types, as a slice.
    pub fn param_types(&self) -> &[ValType] {
        self.0.params()
    }
    /// The result types, as a slice.
    pub fn result_types(&self) -> &[ValType] {
        self.0.results()
    }
    /// Whether a function of this type may be used where `other` is expected. Without the GC proposal's
    /// declared subtypes, that is when they are the same type.
    pub fn matches(&self, other: &FuncType) -> bool {
        self == other
    }
    /// Whether `a` and `b` are the same type.
    pub fn eq(a: &FuncType, b: &FuncType) -> bool {
        a == b
    }

    /// The registration.
    pub(crate) fn registered(&self) -> &RegisteredType {
        &self.0
    }

    /// The registered type with id `id`, if one is registered.
    pub(crate) fn from_id(id: u32) -> Option<FuncType> {
        RegisteredType::lookup(id).map(FuncType)
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, tys: &[ValType]| -> fmt::Result {
            f.write_str("(")?;
            for (i, t) in tys.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{t}")?;
            }
            f.write_str(")")
        };
        list(f, self.param_types())?;
        f.write_str(" -> ")?;
        list(f, self.result_types())
    }
}

impl fmt::Debug for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FuncType {self}")
    }
}

/// Limits of a memory, in 64 KiB pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    minimum: u64,
    maximum: Option<u64>,
}

impl MemoryType {
    /// A 32-bit memory of at least `minimum` pages and at most `maximum` pages.
    pub fn new(minimum: u32, maximum: Option<u32>) -> Self {
        MemoryType { minimum: minimum.into(), maximum: maximum.map(Into::into) }
    }
    /// The minimum size in pages.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }
    /// The maximum size in pages, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }
    /// Whether this is a 64-bit memory (never: 64-bit memories are not supported yet).
    pub fn is_64(&self) -> bool {
        false
    }
    /// Whether this is a shared memory (never: shared memories are not supported yet).
    pub fn is_shared(&self) -> bool {
        false
    }
    /// The page size in bytes.
    pub fn page_size(&self) -> u64 {
        1 << self.page_size_log2()
    }
    /// The base-2 logarithm of the page size.
    pub fn page_size_log2(&self) -> u8 {
        16
    }
    /// Whether a memory of this type, currently `actual_minimum` pages large, may be imported where
    /// `expected` is declared.
    pub(crate) fn matches(&self, actual_minimum: u64, expected: &MemoryType) -> bool {
        limits_match(actual_minimum, self.maximum, expected.minimum, expected.maximum)
    }
    pub(crate) fn from_wasm(ty: WasmMemoryType) -> Self {
        MemoryType { minimum: ty.minimum, maximum: ty.maximum }
    }
    pub(crate) fn to_wasm(self) -> WasmMemoryType {
        WasmMemoryType { minimum: self.minimum, maximum: self.maximum }
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "memory {}", self.minimum)?;
        if let Some(max) = self.maximum {
            write!(f, " {max}")?;
        }
        Ok(())
    }
}

/// The element type and limits of a table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    minimum: u64,
    maximum: Option<u64>,
}

impl TableType {
    /// A table of `element` references with at least `min` and at most `max` elements.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> Self {
        TableType { element, minimum: min.into(), maximum: max.map(Into::into) }
    }
    /// The element type.
    pub fn element(&self) -> &RefType {
        &self.element
    }
    /// The minimum number of elements.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }
    /// The maximum number of elements, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }
    /// Whether this is a 64-bit table (never: 64-bit tables are not supported yet).
    pub fn is_64(&self) -> bool {
        false
    }
    /// Whether a table of this type, currently `actual_minimum` elements large, may be imported where
    /// `expected` is declared.
    pub(crate) fn matches(&self, actual_minimum: u64, expected: &TableType) -> bool {
        self.element == expected.element
            && limits_match(actual_minimum, self.maximum, expected.minimum, expected.maximum)
    }
    pub(crate) fn from_wasm(ty: WasmTableType, types: &[FuncType]) -> Self {
        TableType { element: RefType::from_wasm(ty.element, types), minimum: ty.minimum, maximum: ty.maximum }
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table {}", self.minimum)?;
        if let Some(max) = self.maximum {
            write!(f, " {max}")?;
        }
        write!(f, " {}", self.element)
    }
}

fn limits_match(actual_min: u64, actual_max: Option<u64>, min: u64, max: Option<u64>) -> bool {
    actual_min >= min
        && match max {
            None => true,
            Some(max) => actual_max.is_some_and(|a| a <= max),
        }
}

/// The type of a global.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// A global holding `content` values.
    pub fn new(content: ValType, mutability: Mutability) -> Self {
        GlobalType { content, mutability }
    }
    /// The value type.
    pub fn content(&self) -> &ValType {
        &self.content
    }
    /// Whether it can be set.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
    /// Whether a global of this type may be imported where `expected` is declared: immutable globals are
    /// covariant, mutable ones invariant.
    pub(crate) fn matches(&self, expected: &GlobalType) -> bool {
        self.mutability == expected.mutability
            && match self.mutability {
                Mutability::Const => self.content.matches(&expected.content),
                Mutability::Var => self.content == expected.content,
            }
    }
    pub(crate) fn from_wasm(ty: WasmGlobalType, types: &[FuncType]) -> Self {
        let mutability = if ty.mutable { Mutability::Var } else { Mutability::Const };
        GlobalType { content: ValType::from_wasm(ty.content, types), mutability }
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mutability {
            Mutability::Const => write!(f, "global {}", self.content),
            Mutability::Var => write!(f, "global (mut {})", self.content),
        }
    }
}

/// The type of an exception tag: the types of the values an exception with this tag carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// A tag whose exceptions carry the parameters of `ty` (which has no results).
    pub fn new(ty: FuncType) -> Self {
        TagType { ty }
    }
    /// The tag's function type.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
}

impl fmt::Display for TagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tag {}", self.ty)
    }
}

/// The type of something a module imports or exports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// An exception tag.
    Tag(TagType),
}

macro_rules! extern_type_accessors {
    ($($variant:ident($ty:ty) $get:ident $unwrap:ident;)*) => {$(
        /// The type, if this is one of this kind.
        pub fn $get(&self) -> Option<&$ty> {
            match self {
                ExternType::$variant(t) => Some(t),
                _ => None,
            }
        }
        /// The type; panics if this is not one of this kind.
        pub fn $unwrap(&self) -> &$ty {
            self.$get().expect(concat!("expected ", stringify!($ty)))
        }
    )*};
}

impl ExternType {
    extern_type_accessors! {
        Func(FuncType) func unwrap_func;
        Global(GlobalType) global unwrap_global;
        Table(TableType) table unwrap_table;
        Memory(MemoryType) memory unwrap_memory;
        Tag(TagType) tag unwrap_tag;
    }

    /// The type of an entity a module declares, with its type indices resolved to the module's registered
    /// `types`.
    pub(crate) fn from_entity(ty: EntityType, types: &[FuncType]) -> Self {
        match ty {
            EntityType::Func(i) => ExternType::Func(types[i as usize].clone()),
            EntityType::Table(t) => ExternType::Table(TableType::from_wasm(t, types)),
            EntityType::Memory(m) => ExternType::Memory(MemoryType::from_wasm(m)),
            EntityType::Global(g) => ExternType::Global(GlobalType::from_wasm(g, types)),
            EntityType::Tag(i) => ExternType::Tag(TagType::new(types[i as usize].clone())),
        }
    }
}

impl From<FuncType> for ExternType {
    fn from(t: FuncType) -> Self {
        ExternType::Func(t)
    }
}
impl From<GlobalType> for ExternType {
    fn from(t: GlobalType) -> Self {
        ExternType::Global(t)
    }
}
impl From<TableType> for ExternType {
    fn from(t: TableType) -> Self {
        ExternType::Table(t)
    }
}
impl From<MemoryType> for ExternType {
    fn from(t: MemoryType) -> Self {
        ExternType::Memory(t)
    }
}
impl From<TagType> for ExternType {
    fn from(t: TagType) -> Self {
        ExternType::Tag(t)
    }
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => write!(f, "func {t}"),
            ExternType::Global(t) => t.fmt(f),
            ExternType::Table(t) => t.fmt(f),
            ExternType::Memory(t) => t.fmt(f),
            ExternType::Tag(t) => t.fmt(f),
        }
    }
}

/// One import of a module.
#[derive(Clone, Debug)]
pub struct ImportType<'module> {
    pub(crate) module: &'module str,
    pub(crate) name: &'module str,
    pub(crate) ty: ExternType,
}

impl<'module> ImportType<'module> {
    /// The module name.
    pub fn module(&self) -> &'module str {
        self.module
    }
    /// The item name.
    pub fn name(&self) -> &'module str {
        self.name
    }
    /// The expected type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// One export of a module.
#[derive(Clone, Debug)]
pub struct ExportType<'module> {
    pub(crate) name: &'module str,
    pub(crate) ty: ExternType,
}

impl<'module> ExportType<'module> {
    /// The export's name.
    pub fn name(&self) -> &'module str {
        self.name
    }
    /// The exported item's type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}
