//! [`Linker`]: the host's definitions of a component's imports, by name, checked against the component's
//! import types when an instance is prepared.

use super::Component;
use super::host::{HostFunc, TypedHost};
use super::typed::{ComponentNamedList, Lift, Lower};
use super::instance::{Instance, InstancePre};
use super::type_table::{ComponentTypes, ItemType};
use super::resources::{Resource, ResourceType};
use super::types::ComponentFunc;
use super::values::Val;
use crate::{AsContextMut, Engine, Module, StoreContextMut};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::sync::Arc;

/// Definitions of a component's imports: host functions, instances of them (nested by interface name), and
/// core modules.
pub struct Linker<T: 'static> {
    engine: Engine,
    root: Namespace<T>,
    allow_shadowing: bool,
}

/// The definitions of one instance (or the root), by name.
pub(crate) type Namespace<T> = HashMap<String, Definition<T>>;

/// One definition.
pub(crate) enum Definition<T: 'static> {
    Func(HostFunc<T>),
    Instance(Namespace<T>),
    Module(Module),
    Resource(HostResource<T>),
}

/// A host resource type given to a linker: its identity, and what runs when a guest drops an owned handle.
pub(crate) struct HostResource<T: 'static> {
    pub ty: ResourceType,
    pub dtor: Arc<ResourceDtor<T>>,
}

/// A host resource's destructor: called with the `rep` of a dropped owned handle.
pub(crate) type ResourceDtor<T> = dyn Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync;

impl<T: 'static> Clone for HostResource<T> {
    fn clone(&self) -> Self {
        HostResource { ty: self.ty, dtor: self.dtor.clone() }
    }
}

impl<T: 'static> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Func(f) => Definition::Func(f.clone()),
            Definition::Instance(items) => Definition::Instance(items.clone()),
            Definition::Module(m) => Definition::Module(m.clone()),
            Definition::Resource(r) => Definition::Resource(r.clone()),
        }
    }
}

impl<T: 'static> Definition<T> {
    fn kind(&self) -> &'static str {
        match self {
            Definition::Func(_) => "a function",
            Definition::Instance(_) => "an instance",
            Definition::Module(_) => "a module",
            Definition::Resource(_) => "a resource type",
        }
    }
}

/// A way to get from a store's data `T` to what implements a set of host functions, as generated
/// `add_to_linker` functions take it (Wasmtime's `HasData`): `Data<'a>` is what the getter returns.
pub trait HasData: 'static {
    /// What the getter returns for a borrow of the store's data.
    type Data<'a>;
}

/// [`HasData`] for a getter returning `&mut T`: the usual choice, `HasSelf<MyState>` when the store's data
/// implements the host traits itself.
pub struct HasSelf<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized + 'static> HasData for HasSelf<T> {
    type Data<'a> = &'a mut T;
}

/// The definitions of one instance of a [`Linker`] (or its root), to add to.
pub struct LinkerInstance<'a, T: 'static> {
    map: &'a mut Namespace<T>,
    path: String,
    allow_shadowing: bool,
}

