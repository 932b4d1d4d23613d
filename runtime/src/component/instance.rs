//! [`Instance`] and [`InstancePre`]: running a component's flattened initializers in a store, and finding
//! its exports.

use super::Component;
use super::func::Func;
use super::typed::{ComponentNamedList, Lift, Lower};
use super::typed_func::TypedFunc;
use super::types::ComponentItem;
use super::adapter;
use super::host::{lower, resource_drop, resource_new, resource_rep};
use super::info::{CoreDef, Export, FuncDef, ImportPath, Initializer};
use super::linker::{Definition, HostResource};
use super::resources::ResourceType;
use super::store::{FuncData, InstanceData, Options};
use crate::store::Stored;
use crate::{AsContextMut, Extern, StoreContextMut};
use anyhow::{Context, Result, bail};
use std::sync::Arc;

/// An instance of a component in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance(pub(crate) Stored);

/// A component with its imports resolved and checked: instantiating it does no lookups and no checks.
pub struct InstancePre<T: 'static> {
    component: Component,
    /// The definition of each root import (`None` for types).
    imports: Arc<[Option<Definition<T>>]>,
    /// The host resource type of each of the component's resource types, by resource index.
    resources: Arc<[Option<HostResource<T>>]>,
}

impl<T: 'static> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre { component: self.component.clone(), imports: self.imports.clone(), resources: self.resources.clone() }
    }
}

/// The position of an export, found once with [`Instance::get_export_index`] and valid for every instance
/// of the same component.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ComponentExportIndex {
    component: usize,
    path: Vec<usize>,
}

/// A way to name an export: by name, or by a [`ComponentExportIndex`].
pub trait InstanceExportLookup {
    /// The export's position in `exports` (of `component`), if there is one.
    #[doc(hidden)]
    fn lookup(&self, component: &Component) -> Option<Vec<usize>>;
}

impl InstanceExportLookup for str {
    fn lookup(&self, component: &Component) -> Option<Vec<usize>> {
        component.info().exports.iter().position(|(name, _)| name == self).map(|i| vec![i])
    }
}

impl InstanceExportLookup for String {
    fn lookup(&self, component: &Component) -> Option<Vec<usize>> {
        self.as_str().lookup(component)
    }
}

impl<L: InstanceExportLookup + ?Sized> InstanceExportLookup for &L {
    fn lookup(&self, component: &Component) -> Option<Vec<usize>> {
        (**self).lookup(component)
    }
}

impl InstanceExportLookup for ComponentExportIndex {
    fn lookup(&self, component: &Component) -> Option<Vec<usize>> {
        (self.component == component_id(component)).then(|| self.path.clone())
    }
}

/// An identity of a compiled component, for export indices.
fn component_id(component: &Component) -> usize {
    component.info() as *const _ as usize
}

