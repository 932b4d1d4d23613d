//! Process-wide interning of function types.
//!
//! Every function type gets one small integer id, the same in every engine and module, so that
//! `call_indirect` and `call_ref` compare one integer and concrete reference types (`(ref $t)`) are `Copy`.
//! Without the GC proposal's recursive groups and declared subtypes, two function types are equal exactly
//! when they are structurally equal, so interning by structure is canonical. Ids are never freed; their
//! number is bounded by the distinct signatures a process loads.

use super::FuncType;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

#[derive(Default)]
struct Registry {
    ids: HashMap<FuncType, u32>,
    types: Vec<FuncType>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(RwLock::default);

/// The id of `ty`, assigned on first use.
pub(crate) fn intern(ty: &FuncType) -> u32 {
    if let Some(&id) = REGISTRY.read().unwrap_or_else(|e| e.into_inner()).ids.get(ty) {
        return id;
    }
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if let Some(&id) = registry.ids.get(ty) {
        return id;
    }
    let id = u32::try_from(registry.types.len()).expect("fewer than 2^32 function types");
    registry.types.push(ty.clone());
    registry.ids.insert(ty.clone(), id);
    id
}

/// The type with id `id`.
pub(crate) fn lookup(id: u32) -> FuncType {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner()).types[id as usize].clone()
}