impl<T: 'static> Linker<T> {
    /// An empty linker for components of `engine`.
    pub fn new(engine: &Engine) -> Self {
        Linker { engine: engine.clone(), root: HashMap::new(), allow_shadowing: false }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a definition may replace an earlier one of the same name (default: an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// The root's definitions: imports named without an instance.
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        LinkerInstance { map: &mut self.root, path: String::new(), allow_shadowing: self.allow_shadowing }
    }

    /// The definitions of the instance imported as `name` (e.g. `wasi:cli/stdout@0.2.0`), made if new.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        self.root().into_instance(name)
    }

    /// Checks the component's imports against the definitions and resolves them, once: the result
    /// instantiates quickly, any number of times.
    pub fn instantiate_pre(&self, component: &Component) -> Result<InstancePre<T>> {
        if !Engine::same(&self.engine, component.engine()) {
            bail!("cross-`Engine` instantiation is not supported");
        }
        let types = component.types();
        let mut resources = vec![None; types.resources as usize];
        let imports = component
            .info()
            .imports
            .iter()
            .map(|(name, ty)| {
                // Types are checked by validation; only their values need definitions.
                if matches!(ty, ItemType::Type(_)) {
                    return Ok(None);
                }
                let definition = self.root.get(name).ok_or_else(|| {
                    anyhow::anyhow!("component imports {} `{name}`, but a matching implementation was not found in the linker", describe(ty))
                })?;
                check(types, name, ty, definition, &mut resources)?;
                Ok(Some(definition.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(InstancePre::new(component.clone(), imports, resources))
    }

    /// Instantiates `component` in `store` with these definitions.
    pub fn instantiate(&self, store: impl AsContextMut<Data = T>, component: &Component) -> Result<Instance> {
        self.instantiate_pre(component)?.instantiate(store)
    }
}

impl<'a, T: 'static> LinkerInstance<'a, T> {
    /// Defines a host function taking and returning [`Val`]s; it receives the import's type, and its
    /// results are checked against it.
    pub fn func_new(
        &mut self,
        name: &str,
        func: impl Fn(StoreContextMut<'_, T>, ComponentFunc, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        self.insert(name, Definition::Func(HostFunc::Dynamic(Arc::new(func))))
    }

    /// Defines a host function with Rust parameters and results, checked against the import's type when
    /// an instance is prepared: `func` takes the store and a tuple of the parameters, and returns a tuple
    /// of the results (`()` or `(T,)`).
    pub fn func_wrap<F, Params, Return>(&mut self, name: &str, func: F) -> Result<()>
    where
        F: Fn(StoreContextMut<'_, T>, Params) -> Result<Return> + Send + Sync + 'static,
        Params: ComponentNamedList + Lift + 'static,
        Return: ComponentNamedList + Lower + 'static,
    {
        let host = TypedHost { func, _types: std::marker::PhantomData };
        self.insert(name, Definition::Func(HostFunc::Typed(Arc::new(host))))
    }

    /// `func_wrap` for generated bindings: `func` gets what `host_getter` finds in the store's data. A function
    /// pointer rather than a closure per import is what keeps a bindings crate quick to compile.
    #[doc(hidden)]
    pub fn func_wrap_host<D, Params, Return>(
        &mut self,
        name: &str,
        host_getter: fn(&mut T) -> D::Data<'_>,
        func: fn(&mut D::Data<'_>, Params) -> Result<Return>,
    ) -> Result<()>
    where
        D: HasData,
        Params: ComponentNamedList + Lift + 'static,
        Return: ComponentNamedList + Lower + 'static,
    {
        self.func_wrap(name, move |mut store: StoreContextMut<'_, T>, params: Params| func(&mut host_getter(store.data_mut()), params))
    }

    /// Defines the host resource type `ty` (`ResourceType::host::<T>()`, say) as the import `name`;
    /// `dtor` runs with a resource's `rep` when a guest drops an owned handle to it.
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        self.insert(name, Definition::Resource(HostResource { ty, dtor: Arc::new(dtor) }))
    }

    /// `resource` for generated bindings: the host resource type of `R`, whose destructor `drop` gets what
    /// `host_getter` finds in the store's data and the handle given up.
    #[doc(hidden)]
    pub fn resource_host<D: HasData, R: 'static>(
        &mut self,
        name: &str,
        host_getter: fn(&mut T) -> D::Data<'_>,
        drop: fn(&mut D::Data<'_>, Resource<R>) -> Result<()>,
    ) -> Result<()> {
        self.resource(name, ResourceType::host::<R>(), move |mut store: StoreContextMut<'_, T>, rep| {
            drop(&mut host_getter(store.data_mut()), Resource::new_own(rep))
        })
    }

    /// Defines a core module import.
    pub fn module(&mut self, name: &str, module: &Module) -> Result<()> {
        self.insert(name, Definition::Module(module.clone()))
    }

    /// The definitions of the nested instance `name`, made if new.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        let path = self.child_path(name);
        let entry = self.map.entry(name.to_string()).or_insert_with(|| Definition::Instance(HashMap::new()));
        match entry {
            Definition::Instance(map) => Ok(LinkerInstance { map, path, allow_shadowing: self.allow_shadowing }),
            other => bail!("`{path}` is already defined as a {}", other.kind()),
        }
    }

    /// Like [`instance`](Self::instance), consuming this one.
    pub fn into_instance(self, name: &str) -> Result<LinkerInstance<'a, T>> {
        let path = self.child_path(name);
        let allow_shadowing = self.allow_shadowing;
        let entry = self.map.entry(name.to_string()).or_insert_with(|| Definition::Instance(HashMap::new()));
        match entry {
            Definition::Instance(map) => Ok(LinkerInstance { map, path, allow_shadowing }),
            other => bail!("`{path}` is already defined as a {}", other.kind()),
        }
    }

    fn child_path(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_string() } else { format!("{}#{name}", self.path) }
    }

    fn insert(&mut self, name: &str, definition: Definition<T>) -> Result<()> {
        if !self.allow_shadowing && self.map.contains_key(name) {
            bail!("import `{}` is defined more than once", self.child_path(name));
        }
        self.map.insert(name.to_string(), definition);
        Ok(())
    }
}

/// Checks that `definition` can satisfy an import `name` of type `ty`, recording the host resource types it
/// gives into `resources` (by the component's resource index).
fn check<T: 'static>(
    types: &Arc<ComponentTypes>,
    name: &str,
    ty: &ItemType,
    definition: &Definition<T>,
    resources: &mut [Option<HostResource<T>>],
) -> Result<()> {
    match (ty, definition) {
        (ItemType::Func(ty), Definition::Func(host)) => host.typecheck(types, *ty).with_context(|| {
            let found = match host {
                HostFunc::Typed(f) => f.rust_type(),
                HostFunc::Dynamic(_) => "a dynamic function".to_string(),
            };
            format!("import `{name}` has the wrong type: expected {}, found `{found}`", ComponentFunc::new(types, *ty))
        }),
        (ItemType::Instance(instance), Definition::Instance(items)) => {
            for (export, export_ty) in types.instance(*instance).exports.iter() {
                let path = format!("{name}#{export}");
                match items.get(export) {
                    Some(definition) => check(types, &path, export_ty, definition, resources)?,
                    None if matches!(export_ty, ItemType::Type(_)) => {}
                    None => bail!("component imports {} `{path}`, but a matching implementation was not found in the linker", describe(export_ty)),
                }
            }
            Ok(())
        }
        (ItemType::Module, Definition::Module(_)) => Ok(()),
        (ItemType::Resource(index), Definition::Resource(resource)) => {
            match &mut resources[index.0 as usize] {
                Some(previous) if previous.ty != resource.ty => {
                    bail!("import `{name}` is the resource type {:?}, which another import made {:?}", resource.ty, previous.ty)
                }
                slot => *slot = Some(resource.clone()),
            }
            Ok(())
        }
        (ItemType::Type(_), _) => Ok(()),
        (ty, definition) => {
            bail!("import `{name}` has the wrong type: expected {}, found {}", describe(ty), definition.kind())
        }
    }
}

/// "a function", "an instance", ...
fn describe(ty: &ItemType) -> &'static str {
    match ty {
        ItemType::Func(_) => "a function",
        ItemType::Instance(_) => "an instance",
        ItemType::Module => "a module",
        ItemType::Component => "a component",
        ItemType::Type(_) => "a type",
        ItemType::Resource(_) => "a resource type",
    }
}
