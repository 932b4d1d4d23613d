//! The `ownership` option, as Wasmtime 48 has it: with `Borrowing`, a type holding strings or lists that only
//! passes arguments into the guest is defined borrowing them (`struct Foo<'a> { name: &'a str }`), and one
//! that also comes back owned is defined twice with `duplicate_if_necessary` (`FooParam<'a>`, `FooResult`).

use super::Generator;
use crate::Ownership;
use crate::names::type_name;
use proc_macro2::Ident;
use quote::format_ident;
use std::collections::HashMap;
use wit_parser::{Function, LiveTypes, Resolve, TypeId, TypeOwner, WorldId, WorldItem};

/// How the world's functions use a named type.
#[derive(Clone, Copy, Default)]
pub(super) struct Uses {
    /// In a result, or an argument the host receives: it is lifted, so it must own its data.
    owned: bool,
    /// In an argument of a call into the guest: it is only lowered, so it may borrow.
    borrowed: bool,
}

/// How the functions of `world` use each named type (the types reachable from their parameters and results).
pub(super) fn type_uses(resolve: &Resolve, world: WorldId) -> HashMap<TypeId, Uses> {
    let mut uses: HashMap<TypeId, Uses> = HashMap::new();
    let w = &resolve.worlds[world];
    let items = w.imports.values().map(|item| (item, true)).chain(w.exports.values().map(|item| (item, false)));
    for (item, imported) in items {
        let functions: Vec<&Function> = match item {
            WorldItem::Interface { id, .. } => resolve.interfaces[*id].functions.values().collect(),
            WorldItem::Function(f) => vec![f],
            WorldItem::Type { .. } => Vec::new(),
        };
        for func in functions {
            let mut params = LiveTypes::default();
            func.params.iter().for_each(|p| params.add_type(resolve, &p.ty));
            for id in params.iter().filter(|id| resolve.types[*id].name.is_some()) {
                let entry = uses.entry(id).or_default();
                match imported {
                    true => entry.owned = true,
                    false => entry.borrowed = true,
                }
            }
            let mut results = LiveTypes::default();
            func.result.iter().for_each(|ty| results.add_type(resolve, ty));
            for id in results.iter().filter(|id| resolve.types[*id].name.is_some()) {
                uses.entry(id).or_default().owned = true;
            }
        }
    }
    uses
}

impl Generator<'_> {
    /// Whether named type `id` is defined twice: `FooResult` owning, `FooParam<'a>` borrowing.
    fn two_names(&self, id: TypeId) -> bool {
        let uses = self.uses.get(&id).copied().unwrap_or_default();
        !self.mapped(id)
            && self.opts.ownership == (Ownership::Borrowing { duplicate_if_necessary: true })
            && uses.owned
            && uses.borrowed
            && self.has_list(&wit_parser::Type::Id(id))
    }

    /// Whether named type `id` has a definition borrowing its strings and lists (with a lifetime `'a`); never
    /// a type `with` maps to the host's own.
    pub(super) fn borrows(&self, id: TypeId) -> bool {
        let uses = self.uses.get(&id).copied().unwrap_or_default();
        matches!(self.opts.ownership, Ownership::Borrowing { .. })
            && !self.mapped(id)
            && self.has_list(&wit_parser::Type::Id(id))
            && (self.two_names(id) || (uses.borrowed && !uses.owned))
    }

    /// Whether `with` maps named type `id` (or its interface) to the host's own.
    fn mapped(&self, id: TypeId) -> bool {
        self.with_types.contains_key(&id)
            || matches!(self.resolve.types[id].owner, TypeOwner::Interface(i) if self.with_interfaces.contains_key(&i))
    }

    /// Whether named type `id` has a definition owning its data (every type but those only borrowed).
    pub(super) fn owns(&self, id: TypeId) -> bool {
        !self.borrows(id) || self.two_names(id)
    }

    /// The Rust name of named type `id`'s owning definition.
    pub(super) fn owned_name(&self, id: TypeId) -> Ident {
        self.def_name(id, "Result")
    }

    /// The Rust name of named type `id`'s borrowing definition.
    pub(super) fn borrowed_name(&self, id: TypeId) -> Ident {
        self.def_name(id, "Param")
    }

    /// The Rust name of named type `id`, with `suffix` when it has two definitions.
    fn def_name(&self, id: TypeId, suffix: &str) -> Ident {
        let name = type_name(self.resolve.types[id].name.as_deref().unwrap_or("anonymous"));
        match self.two_names(id) {
            true => format_ident!("{name}{suffix}"),
            false => name,
        }
    }
}
