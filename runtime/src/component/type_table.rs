//! A component's types, interned in one table: every value type, function type and instance type the
//! component mentions, each compound type with its canonical-ABI layout computed once (by [`abi`]).
//!
//! The table is built from the validator's types while the component is translated, and shared (behind an
//! `Arc`) by everything made from the component: its functions, instances and the public views in
//! [`crate::component::types`].
//!
//! [`abi`]: super::abi

use super::abi::{CanonicalAbiInfo, FlatTypes, MAX_FLAT_RESULTS};
use anyhow::{Result, bail};
use std::collections::HashMap;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentDefinedTypeId, ComponentEntityType, ComponentFuncTypeId,
    ComponentInstanceTypeId, ComponentValType,
};
use wasmparser::{PrimitiveValType, types::TypesRef};

macro_rules! indices {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub struct $name(pub u32);
    )*};
}

indices! {
    /// A `list<T>` in [`ComponentTypes::lists`].
    TypeListIndex;
    /// A fixed-length `list<T, N>` in [`ComponentTypes::fixed_lists`].
    TypeFixedListIndex;
    /// A `map<K, V>` in [`ComponentTypes::maps`].
    TypeMapIndex;
    /// A resource type of the component: one of [`ComponentTypes::resources`].
    TypeResourceIndex;
    /// A `record` in [`ComponentTypes::records`].
    TypeRecordIndex;
    /// A `tuple` in [`ComponentTypes::tuples`].
    TypeTupleIndex;
    /// A `variant` in [`ComponentTypes::variants`].
    TypeVariantIndex;
    /// An `enum` in [`ComponentTypes::enums`].
    TypeEnumIndex;
    /// An `option<T>` in [`ComponentTypes::options`].
    TypeOptionIndex;
    /// A `result<T, E>` in [`ComponentTypes::results`].
    TypeResultIndex;
    /// A `flags` in [`ComponentTypes::flags`].
    TypeFlagsIndex;
    /// A function type in [`ComponentTypes::funcs`].
    TypeFuncIndex;
    /// An instance type in [`ComponentTypes::instances`].
    TypeInstanceIndex;
}

/// A component value type: a primitive, or a compound type in the table.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InterfaceType {
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
    List(TypeListIndex),
    FixedList(TypeFixedListIndex),
    Map(TypeMapIndex),
    Record(TypeRecordIndex),
    /// `own<R>`: a handle the holder owns.
    Own(TypeResourceIndex),
    /// `borrow<R>`: a handle lent for one call.
    Borrow(TypeResourceIndex),
    Tuple(TypeTupleIndex),
    Variant(TypeVariantIndex),
    Enum(TypeEnumIndex),
    Option(TypeOptionIndex),
    Result(TypeResultIndex),
    Flags(TypeFlagsIndex),
}

/// `list<T>`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct ListType {
    /// The element type.
    pub element: InterfaceType,
}

/// `list<T, N>`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct FixedListType {
    /// The element type.
    pub element: InterfaceType,
    /// The number of elements.
    pub len: u32,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `map<K, V>`: laid out as the list of its entries, `list<tuple<K, V>>`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct MapType {
    /// The key type.
    pub key: InterfaceType,
    /// The value type.
    pub value: InterfaceType,
    /// The entry type: `tuple<K, V>`, interned with the map.
    pub entry: InterfaceType,
}

