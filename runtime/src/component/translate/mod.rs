//! Translation of a component binary: validation, then one pass that records what each component (the root
//! and every nested one) does, in order, as [`LocalInitializer`]s over its own index spaces. [`inline`]
//! then flattens the root and everything it instantiates into one list of runtime initializers.

pub mod inline;

use super::type_table::{ComponentTypesBuilder, ItemType, TypeFuncIndex, TypeResourceIndex};
use anyhow::{Context, Result, bail};
use wasmparser::component_types::ComponentAnyTypeId;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentOuterAliasKind, ExternalKind, Instance, Parser, Payload, Validator, WasmFeatures,
};

/// A core module defined inside the component: its bytes and the imports it declares.
pub struct StaticModule<'data> {
    /// The module's binary.
    pub bytes: &'data [u8],
    /// Its imports, `(module, name)`, in order.
    pub imports: Vec<(&'data str, &'data str)>,
}

/// What one component does, in order.
#[derive(Default)]
pub struct StaticComponent<'data> {
    /// The component's definitions, in order.
    pub initializers: Vec<LocalInitializer<'data>>,
}

/// How a string is encoded in a canonical function's memory.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StringEncoding {
    /// UTF-8 (the default).
    #[default]
    Utf8,
    /// UTF-16, little-endian.
    Utf16,
    /// Latin-1 where possible, otherwise UTF-16 (`latin1+utf16`).
    CompactUtf16,
}

/// A canonical function's options, as indices into its component's core index spaces.
#[derive(Clone, Debug, Default)]
pub struct LocalCanonOptions {
    /// The string encoding.
    pub string_encoding: StringEncoding,
    /// The core memory.
    pub memory: Option<u32>,
    /// The core `realloc` function.
    pub realloc: Option<u32>,
    /// The core `post-return` function.
    pub post_return: Option<u32>,
}

