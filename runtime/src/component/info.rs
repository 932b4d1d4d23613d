//! The flattened description of a component that instantiation runs: its root imports, one list of
//! initializers for everything it instantiates however deeply nested, its canonical options and its exports.

use super::translate::StringEncoding;
use super::type_table::{ItemType, TypeFuncIndex};

/// A core item at run time: an export of a core instance created by an [`Initializer`], or a lowered
/// function.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub enum CoreDef {
    /// Export `name` of runtime core instance `instance`.
    Export { instance: usize, name: String },
    /// Lowered function number `n` (made by the `n`th [`Initializer::Lower`]).
    Lowered(usize),
}

/// Where an imported item comes from: a root import, then export names into nested instances.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ImportPath {
    /// The root import.
    pub import: usize,
    /// Export names, outermost first.
    pub path: Vec<String>,
}

/// A component function at run time.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub enum FuncDef {
    /// A function the host provides (through an import).
    Import { path: ImportPath, ty: TypeFuncIndex },
    /// A core function lifted with canonical options; `name` is the name a nested instance exports it by,
    /// for errors (set when another part of the component takes it from there).
    Lifted { ty: TypeFuncIndex, func: CoreDef, options: usize, name: Option<std::sync::Arc<str>> },
}

impl FuncDef {
    /// The function's type.
    pub fn ty(&self) -> TypeFuncIndex {
        match self {
            FuncDef::Import { ty, .. } | FuncDef::Lifted { ty, .. } => *ty,
        }
    }
}

/// Canonical options with their core items resolved to run-time definitions.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct CanonOptions {
    /// The component instance (of those flattening found, see [`ComponentInfo::num_component_instances`])
    /// whose canonical function these options belong to: the callee of a lifted function, the caller of a
    /// lowered one.
    pub instance: usize,
    /// The string encoding.
    pub string_encoding: StringEncoding,
    /// The memory values are read from and written to.
    pub memory: Option<CoreDef>,
    /// `realloc`, for lowering strings and lists into the memory.
    pub realloc: Option<CoreDef>,
    /// `post-return`, run after a lifted call's results are read.
    pub post_return: Option<CoreDef>,
}

/// One step of instantiation.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub enum Initializer {
    /// Instantiate static module `module` with these imports (in its import order); the next runtime core
    /// instance.
    InstantiateModule { module: usize, args: Vec<CoreDef> },
    /// Make the next lowered function: a core function calling `callee` with options `options`.
    Lower { callee: FuncDef, options: usize },
    /// Make the next lowered function: `resource.drop` of resource type `resource`, dropping handles of
    /// (nested) component instance `instance`.
    ResourceDrop { resource: ResourceSlot, instance: usize },
    /// Make the next lowered function: `resource.new` of resource type `resource` (defined by (nested)
    /// component instance `instance`).
    ResourceNew { resource: ResourceSlot, instance: usize },
    /// Make the next lowered function: `resource.rep` of resource type `resource`.
    ResourceRep { resource: ResourceSlot, instance: usize },
    /// Resource type `resource` is defined by (nested) component instance `instance`, with destructor `dtor`
    /// (a core function).
    DefineResource { resource: ResourceSlot, dtor: Option<CoreDef>, instance: usize },
}

/// A resource type of a component instance at run time. Types name resources by number (`TypeResourceIndex`),
/// numbered once per component binary; a nested component instantiated twice defines two resource types
/// under one number, and a type given to a nested component has a number inside and another outside: each
/// (nested) component instance's numbers map to slots (`ComponentInfo::frame_resources`). Slot `i` is number
/// `i` of the root component, whose imported resources keep their numbers.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceSlot(pub u32);

/// An export of the component.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub enum Export {
    /// A function.
    Func(FuncDef),
    /// An instance, with its exports.
    Instance(Vec<(String, Export)>),
    /// A core module (a static one).
    Module(usize),
    /// A type.
    Type,
}

