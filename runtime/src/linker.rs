//! The linker: named definitions that satisfy modules' imports.

use crate::func::HostFunc;
use crate::store::{AsContext, AsContextMut, StoreInner};
use crate::types::FuncType;
use crate::{Caller, Engine, Extern, Func, Instance, IntoFunc, Module, Result, Val};
use anyhow::bail;
use std::collections::HashMap;
use std::sync::Arc;

/// Definitions by `(module, name)`, used to instantiate modules by name rather than by position.
///
/// Host functions defined with [`func_wrap`](Linker::func_wrap) or [`func_new`](Linker::func_new) belong to
/// no store; they are placed in a store when a module that imports them is instantiated in it.
pub struct Linker<T> {
    engine: Engine,
    definitions: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

enum Definition<T> {
    Extern(Extern),
    HostFunc(Arc<HostFunc<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc(f) => Definition::HostFunc(f.clone()),
        }
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

    /// Defines `module::name` as `item`.
    pub fn define(
        &mut self,
        _store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::Extern(item.into()))?;
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
        for export in instance.exports(&mut store) {
            let name = export.name().to_string();
            self.insert(module, &name, Definition::Extern(export.into_extern()))?;
        }
        Ok(self)
    }

    /// Instantiates `module` and defines its exports under the name `name`.
    pub fn module(&mut self, mut store: impl AsContextMut<Data = T>, name: &str, module: &Module) -> Result<&mut Self> {
        let instance = self.instantiate(&mut store, module)?;
        self.instance(store, name, instance)
    }

    /// The definition of `module::name`, placed in `store` if it is a host function.
    pub fn get(&self, mut store: impl AsContextMut<Data = T>, module: &str, name: &str) -> Option<Extern> {
        let definition = self.definitions.get(&(module.to_string(), name.to_string()))?;
        self.resolve(store.as_context_mut().0, definition).ok()
    }

    fn resolve(&self, store: &mut StoreInner<T>, definition: &Definition<T>) -> Result<Extern> {
        match definition {
            Definition::Extern(e) => Ok(*e),
            Definition::HostFunc(f) => Ok(Extern::Func(f.clone().into_func(store)?)),
        }
    }

    /// Instantiates `module`, resolving each of its imports by name.
    ///
    /// Errors name the first import that is not defined (`unknown import`) or has the wrong type.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>, module: &Module) -> Result<Instance> {
        let store = store.as_context_mut().0;
        let mut imports = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            let key = (import.module().to_string(), import.name().to_string());
            let Some(definition) = self.definitions.get(&key) else {
                bail!(
                    "unknown import: `{}::{}` has not been defined",
                    import.module(),
                    import.name()
                );
            };
            imports.push(self.resolve(store, definition)?);
        }
        crate::instance::instantiate(store.opaque(), module, &imports)
    }

    /// The function `module::name`, placed in `store`.
    pub fn get_func(&self, store: impl AsContextMut<Data = T>, module: &str, name: &str) -> Option<Func> {
        self.get(store, module, name)?.into_func()
    }
}