/// One definition of a component, over its own index spaces.
pub enum LocalInitializer<'data> {
    /// An import: the next item of its kind's index space.
    Import { name: &'data str, kind: ComponentExternalKind, ty: ItemType },
    /// `canon lower`: a core function calling component function `func`.
    Lower { func: u32, options: LocalCanonOptions },
    /// `canon resource.drop` of resource type `resource`: a core function dropping a handle.
    ResourceDrop { resource: TypeResourceIndex },
    /// `canon resource.new` of resource type `resource` (defined here): a core function making a handle.
    ResourceNew { resource: TypeResourceIndex },
    /// `canon resource.rep` of resource type `resource` (defined here): a core function reading a handle.
    ResourceRep { resource: TypeResourceIndex },
    /// A resource type defined here, with its destructor (a core function index), if any.
    DefineResource { resource: TypeResourceIndex, dtor: Option<u32> },
    /// `canon lift`: a component function of type `ty` calling core function `func`.
    Lift { ty: TypeFuncIndex, func: u32, options: LocalCanonOptions },
    /// A core module defined here (an index into the static modules).
    ModuleStatic(usize),
    /// A core instance of module `module`, with core instances as its arguments.
    ModuleInstantiate { module: u32, args: Vec<(&'data str, u32)> },
    /// A core instance made of other core items: `(name, kind, index)`.
    ModuleSynthetic(Vec<(&'data str, ExternalKind, u32)>),
    /// A component defined here (an index into the static components).
    ComponentStatic(usize),
    /// An instance of component `component`, with these arguments: `(name, kind, index)`.
    ComponentInstantiate {
        component: u32,
        args: Vec<(&'data str, ComponentExternalKind, u32)>,
        /// The resource types the instance gets from its arguments and gives the outside (see
        /// [`resource_aliases`]).
        resources: ResourceAliases,
    },
    /// An instance made of other items: `(name, kind, index)`.
    ComponentSynthetic(Vec<(&'data str, ComponentExternalKind, u32)>),
    /// An export of a component instance, aliased into this component's index space for its kind.
    AliasExport { instance: u32, name: &'data str },
    /// An export of a core instance, aliased into this component's core index space for `kind`.
    AliasCoreExport { instance: u32, name: &'data str, kind: ExternalKind },
    /// A module or component of an enclosing component, `count` levels out.
    AliasOuter { kind: ComponentOuterAliasKind, count: u32, index: u32 },
    /// An export of this component; it is also the next item of its kind's index space.
    Export { name: &'data str, kind: ComponentExternalKind, index: u32 },
}

/// The result of translating a component binary.
pub struct Translation<'data> {
    /// The core modules defined anywhere in it.
    pub modules: Vec<StaticModule<'data>>,
    /// The components defined in it, the root last.
    pub components: Vec<StaticComponent<'data>>,
    /// Its types.
    pub types: ComponentTypesBuilder,
    /// The root component's exports: names and types.
    pub exports: Vec<(String, ItemType)>,
}

/// Validates `bytes` and records what each component in it does.
pub fn translate<'data>(features: WasmFeatures, bytes: &'data [u8]) -> Result<Translation<'data>> {
    let mut validator = Validator::new_with_features(features);
    let mut translation = Translation { modules: Vec::new(), components: Vec::new(), types: Default::default(), exports: Vec::new() };
    // The components being translated, innermost last; `None` marks a core module being skipped.
    let mut open: Vec<Option<StaticComponent<'data>>> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        // The validator sees every payload first, so its types describe what this payload defines. Function
        // bodies are not validated here: each core module is validated in full when it is compiled.
        validator.payload(&payload)?;
        let in_module = matches!(open.last(), Some(None));
        match payload {
            Payload::Version { encoding, .. } => match encoding {
                wasmparser::Encoding::Component => open.push(Some(StaticComponent::default())),
                wasmparser::Encoding::Module if open.is_empty() => bail!("expected a component, found a core module"),
                wasmparser::Encoding::Module => open.push(None),
            },
            Payload::End(_) => {
                if let Some(Some(component)) = open.pop() {
                    translation.components.push(component);
                    let index = translation.components.len() - 1;
                    if let Some(Some(parent)) = open.last_mut() {
                        parent.initializers.push(LocalInitializer::ComponentStatic(index));
                    }
                }
            }
            Payload::ModuleSection { unchecked_range, .. } => {
                let module = &bytes[unchecked_range.start as usize..unchecked_range.end as usize];
                translation.modules.push(StaticModule { bytes: module, imports: module_imports(module)? });
                let index = translation.modules.len() - 1;
                current(&mut open)?.initializers.push(LocalInitializer::ModuleStatic(index));
            }
            _ if in_module => {}
            Payload::ComponentImportSection(section) => {
                let types = validator.types(0).context("component types")?;
                for import in section {
                    let import = import?;
                    let item = types.component_item_for_import(import.name.name).context("import type")?;
                    let ty = translation.types.item_type(types, &item.ty)?;
                    let kind = entity_kind(&item.ty);
                    current(&mut open)?.initializers.push(LocalInitializer::Import { name: import.name.name, kind, ty });
                }
            }
            Payload::ComponentCanonicalSection(section) => {
                let types = validator.types(0).context("component types")?;
                for canon in section {
                    let initializer = match canon? {
                        CanonicalFunction::Lift { core_func_index, type_index, options } => {
                            let ComponentAnyTypeId::Func(id) = types.component_any_type_at(type_index) else {
                                bail!("`canon lift` of a type that is not a function type")
                            };
                            let ty = translation.types.func_type(types, id)?;
                            LocalInitializer::Lift { ty, func: core_func_index, options: canon_options(&options)? }
                        }
                        CanonicalFunction::Lower { func_index, options } => {
                            LocalInitializer::Lower { func: func_index, options: canon_options(&options)? }
                        }
                        CanonicalFunction::ResourceDrop { resource } => {
                            LocalInitializer::ResourceDrop { resource: resource_at(&mut translation.types, types, resource)? }
                        }
                        CanonicalFunction::ResourceNew { resource } => {
                            LocalInitializer::ResourceNew { resource: resource_at(&mut translation.types, types, resource)? }
                        }
                        CanonicalFunction::ResourceRep { resource } => {
                            LocalInitializer::ResourceRep { resource: resource_at(&mut translation.types, types, resource)? }
                        }
                        other => bail!("the canonical built-in `{}` is not supported yet", canon_name(&other)),
                    };
                    current(&mut open)?.initializers.push(initializer);
                }
            }
            Payload::InstanceSection(section) => {
                for instance in section {
                    let initializer = match instance? {
                        Instance::Instantiate { module_index, args } => LocalInitializer::ModuleInstantiate {
                            module: module_index,
                            args: args.iter().map(|arg| (arg.name, arg.index)).collect(),
                        },
                        Instance::FromExports(exports) => LocalInitializer::ModuleSynthetic(
                            exports.iter().map(|export| (export.name, export.kind, export.index)).collect(),
                        ),
                    };
                    current(&mut open)?.initializers.push(initializer);
                }
            }
            Payload::ComponentInstanceSection(section) => {
                let types = validator.types(0).context("component types")?;
                let first = types.component_instance_count() - section.count();
                for (i, instance) in section.into_iter().enumerate() {
                    let initializer = match instance? {
                        ComponentInstance::Instantiate { component_index, args } => {
                            let args: Vec<_> = args.iter().map(|arg| (arg.name, arg.kind, arg.index)).collect();
                            let resources = resource_aliases(&mut translation.types, types, component_index, first + i as u32, &args)?;
                            LocalInitializer::ComponentInstantiate { component: component_index, args, resources }
                        }
                        ComponentInstance::FromExports(exports) => LocalInitializer::ComponentSynthetic(
                            exports.iter().map(|export| (export.name.name, export.kind, export.index)).collect(),
                        ),
                    };
                    current(&mut open)?.initializers.push(initializer);
                }
            }
            Payload::ComponentAliasSection(section) => {
                for alias in section {
                    let initializer = match alias? {
                        ComponentAlias::InstanceExport { instance_index, name, .. } => {
                            LocalInitializer::AliasExport { instance: instance_index, name }
                        }
                        ComponentAlias::CoreInstanceExport { kind, instance_index, name } => {
                            LocalInitializer::AliasCoreExport { instance: instance_index, name, kind }
                        }
                        ComponentAlias::Outer { kind, count, index } => LocalInitializer::AliasOuter { kind, count, index },
                    };
                    current(&mut open)?.initializers.push(initializer);
                }
            }
            Payload::ComponentExportSection(section) => {
                for export in section {
                    let export = export?;
                    if open.len() == 1 {
                        let types = validator.types(0).context("component types")?;
                        let item = types.component_item_for_export(export.name.name).context("export type")?;
                        // An export whose type is not supported yet (a resource type) is refused where it is
                        // used, if it is; its type is just not described.
                        if let Ok(ty) = translation.types.item_type(types, &item.ty) {
                            translation.exports.push((export.name.name.to_string(), ty));
                        }
                    }
                    let initializer =
                        LocalInitializer::Export { name: export.name.name, kind: export.kind, index: export.index };
                    current(&mut open)?.initializers.push(initializer);
                }
            }
            Payload::ComponentStartSection { .. } => bail!("component start functions are not supported yet"),
            Payload::ComponentTypeSection(section) => {
                let types = validator.types(0).context("component types")?;
                let first = types.component_type_count() - section.count();
                for (i, ty) in section.into_iter().enumerate() {
                    if let wasmparser::ComponentType::Resource { dtor, .. } = ty? {
                        let resource = resource_at(&mut translation.types, types, first + i as u32)?;
                        current(&mut open)?.initializers.push(LocalInitializer::DefineResource { resource, dtor });
                    }
                }
            }
            // Types are the validator's; custom sections carry nothing to run.
            _ => {}
        }
    }
    Ok(translation)
}

/// The resource type at type index `index` of the component being translated.
fn resource_at(builder: &mut ComponentTypesBuilder, types: wasmparser::types::TypesRef<'_>, index: u32) -> Result<TypeResourceIndex> {
    let ComponentAnyTypeId::Resource(id) = types.component_any_type_at(index) else {
        bail!("a resource built-in of a type that is not a resource type")
    };
    Ok(builder.resource_index(id.resource()))
}

/// How the resource type numbers of a component instantiation relate to those around it.
#[derive(Default)]
pub struct ResourceAliases {
    /// Each resource type the component imports, and the argument's type: `(imported, given)`.
    pub imported: Vec<(TypeResourceIndex, TypeResourceIndex)>,
    /// Each type a resource the component defines is known by outside, and the definition: `(outside, defined)`.
    pub defined: Vec<(TypeResourceIndex, TypeResourceIndex)>,
}

/// The resource aliases of instance `instance`, which instantiates component `component` with `args`:
/// validation gives the component's resources a type of their own inside it, and fresh ones in the
/// instance's type; flattening gives each instance its slots (see `ResourceSlot`).
fn resource_aliases(
    builder: &mut ComponentTypesBuilder,
    types: wasmparser::types::TypesRef<'_>,
    component: u32,
    instance: u32,
    args: &[(&str, ComponentExternalKind, u32)],
) -> Result<ResourceAliases> {
    let component_ty = &types[types.component_at(component)];
    let instance_ty = &types[types.component_instance_at(instance)];
    let mut aliases = ResourceAliases::default();
    for (id, path) in &component_ty.imported_resources {
        let (name, _) = path.first().and_then(|&i| component_ty.imports.get_index(i)).context("an imported resource's path")?;
        let &(_, kind, index) = args.iter().find(|(arg, ..)| arg == name).context("an imported resource without an argument")?;
        let given = match (kind, &path[1..]) {
            (ComponentExternalKind::Type, []) => match types.component_any_type_at(index) {
                ComponentAnyTypeId::Resource(given) => given.resource(),
                _ => bail!("the argument `{name}` for a resource type is not one"),
            },
            // The path's indices are into the import's type; the argument's exports may come in another order.
            (ComponentExternalKind::Instance, rest) => {
                let wasmparser::component_types::ComponentEntityType::Instance(import) = component_ty.imports[path[0]].ty else {
                    bail!("the import `{name}` giving a resource type is not an instance");
                };
                let names = export_names(types, &types[import].exports, rest)?;
                resource_named(types, &types[types.component_instance_at(index)].exports, &names)?
            }
            _ => bail!("the argument `{name}` gives a resource type in a way not supported yet"),
        };
        aliases.imported.push((builder.resource_index(*id), builder.resource_index(given)));
    }
    for (id, path) in &component_ty.defined_resources {
        let names = export_names(types, &component_ty.exports, path)?;
        let outside = resource_named(types, &instance_ty.exports, &names)?;
        aliases.defined.push((builder.resource_index(outside), builder.resource_index(*id)));
    }
    Ok(aliases)
}

/// The export names along `path` (export indices, through nested instances) in `exports`.
fn export_names(
    types: wasmparser::types::TypesRef<'_>,
    exports: &wasmparser::collections::IndexMap<String, wasmparser::component_types::ComponentItem>,
    path: &[usize],
) -> Result<Vec<String>> {
    let (name, item) = path.first().and_then(|&i| exports.get_index(i)).context("a resource type's path")?;
    let mut names = vec![name.clone()];
    if path.len() > 1 {
        let wasmparser::component_types::ComponentEntityType::Instance(instance) = item.ty else {
            bail!("a resource type's path goes through `{name}`, which is not an instance");
        };
        names.extend(export_names(types, &types[instance].exports, &path[1..])?);
    }
    Ok(names)
}

/// The resource type exported under `names` (through nested instances) in `exports`.
fn resource_named(
    types: wasmparser::types::TypesRef<'_>,
    exports: &wasmparser::collections::IndexMap<String, wasmparser::component_types::ComponentItem>,
    names: &[String],
) -> Result<wasmparser::component_types::ResourceId> {
    use wasmparser::component_types::ComponentEntityType as E;
    let (name, rest) = names.split_first().context("a resource type's path")?;
    let item = exports.get(name).with_context(|| format!("no export `{name}` giving a resource type"))?;
    match (&item.ty, rest) {
        (E::Type { referenced: ComponentAnyTypeId::Resource(id), .. }, []) => Ok(id.resource()),
        (E::Instance(instance), rest) if !rest.is_empty() => resource_named(types, &types[*instance].exports, rest),
        _ => bail!("the export `{name}` is not the resource type expected"),
    }
}

/// The component being translated.
fn current<'a, 'data>(open: &'a mut [Option<StaticComponent<'data>>]) -> Result<&'a mut StaticComponent<'data>> {
    open.last_mut().and_then(Option::as_mut).context("a component section outside a component")
}

/// The kind of index space an imported or exported item of type `ty` goes into.
fn entity_kind(ty: &wasmparser::component_types::ComponentEntityType) -> ComponentExternalKind {
    use wasmparser::component_types::ComponentEntityType as E;
    match ty {
        E::Module(_) => ComponentExternalKind::Module,
        E::Func(_) => ComponentExternalKind::Func,
        E::Value(_) => ComponentExternalKind::Value,
        E::Type { .. } => ComponentExternalKind::Type,
        E::Instance(_) => ComponentExternalKind::Instance,
        E::Component(_) => ComponentExternalKind::Component,
    }
}

/// The imports a core module declares, `(module, name)` in order.
fn module_imports(bytes: &[u8]) -> Result<Vec<(&str, &str)>> {
    let mut imports = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import?;
                    imports.push((import.module, import.name));
                }
            }
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    Ok(imports)
}

fn canon_options(options: &[CanonicalOption]) -> Result<LocalCanonOptions> {
    let mut result = LocalCanonOptions::default();
    for option in options {
        match *option {
            CanonicalOption::UTF8 => result.string_encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => result.string_encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => result.string_encoding = StringEncoding::CompactUtf16,
            CanonicalOption::Memory(index) => result.memory = Some(index),
            CanonicalOption::Realloc(index) => result.realloc = Some(index),
            CanonicalOption::PostReturn(index) => result.post_return = Some(index),
            CanonicalOption::Async | CanonicalOption::Callback(_) => bail!("`async` functions are not supported yet"),
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => bail!("GC-based canonical ABI options are not supported yet"),
        }
    }
    Ok(result)
}

/// The name of a canonical built-in, for errors (its variant name in wasmparser, e.g. `ResourceNew`).
fn canon_name(canon: &CanonicalFunction) -> String {
    let debug = format!("{canon:?}");
    debug.split([' ', '{', '(']).next().unwrap_or_default().to_string()
}
