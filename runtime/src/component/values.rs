//! [`Val`]: a component value of any type, for calls whose types are known only at run time.

use super::resources::ResourceAny;

/// A component value, as [`Func::call`](super::Func::call) takes and returns them and dynamic host functions
/// ([`LinkerInstance::func_new`](super::LinkerInstance::func_new)) receive and produce them. The variants
/// follow Wasmtime's `component::Val`.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Bool(bool),
    S8(i8),
    U8(u8),
    S16(i16),
    U16(u16),
    S32(i32),
    U32(u32),
    S64(i64),
    U64(u64),
    Float32(f32),
    Float64(f64),
    Char(char),
    String(String),
    /// A `list<T>` (or a fixed-length `list<T, N>`).
    List(Vec<Val>),
    /// A `map<K, V>`: its entries, in order.
    Map(Vec<(Val, Val)>),
    /// A `record`: its fields with their names, in order.
    Record(Vec<(String, Val)>),
    Tuple(Vec<Val>),
    /// A `variant`: the case's name and its payload, if the case has one.
    Variant(String, Option<Box<Val>>),
    /// An `enum`: the case's name.
    Enum(String),
    Option(Option<Box<Val>>),
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// A `flags`: the names of the flags that are set.
    Flags(Vec<String>),
    /// An `own<R>` or `borrow<R>` handle.
    Resource(ResourceAny),
}

impl Val {
    /// What kind of value this is, for error messages (`u32`, `string`, `record`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::S8(_) => "s8",
            Val::U8(_) => "u8",
            Val::S16(_) => "s16",
            Val::U16(_) => "u16",
            Val::S32(_) => "s32",
            Val::U32(_) => "u32",
            Val::S64(_) => "s64",
            Val::U64(_) => "u64",
            Val::Float32(_) => "f32",
            Val::Float64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::List(_) => "list",
            Val::Map(_) => "map",
            Val::Resource(_) => "resource",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Variant(..) => "variant",
            Val::Enum(_) => "enum",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::Flags(_) => "flags",
        }
    }
}