/// A component, flattened.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
pub struct ComponentInfo {
    /// The root imports: names and types.
    pub imports: Vec<(String, ItemType)>,
    /// Instantiation, step by step.
    pub initializers: Vec<Initializer>,
    /// Canonical options, referred to by index.
    pub options: Vec<CanonOptions>,
    /// The exports, in order.
    pub exports: Vec<(String, Export)>,
    /// How many core instances instantiation creates.
    pub num_instances: usize,
    /// How many lowered functions instantiation creates.
    pub num_lowered: usize,
    /// How many component instances (the root and each nested instantiation) the flattened component holds;
    /// each has its own re-entrance and `may_leave` state.
    pub num_component_instances: usize,
    /// The parent of each component instance: the one whose `instance` definition made it (`None` for the
    /// root).
    pub parents: Vec<Option<usize>>,
    /// How many resource slots an instance has.
    pub resource_slots: u32,
    /// For each (nested) component instance, the slot of each resource type number as its types use them.
    pub frame_resources: Vec<std::sync::Arc<[ResourceSlot]>>,
}

impl ComponentInfo {
    /// Component instance `instance` and its ancestors, innermost first: what a call from the host into it
    /// enters.
    pub fn self_and_ancestors(&self, instance: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(instance), |i| self.parents[*i])
    }

    /// The component instances a call from `caller` (`None`: the host) into `callee` enters, as the spec's
    /// `entering_set` says: the callee and its ancestors, but for those the caller is already inside (so a
    /// parent may call its child, and a child its parent, while a call back into a running sibling traps).
    pub fn entering_set(&self, caller: Option<usize>, callee: usize) -> Vec<usize> {
        let inside: Vec<usize> = caller.map(|c| self.self_and_ancestors(c).collect()).unwrap_or_default();
        self.self_and_ancestors(callee).filter(|i| !inside.contains(i)).collect()
    }

    /// Checks that every index the description holds is in range, given `modules` static modules and
    /// `funcs` function types: true of a component's own; an artifact's is checked with this before use.
    pub fn check_indices(&self, modules: usize, funcs: usize) -> anyhow::Result<()> {
        let ok = |holds: bool, what: &str| if holds { Ok(()) } else { anyhow::bail!("the artifact is corrupt: {what}") };
        let instances = self.num_component_instances;
        // Flattening numbers a parent before its children, so parents have lower numbers: no cycles.
        let parents_ok = self.parents.len() == instances && self.parents.iter().enumerate().all(|(i, p)| p.is_none_or(|p| p < i));
        ok(parents_ok, "component instances with unknown parents")?;
        let slots = self.resource_slots;
        let frames_ok = self.frame_resources.len() == instances && self.frame_resources.iter().flat_map(|f| f.iter()).all(|s| s.0 < slots);
        ok(frames_ok, "unknown resource slots")?;
        let (core_instances, lowered, options) = (self.num_instances, self.num_lowered, self.options.len());
        let def_ok = |def: &CoreDef| match def {
            CoreDef::Export { instance, .. } => *instance < core_instances,
            CoreDef::Lowered(n) => *n < lowered,
        };
        let options_ok = self.options.iter().all(|o| {
            o.instance < instances && [&o.memory, &o.realloc, &o.post_return].into_iter().flatten().all(def_ok)
        });
        ok(options_ok, "canonical options with unknown items")?;
        let func_ok = |f: &FuncDef| match f {
            FuncDef::Import { ty, .. } => (ty.0 as usize) < funcs,
            FuncDef::Lifted { ty, func, options: o, .. } => (ty.0 as usize) < funcs && def_ok(func) && *o < options,
        };
        let initializers_ok = self.initializers.iter().all(|i| match i {
            Initializer::InstantiateModule { module, args } => *module < modules && args.iter().all(def_ok),
            Initializer::Lower { callee, options: o } => func_ok(callee) && *o < options,
            Initializer::ResourceDrop { resource, instance }
            | Initializer::ResourceNew { resource, instance }
            | Initializer::ResourceRep { resource, instance } => resource.0 < slots && *instance < instances,
            Initializer::DefineResource { resource, dtor, instance } => {
                resource.0 < slots && *instance < instances && dtor.as_ref().is_none_or(def_ok)
            }
        });
        ok(initializers_ok, "a step of instantiation with unknown items")?;
        fn exports_ok(exports: &[(String, Export)], modules: usize, func_ok: &dyn Fn(&FuncDef) -> bool) -> bool {
            exports.iter().all(|(_, export)| match export {
                Export::Module(index) => *index < modules,
                Export::Instance(items) => exports_ok(items, modules, func_ok),
                Export::Func(f) => func_ok(f),
                Export::Type => true,
            })
        }
        ok(exports_ok(&self.exports, modules, &func_ok), "an export of an unknown item")
    }
}