/// `record { ... }`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct RecordType {
    /// Field names and types, in order.
    pub fields: Box<[(String, InterfaceType)]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `tuple<...>`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct TupleType {
    /// Element types, in order.
    pub types: Box<[InterfaceType]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `variant { ... }`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct VariantType {
    /// Case names and payload types, in order.
    pub cases: Box<[(String, Option<InterfaceType>)]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `enum { ... }`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct EnumType {
    /// Case names, in order.
    pub names: Box<[String]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `option<T>`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct OptionType {
    /// The payload type.
    pub ty: InterfaceType,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `result<T, E>`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct ResultType {
    /// The `ok` payload type, if any.
    pub ok: Option<InterfaceType>,
    /// The `error` payload type, if any.
    pub err: Option<InterfaceType>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// `flags { ... }`.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct FlagsType {
    /// Flag names, in bit order.
    pub names: Box<[String]>,
    /// Layout.
    pub abi: CanonicalAbiInfo,
}

/// A component function type.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct FuncType {
    /// Parameter names and types.
    pub params: Box<[(String, InterfaceType)]>,
    /// The parameter types alone, in order.
    pub param_types: Box<[InterfaceType]>,
    /// The result type, if any.
    pub result: Option<InterfaceType>,
    /// The parameters as one tuple: their layout when they are passed in memory.
    pub params_abi: CanonicalAbiInfo,
    /// Whether the result is too big for flat values (the callee returns a pointer to it, or a lowered
    /// import's caller passes one).
    pub result_in_memory: bool,
}

/// The type of an item a component imports or exports.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub enum ItemType {
    /// A function.
    Func(TypeFuncIndex),
    /// An instance with these exports.
    Instance(TypeInstanceIndex),
    /// A core module.
    Module,
    /// A component.
    Component,
    /// A type: a value type, or (`None`) another kind of type definition (a function or instance type).
    Type(Option<InterfaceType>),
    /// A resource type.
    Resource(TypeResourceIndex),
}

/// An instance type: its exports.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct InstanceType {
    /// Export names and types, in order.
    pub exports: Box<[(String, ItemType)]>,
}

/// The interned types of one component.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
pub struct ComponentTypes {
    pub lists: Vec<ListType>,
    pub fixed_lists: Vec<FixedListType>,
    pub maps: Vec<MapType>,
    /// How many resource types the component has (imported ones, the only kind supported yet).
    pub resources: u32,
    pub records: Vec<RecordType>,
    pub tuples: Vec<TupleType>,
    pub variants: Vec<VariantType>,
    pub enums: Vec<EnumType>,
    pub options: Vec<OptionType>,
    pub results: Vec<ResultType>,
    pub flags: Vec<FlagsType>,
    pub funcs: Vec<FuncType>,
    pub instances: Vec<InstanceType>,
}

macro_rules! lookups {
    ($($method:ident($index:ident) -> $ty:ident in $field:ident;)*) => {
        impl ComponentTypes {$(
            #[doc = concat!("The `", stringify!($field), "` entry at `index`.")]
            pub fn $method(&self, index: $index) -> &$ty {
                &self.$field[index.0 as usize]
            }
        )*}
    };
}

lookups! {
    list(TypeListIndex) -> ListType in lists;
    fixed_list(TypeFixedListIndex) -> FixedListType in fixed_lists;
    map(TypeMapIndex) -> MapType in maps;
    record(TypeRecordIndex) -> RecordType in records;
    tuple(TypeTupleIndex) -> TupleType in tuples;
    variant(TypeVariantIndex) -> VariantType in variants;
    enum_(TypeEnumIndex) -> EnumType in enums;
    option(TypeOptionIndex) -> OptionType in options;
    result(TypeResultIndex) -> ResultType in results;
    flags(TypeFlagsIndex) -> FlagsType in flags;
    func(TypeFuncIndex) -> FuncType in funcs;
    instance(TypeInstanceIndex) -> InstanceType in instances;
}

impl ComponentTypes {
    /// The layout of `ty`.
    pub fn abi(&self, ty: InterfaceType) -> CanonicalAbiInfo {
        use InterfaceType as I;
        match ty {
            I::Bool | I::S8 | I::U8 => CanonicalAbiInfo::SCALAR1,
            I::S16 | I::U16 => CanonicalAbiInfo::SCALAR2,
            I::S32 | I::U32 | I::Char | I::Float32 => CanonicalAbiInfo::SCALAR4,
            I::S64 | I::U64 | I::Float64 => CanonicalAbiInfo::SCALAR8,
            I::String | I::List(_) | I::Map(_) => CanonicalAbiInfo::POINTER_PAIR,
            I::Own(_) | I::Borrow(_) => CanonicalAbiInfo::SCALAR4,
            I::FixedList(i) => self.fixed_list(i).abi,
            I::Record(i) => self.record(i).abi,
            I::Tuple(i) => self.tuple(i).abi,
            I::Variant(i) => self.variant(i).abi,
            I::Enum(i) => self.enum_(i).abi,
            I::Option(i) => self.option(i).abi,
            I::Result(i) => self.result(i).abi,
            I::Flags(i) => self.flags(i).abi,
        }
    }

    /// The core types `ty` flattens to, or `None` if there are more than `limit`.
    pub fn flat(&self, ty: InterfaceType, limit: usize) -> Option<FlatTypes> {
        let mut flat = FlatTypes::new(limit);
        flat.push_type(self, ty).then_some(flat)
    }
}

/// Builds a [`ComponentTypes`] from the validator's types as the translation meets them, interning each
/// validator type once.
#[derive(Default)]
pub struct ComponentTypesBuilder {
    types: ComponentTypes,
    defined: HashMap<ComponentDefinedTypeId, InterfaceType>,
    funcs: HashMap<ComponentFuncTypeId, TypeFuncIndex>,
    instances: HashMap<ComponentInstanceTypeId, TypeInstanceIndex>,
    resources: HashMap<wasmparser::component_types::ResourceId, TypeResourceIndex>,
}

impl ComponentTypesBuilder {
    /// The finished table.
    pub fn finish(self) -> ComponentTypes {
        self.types
    }

    /// The table so far.
    pub fn types(&self) -> &ComponentTypes {
        &self.types
    }

    /// The interned type of a validator value type.
    pub fn value_type(&mut self, types: TypesRef<'_>, ty: &ComponentValType) -> Result<InterfaceType> {
        match ty {
            ComponentValType::Primitive(p) => primitive(*p),
            ComponentValType::Type(id) => self.defined_type(types, *id),
        }
    }

    fn defined_type(&mut self, types: TypesRef<'_>, id: ComponentDefinedTypeId) -> Result<InterfaceType> {
        if let Some(&ty) = self.defined.get(&id) {
            return Ok(ty);
        }
        let ty = match &types[id] {
            ComponentDefinedType::Primitive(p) => primitive(*p)?,
            ComponentDefinedType::Record(r) => {
                let fields = r
                    .fields
                    .iter()
                    .map(|(name, ty)| Ok((name.to_string(), self.value_type(types, ty)?)))
                    .collect::<Result<Box<[_]>>>()?;
                let abi = CanonicalAbiInfo::record(fields.iter().map(|(_, ty)| self.types.abi(*ty)));
                InterfaceType::Record(push(&mut self.types.records, RecordType { fields, abi }, TypeRecordIndex))
            }
            ComponentDefinedType::Tuple(t) => {
                let types_ = t.types.iter().map(|ty| self.value_type(types, ty)).collect::<Result<Box<[_]>>>()?;
                let abi = CanonicalAbiInfo::record(types_.iter().map(|ty| self.types.abi(*ty)));
                InterfaceType::Tuple(push(&mut self.types.tuples, TupleType { types: types_, abi }, TypeTupleIndex))
            }
            ComponentDefinedType::Variant(v) => {
                let cases = v
                    .cases
                    .iter()
                    .map(|(name, case)| {
                        let ty = case.ty.as_ref().map(|ty| self.value_type(types, ty)).transpose()?;
                        Ok((name.to_string(), ty))
                    })
                    .collect::<Result<Box<[_]>>>()?;
                let abi = CanonicalAbiInfo::variant(cases.iter().map(|(_, ty)| ty.map(|ty| self.types.abi(ty))));
                InterfaceType::Variant(push(&mut self.types.variants, VariantType { cases, abi }, TypeVariantIndex))
            }
            ComponentDefinedType::List { element, .. } => {
                let element = self.value_type(types, element)?;
                InterfaceType::List(push(&mut self.types.lists, ListType { element }, TypeListIndex))
            }
            ComponentDefinedType::FixedLengthList { element, length, .. } => {
                let element = self.value_type(types, element)?;
                let abi = CanonicalAbiInfo::fixed_list(self.types.abi(element), *length);
                let list = FixedListType { element, len: *length, abi };
                InterfaceType::FixedList(push(&mut self.types.fixed_lists, list, TypeFixedListIndex))
            }
            ComponentDefinedType::Flags(names) => {
                let names: Box<[String]> = names.iter().map(|n| n.to_string()).collect();
                let abi = CanonicalAbiInfo::flags(names.len());
                InterfaceType::Flags(push(&mut self.types.flags, FlagsType { names, abi }, TypeFlagsIndex))
            }
            ComponentDefinedType::Enum(names) => {
                let names: Box<[String]> = names.iter().map(|n| n.to_string()).collect();
                let abi = CanonicalAbiInfo::variant(names.iter().map(|_| None));
                InterfaceType::Enum(push(&mut self.types.enums, EnumType { names, abi }, TypeEnumIndex))
            }
            ComponentDefinedType::Option { ty, .. } => {
                let ty = self.value_type(types, ty)?;
                let abi = CanonicalAbiInfo::variant([None, Some(self.types.abi(ty))]);
                InterfaceType::Option(push(&mut self.types.options, OptionType { ty, abi }, TypeOptionIndex))
            }
            ComponentDefinedType::Result { ok, err, .. } => {
                let ok = ok.as_ref().map(|ty| self.value_type(types, ty)).transpose()?;
                let err = err.as_ref().map(|ty| self.value_type(types, ty)).transpose()?;
                let abi = CanonicalAbiInfo::variant([ok, err].map(|ty| ty.map(|ty| self.types.abi(ty))));
                InterfaceType::Result(push(&mut self.types.results, ResultType { ok, err, abi }, TypeResultIndex))
            }
            ComponentDefinedType::Own(id) => InterfaceType::Own(self.resource_index(id.resource())),
            ComponentDefinedType::Borrow(id) => InterfaceType::Borrow(self.resource_index(id.resource())),
            ComponentDefinedType::Map { key, value, .. } => {
                let (key, value) = (self.value_type(types, key)?, self.value_type(types, value)?);
                let abi = CanonicalAbiInfo::record([key, value].into_iter().map(|ty| self.types.abi(ty)));
                let entry = InterfaceType::Tuple(push(&mut self.types.tuples, TupleType { types: Box::new([key, value]), abi }, TypeTupleIndex));
                InterfaceType::Map(push(&mut self.types.maps, MapType { key, value, entry }, TypeMapIndex))
            }
            ComponentDefinedType::Future { .. } | ComponentDefinedType::Stream { .. } => {
                bail!("`future` and `stream` types are not supported yet")
            }
        };
        self.defined.insert(id, ty);
        Ok(ty)
    }

    /// The index of resource type `id`, numbered as first seen.
    pub fn resource_index(&mut self, id: wasmparser::component_types::ResourceId) -> TypeResourceIndex {
        let next = TypeResourceIndex(self.types.resources);
        *self.resources.entry(id).or_insert_with(|| {
            self.types.resources += 1;
            next
        })
    }

    /// The interned type of a validator function type.
    pub fn func_type(&mut self, types: TypesRef<'_>, id: ComponentFuncTypeId) -> Result<TypeFuncIndex> {
        if let Some(&index) = self.funcs.get(&id) {
            return Ok(index);
        }
        let ty = &types[id];
        if ty.async_ {
            bail!("`async` functions are not supported yet");
        }
        let params = ty
            .params
            .iter()
            .map(|(name, ty)| Ok((name.to_string(), self.value_type(types, ty)?)))
            .collect::<Result<Box<[_]>>>()?;
        let result = ty.result.as_ref().map(|ty| self.value_type(types, ty)).transpose()?;
        let params_abi = CanonicalAbiInfo::record(params.iter().map(|(_, ty)| self.types.abi(*ty)));
        let param_types = params.iter().map(|(_, ty)| *ty).collect();
        let result_in_memory = result.is_some_and(|ty| self.types.flat(ty, MAX_FLAT_RESULTS).is_none());
        let func = FuncType { params, param_types, result, params_abi, result_in_memory };
        let index = push(&mut self.types.funcs, func, TypeFuncIndex);
        self.funcs.insert(id, index);
        Ok(index)
    }

    /// The interned type of an imported or exported item.
    pub fn item_type(&mut self, types: TypesRef<'_>, ty: &ComponentEntityType) -> Result<ItemType> {
        Ok(match ty {
            ComponentEntityType::Func(id) => ItemType::Func(self.func_type(types, *id)?),
            ComponentEntityType::Instance(id) => ItemType::Instance(self.instance_type(types, *id)?),
            ComponentEntityType::Module(_) => ItemType::Module,
            ComponentEntityType::Component(_) => ItemType::Component,
            ComponentEntityType::Type { referenced, .. } => match referenced {
                ComponentAnyTypeId::Resource(id) => ItemType::Resource(self.resource_index(id.resource())),
                // A type definition needs no support to be imported or exported: one whose values are not
                // supported yet (resource handles, streams) is just not described.
                ComponentAnyTypeId::Defined(id) => ItemType::Type(self.defined_type(types, *id).ok()),
                _ => ItemType::Type(None),
            },
            ComponentEntityType::Value(_) => bail!("value imports and exports are not supported yet"),
        })
    }

    fn instance_type(&mut self, types: TypesRef<'_>, id: ComponentInstanceTypeId) -> Result<TypeInstanceIndex> {
        if let Some(&index) = self.instances.get(&id) {
            return Ok(index);
        }
        let exports = types[id]
            .exports
            .iter()
            .map(|(name, item)| Ok((name.clone(), self.item_type(types, &item.ty)?)))
            .collect::<Result<Box<[_]>>>()?;
        let index = push(&mut self.types.instances, InstanceType { exports }, TypeInstanceIndex);
        self.instances.insert(id, index);
        Ok(index)
    }
}

/// Appends `value` to `list`; its index.
fn push<T, I>(list: &mut Vec<T>, value: T, index: fn(u32) -> I) -> I {
    list.push(value);
    index(list.len() as u32 - 1)
}

fn primitive(p: PrimitiveValType) -> Result<InterfaceType> {
    use PrimitiveValType as P;
    Ok(match p {
        P::Bool => InterfaceType::Bool,
        P::S8 => InterfaceType::S8,
        P::U8 => InterfaceType::U8,
        P::S16 => InterfaceType::S16,
        P::U16 => InterfaceType::U16,
        P::S32 => InterfaceType::S32,
        P::U32 => InterfaceType::U32,
        P::S64 => InterfaceType::S64,
        P::U64 => InterfaceType::U64,
        P::F32 => InterfaceType::Float32,
        P::F64 => InterfaceType::Float64,
        P::Char => InterfaceType::Char,
        P::String => InterfaceType::String,
        P::ErrorContext => bail!("`error-context` is not supported yet"),
    })
}

/// A list type: of any length, or of a fixed length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListIndex {
    /// `list<T>`.
    Variable(TypeListIndex),
    /// `list<T, N>`.
    Fixed(TypeFixedListIndex),
}
