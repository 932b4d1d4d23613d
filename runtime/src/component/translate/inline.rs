//! Flattening: runs the root component's definitions at compile time, instantiating nested components in
//! place with their arguments, so that what is left for run time is one list of core instantiations and
//! lowerings ([`ComponentInfo`]). Nesting costs nothing when the component is instantiated.

use super::{LocalCanonOptions, LocalInitializer, StaticComponent, StaticModule};
use crate::component::info::{CanonOptions, ComponentInfo, CoreDef, Export, FuncDef, ImportPath, Initializer, ResourceSlot};
use crate::component::type_table::{ComponentTypes, ItemType, TypeInstanceIndex};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::rc::Rc;
use wasmparser::{ComponentExternalKind, ComponentOuterAliasKind, ExternalKind};

/// An item of a component's index spaces, as flattening sees it.
#[derive(Clone)]
enum ItemDef {
    Func(FuncDef),
    Instance(InstanceDef),
    Module(ModuleDef),
    Component(ComponentDef),
    Type,
}

/// A component instance: imported, or made here (by instantiation or from items).
#[derive(Clone)]
enum InstanceDef {
    Import { path: ImportPath, ty: TypeInstanceIndex },
    Items(Rc<Vec<(String, ItemDef)>>),
}

/// A core module.
#[derive(Clone)]
enum ModuleDef {
    Static(usize),
    Import,
}

/// A component that can be instantiated: its definitions, and the index spaces of the components it is
/// nested in (as they were where it was defined), for its outer aliases.
#[derive(Clone)]
struct ComponentDef {
    index: usize,
    outer: Option<Rc<Scope>>,
}

/// The module and component index spaces of an enclosing component.
struct Scope {
    modules: Vec<ModuleDef>,
    components: Vec<ComponentDef>,
    outer: Option<Rc<Scope>>,
}

/// A component instance's exports, by name.
type Exports = Vec<(String, ItemDef)>;

/// A core instance: one created at run time, or one made of other core items.
#[derive(Clone)]
enum CoreInstanceDef {
    Runtime(usize),
    Items(Rc<Vec<(String, CoreDef)>>),
}

/// The index spaces of one component being run.
#[derive(Default)]
struct Frame {
    /// Which component instance this is (see [`ComponentInfo::num_component_instances`]).
    id: usize,
    core_funcs: Vec<CoreDef>,
    core_memories: Vec<CoreDef>,
    core_tables: Vec<CoreDef>,
    core_globals: Vec<CoreDef>,
    core_tags: Vec<CoreDef>,
    core_instances: Vec<CoreInstanceDef>,
    modules: Vec<ModuleDef>,
    funcs: Vec<FuncDef>,
    instances: Vec<InstanceDef>,
    components: Vec<ComponentDef>,
    exports: Vec<(String, ItemDef)>,
    /// The slot of each resource type number, as this component's types use them.
    resources: Vec<ResourceSlot>,
}

/// What flattening builds.
struct Inliner<'a, 'data> {
    modules: &'a [StaticModule<'data>],
    components: &'a [StaticComponent<'data>],
    types: &'a ComponentTypes,
    info: ComponentInfo,
}

/// Flattens the root component (the last of `components`).
pub fn inline(modules: &[StaticModule<'_>], components: &[StaticComponent<'_>], types: &ComponentTypes) -> Result<ComponentInfo> {
    let mut inliner = Inliner { modules, components, types, info: ComponentInfo::default() };
    let root = components.len().checked_sub(1).context("no component")?;
    // The root's resource type numbers are its slots; nested components' definitions get slots of their own.
    inliner.info.resource_slots = types.resources;
    let resources = (0..types.resources).map(ResourceSlot).collect();
    let (exports, _) = inliner.run(root, None, None, resources)?;
    inliner.info.exports = exports.iter().map(|(name, item)| Ok((name.clone(), inliner.export(item)?))).collect::<Result<_>>()?;
    Ok(inliner.info)
}

