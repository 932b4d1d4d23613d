//! Component types as the embedder sees them (Wasmtime's `component::types`): views into a component's
//! interned type table, cheap to clone.

use super::type_table::{self as table, ComponentTypes, InterfaceType};
use super::resources::ResourceType;
use crate::Engine;
use std::fmt;
use std::sync::Arc;

/// A component value type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    Float32,
    Float64,
    Char,
    String,
    List(List),
    Map(Map),
    Record(Record),
    Tuple(Tuple),
    Variant(Variant),
    Enum(Enum),
    Option(OptionType),
    Result(ResultType),
    Flags(Flags),
    /// `own<R>`, with `R`'s identity (uninstantiated in a component's own types).
    Own(ResourceType),
    /// `borrow<R>`.
    Borrow(ResourceType),
}

/// A handle to one entry of a component's type table.
#[derive(Clone)]
struct Handle<I> {
    types: Arc<ComponentTypes>,
    index: I,
}

impl<I: PartialEq> PartialEq for Handle<I> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.types, &other.types) && self.index == other.index
    }
}

impl<I: Eq> Eq for Handle<I> {}

impl<I: fmt::Debug> fmt::Debug for Handle<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.index.fmt(f)
    }
}

macro_rules! views {
    ($($(#[$doc:meta])* $name:ident($index:ident);)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(Handle<table::$index>);
    )*};
}

views! {
    /// `list<T>` (also fixed-length `list<T, N>`).
    List(ListIndex);
    /// `map<K, V>`.
    Map(TypeMapIndex);
    /// `record { ... }`.
    Record(TypeRecordIndex);
    /// `tuple<...>`.
    Tuple(TypeTupleIndex);
    /// `variant { ... }`.
    Variant(TypeVariantIndex);
    /// `enum { ... }`.
    Enum(TypeEnumIndex);
    /// `option<T>`.
    OptionType(TypeOptionIndex);
    /// `result<T, E>`.
    ResultType(TypeResultIndex);
    /// `flags { ... }`.
    Flags(TypeFlagsIndex);
    /// A component function's type.
    ComponentFunc(TypeFuncIndex);
}

impl Type {
    /// The view of `ty` in `types`.
    pub(crate) fn from(types: &Arc<ComponentTypes>, ty: InterfaceType) -> Type {
        let handle = |index| Handle { types: types.clone(), index };
        use InterfaceType as I;
        match ty {
            I::Bool => Type::Bool,
            I::S8 => Type::S8,
            I::U8 => Type::U8,
            I::S16 => Type::S16,
            I::U16 => Type::U16,
            I::S32 => Type::S32,
            I::U32 => Type::U32,
            I::S64 => Type::S64,
            I::U64 => Type::U64,
            I::Float32 => Type::Float32,
            I::Float64 => Type::Float64,
            I::Char => Type::Char,
            I::String => Type::String,
            I::List(i) => Type::List(List(Handle { types: types.clone(), index: table::ListIndex::Variable(i) })),
            I::FixedList(i) => Type::List(List(Handle { types: types.clone(), index: table::ListIndex::Fixed(i) })),
            I::Map(i) => Type::Map(Map(Handle { types: types.clone(), index: i })),
            I::Record(i) => Type::Record(Record(handle(i))),
            I::Tuple(i) => Type::Tuple(Tuple(Handle { types: types.clone(), index: i })),
            I::Variant(i) => Type::Variant(Variant(Handle { types: types.clone(), index: i })),
            I::Enum(i) => Type::Enum(Enum(Handle { types: types.clone(), index: i })),
            I::Option(i) => Type::Option(OptionType(Handle { types: types.clone(), index: i })),
            I::Result(i) => Type::Result(ResultType(Handle { types: types.clone(), index: i })),
            I::Flags(i) => Type::Flags(Flags(Handle { types: types.clone(), index: i })),
            I::Own(i) => Type::Own(ResourceType::uninstantiated(i.0)),
            I::Borrow(i) => Type::Borrow(ResourceType::uninstantiated(i.0)),
        }
    }
}

/// A field of a [`Record`].
#[derive(Clone, Debug)]
pub struct Field<'a> {
    /// The field's name.
    pub name: &'a str,
    /// Its type.
    pub ty: Type,
}

