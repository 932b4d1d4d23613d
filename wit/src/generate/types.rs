//! The Rust items of WIT types: structs and enums with their derives and component impls, flags, aliases,
//! resource markers.

use super::{Generator, Mode, docs};
use crate::component_impls::{Case, Field, ImplTarget, Payload, Shape, Trait};
use crate::names::{shouty, snake, type_name};
use anyhow::Result;
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use wit_parser::{InterfaceId, Type, TypeDefKind, TypeId};

impl<'a> Generator<'a> {
    /// Defines the types of interface `id` in its module.
    pub(super) fn interface_types(&mut self, id: InterfaceId) -> Result<()> {
        if self.with_interfaces.contains_key(&id) {
            return Ok(());
        }
        let module = self.modules[&id].clone();
        let mut items = Vec::new();
        for (name, ty) in &self.resolve.interfaces[id].types {
            match self.with_types.get(ty) {
                // Mapped by `with`: the WIT name re-exports the type given (as in Wasmtime).
                Some(alias) => {
                    let (root, name) = (Self::to_root(&module), type_name(name));
                    items.push(quote!(pub use #root #alias as #name;));
                }
                None => items.extend(self.type_def(&module, *ty)?),
            }
        }
        self.items.entry(module).or_default().extend(items);
        Ok(())
    }

    /// The items defining named type `id`, written in module `module`: a struct, an enum, flags or an alias,
    /// owning its data, or borrowing it, or both (see `ownership`); a marker type for a resource.
    pub(super) fn type_def(&self, module: &[String], id: TypeId) -> Result<Option<TokenStream>> {
        let mut items = TokenStream::new();
        if self.owns(id) {
            items.extend(self.type_item(module, id, self.owned_name(id), Mode::Owned)?);
        }
        if self.borrows(id) {
            items.extend(self.type_item(module, id, self.borrowed_name(id), Mode::BorrowedForA)?);
        }
        Ok(Some(items))
    }

    /// One definition of named type `id` called `name`: owning its data, or borrowing it for `'a`.
    fn type_item(&self, module: &[String], id: TypeId, name: Ident, mode: Mode) -> Result<TokenStream> {
        let def = &self.resolve.types[id];
        let wit_name = def.name.as_deref().unwrap_or("anonymous");
        let type_docs = docs(&def.docs);
        let c = self.c();
        let krate_attr = self.krate_attr();
        let owned = mode == Mode::Owned;
        // Handles cannot be cloned, compared, hashed or serialized: types holding them get no further derives.
        let derives = match self.holds_handle(&Type::Id(id)) {
            true => Vec::new(),
            false => self.derives(),
        };
        // A borrowing definition has a lifetime, and is only lowered (and copied by reference).
        let (generics, clone) = match owned {
            true => (TokenStream::new(), self.clone_derive(id)),
            false => (quote!(<'a>), quote!(Clone,)),
        };
        // A record or variant that is a function's error type displays as it debug-prints, and is an `Error`.
        let error_impls = match owned && self.error_types.contains(&id) {
            true => quote! {
                impl core::fmt::Display for #name {
                    #[inline]
                    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        write!(f, "{:?}", self)
                    }
                }
                impl core::error::Error for #name {}
            },
            false => TokenStream::new(),
        };
        Ok(match &def.kind {
            TypeDefKind::Record(record) => {
                let mut fields = Vec::new();
                let mut items = Vec::new();
                for f in &record.fields {
                    let (ident, ty, docs) = (snake(&f.name), self.ty(module, &f.ty, mode)?, docs(&f.docs));
                    items.push(quote!(#docs pub #ident: #ty));
                    fields.push(Field { ident, ty, name: f.name.clone() });
                }
                let debug = debug_impl(&name, &generics, {
                    let (rust_name, wits, idents) = (name.to_string(), fields.iter().map(|f| &f.name), fields.iter().map(|f| &f.ident));
                    quote!(f.debug_struct(#rust_name) #(.field(#wits, &self.#idents))* .finish())
                });
                let impls = self.component_impls(&Shape::Record(fields), &name, &generics, owned);
                quote! {
                    #type_docs
                    #[derive(#clone #(#derives),*)]
                    pub struct #name #generics { #(#items,)* }
                    #debug
                    #impls
                    #error_impls
                }
            }
            TypeDefKind::Variant(variant) => {
                let mut cases = Vec::new();
                let mut items = Vec::new();
                for case in &variant.cases {
                    let (ident, docs) = (type_name(&case.name), docs(&case.docs));
                    let payload = match &case.ty {
                        Some(ty) => {
                            let ty = self.ty(module, ty, mode)?;
                            items.push(quote!(#docs #ident(#ty)));
                            Payload::One(ty)
                        }
                        None => {
                            items.push(quote!(#docs #ident));
                            Payload::None
                        }
                    };
                    cases.push(Case { ident, name: case.name.clone(), payload });
                }
                let debug = debug_impl(&name, &generics, case_debug(&name, &cases));
                let impls = self.component_impls(&Shape::Variant(cases), &name, &generics, owned);
                quote! {
                    #type_docs
                    #[derive(#clone #(#derives),*)]
                    pub enum #name #generics { #(#items,)* }
                    #debug
                    #impls
                    #error_impls
                }
            }
            TypeDefKind::Enum(e) => {
                let items = e.cases.iter().map(|case| {
                    let (ident, docs) = (type_name(&case.name), docs(&case.docs));
                    quote!(#docs #ident)
                });
                let cases: Vec<Case> =
                    e.cases.iter().map(|case| Case { ident: type_name(&case.name), name: case.name.clone(), payload: Payload::None }).collect();
                let debug = match self.error_types.contains(&id) {
                    // An error enum prints its code, name and message, as Wasmtime's bindings do.
                    true => {
                        let rust_name = name.to_string();
                        quote! {
                            f.debug_struct(#rust_name)
                                .field("code", &(*self as i32))
                                .field("name", &self.name())
                                .field("message", &self.message())
                                .finish()
                        }
                    }
                    false => case_debug(&name, &cases),
                };
                let debug = debug_impl(&name, &TokenStream::new(), debug);
                let impls = self.component_impls(&Shape::Enum(cases), &name, &TokenStream::new(), true);
                // Enums derive these themselves: additional derives add only the others.
                let derives = self.derives_except(&["Clone", "Copy", "Debug", "PartialEq", "Eq", "Hash"]);
                // An error enum names and describes its cases, as Wasmtime's bindings do.
                let error_impls = match self.error_types.contains(&id) {
                    true => {
                        let idents: Vec<_> = e.cases.iter().map(|case| type_name(&case.name)).collect();
                        let names = e.cases.iter().map(|case| &case.name);
                        let messages = e.cases.iter().map(|case| case.docs.contents.as_deref().unwrap_or("").trim());
                        quote! {
                            impl #name {
                                /// The case's WIT name.
                                #[inline]
                                pub fn name(&self) -> &'static str {
                                    match self { #(#name::#idents => #names,)* }
                                }
                                /// The case's WIT documentation.
                                #[inline]
                                pub fn message(&self) -> &'static str {
                                    match self { #(#name::#idents => #messages,)* }
                                }
                            }
                            impl core::fmt::Display for #name {
                                #[inline]
                                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                                    write!(f, "{} (error {})", self.name(), *self as i32)
                                }
                            }
                            impl core::error::Error for #name {}
                        }
                    }
                    false => TokenStream::new(),
                };
                quote! {
                    #type_docs
                    #[derive(Clone, Copy, PartialEq, Eq, Hash #(, #derives)*)]
                    pub enum #name { #(#items,)* }
                    #debug
                    #impls
                    #error_impls
                }
            }
            TypeDefKind::Flags(flags) => {
                let members = flags.flags.iter().map(|flag| {
                    let (ident, wit, docs) = (shouty(&flag.name), &flag.name, docs(&flag.docs));
                    quote!(#docs #[component(name = #wit)] const #ident;)
                });
                quote! {
                    #c::flags! { #type_docs #krate_attr #name { #(#members)* } }
                }
            }
            // A resource the guest defines: its handles are `ResourceAny`s, as in Wasmtime.
            TypeDefKind::Resource if self.guest_resource(id) => {
                let doc = format!(" The guest resource `{wit_name}`: its handles are `ResourceAny`s.");
                quote!(#type_docs #[doc = #doc] pub type #name = #c::ResourceAny;)
            }
            TypeDefKind::Resource => {
                let doc = format!(" The host resource `{wit_name}`: its handles are `Resource<{name}>`.");
                quote!(#type_docs #[doc = #doc] pub enum #name {})
            }
            _ => {
                let ty = self.anonymous(module, id, mode)?;
                quote!(#type_docs pub type #name #generics = #ty;)
            }
        })
    }

    /// The impls of `ComponentType`, `Lower` and, for an owning type, `Lift` for type `name` of shape `shape`
    /// with generics `generics` (`<'a>` or none).
    fn component_impls(&self, shape: &Shape, name: &Ident, generics: &TokenStream, owned: bool) -> TokenStream {
        let target = ImplTarget {
            name,
            impl_generics: generics.clone(),
            ty_generics: generics.clone(),
            predicates: Vec::new(),
            generic: false,
            component: self.c(),
        };
        let traits: &[Trait] = match owned {
            true => &[Trait::ComponentType, Trait::Lift, Trait::Lower],
            false => &[Trait::ComponentType, Trait::Lower],
        };
        traits.iter().map(|&which| shape.impl_of(which, &target)).collect()
    }

    /// `Copy, Clone,` for a type holding neither handles nor lists (or strings), `Clone,` for one holding no
    /// handles (they cannot be cloned), as Wasmtime derives them.
    pub(super) fn clone_derive(&self, id: TypeId) -> TokenStream {
        let ty = Type::Id(id);
        match (self.holds_handle(&ty), self.has_list(&ty)) {
            (true, _) => TokenStream::new(),
            (false, true) => quote!(Clone,),
            (false, false) => quote!(Copy, Clone,),
        }
    }

    /// Whether a value of type `ty` holds a resource handle.
    pub(super) fn holds_handle(&self, ty: &Type) -> bool {
        self.holds(ty, &|t| matches!(self.kind(t), Some(TypeDefKind::Handle(_) | TypeDefKind::Resource)))
    }

    /// Whether a value of type `ty` holds a list or a map (strings aside).
    pub(super) fn holds_list(&self, ty: &Type) -> bool {
        self.holds(ty, &|t| matches!(self.kind(t), Some(TypeDefKind::List(_) | TypeDefKind::Map(..))))
    }

    /// Whether a value of type `ty` holds a list, a map or a string: data behind a pointer, which the
    /// parameters of calls into the guest borrow (`&str`, `&[T]`, `&Record`), as in Wasmtime.
    pub(super) fn has_list(&self, ty: &Type) -> bool {
        self.holds(ty, &|t| matches!(t, Type::String) || matches!(self.kind(t), Some(TypeDefKind::List(_) | TypeDefKind::Map(..))))
    }

    /// Whether `ty`, or a type inside it (through records, variants, tuples, options, results, lists, maps
    /// and aliases), is one `leaf` picks out.
    fn holds(&self, ty: &Type, leaf: &dyn Fn(&Type) -> bool) -> bool {
        let inner = |ty: &Type| self.holds(ty, leaf);
        leaf(ty)
            || match self.kind(ty) {
                Some(TypeDefKind::Record(r)) => r.fields.iter().any(|f| inner(&f.ty)),
                Some(TypeDefKind::Variant(v)) => v.cases.iter().filter_map(|c| c.ty.as_ref()).any(inner),
                Some(TypeDefKind::Tuple(t)) => t.types.iter().any(inner),
                Some(TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) | TypeDefKind::FixedLengthList(t, _)) => inner(t),
                Some(TypeDefKind::Result(r)) => r.ok.iter().chain(&r.err).any(inner),
                Some(TypeDefKind::Map(k, v)) => inner(k) || inner(v),
                _ => false,
            }
    }

    /// The definition of `ty`, if it is a defined type.
    fn kind(&self, ty: &Type) -> Option<&'a TypeDefKind> {
        match ty {
            Type::Id(id) => Some(&self.resolve.types[*id].kind),
            _ => None,
        }
    }

    /// `#[component(tenon_crate = ...)]` when `tenon` has another path.
    pub(super) fn krate_attr(&self) -> TokenStream {
        match self.opts.krate.as_str() {
            "::tenon" | "tenon" => TokenStream::new(),
            _ => {
                let krate = &self.krate;
                quote!(#[component(tenon_crate = #krate)])
            }
        }
    }

    /// The additional derives asked for (records and variants derive `Copy`, `Clone` and `Debug` themselves).
    pub(super) fn derives(&self) -> Vec<TokenStream> {
        self.derives_except(&["Copy", "Clone", "Debug"])
    }

    /// The additional derives asked for, but for those named (by their last path segment) in `own`.
    pub(super) fn derives_except(&self, own: &[&str]) -> Vec<TokenStream> {
        self.opts
            .additional_derives
            .iter()
            .filter(|d| !own.contains(&d.rsplit("::").next().unwrap_or(d).trim()))
            .filter_map(|d| d.parse().ok())
            .collect()
    }
}

/// `Debug` for type `name` with generics `generics` (`<'a>` or none), whose `fmt` is `body`: written out as
/// Wasmtime's bindings write it (records print their WIT field names, cases `Type::Case(..)`), and inline, so
/// that a bindings crate compiles it only where it is used.
fn debug_impl(name: &Ident, generics: &TokenStream, body: TokenStream) -> TokenStream {
    quote! {
        impl #generics core::fmt::Debug for #name #generics {
            #[inline]
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                #body
            }
        }
    }
}

/// The `Debug` body of variant or enum `name` with cases `cases`: `Type::Case(payload)`.
fn case_debug(name: &Ident, cases: &[Case]) -> TokenStream {
    let arms = cases.iter().map(|case| {
        let (ident, label) = (&case.ident, format!("{name}::{}", case.ident));
        match case.payload {
            Payload::None => quote!(#name::#ident => f.debug_tuple(#label).finish()),
            _ => quote!(#name::#ident(e) => f.debug_tuple(#label).field(e).finish()),
        }
    });
    quote!(match self { #(#arms,)* })
}