impl Inliner<'_, '_> {
    /// Runs component `index` with `args` for its imports, instantiated by component instance `parent`
    /// (`None`: it is the root, whose imports are the component's imports); returns its exports.
    /// `resources` gives the slots of the resource type numbers as the component sees them when it starts
    /// (those it imports among them); returns them as they are at its end too (with those it defines).
    fn run(
        &mut self,
        index: usize,
        args_and_parent: Option<(&HashMap<&str, ItemDef>, usize)>,
        outer: Option<Rc<Scope>>,
        resources: Vec<ResourceSlot>,
    ) -> Result<(Exports, Vec<ResourceSlot>)> {
        let mut frame = Frame { id: self.info.num_component_instances, resources, ..Frame::default() };
        self.info.num_component_instances += 1;
        self.info.parents.push(args_and_parent.map(|(_, parent)| parent));
        let args = args_and_parent.map(|(args, _)| args);
        self.info.frame_resources.push(Default::default());
        for initializer in &self.components[index].initializers {
            self.step(&mut frame, initializer, args, &outer)?;
        }
        self.info.frame_resources[frame.id] = frame.resources.clone().into();
        Ok((frame.exports, frame.resources))
    }

    fn step(
        &mut self,
        frame: &mut Frame,
        initializer: &LocalInitializer<'_>,
        args: Option<&HashMap<&str, ItemDef>>,
        outer: &Option<Rc<Scope>>,
    ) -> Result<()> {
        match initializer {
            LocalInitializer::Import { name, kind, ty } => {
                let item = match args {
                    Some(args) => args.get(name).cloned().with_context(|| format!("no argument for import `{name}`"))?,
                    None => self.root_import(name, *kind, ty)?,
                };
                push_item(frame, item);
            }
            LocalInitializer::Lower { func, options } => {
                let callee = frame.funcs[*func as usize].clone();
                let options = self.options(frame, options);
                self.lowered(frame, Initializer::Lower { callee, options });
            }
            LocalInitializer::ResourceDrop { resource } => {
                let resource = frame.resources[resource.0 as usize];
                self.lowered(frame, Initializer::ResourceDrop { resource, instance: frame.id });
            }
            LocalInitializer::ResourceNew { resource } => {
                let resource = frame.resources[resource.0 as usize];
                self.lowered(frame, Initializer::ResourceNew { resource, instance: frame.id });
            }
            LocalInitializer::ResourceRep { resource } => {
                let resource = frame.resources[resource.0 as usize];
                self.lowered(frame, Initializer::ResourceRep { resource, instance: frame.id });
            }
            LocalInitializer::DefineResource { resource, dtor } => {
                let dtor = dtor.map(|f| frame.core_funcs[f as usize].clone());
                // Each instance of a nested component defines a type of its own.
                if frame.id != 0 {
                    frame.resources[resource.0 as usize] = ResourceSlot(self.info.resource_slots);
                    self.info.resource_slots += 1;
                }
                let resource = frame.resources[resource.0 as usize];
                self.info.initializers.push(Initializer::DefineResource { resource, dtor, instance: frame.id });
            }
            LocalInitializer::Lift { ty, func, options } => {
                let func = frame.core_funcs[*func as usize].clone();
                let options = self.options(frame, options);
                frame.funcs.push(FuncDef::Lifted { ty: *ty, func, options, name: None });
            }
            LocalInitializer::ModuleStatic(index) => frame.modules.push(ModuleDef::Static(*index)),
            LocalInitializer::ModuleInstantiate { module, args } => {
                let ModuleDef::Static(module) = frame.modules[*module as usize] else {
                    bail!("instantiating an imported core module is not supported yet")
                };
                let given: HashMap<&str, &CoreInstanceDef> =
                    args.iter().map(|(name, instance)| (*name, &frame.core_instances[*instance as usize])).collect();
                let imports = &self.modules[module].imports;
                let args = imports
                    .iter()
                    .map(|(module_name, name)| {
                        let instance = given.get(module_name).with_context(|| format!("no instance for `{module_name}`"))?;
                        core_export(instance, name)
                    })
                    .collect::<Result<_>>()?;
                self.info.initializers.push(Initializer::InstantiateModule { module, args });
                frame.core_instances.push(CoreInstanceDef::Runtime(self.info.num_instances));
                self.info.num_instances += 1;
            }
            LocalInitializer::ModuleSynthetic(items) => {
                let items = items.iter().map(|(name, kind, index)| (name.to_string(), core_item(frame, *kind, *index).clone())).collect();
                frame.core_instances.push(CoreInstanceDef::Items(Rc::new(items)));
            }
            LocalInitializer::ComponentStatic(index) => {
                let scope = Scope { modules: frame.modules.clone(), components: frame.components.clone(), outer: outer.clone() };
                frame.components.push(ComponentDef { index: *index, outer: Some(Rc::new(scope)) });
            }
            LocalInitializer::ComponentInstantiate { component, args, resources } => {
                let component = frame.components[*component as usize].clone();
                let args: HashMap<&str, ItemDef> =
                    args.iter().map(|(name, kind, index)| Ok((*name, item(frame, *kind, *index)?))).collect::<Result<_>>()?;
                // The instance sees the types its arguments give under its own numbers; the outside sees those
                // it defines under fresh numbers.
                let mut inner = frame.resources.clone();
                for &(imported, given) in &resources.imported {
                    inner[imported.0 as usize] = frame.resources[given.0 as usize];
                }
                let (exports, inner) = self.run(component.index, Some((&args, frame.id)), component.outer, inner)?;
                for &(outside, defined) in &resources.defined {
                    frame.resources[outside.0 as usize] = inner[defined.0 as usize];
                }
                frame.instances.push(InstanceDef::Items(Rc::new(exports)));
            }
            LocalInitializer::ComponentSynthetic(items) => {
                let items = items.iter().map(|(name, kind, index)| Ok((name.to_string(), item(frame, *kind, *index)?)));
                frame.instances.push(InstanceDef::Items(Rc::new(items.collect::<Result<_>>()?)));
            }
            LocalInitializer::AliasExport { instance, name } => {
                let item = self.instance_export(&frame.instances[*instance as usize], name)?;
                push_item(frame, item);
            }
            LocalInitializer::AliasCoreExport { instance, name, kind } => {
                let def = core_export(&frame.core_instances[*instance as usize], name)?;
                core_space(frame, *kind).push(def);
            }
            LocalInitializer::AliasOuter { kind, count, index } => {
                // Count 0 is this component; count n, the component n levels out from where it was defined.
                let (modules, components) = match count {
                    0 => (&frame.modules, &frame.components),
                    _ => {
                        let mut scope = outer.as_ref();
                        for _ in 1..*count {
                            scope = scope.and_then(|s| s.outer.as_ref());
                        }
                        let scope = scope.context("an outer alias beyond the outermost component")?;
                        (&scope.modules, &scope.components)
                    }
                };
                match kind {
                    ComponentOuterAliasKind::CoreModule => {
                        let module = modules[*index as usize].clone();
                        frame.modules.push(module);
                    }
                    ComponentOuterAliasKind::Component => {
                        let component = components[*index as usize].clone();
                        frame.components.push(component);
                    }
                    // Types are the validator's business.
                    ComponentOuterAliasKind::CoreType | ComponentOuterAliasKind::Type => {}
                }
            }
            LocalInitializer::Export { name, kind, index } => {
                let item = item(frame, *kind, *index)?;
                frame.exports.push((name.to_string(), item.clone()));
                push_item(frame, item);
            }
        }
        Ok(())
    }