/// A case of a [`Variant`].
#[derive(Clone, Debug)]
pub struct Case<'a> {
    /// The case's name.
    pub name: &'a str,
    /// Its payload type, if it has one.
    pub ty: Option<Type>,
}

impl List {
    /// The element type.
    pub fn ty(&self) -> Type {
        let element = match self.0.index {
            table::ListIndex::Variable(i) => self.0.types.list(i).element,
            table::ListIndex::Fixed(i) => self.0.types.fixed_list(i).element,
        };
        Type::from(&self.0.types, element)
    }

    /// The number of elements of a fixed-length list.
    pub fn fixed_len(&self) -> Option<u32> {
        match self.0.index {
            table::ListIndex::Variable(_) => None,
            table::ListIndex::Fixed(i) => Some(self.0.types.fixed_list(i).len),
        }
    }
}

impl Map {
    /// The key type.
    pub fn key(&self) -> Type {
        Type::from(&self.0.types, self.0.types.map(self.0.index).key)
    }

    /// The value type.
    pub fn value(&self) -> Type {
        Type::from(&self.0.types, self.0.types.map(self.0.index).value)
    }
}

impl Record {
    /// The fields, in order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = Field<'_>> {
        let types = &self.0.types;
        types.record(self.0.index).fields.iter().map(move |(name, ty)| Field { name, ty: Type::from(types, *ty) })
    }
}

impl Tuple {
    /// The element types, in order.
    pub fn types(&self) -> impl ExactSizeIterator<Item = Type> + '_ {
        let types = &self.0.types;
        types.tuple(self.0.index).types.iter().map(move |ty| Type::from(types, *ty))
    }
}

impl Variant {
    /// The cases, in order.
    pub fn cases(&self) -> impl ExactSizeIterator<Item = Case<'_>> {
        let types = &self.0.types;
        types.variant(self.0.index).cases.iter().map(move |(name, ty)| Case { name, ty: ty.map(|ty| Type::from(types, ty)) })
    }
}

impl Enum {
    /// The case names, in order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.0.types.enum_(self.0.index).names.iter().map(String::as_str)
    }
}

impl OptionType {
    /// The payload type.
    pub fn ty(&self) -> Type {
        Type::from(&self.0.types, self.0.types.option(self.0.index).ty)
    }
}

impl ResultType {
    /// The `ok` payload type, if any.
    pub fn ok(&self) -> Option<Type> {
        self.0.types.result(self.0.index).ok.map(|ty| Type::from(&self.0.types, ty))
    }

    /// The `error` payload type, if any.
    pub fn err(&self) -> Option<Type> {
        self.0.types.result(self.0.index).err.map(|ty| Type::from(&self.0.types, ty))
    }
}

impl Flags {
    /// The flag names, in bit order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.0.types.flags(self.0.index).names.iter().map(String::as_str)
    }
}

impl ComponentFunc {
    /// The view of function type `index` in `types`.
    pub(crate) fn new(types: &Arc<ComponentTypes>, index: table::TypeFuncIndex) -> Self {
        ComponentFunc(Handle { types: types.clone(), index })
    }

    /// The parameters: names and types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = (&str, Type)> {
        let types = &self.0.types;
        types.func(self.0.index).params.iter().map(move |(name, ty)| (name.as_str(), Type::from(types, *ty)))
    }

    /// The results (none or one).
    pub fn results(&self) -> impl ExactSizeIterator<Item = Type> + '_ {
        let types = &self.0.types;
        types.func(self.0.index).result.iter().map(move |ty| Type::from(types, *ty))
    }
}

