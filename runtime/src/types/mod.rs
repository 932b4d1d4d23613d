//! The types of wasm values and of the things a module imports and exports.

use std::fmt;
use std::sync::Arc;

pub(crate) mod registry;

/// The kind of a reference's referent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any function.
    Func,
    /// Functions of one type (`(ref $t)` of typed function references).
    ConcreteFunc(ConcreteFunc),
    /// Host references.
    Extern,
}

impl HeapType {
    /// Whether every reference to this heap type also refers to `other`.
    pub fn is_subtype_of(&self, other: &HeapType) -> bool {
        match (self, other) {
            (HeapType::ConcreteFunc(_), HeapType::Func) => true,
            _ => self == other,
        }
    }
    /// Whether this is `func` or a concrete function type.
    pub fn is_func(&self) -> bool {
        matches!(self, HeapType::Func | HeapType::ConcreteFunc(_))
    }
}

/// A function type used as a heap type; a cheap handle that compares by the type's structure.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConcreteFunc(pub(crate) u32);

impl ConcreteFunc {
    /// The heap type of functions of type `ty`.
    pub fn new(ty: &FuncType) -> Self {
        ConcreteFunc(registry::intern(ty))
    }
    /// The function type.
    pub fn func_type(&self) -> FuncType {
        registry::lookup(self.0)
    }
}

impl fmt::Debug for ConcreteFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConcreteFunc({})", self.func_type())
    }
}

/// A reference type: a heap type, and whether null is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    pub fn new(nullable: bool, heap_type: HeapType) -> Self {
        RefType { nullable, heap_type }
    }
    /// Whether null is a value of this type.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
    /// The referent's kind.
    pub fn heap_type(&self) -> &HeapType {
        &self.heap_type
    }
    /// Whether every value of this type is also a value of `other`.
    pub fn is_subtype_of(&self, other: &RefType) -> bool {
        self.heap_type.is_subtype_of(&other.heap_type) && (other.nullable || !self.nullable)
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let null = if self.nullable { "null " } else { "" };
        match (self.nullable, self.heap_type) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (_, HeapType::Func) => f.write_str("(ref func)"),
            (_, HeapType::Extern) => f.write_str("(ref extern)"),
            (_, HeapType::ConcreteFunc(t)) => write!(f, "(ref {null}(func {}))", t.func_type()),
        }
    }
}

/// The type of a wasm value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }
    /// Whether this is a reference type.
    pub fn as_ref(&self) -> Option<&RefType> {
        match self {
            ValType::Ref(r) => Some(r),
            _ => None,
        }
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

/// The type of a function: its parameters and results.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Arc<[ValType]>,
    results: Arc<[ValType]>,
}

impl FuncType {
    /// A function type with these parameters and results.
    pub fn new(params: impl IntoIterator<Item = ValType>, results: impl IntoIterator<Item = ValType>) -> Self {
        FuncType { params: params.into_iter().collect(), results: results.into_iter().collect() }
    }
    /// The parameter types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.params.iter().copied()
    }
    /// The result types.
    pub fn results(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.results.iter().copied()
    }
    /// The parameter types, as a slice.
    pub fn param_types(&self) -> &[ValType] {
        &self.params
    }
    /// The result types, as a slice.
    pub fn result_types(&self) -> &[ValType] {
        &self.results
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
        list(f, &self.params)?;
        f.write_str(" -> ")?;
        list(f, &self.results)
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
    /// Whether a memory of this type may be imported where `expected` is declared (size `actual_minimum`).
    pub(crate) fn matches(&self, actual_minimum: u64, expected: &MemoryType) -> bool {
        limits_match(actual_minimum, self.maximum, expected.minimum, expected.maximum)
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    minimum: u64,
    maximum: Option<u32>,
}

impl TableType {
    /// A table of `element` references with at least `minimum` and at most `maximum` elements.
    pub fn new(element: RefType, minimum: u32, maximum: Option<u32>) -> Self {
        TableType { element, minimum: minimum.into(), maximum }
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
    pub fn maximum(&self) -> Option<u32> {
        self.maximum
    }
    /// Whether a table of this type may be imported where `expected` is declared (size `actual_minimum`).
    pub(crate) fn matches(&self, actual_minimum: u64, expected: &TableType) -> bool {
        self.element == expected.element
            && limits_match(
                actual_minimum,
                self.maximum.map(u64::from),
                expected.minimum,
                expected.maximum.map(u64::from),
            )
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

impl ValType {
    /// Whether every value of this type is also a value of `other`.
    pub fn is_subtype_of(&self, other: &ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.is_subtype_of(b),
            _ => self == other,
        }
    }
}

/// Whether a global can be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

/// The type of a global.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
                Mutability::Const => self.content.is_subtype_of(&expected.content),
                Mutability::Var => self.content == expected.content,
            }
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

impl ExternType {
    /// The function type, if this is a function.
    pub fn func(&self) -> Option<&FuncType> {
        match self {
            ExternType::Func(t) => Some(t),
            _ => None,
        }
    }
    /// The global type, if this is a global.
    pub fn global(&self) -> Option<&GlobalType> {
        match self {
            ExternType::Global(t) => Some(t),
            _ => None,
        }
    }
    /// The table type, if this is a table.
    pub fn table(&self) -> Option<&TableType> {
        match self {
            ExternType::Table(t) => Some(t),
            _ => None,
        }
    }
    /// The memory type, if this is a memory.
    pub fn memory(&self) -> Option<&MemoryType> {
        match self {
            ExternType::Memory(t) => Some(t),
            _ => None,
        }
    }
    /// The tag type, if this is a tag.
    pub fn tag(&self) -> Option<&TagType> {
        match self {
            ExternType::Tag(t) => Some(t),
            _ => None,
        }
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
pub struct ImportType<'a> {
    pub(crate) module: &'a str,
    pub(crate) name: &'a str,
    pub(crate) ty: ExternType,
}

impl<'a> ImportType<'a> {
    /// The module name.
    pub fn module(&self) -> &'a str {
        self.module
    }
    /// The item name.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// The expected type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// One export of a module.
#[derive(Clone, Debug)]
pub struct ExportType<'a> {
    pub(crate) name: &'a str,
    pub(crate) ty: ExternType,
}

impl<'a> ExportType<'a> {
    /// The export's name.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// The exported item's type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}
