//! Names and paths shared by the derives and `flags!`: component names from Rust names, and the `tenon`
//! crate's path.

use heck::ToKebabCase;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, LitStr};

/// The component name of Rust identifier `ident`: its kebab-case (`first_name` and `FirstName` are
/// `first-name`), without a raw identifier's `r#`.
pub fn kebab(ident: &syn::Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_kebab_case()
}

/// What `#[component(...)]` attributes say.
#[derive(Default)]
pub struct ComponentAttrs {
    /// `record`, `variant`, `enum` or `flags`, with where it was said.
    pub kind: Option<(String, proc_macro2::Span)>,
    /// `name = "..."`.
    pub name: Option<LitStr>,
    /// `tenon_crate = path` or `wasmtime_crate = path`.
    pub krate: Option<syn::Path>,
}

impl ComponentAttrs {
    /// Reads the `#[component(...)]` attributes among `attrs`.
    pub fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = ComponentAttrs::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("component")) {
            attr.parse_nested_meta(|meta| {
                let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                match key.as_str() {
                    "record" | "variant" | "enum" | "flags" => {
                        if out.kind.is_some() {
                            return Err(meta.error("the kind of component type is given twice"));
                        }
                        out.kind = Some((key, meta.path.get_ident().map_or_else(proc_macro2::Span::call_site, |i| i.span())));
                    }
                    "name" => out.name = Some(meta.value()?.parse()?),
                    "tenon_crate" | "wasmtime_crate" => out.krate = Some(meta.value()?.parse()?),
                    _ => {
                        return Err(meta.error(
                            "unknown `component` attribute: expected `record`, `variant`, `enum`, `flags`, `name = \"...\"` or `tenon_crate = path`",
                        ));
                    }
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// The component name of an item called `ident` with these attributes.
    pub fn name_of(&self, ident: &syn::Ident) -> String {
        self.name.as_ref().map_or_else(|| kebab(ident), LitStr::value)
    }

    /// The path of `tenon`'s component module.
    pub fn component_path(&self) -> TokenStream {
        match &self.krate {
            Some(path) => quote!(#path::component),
            None => quote!(::tenon::component),
        }
    }
}