/// The type of a component: what it imports and what it exports, by name (Wasmtime's `types::Component`).
/// Type definitions other than value types (function or instance types given names) are not listed.
#[derive(Clone, Debug)]
pub struct Component {
    types: Arc<ComponentTypes>,
    imports: Arc<[(String, table::ItemType)]>,
    exports: Arc<[(String, table::ItemType)]>,
}

/// An import or export of a component, or an export of an instance: its type (Wasmtime's
/// `types::ComponentExtern`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentExtern<'a> {
    /// The item's type.
    pub ty: ComponentItem,
    /// The `(implements "...")` annotation: Tenon does not record annotations yet, so always `None`.
    pub implements: Option<&'a str>,
    /// The `(external-id "...")` annotation: always `None` for now, as `implements`.
    pub external_id: Option<&'a str>,
}

/// The type of one import or export of a component, or of an export of an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentItem {
    /// A component function.
    ComponentFunc(ComponentFunc),
    /// A component instance, with its own exports.
    ComponentInstance(ComponentInstance),
    /// A core module (its imports and exports are not described yet).
    Module,
    /// A component (its imports and exports are not described yet).
    Component,
    /// A value type.
    Type(Type),
    /// A resource type.
    Resource(ResourceType),
}

/// The type of a component instance: its exports (Wasmtime's `types::ComponentInstance`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentInstance(Handle<table::TypeInstanceIndex>);

/// The items of `items` that are listed, with their views.
fn listed<'a>(types: &'a Arc<ComponentTypes>, items: &'a [(String, table::ItemType)]) -> impl Iterator<Item = (&'a str, ComponentExtern<'a>)> + 'a {
    items.iter().filter_map(move |(name, ty)| {
        let ty = ComponentItem::from(types, ty)?;
        Some((name.as_str(), ComponentExtern { ty, implements: None, external_id: None }))
    })
}

impl ComponentItem {
    /// The view of `ty` in `types`; `None` for a type definition that is not a value type.
    fn from(types: &Arc<ComponentTypes>, ty: &table::ItemType) -> Option<ComponentItem> {
        Some(match ty {
            table::ItemType::Func(i) => ComponentItem::ComponentFunc(ComponentFunc::new(types, *i)),
            table::ItemType::Instance(i) => ComponentItem::ComponentInstance(ComponentInstance(Handle { types: types.clone(), index: *i })),
            table::ItemType::Module => ComponentItem::Module,
            table::ItemType::Component => ComponentItem::Component,
            table::ItemType::Type(ty) => ComponentItem::Type(Type::from(types, (*ty)?)),
            table::ItemType::Resource(i) => ComponentItem::Resource(ResourceType::uninstantiated(i.0)),
        })
    }
}

impl Component {
    /// The type of a component with these types, imports and exports.
    pub(crate) fn new(types: &Arc<ComponentTypes>, imports: &[(String, table::ItemType)], exports: &[(String, table::ItemType)]) -> Self {
        let keep = |items: &[(String, table::ItemType)]| -> Arc<[_]> {
            items.iter().filter(|(_, ty)| !matches!(ty, table::ItemType::Type(None))).cloned().collect()
        };
        Component { types: types.clone(), imports: keep(imports), exports: keep(exports) }
    }

    /// The imports, in order. (`engine` is there for Wasmtime's signature: the type is complete without it.)
    pub fn imports<'a>(&'a self, _engine: &Engine) -> impl ExactSizeIterator<Item = (&'a str, ComponentExtern<'a>)> + 'a {
        listed(&self.types, &self.imports).collect::<Vec<_>>().into_iter()
    }

    /// The exports, in order.
    pub fn exports<'a>(&'a self, _engine: &Engine) -> impl ExactSizeIterator<Item = (&'a str, ComponentExtern<'a>)> + 'a {
        listed(&self.types, &self.exports).collect::<Vec<_>>().into_iter()
    }

    /// The import named `name`, if there is one.
    pub fn get_import<'a>(&'a self, engine: &Engine, name: &str) -> Option<ComponentExtern<'a>> {
        self.imports(engine).find(|(n, _)| *n == name).map(|(_, item)| item)
    }

    /// The export named `name`, if there is one.
    pub fn get_export<'a>(&'a self, engine: &Engine, name: &str) -> Option<ComponentExtern<'a>> {
        self.exports(engine).find(|(n, _)| *n == name).map(|(_, item)| item)
    }
}

