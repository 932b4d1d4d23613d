//! The Rust items of WIT types: structs, enums and flags with the derives, aliases, resource markers.

use super::{Generator, Mode, docs};
use crate::names::{shouty, snake, type_name};
use anyhow::{Result, bail};
use proc_macro2::TokenStream;
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
        let exported_only = module.first().is_some_and(|m| m == "exports");
        for (name, ty) in &self.resolve.interfaces[id].types {
            if exported_only && matches!(self.resolve.types[*ty].kind, TypeDefKind::Resource) {
                bail!("the component exports the resource `{name}`: exported resources are not supported by the bindings yet");
            }
            if !self.with_types.contains_key(ty) {
                items.extend(self.type_def(&module, *ty)?);
            }
        }
        self.items.entry(module).or_default().extend(items);
        Ok(())
    }

    /// The item defining named type `id`, written in module `module`: a struct, an enum, flags or an alias
    /// (`None` for a resource, which needs nothing yet).
    pub(super) fn type_def(&self, module: &[String], id: TypeId) -> Result<Option<TokenStream>> {
        let def = &self.resolve.types[id];
        let wit_name = def.name.as_deref().unwrap_or("anonymous");
        let name = type_name(wit_name);
        let type_docs = docs(&def.docs);
        let c = self.c();
        let krate_attr = self.krate_attr();
        // Handles cannot be cloned, compared, hashed or serialized: types holding them get no further derives.
        let derives = match self.holds_handle(&Type::Id(id)) {
            true => Vec::new(),
            false => self.derives(),
        };
        Ok(Some(match &def.kind {
            TypeDefKind::Record(record) => {
                let clone = self.clone_derive(id);
                let fields = record
                    .fields
                    .iter()
                    .map(|f| {
                        let (ident, wit, ty, docs) = (snake(&f.name), &f.name, self.ty(module, &f.ty, Mode::Owned)?, docs(&f.docs));
                        Ok(quote!(#docs #[component(name = #wit)] pub #ident: #ty))
                    })
                    .collect::<Result<Vec<_>>>()?;
                quote! {
                    #type_docs
                    #[derive(#c::ComponentType, #c::Lift, #c::Lower, #clone Debug #(, #derives)*)]
                    #[component(record)] #krate_attr
                    pub struct #name { #(#fields,)* }
                }
            }
            TypeDefKind::Variant(variant) => {
                let clone = self.clone_derive(id);
                let cases = variant
                    .cases
                    .iter()
                    .map(|case| {
                        let (ident, wit, docs) = (type_name(&case.name), &case.name, docs(&case.docs));
                        Ok(match &case.ty {
                            Some(ty) => {
                                let ty = self.ty(module, ty, Mode::Owned)?;
                                quote!(#docs #[component(name = #wit)] #ident(#ty))
                            }
                            None => quote!(#docs #[component(name = #wit)] #ident),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                quote! {
                    #type_docs
                    #[derive(#c::ComponentType, #c::Lift, #c::Lower, #clone Debug #(, #derives)*)]
                    #[component(variant)] #krate_attr
                    pub enum #name { #(#cases,)* }
                }
            }
            TypeDefKind::Enum(e) => {
                let cases = e.cases.iter().map(|case| {
                    let (ident, wit, docs) = (type_name(&case.name), &case.name, docs(&case.docs));
                    quote!(#docs #[component(name = #wit)] #ident)
                });
                // Enums derive these themselves: additional derives add only the others.
                let derives = self.derives_except(&["Clone", "Copy", "Debug", "PartialEq", "Eq", "Hash"]);
                quote! {
                    #type_docs
                    #[derive(#c::ComponentType, #c::Lift, #c::Lower, Clone, Copy, Debug, PartialEq, Eq, Hash #(, #derives)*)]
                    #[component(enum)] #krate_attr
                    pub enum #name { #(#cases,)* }
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
            TypeDefKind::Resource => {
                let doc = format!(" The host resource `{wit_name}`: its handles are `Resource<{name}>`.");
                quote!(#type_docs #[doc = #doc] pub enum #name {})
            }
            _ => {
                let ty = self.anonymous(module, id, Mode::Owned)?;
                quote!(#type_docs pub type #name = #ty;)
            }
        }))
    }

    /// `Clone,` for a type that can be cloned: one holding no resource handle (handles are not `Clone`).
    pub(super) fn clone_derive(&self, id: TypeId) -> TokenStream {
        match self.holds_handle(&Type::Id(id)) {
            true => TokenStream::new(),
            false => quote!(Clone,),
        }
    }

    /// Whether a value of type `ty` holds a resource handle.
    pub(super) fn holds_handle(&self, ty: &Type) -> bool {
        let Type::Id(id) = ty else { return false };
        match &self.resolve.types[*id].kind {
            TypeDefKind::Handle(_) | TypeDefKind::Resource => true,
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.holds_handle(&f.ty)),
            TypeDefKind::Variant(v) => v.cases.iter().any(|c| c.ty.as_ref().is_some_and(|t| self.holds_handle(t))),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| self.holds_handle(t)),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) | TypeDefKind::FixedLengthList(t, _) => self.holds_handle(t),
            TypeDefKind::Result(r) => [&r.ok, &r.err].iter().any(|t| t.as_ref().is_some_and(|t| self.holds_handle(t))),
            TypeDefKind::Map(k, v) => self.holds_handle(k) || self.holds_handle(v),
            _ => false,
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

    /// The additional derives asked for (records and variants derive `Clone` and `Debug` themselves).
    pub(super) fn derives(&self) -> Vec<TokenStream> {
        self.derives_except(&["Clone", "Debug"])
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