impl<T: 'static> InstancePre<T> {
    pub(crate) fn new(component: Component, imports: Vec<Option<Definition<T>>>, resources: Vec<Option<HostResource<T>>>) -> Self {
        InstancePre { component, imports: imports.into(), resources: resources.into() }
    }

    /// The component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// The engine the component belongs to.
    pub fn engine(&self) -> &crate::Engine {
        self.component.engine()
    }

    /// Instantiates the component in `store`.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let mut store = store.as_context_mut();
        if !crate::Engine::same(store.engine(), self.component.engine()) {
            bail!("the store and the component belong to different engines");
        }
        let instances = &mut store.0.get_mut().opaque.components.instances;
        // The root's imported resources keep their numbers as slots; the other slots are defined later.
        let slots = self.component.info().resource_slots as usize;
        let resource_types = (0..slots)
            .map(|i| self.resources.get(i).and_then(Option::as_ref).map_or(ResourceType::uninstantiated(i as u32), |r| r.ty))
            .collect();
        let mut data = InstanceData::new(self.component.clone(), resource_types);
        // The host destructors, type-erased, for `ResourceAny::resource_drop`.
        data.host_dtors = (0..slots)
            .map(|i| self.resources.get(i).and_then(Option::as_ref).map(|r| Box::new(r.dtor.clone()) as Box<dyn std::any::Any + Send + Sync>))
            .collect();
        data.pre = Some(Box::new(self.clone()));
        instances.push(data);
        let index = instances.len() - 1;
        for (position, initializer) in self.component.info().initializers.iter().enumerate() {
            self.run(&mut store, index, position, initializer)?;
        }
        Ok(Instance(store.0.get().opaque.stored(index)))
    }

    /// Runs initializer number `position`, `initializer`, for instance `index`.
    fn run(&self, store: &mut StoreContextMut<'_, T>, index: usize, position: usize, initializer: &Initializer) -> Result<()> {
        match initializer {
            Initializer::InstantiateModule { module, args } => {
                let externs = args.iter().map(|def| core_item(store, index, def)).collect::<Result<Vec<_>>>()?;
                let module = self.component.module(*module);
                let core = crate::Instance::new(&mut *store, module, &externs)?;
                store.0.get_mut().opaque.components.instances[index].core_instances.push(core);
            }
            Initializer::Lower { callee, options } => {
                let types = self.component.types().clone();
                let resolved = resolve_options(store, index, *options)?;
                let name: Arc<str> = match callee {
                    FuncDef::Import { path, .. } => self.path_name(path).into(),
                    FuncDef::Lifted { name: Some(name), .. } => name.clone(),
                    FuncDef::Lifted { name: None, .. } => "(a function of a nested component)".into(),
                };
                let func = match callee {
                    FuncDef::Import { path, .. } => match self.import(path)? {
                        Definition::Func(host) => lower(store, index, &types, callee.ty(), resolved, host.clone(), name),
                        _ => bail!("import `{}` is not a function", self.path_name(path)),
                    },
                    FuncDef::Lifted { ty, func, options, .. } => {
                        let adapter = self.component.adapter(position).context("a lowered lifted function without its adapter")?;
                        let lifted = lifted(store, index, *ty, func, *options, &name)?;
                        adapter::instantiate(store, index, adapter, resolved, lifted, name)?
                    }
                };
                store.0.get_mut().opaque.components.instances[index].lowered.push(func);
            }
            Initializer::DefineResource { resource, dtor, instance } => {
                let dtor = dtor.as_ref().map(|def| core_item(store, index, def)?.into_func().context("a destructor that is not a function")).transpose()?;
                let data = &mut store.0.get_mut().opaque.components.instances[index];
                data.resource_types[resource.0 as usize] = ResourceType::guest(resource.0);
                data.guest_dtors[resource.0 as usize] = dtor;
                data.resource_owners[resource.0 as usize] = Some(*instance);
            }
            Initializer::ResourceNew { resource, instance } => {
                let func = resource_new(store, index, *instance, *resource);
                store.0.get_mut().opaque.components.instances[index].lowered.push(func);
            }
            Initializer::ResourceRep { resource, instance } => {
                let func = resource_rep(store, index, *instance, *resource);
                store.0.get_mut().opaque.components.instances[index].lowered.push(func);
            }
            Initializer::ResourceDrop { resource, instance } => {
                let dtor = self.resources.get(resource.0 as usize).and_then(Option::as_ref).map(|r| r.dtor.clone());
                let func = resource_drop(store, index, *instance, *resource, dtor);
                store.0.get_mut().opaque.components.instances[index].lowered.push(func);
            }
        }
        Ok(())
    }

    /// The definition at an import path.
    fn import(&self, path: &ImportPath) -> Result<&Definition<T>> {
        let mut definition = self.imports[path.import].as_ref().context("a type import used as a value")?;
        for name in &path.path {
            definition = match definition {
                Definition::Instance(items) => items.get(name).with_context(|| format!("no definition of `{name}`"))?,
                _ => bail!("`{}` is not an instance", self.path_name(path)),
            };
        }
        Ok(definition)
    }

    fn path_name(&self, path: &ImportPath) -> String {
        let mut name = self.component.info().imports[path.import].0.clone();
        for part in &path.path {
            name = format!("{name}#{part}");
        }
        name
    }
}