impl ComponentInstance {
    /// The exports, in order.
    pub fn exports<'a>(&'a self, _engine: &Engine) -> impl ExactSizeIterator<Item = (&'a str, ComponentExtern<'a>)> + 'a {
        let types = &self.0.types;
        listed(types, &types.instance(self.0.index).exports).collect::<Vec<_>>().into_iter()
    }

    /// The export named `name`, if there is one.
    pub fn get_export<'a>(&'a self, engine: &Engine, name: &str) -> Option<ComponentExtern<'a>> {
        self.exports(engine).find(|(n, _)| *n == name).map(|(_, item)| item)
    }
}

/// WIT syntax: `u32`, `list<string>`, `result<u32, string>`, `record { x: s32, y: s32 }` (component types
/// are structural: records, variants, enums and flags are written out).
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Type::Bool => "bool",
            Type::S8 => "s8",
            Type::U8 => "u8",
            Type::S16 => "s16",
            Type::U16 => "u16",
            Type::S32 => "s32",
            Type::U32 => "u32",
            Type::S64 => "s64",
            Type::U64 => "u64",
            Type::Float32 => "f32",
            Type::Float64 => "f64",
            Type::Char => "char",
            Type::String => "string",
            Type::List(list) => {
                return match list.fixed_len() {
                    None => write!(f, "list<{}>", list.ty()),
                    Some(len) => write!(f, "list<{}, {len}>", list.ty()),
                };
            }
            Type::Map(map) => return write!(f, "map<{}, {}>", map.key(), map.value()),
            Type::Record(record) => {
                let fields: Vec<String> = record.fields().map(|field| format!("{}: {}", field.name, field.ty)).collect();
                return write!(f, "record {{ {} }}", fields.join(", "));
            }
            Type::Tuple(tuple) => {
                let types: Vec<String> = tuple.types().map(|ty| ty.to_string()).collect();
                return write!(f, "tuple<{}>", types.join(", "));
            }
            Type::Variant(variant) => {
                let cases: Vec<String> = variant
                    .cases()
                    .map(|case| match case.ty {
                        Some(ty) => format!("{}({ty})", case.name),
                        None => case.name.to_string(),
                    })
                    .collect();
                return write!(f, "variant {{ {} }}", cases.join(", "));
            }
            Type::Enum(e) => return write!(f, "enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
            Type::Option(option) => return write!(f, "option<{}>", option.ty()),
            Type::Result(result) => {
                return match (result.ok(), result.err()) {
                    (None, None) => f.write_str("result"),
                    (Some(ok), None) => write!(f, "result<{ok}>"),
                    (None, Some(err)) => write!(f, "result<_, {err}>"),
                    (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
                };
            }
            Type::Flags(flags) => return write!(f, "flags {{ {} }}", flags.names().collect::<Vec<_>>().join(", ")),
            Type::Own(r) => return write!(f, "own<{r:?}>"),
            Type::Borrow(r) => return write!(f, "borrow<{r:?}>"),
        };
        f.write_str(name)
    }
}

/// WIT syntax: `func(msg: string) -> u32`.
impl fmt::Display for ComponentFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<String> = self.params().map(|(name, ty)| format!("{name}: {ty}")).collect();
        write!(f, "func({})", params.join(", "))?;
        for result in self.results() {
            write!(f, " -> {result}")?;
        }
        Ok(())
    }
}
