//! `@unstable(feature = ..)` gates, as Wasmtime 48 handles them: the bindings hold every item, and a
//! `LinkOptions` (per world, and per imported interface with gated items) says at link time which gated
//! functions and resources `add_to_linker` defines.

use super::Generator;
use crate::names::snake;
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::BTreeSet;
use wit_parser::{InterfaceId, Stability, WorldItem};

impl Generator<'_> {
    /// The features gating interface `id`: its own, its types' and its functions'.
    pub(super) fn interface_features(&self, id: InterfaceId) -> BTreeSet<String> {
        let interface = &self.resolve.interfaces[id];
        let types = interface.types.values().map(|t| &self.resolve.types[*t].stability);
        let functions = interface.functions.values().map(|f| &f.stability);
        std::iter::once(&interface.stability).chain(types).chain(functions).filter_map(feature).map(str::to_string).collect()
    }

    /// The features gating the world's imports: the world's own, its imported interfaces' (and their
    /// items'), its root functions' and types'.
    pub(super) fn world_features(&self) -> BTreeSet<String> {
        let w = &self.resolve.worlds[self.world];
        let mut features: BTreeSet<String> = feature(&w.stability).map(str::to_string).into_iter().collect();
        for item in w.imports.values() {
            match item {
                WorldItem::Interface { id, stability, .. } => {
                    features.extend(feature(stability).map(str::to_string));
                    features.extend(self.interface_features(*id));
                }
                WorldItem::Function(f) => features.extend(feature(&f.stability).map(str::to_string)),
                WorldItem::Type { id, .. } => features.extend(feature(&self.resolve.types[*id].stability).map(str::to_string)),
            }
        }
        features
    }
}

/// The feature of `stability`, if it is unstable.
fn feature(stability: &Stability) -> Option<&str> {
    match stability {
        Stability::Unstable { feature, .. } => Some(feature),
        _ => None,
    }
}

/// `body`, run only when `stability`'s feature is enabled in `options` if it is unstable.
pub(super) fn gate(stability: &Stability, body: TokenStream) -> TokenStream {
    match feature(stability) {
        Some(feature) => {
            let field = snake(feature);
            quote!(if options.#field { #body })
        }
        None => body,
    }
}

/// The `LinkOptions` of a world or interface whose items `features` gate (nothing without features).
pub(super) fn link_options(features: &BTreeSet<String>) -> TokenStream {
    if features.is_empty() {
        return TokenStream::new();
    }
    let fields: Vec<_> = features.iter().map(|f| snake(f)).collect();
    let docs = features.iter().map(|f| format!(" Enables the members marked `@unstable(feature = {f})`."));
    quote! {
        /// Which `@unstable` features `add_to_linker` defines the members of (none by default).
        #[derive(Clone, Debug, Default)]
        pub struct LinkOptions { #(#fields: bool,)* }
        impl LinkOptions {
            #(
                #[doc = #docs]
                pub fn #fields(&mut self, enabled: bool) -> &mut Self {
                    self.#fields = enabled;
                    self
                }
            )*
        }
    }
}

/// The conversions from the world's `LinkOptions` to those of the imported interface at `path`, which
/// `features` gate.
pub(super) fn link_options_from_world(path: &TokenStream, features: &BTreeSet<String>) -> TokenStream {
    if features.is_empty() {
        return TokenStream::new();
    }
    let fields: Vec<_> = features.iter().map(|f| snake(f)).collect();
    quote! {
        impl From<LinkOptions> for #path::LinkOptions {
            fn from(src: LinkOptions) -> Self {
                (&src).into()
            }
        }
        impl From<&LinkOptions> for #path::LinkOptions {
            fn from(src: &LinkOptions) -> Self {
                let mut dest = Self::default();
                #(dest.#fields(src.#fields);)*
                dest
            }
        }
    }
}