    /// Registers a root import; the item it puts in the component's index space.
    fn root_import(&mut self, name: &str, kind: ComponentExternalKind, ty: &ItemType) -> Result<ItemDef> {
        self.info.imports.push((name.to_string(), ty.clone()));
        let path = ImportPath { import: self.info.imports.len() - 1, path: Vec::new() };
        imported_item(path, ty).with_context(|| format!("import `{name}` of kind {kind:?}"))
    }

    /// Export `name` of a component instance.
    fn instance_export(&self, instance: &InstanceDef, name: &str) -> Result<ItemDef> {
        match instance {
            InstanceDef::Items(items) => {
                let mut item = items.iter().find(|(n, _)| n == name).map(|(_, item)| item.clone()).with_context(|| format!("no export `{name}`"))?;
                // A function of a nested instance is known by its export name in errors about its calls.
                if let ItemDef::Func(FuncDef::Lifted { name: known @ None, .. }) = &mut item {
                    *known = Some(name.into());
                }
                Ok(item)
            }
            InstanceDef::Import { path, ty } => {
                let (_, ty) = self.types.instance(*ty).exports.iter().find(|(n, _)| n == name).context("no such export")?;
                let mut path = path.clone();
                path.path.push(name.to_string());
                imported_item(path, ty)
            }
        }
    }

    /// Adds `initializer`, which makes a lowered function, as the frame's next core function.
    fn lowered(&mut self, frame: &mut Frame, initializer: Initializer) {
        self.info.initializers.push(initializer);
        frame.core_funcs.push(CoreDef::Lowered(self.info.num_lowered));
        self.info.num_lowered += 1;
    }

    /// Resolves canonical options to run-time definitions; their index.
    fn options(&mut self, frame: &Frame, options: &LocalCanonOptions) -> usize {
        let resolved = CanonOptions {
            instance: frame.id,
            string_encoding: options.string_encoding,
            memory: options.memory.map(|i| frame.core_memories[i as usize].clone()),
            realloc: options.realloc.map(|i| frame.core_funcs[i as usize].clone()),
            post_return: options.post_return.map(|i| frame.core_funcs[i as usize].clone()),
        };
        self.info.options.push(resolved);
        self.info.options.len() - 1
    }