/// The core item `def` names in instance `index`.
fn core_item<T: 'static>(store: &mut StoreContextMut<'_, T>, index: usize, def: &CoreDef) -> Result<Extern> {
    let instance = &store.0.get().opaque.components.instances[index];
    match def {
        CoreDef::Lowered(n) => Ok(Extern::Func(instance.lowered[*n])),
        CoreDef::Export { instance: core, name } => {
            let core = instance.core_instances[*core];
            core.get_export(&mut *store, name).with_context(|| format!("core instance has no export `{name}`"))
        }
    }
}

/// Canonical options `options` of instance `index`, resolved to handles (once).
fn resolve_options<T: 'static>(store: &mut StoreContextMut<'_, T>, index: usize, options: usize) -> Result<Options> {
    if let Some(resolved) = store.0.get().opaque.components.instances[index].options[options] {
        return Ok(resolved);
    }
    let info = store.0.get().opaque.components.instances[index].component.clone();
    let canon = &info.info().options[options];
    let func = |store: &mut StoreContextMut<'_, T>, def: &Option<CoreDef>| -> Result<Option<crate::Func>> {
        def.as_ref().map(|def| core_item(store, index, def)?.into_func().context("not a function")).transpose()
    };
    let memory = match &canon.memory {
        Some(def) => Some(core_item(store, index, def)?.into_memory().context("not a memory")?),
        None => None,
    };
    let resolved = Options {
        nested: canon.instance,
        encoding: canon.string_encoding,
        memory,
        realloc: func(store, &canon.realloc)?,
        post_return: func(store, &canon.post_return)?,
    };
    store.0.get_mut().opaque.components.instances[index].options[options] = Some(resolved);
    Ok(resolved)
}

/// A lifted function of instance `index`, named `name` in errors.
fn lifted<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    index: usize,
    ty: super::type_table::TypeFuncIndex,
    func: &CoreDef,
    options: usize,
    name: &str,
) -> Result<FuncData> {
    let core = core_item(store, index, func)?.into_func().context("a lifted item that is not a function")?;
    let options = resolve_options(store, index, options)?;
    let name = store.0.get_mut().opaque.components.instances[index].name(name);
    Ok(FuncData { instance: index, ty, core, options, name })
}

impl Instance {
    /// The exported function `name` (or at a [`ComponentExportIndex`]), if there is one.
    pub fn get_func(&self, mut store: impl AsContextMut, name: impl InstanceExportLookup) -> Option<Func> {
        let mut store = store.as_context_mut();
        let index = store.0.get().opaque.index(self.0);
        let component = store.0.get().opaque.components.instances[index].component.clone();
        let path = name.lookup(&component)?;
        if let Some(&func) = store.0.get().opaque.components.instances[index].exported_funcs.get(&path) {
            return Some(Func(store.0.get().opaque.stored(func)));
        }
        let Export::Func(FuncDef::Lifted { ty, func, options, .. }) = export_at(&component, &path)? else { return None };
        let data = lifted(&mut store, index, *ty, func, *options, &export_name(&component, &path)).ok()?;
        let components = &mut store.0.get_mut().opaque.components;
        components.funcs.push(data);
        let func = components.funcs.len() - 1;
        components.instances[index].exported_funcs.insert(path, func);
        Some(Func(store.0.get().opaque.stored(func)))
    }

    /// The exported function `name` (or at a [`ComponentExportIndex`]) as a [`TypedFunc`] with parameters
    /// `Params` and results `Return`; errors if there is no such function or the types do not match.
    pub fn get_typed_func<Params, Return>(
        &self,
        mut store: impl AsContextMut,
        name: impl InstanceExportLookup,
    ) -> Result<TypedFunc<Params, Return>>
    where
        Params: ComponentNamedList + Lower,
        Return: ComponentNamedList + Lift,
    {
        let func = self.get_func(&mut store, name).context("failed to find function export")?;
        func.typed(store)
    }

    /// The exported core module `name` (or at a [`ComponentExportIndex`]), if there is one.
    pub fn get_module(&self, store: impl crate::AsContext, name: impl InstanceExportLookup) -> Option<crate::Module> {
        let store = store.as_context();
        let component = &store.0.opaque.components.instances[store.0.opaque.index(self.0)].component;
        match export_at(component, &name.lookup(component)?)? {
            Export::Module(index) => Some(component.module(*index).clone()),
            _ => None,
        }
    }

