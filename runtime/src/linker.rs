//! The linker: named definitions that satisfy modules' imports.

use crate::func::HostFunc;
use crate::instance::{ImportType, InstancePre, PreItem, check_import, instantiate};
use crate::store::{AsContext, AsContextMut};
use crate::types::{ExternType, FuncType};
use crate::{Caller, Engine, Extern, Func, Instance, IntoFunc, Module, Result, Val};
use anyhow::bail;
use std::collections::HashMap;
use std::sync::Arc;

/// Definitions by `(module, name)`, used to instantiate modules by name rather than by position.
///
/// Host functions defined with [`func_wrap`](Linker::func_wrap) or [`func_new`](Linker::func_new) belong to
/// no store; they are placed in a store when a module that imports them is instantiated in it. Items
/// defined with [`define`](Linker::define) belong to the store they were made in, and only instantiate in
/// it. Imports are type-checked against what the definitions were when defined.
pub struct Linker<T: 'static> {
    engine: Engine,
    definitions: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

enum Definition<T: 'static> {
    /// An item of a store, with its type when it was defined.
    Extern(Extern, ImportType),
    HostFunc(Arc<HostFunc<T>>),
}

impl<T: 'static> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e, ty) => Definition::Extern(*e, ty.clone()),
            Definition::HostFunc(f) => Definition::HostFunc(f.clone()),
        }
    }
}

impl<T: 'static> Definition<T> {
    fn ty(&self) -> ImportType {
        match self {
            Definition::Extern(_, ty) => ty.clone(),
            Definition::HostFunc(f) => ImportType::Func(f.ty().clone()),
        }
    }

    fn to_pre_item(&self) -> PreItem<T> {
        match self {
            Definition::Extern(e, _) => PreItem::Extern(*e),
            Definition::HostFunc(f) => PreItem::HostFunc(f.clone()),
        }
    }
}

