//! Process-wide registration of function types.
//!
//! Every registered function type has one small integer id, so that `call_indirect` and `call_ref` compare
//! one integer and two [`FuncType`](super::FuncType)s compare as cheaply. Without the GC proposal's
//! recursive groups and declared subtypes, two function types are equal exactly when they are structurally
//! equal, so registering by structure is canonical. A registration lives as long as something holds it (a
//! module, a function, an instance through its module, a type the host made) and then frees its id for reuse
//! and its trampolines; compiled code only ever sees ids of types its store keeps registered.

use super::ValType;
use crate::Engine;
use crate::code::{CodeBuilder, CodeImage};
use crate::compile;
use crate::environ::{FuncKey, WasmFuncType};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, Weak};

/// A registered function type; cheap to clone, compared by id.
#[derive(Clone)]
pub(crate) struct RegisteredType(Arc<Entry>);

/// The entry and exit trampolines of one function type (see `compile::trampolines`).
pub(crate) struct Trampolines {
    /// Host to wasm: `extern "sysv64" fn(callee_vmctx, func_ptr, args, results)`.
    pub entry: usize,
    /// Wasm to host, with the wasm calling convention.
    pub exit: usize,
    /// The code both live in.
    _image: CodeImage,
}

struct Entry {
    id: u32,
    key: Key,
    /// The trampolines, compiled on first use: with signal-based traps (index 1) and without (index 0).
    trampolines: [OnceLock<Trampolines>; 2],
}

/// A function type's structure.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

#[derive(Default)]
struct Registry {
    by_key: HashMap<Key, Weak<Entry>>,
    /// The entry of each id in use.
    by_id: Vec<Weak<Entry>>,
    /// Ids whose entries are gone, for reuse.
    free_ids: Vec<u32>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

impl RegisteredType {
    /// The registration of the function type with these parameters and results (made on first use).
    pub fn register(params: Box<[ValType]>, results: Box<[ValType]>) -> Self {
        let key = Key { params, results };
        let mut registry = registry();
        if let Some(entry) = registry.by_key.get(&key).and_then(Weak::upgrade) {
            return RegisteredType(entry);
        }
        let id = match registry.free_ids.pop() {
            Some(id) => id,
            None => u32::try_from(registry.by_id.len()).expect("fewer than 2^32 live function types"),
        };
        let entry = Arc::new(Entry { id, key: key.clone(), trampolines: Default::default() });
        match registry.by_id.get_mut(id as usize) {
            Some(slot) => *slot = Arc::downgrade(&entry),
            None => registry.by_id.push(Arc::downgrade(&entry)),
        }
        // A dead entry of the same type may still be in the map, waiting for its `drop` to take the lock.
        let replaced = registry.by_key.insert(key, Arc::downgrade(&entry));
        drop(registry);
        drop(replaced);
        RegisteredType(entry)
    }

    /// The registered type with id `id`, if one is registered.
    pub fn lookup(id: u32) -> Option<Self> {
        registry().by_id.get(id as usize).and_then(Weak::upgrade).map(RegisteredType)
    }

    /// The engine-wide (in fact process-wide) id compiled code compares.
    pub fn id(&self) -> u32 {
        self.0.id
    }

    /// The parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.0.key.params
    }

    /// The result types.
    pub fn results(&self) -> &[ValType] {
        &self.0.key.results
    }

    /// The trampolines of this type for `engine`'s configuration, compiled on first use.
    pub fn trampolines(&self, engine: &Engine) -> Result<&Trampolines> {
        let signals = engine.config().signals_based_traps;
        let cell = &self.0.trampolines[usize::from(signals)];
        if let Some(trampolines) = cell.get() {
            return Ok(trampolines);
        }
        let ty = WasmFuncType {
            params: self.params().iter().map(ValType::to_wasm_class).collect(),
            results: self.results().iter().map(ValType::to_wasm_class).collect(),
        };
        let compiled = compile::trampolines::compile(engine.isa(), &ty, signals)
            .context("failed to compile the trampolines of a function type")?;
        let mut code = CodeBuilder::default();
        for (key, f) in &compiled {
            code.append(*key, f);
            engine.note_frame_size(f.frame_size);
        }
        let image = code.publish(None)?;
        let address = |key| image.function(key).map(|p| p as usize).context("a trampoline is missing from its image");
        let trampolines =
            Trampolines { entry: address(FuncKey::EntryTrampoline)?, exit: address(FuncKey::ExitTrampoline)?, _image: image };
        // Another thread may have compiled them meanwhile; its trampolines stand, and these are dropped.
        let _ = cell.set(trampolines);
        Ok(cell.get().expect("set just now"))
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut registry = registry();
        // The map may already hold a newer entry of the same type (registered after this one's last user let
        // go): only this entry's own mapping goes.
        let ours = registry.by_key.get(&self.key).is_some_and(|w| std::ptr::eq(w.as_ptr(), self));
        let removed = if ours { registry.by_key.remove_entry(&self.key) } else { None };
        registry.by_id[self.id as usize] = Weak::new();
        registry.free_ids.push(self.id);
        drop(registry);
        // The removed key holds the types it names; dropping them may end their registrations, which needs
        // the lock.
        drop(removed);
    }
}

impl PartialEq for RegisteredType {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for RegisteredType {}

impl Hash for RegisteredType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Func, Instance, Module, Store};

    /// Whether a function type with these parameters and results is registered.
    fn is_registered(params: &[ValType], results: &[ValType]) -> bool {
        let key = Key { params: params.into(), results: results.into() };
        registry().by_key.get(&key).is_some_and(|w| w.strong_count() > 0)
    }

    /// A module whose one function type is `(param i64 × n) (result i32)`: each `n` is a distinct type.
    fn module_with_signature(engine: &Engine, n: usize) -> Module {
        let params = "i64 ".repeat(n);
        Module::new(engine, format!("(module (func (export \"f\") (param {params}) (result i32) i32.const 7))")).unwrap()
    }

    /// A host that loads modules forever must not grow forever: a type stays registered while a module, a
    /// function or an instance uses it, and is freed (id and trampolines too) afterwards.
    #[test]
    fn types_are_freed_when_nothing_uses_them() {
        let engine = Engine::default();
        let signature = |n: usize| (vec![ValType::I64; n], vec![ValType::I32]);
        let mut ids = Vec::new();
        for n in 200..260 {
            let module = module_with_signature(&engine, n);
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let f = instance.get_func(&mut store, "f").unwrap();
            drop(module);
            let (params, results) = signature(n);
            // The instance (through its module) and the function handle still use the type.
            assert!(is_registered(&params, &results));
            assert_eq!(f.ty(&store).param_types().len(), n);
            ids.push(f.ty(&store).registered().id());
            drop(store);
            assert!(!is_registered(&params, &results), "the type of {n} parameters outlived its last user");
        }
        // Freed ids are reused, so loading more modules does not use ever larger ones.
        assert!(ids.iter().copied().max().unwrap() < 1000, "{ids:?}");

        // A host function keeps its type registered as long as its store.
        let mut store = Store::new(&engine, ());
        let (params, results) = signature(300);
        let ty = crate::FuncType::new(&engine, params.clone(), results.clone());
        Func::new(&mut store, ty, |_, _, out| {
            out[0] = crate::Val::I32(1);
            Ok(())
        });
        assert!(is_registered(&params, &results));
        drop(store);
        assert!(!is_registered(&params, &results));
    }
}