    /// The component export of `item`.
    fn export(&self, item: &ItemDef) -> Result<Export> {
        Ok(match item {
            ItemDef::Func(def) => Export::Func(def.clone()),
            ItemDef::Instance(InstanceDef::Items(items)) => {
                Export::Instance(items.iter().map(|(name, item)| Ok((name.clone(), self.export(item)?))).collect::<Result<_>>()?)
            }
            ItemDef::Instance(instance @ InstanceDef::Import { ty, .. }) => Export::Instance(
                self.types
                    .instance(*ty)
                    .exports
                    .iter()
                    .map(|(name, _)| Ok((name.clone(), self.export(&self.instance_export(instance, name)?)?)))
                    .collect::<Result<_>>()?,
            ),
            ItemDef::Module(ModuleDef::Static(index)) => Export::Module(*index),
            ItemDef::Module(ModuleDef::Import) => bail!("exporting an imported core module is not supported yet"),
            ItemDef::Component(_) => bail!("exporting a component is not supported yet"),
            ItemDef::Type => Export::Type,
        })
    }
}

/// The item an import of type `ty` at `path` puts in an index space.
fn imported_item(path: ImportPath, ty: &ItemType) -> Result<ItemDef> {
    Ok(match ty {
        ItemType::Func(ty) => ItemDef::Func(FuncDef::Import { path, ty: *ty }),
        ItemType::Instance(ty) => ItemDef::Instance(InstanceDef::Import { path, ty: *ty }),
        ItemType::Module => ItemDef::Module(ModuleDef::Import),
        ItemType::Component => bail!("importing components is not supported yet"),
        ItemType::Type(_) | ItemType::Resource(_) => ItemDef::Type,
    })
}

/// Adds `item` to the index space of its kind.
fn push_item(frame: &mut Frame, item: ItemDef) {
    match item {
        ItemDef::Func(def) => frame.funcs.push(def),
        ItemDef::Instance(def) => frame.instances.push(def),
        ItemDef::Module(def) => frame.modules.push(def),
        ItemDef::Component(def) => frame.components.push(def),
        // The type index space is the validator's; nothing at run time refers to it.
        ItemDef::Type => {}
    }
}

/// Item `index` of the index space for `kind`.
fn item(frame: &Frame, kind: ComponentExternalKind, index: u32) -> Result<ItemDef> {
    let index = index as usize;
    Ok(match kind {
        ComponentExternalKind::Func => ItemDef::Func(frame.funcs[index].clone()),
        ComponentExternalKind::Instance => ItemDef::Instance(frame.instances[index].clone()),
        ComponentExternalKind::Module => ItemDef::Module(frame.modules[index].clone()),
        ComponentExternalKind::Component => ItemDef::Component(frame.components[index].clone()),
        ComponentExternalKind::Type => ItemDef::Type,
        ComponentExternalKind::Value => bail!("component values are not supported yet"),
    })
}

/// The core index space for `kind`.
fn core_space(frame: &mut Frame, kind: ExternalKind) -> &mut Vec<CoreDef> {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => &mut frame.core_funcs,
        ExternalKind::Memory => &mut frame.core_memories,
        ExternalKind::Table => &mut frame.core_tables,
        ExternalKind::Global => &mut frame.core_globals,
        ExternalKind::Tag => &mut frame.core_tags,
    }
}

/// Core item `index` of the space for `kind`.
fn core_item(frame: &Frame, kind: ExternalKind, index: u32) -> &CoreDef {
    let space = match kind {
        ExternalKind::Func | ExternalKind::FuncExact => &frame.core_funcs,
        ExternalKind::Memory => &frame.core_memories,
        ExternalKind::Table => &frame.core_tables,
        ExternalKind::Global => &frame.core_globals,
        ExternalKind::Tag => &frame.core_tags,
    };
    &space[index as usize]
}

/// Export `name` of a core instance.
fn core_export(instance: &CoreInstanceDef, name: &str) -> Result<CoreDef> {
    match instance {
        CoreInstanceDef::Runtime(instance) => Ok(CoreDef::Export { instance: *instance, name: name.to_string() }),
        CoreInstanceDef::Items(items) => {
            items.iter().find(|(n, _)| n == name).map(|(_, def)| def.clone()).with_context(|| format!("no core export `{name}`"))
        }
    }
}