impl<T: 'static> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker { engine: self.engine.clone(), definitions: self.definitions.clone(), allow_shadowing: self.allow_shadowing }
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for `engine`.
    pub fn new(engine: &Engine) -> Self {
        Linker { engine: engine.clone(), definitions: HashMap::new(), allow_shadowing: false }
    }

    /// The linker's engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a later definition may replace an earlier one of the same name (default: no).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, definition: Definition<T>) -> Result<()> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.definitions.contains_key(&key) {
            bail!("import of `{module}::{name}` defined twice");
        }
        self.definitions.insert(key, definition);
        Ok(())
    }

    /// Defines `module::name` as `item`, an item of `store`.
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let item = item.into();
        let ty = ImportType::of(&store.as_context().0.opaque, &item)?;
        self.insert(module, name, Definition::Extern(item, ty))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function from a typed closure (see [`Func::wrap`]).
    pub fn func_wrap<Params, Args>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Args>,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::HostFunc(Arc::new(func.into_host_func())))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function of type `ty` working on [`Val`]s (see [`Func::new`]).
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::HostFunc(Arc::new(HostFunc::from_vals(ty, func))))?;
        Ok(self)
    }

    /// Defines every export of `instance` under the module name `module`.
    pub fn instance(&mut self, mut store: impl AsContextMut<Data = T>, module: &str, instance: Instance) -> Result<&mut Self> {
        let exports: Vec<(String, Extern)> =
            instance.exports(store.as_context_mut()).map(|e| (e.name().to_string(), e.into_extern())).collect();
        for (name, item) in exports {
            self.define(&store, module, &name, item)?;
        }
        Ok(self)
    }

    /// Instantiates `module` and defines its exports under the name `name`. (Wasmtime treats WASI commands
    /// specially here, instantiating them anew for each call of an export; Tenon instantiates once.)
    pub fn module(&mut self, mut store: impl AsContextMut<Data = T>, name: &str, module: &Module) -> Result<&mut Self> {
        let instance = self.instantiate(&mut store, module)?;
        self.instance(store, name, instance)
    }

    /// Defines `as_module::as_name` as whatever `module::name` is defined as.
    pub fn alias(&mut self, module: &str, name: &str, as_module: &str, as_name: &str) -> Result<&mut Self> {
        let Some(definition) = self.definitions.get(&(module.to_string(), name.to_string())).cloned() else {
            bail!("no item named `{module}::{name}` in the linker");
        };
        self.insert(as_module, as_name, definition)?;
        Ok(self)
    }

    /// Defines every item of module `module` under the module name `as_module` too.
    pub fn alias_module(&mut self, module: &str, as_module: &str) -> Result<()> {
        let items: Vec<(String, Definition<T>)> = self
            .definitions
            .iter()
            .filter(|((m, _), _)| m == module)
            .map(|((_, name), d)| (name.clone(), d.clone()))
            .collect();
        for (name, definition) in items {
            self.insert(as_module, &name, definition)?;
        }
        Ok(())
    }

    /// Defines each function import of `module` that the linker does not define as a host function that
    /// fails when called, with the error instantiation would have reported.
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<()> {
        self.define_unknown_functions(module, |module, name, _| {
            let message = format!("unknown import: `{module}::{name}` has not been defined");
            move |_, _| Err(anyhow::Error::msg(message.clone()))
        })
    }

    /// Defines each function import of `module` that the linker does not define as a host function that
    /// ignores its arguments and returns zeros and nulls (or fails, if a result is a non-nullable reference).
    pub fn define_unknown_imports_as_default_values(
        &mut self,
        _store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<()> {
        self.define_unknown_functions(module, |module, name, ty| {
            let no_default = ty.results().find(|t| Val::default_for_ty(t).is_none());
            let message = no_default.map(|t| format!("`{module}::{name}` has no default result of type {t}"));
            move |_, raw| match &message {
                Some(message) => Err(anyhow::Error::msg(message.clone())),
                // Zero is the raw form of every number's zero and of every null reference.
                None => {
                    raw.fill(crate::vm::ValRaw::default());
                    Ok(())
                }
            }
        })
    }

    /// Defines each function import of `module` that the linker does not define, with the body `make`
    /// returns for its module, name and type.
    fn define_unknown_functions<F>(&mut self, module: &Module, make: impl Fn(&str, &str, &FuncType) -> F) -> Result<()>
    where
        F: Fn(Caller<'_, T>, &mut [crate::vm::ValRaw]) -> Result<()> + Send + Sync + 'static,
    {
        for import in module.imports() {
            let key = (import.module().to_string(), import.name().to_string());
            if let ExternType::Func(ty) = import.ty()
                && !self.definitions.contains_key(&key)
            {
                let body = make(import.module(), import.name(), &ty);
                let func = HostFunc::new(ty, body);
                self.insert(import.module(), import.name(), Definition::HostFunc(Arc::new(func)))?;
            }
        }
        Ok(())
    }

    /// The definition of `module::name`, placed in `store` if it is a host function; errors if there is
    /// none.
    pub fn get(&self, store: impl AsContextMut<Data = T>, module: &str, name: &str) -> Result<Extern> {
        match self.try_get(store, module, name)? {
            Some(item) => Ok(item),
            None => bail!("no item named `{module}::{name}` in the linker"),
        }
    }

    fn try_get(&self, mut store: impl AsContextMut<Data = T>, module: &str, name: &str) -> Result<Option<Extern>> {
        let Some(definition) = self.definitions.get(&(module.to_string(), name.to_string())) else {
            return Ok(None);
        };
        Ok(Some(match definition {
            Definition::Extern(e, _) => *e,
            Definition::HostFunc(f) => Extern::Func(f.place_in(&mut store.as_context_mut().0)?),
        }))
    }

    /// The definition that satisfies `import`, placed in `store` if it is a host function.
    pub fn get_by_import(&self, store: impl AsContextMut<Data = T>, import: &crate::ImportType<'_>) -> Option<Extern> {
        self.try_get_by_import(store, import).ok().flatten()
    }

    /// As [`get_by_import`](Linker::get_by_import), with an error if the host function cannot be placed.
    pub fn try_get_by_import(
        &self,
        store: impl AsContextMut<Data = T>,
        import: &crate::ImportType<'_>,
    ) -> Result<Option<Extern>> {
        self.try_get(store, import.module(), import.name())
    }

    /// The default function of module `module` (its export `""` or `_start`), or one that does nothing.
    pub fn get_default(&self, mut store: impl AsContextMut<Data = T>, module: &str) -> Result<Func> {
        for name in ["", "_start"] {
            if let Some(Extern::Func(f)) = self.try_get(&mut store, module, name)? {
                return Ok(f);
            }
        }
        Ok(Func::wrap(store, || {}))
    }

    /// Resolves and type-checks each import of `module`, once: the result instantiates it quickly in any
    /// store of the linker's engine.
    ///
    /// Errors name the first import that is not defined (`unknown import`) or has the wrong type.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        if !Engine::same(&self.engine, module.engine()) {
            bail!("cross-`Engine` instantiation is not supported");
        }
        let mut items = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            let key = (import.module().to_string(), import.name().to_string());
            let Some(definition) = self.definitions.get(&key) else {
                bail!("unknown import: `{}::{}` has not been defined", import.module(), import.name());
            };
            check_import(import.module(), import.name(), &import.ty(), &definition.ty())?;
            items.push(definition.to_pre_item());
        }
        Ok(InstancePre::new(module.clone(), items))
    }

    /// Instantiates `module`, resolving each of its imports by name.
    ///
    /// Errors name the first import that is not defined (`unknown import`) or has the wrong type.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>, module: &Module) -> Result<Instance> {
        let mut store = store.as_context_mut();
        let mut imports = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            let key = (import.module().to_string(), import.name().to_string());
            let Some(definition) = self.definitions.get(&key) else {
                bail!("unknown import: `{}::{}` has not been defined", import.module(), import.name());
            };
            // Tables and memories are checked at their current sizes, which may have grown since defined.
            let actual = match definition {
                Definition::Extern(e, _) => ImportType::of(store.opaque(), e)?,
                Definition::HostFunc(f) => ImportType::Func(f.ty().clone()),
            };
            check_import(import.module(), import.name(), &import.ty(), &actual)?;
            imports.push(match definition {
                Definition::Extern(e, _) => *e,
                Definition::HostFunc(f) => Extern::Func(f.place_in(&mut store.0)?),
            });
        }
        instantiate(&mut store.0, module, &imports)
    }
}