    /// The [`InstancePre`] this instance was made from.
    pub fn instance_pre<T: 'static>(&self, store: impl crate::AsContext<Data = T>) -> InstancePre<T> {
        let store = store.as_context();
        let data = &store.0.opaque.components.instances[store.0.opaque.index(self.0)];
        let pre = data.pre.as_ref().and_then(|pre| pre.downcast_ref::<InstancePre<T>>());
        // Instances are made only by `InstancePre::instantiate` (which records itself), in a store whose data
        // is the same `T`.
        pre.expect("an instance records the InstancePre<T> of its store's T").clone()
    }

    /// Export `name`, at the top level (`instance` is `None`) or inside the exported instance at `instance`:
    /// its type and its index (see [`Component::get_export`]).
    pub fn get_export(
        &self,
        store: impl crate::AsContext,
        instance: Option<&ComponentExportIndex>,
        name: &str,
    ) -> Option<(ComponentItem, ComponentExportIndex)> {
        let store = store.as_context();
        store.0.opaque.components.instances[store.0.opaque.index(self.0)].component.get_export(instance, name)
    }

    /// The index of export `name`, at the top level (`instance` is `None`) or inside the exported instance
    /// at `instance` (see [`Component::get_export_index`]).
    pub fn get_export_index(
        &self,
        store: impl crate::AsContext,
        instance: Option<&ComponentExportIndex>,
        name: &str,
    ) -> Option<ComponentExportIndex> {
        let store = store.as_context();
        store.0.opaque.components.instances[store.0.opaque.index(self.0)].component.get_export_index(instance, name)
    }
}

impl Component {
    /// The index of export `name`, at the top level (`instance` is `None`) or inside the exported instance
    /// at `instance`: found once, it names the export in every instance of this component without a lookup
    /// by name.
    pub fn get_export_index(&self, instance: Option<&ComponentExportIndex>, name: &str) -> Option<ComponentExportIndex> {
        let mut path = match instance {
            Some(index) => index.lookup(self)?,
            None => Vec::new(),
        };
        let exports = match path.is_empty() {
            true => &self.info().exports,
            false => match export_at(self, &path)? {
                Export::Instance(items) => items,
                _ => return None,
            },
        };
        path.push(exports.iter().position(|(n, _)| n == name)?);
        Some(ComponentExportIndex { component: component_id(self), path })
    }

    /// Export `name`, at the top level (`instance` is `None`) or inside the exported instance at `instance`:
    /// its type and its index.
    pub fn get_export(&self, instance: Option<&ComponentExportIndex>, name: &str) -> Option<(ComponentItem, ComponentExportIndex)> {
        let index = self.get_export_index(instance, name)?;
        let ty = self.component_type();
        let mut names = export_names(self, &index.path).into_iter();
        let mut item = ty.get_export(self.engine(), names.next()?)?.ty;
        for name in names {
            let ComponentItem::ComponentInstance(instance) = item else { return None };
            item = instance.get_export(self.engine(), name)?.ty;
        }
        Some((item, index))
    }
}

/// The names of the exports along `path`, outermost first.
fn export_names<'a>(component: &'a Component, path: &[usize]) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut exports = &component.info().exports;
    for &i in path {
        let (name, export) = &exports[i];
        names.push(name.as_str());
        if let Export::Instance(items) = export {
            exports = items;
        }
    }
    names
}

/// The name of the export at `path`: its names joined by `#`.
fn export_name(component: &Component, path: &[usize]) -> String {
    export_names(component, path).join("#")
}

/// The export at `path` (positions, outermost first).
fn export_at<'a>(component: &'a Component, path: &[usize]) -> Option<&'a Export> {
    let (first, rest) = path.split_first()?;
    let mut export = &component.info().exports.get(*first)?.1;
    for &i in rest {
        export = match export {
            Export::Instance(items) => &items.get(i)?.1,
            _ => return None,
        };
    }
    Some(export)
}
