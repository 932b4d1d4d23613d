//! `#[derive(ComponentType, Lift, Lower)]`: reads the Rust type into a `Shape` (record, variant, enum or
//! flags) and its `#[component(...)]` attributes; `tenon_wit::component_impls`, which `bindgen!` shares,
//! writes the impl.

use crate::names::ComponentAttrs;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Type};
pub use tenon_wit::component_impls::Trait;
use tenon_wit::component_impls::{Case, Field, ImplTarget, Payload, Shape};

/// The derive's output, or its error as a compile error.
pub fn expand(input: TokenStream, which: Trait) -> TokenStream {
    derive(input, which).unwrap_or_else(syn::Error::into_compile_error)
}

/// The impl of `which` for the type `input` defines.
fn derive(input: TokenStream, which: Trait) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let attrs = ComponentAttrs::parse(&input.attrs)?;
    let shape = shape_of(&input, &attrs)?;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let target = ImplTarget {
        name: &input.ident,
        impl_generics: quote!(#impl_generics),
        ty_generics: quote!(#ty_generics),
        predicates: where_clause.map(|w| w.predicates.iter().map(|p| quote!(#p)).collect()).unwrap_or_default(),
        generic: !input.generics.params.is_empty(),
        component: attrs.component_path(),
    };
    Ok(shape.impl_of(which, &target))
}

/// Reads the shape of `input`, whose `#[component(...)]` attributes are `attrs`.
fn shape_of(input: &DeriveInput, attrs: &ComponentAttrs) -> syn::Result<Shape> {
    let kind = attrs.kind.as_ref().map(|(kind, span)| (kind.as_str(), *span));
    match &input.data {
        Data::Union(u) => Err(syn::Error::new(
            u.union_token.span,
            "a union cannot be a component type: use a struct (a record or flags) or an enum (a variant or an enum)",
        )),
        Data::Struct(s) => {
            let fields = match &s.fields {
                Fields::Named(named) => named
                    .named
                    .iter()
                    .map(|f| {
                        let ident = f.ident.clone().expect("named fields have names");
                        let name = ComponentAttrs::parse(&f.attrs)?.name_of(&ident);
                        let ty = &f.ty;
                        Ok(Field { ident, ty: quote!(#ty), name })
                    })
                    .collect::<syn::Result<Vec<_>>>()?,
                other => {
                    return Err(syn::Error::new(other.span(), "a record or flags needs named fields (`struct S { a: u32 }`)"));
                }
            };
            match kind {
                None | Some(("record", _)) => Ok(Shape::Record(fields)),
                Some(("flags", _)) => {
                    if fields.len() > 32 {
                        return Err(syn::Error::new(input.ident.span(), "flags have at most 32 members"));
                    }
                    if let Some(field) = s.fields.iter().find(|f| !is_bool(&f.ty)) {
                        return Err(syn::Error::new(field.ty.span(), "each field of flags is a `bool`: whether the flag is set"));
                    }
                    Ok(Shape::Flags(fields))
                }
                Some((other, span)) => Err(syn::Error::new(span, format!("a struct cannot be a component `{other}`: use an enum"))),
            }
        }
        Data::Enum(e) => {
            let cases = e
                .variants
                .iter()
                .map(|v| {
                    let name = ComponentAttrs::parse(&v.attrs)?.name_of(&v.ident);
                    let payload = match &v.fields {
                        Fields::Unit => Payload::None,
                        Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                            let ty = &f.unnamed[0].ty;
                            Payload::One(quote!(#ty))
                        }
                        Fields::Unnamed(f) => Payload::Tuple(f.unnamed.iter().map(|f| f.ty.to_token_stream()).collect()),
                        Fields::Named(f) => {
                            return Err(syn::Error::new(
                                f.span(),
                                "a variant case carries unnamed fields (its payload), not named ones: `Case(T)` or `Case(A, B)`",
                            ));
                        }
                    };
                    Ok(Case { ident: v.ident.clone(), name, payload })
                })
                .collect::<syn::Result<Vec<_>>>()?;
            let has_payload = cases.iter().any(|c| !matches!(c.payload, Payload::None));
            match kind {
                Some(("variant", _)) => Ok(Shape::Variant(cases)),
                None if has_payload => Ok(Shape::Variant(cases)),
                None | Some(("enum", _)) => match cases.iter().find(|c| !matches!(c.payload, Payload::None)) {
                    Some(case) => Err(syn::Error::new(
                        case.ident.span(),
                        "an `enum` case carries nothing: use `#[component(variant)]` for cases with payloads",
                    )),
                    None => Ok(Shape::Enum(cases)),
                },
                Some((other, span)) => Err(syn::Error::new(span, format!("an enum cannot be a component `{other}`: use a struct"))),
            }
        }
    }
}

/// Whether `ty` is spelled `bool`.
fn is_bool(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident("bool"))
}

#[cfg(test)]
mod tests {
    use super::{Trait, expand};
    use quote::quote;

    /// The message of the compile error `input` derives to.
    fn error(input: proc_macro2::TokenStream) -> String {
        let out = expand(input, Trait::ComponentType).to_string();
        assert!(out.contains("compile_error"), "expected an error, got: {out}");
        out
    }

    #[test]
    fn types_the_derive_cannot_handle_are_errors() {
        assert!(error(quote!(union U { a: u32 })).contains("a union cannot be a component type"));
        assert!(error(quote!(struct T(u32, u32);)).contains("a record or flags needs named fields"));
        assert!(error(quote!(#[component(variant)] enum E { A { x: u32 } })).contains("unnamed fields"));
        assert!(error(quote!(#[component(enum)] enum E { A(u32) })).contains("an `enum` case carries nothing"));
        assert!(error(quote!(#[component(flags)] struct F { a: u32 })).contains("each field of flags is a `bool`"));
        assert!(error(quote!(#[component(variant)] struct S { a: u32 })).contains("a struct cannot be a component `variant`"));
        assert!(error(quote!(#[component(record)] enum E { A })).contains("an enum cannot be a component `record`"));
        assert!(error(quote!(#[component(colour)] struct S { a: u32 })).contains("unknown `component` attribute"));
        let many: Vec<_> = (0..33).map(|i| quote::format_ident!("f{i}")).collect();
        assert!(error(quote!(#[component(flags)] struct F { #(#many: bool),* })).contains("at most 32"));
    }

    #[test]
    fn names_default_to_kebab_case() {
        let out = expand(quote!(struct P { first_name: String, #[component(name = "AGE")] age: u8 }), Trait::ComponentType).to_string();
        assert!(out.contains("\"first-name\"") && out.contains("\"AGE\""), "{out}");
        let out = expand(quote!(enum E { NotFound, Ok }), Trait::ComponentType).to_string();
        assert!(out.contains("\"not-found\"") && out.contains("typecheck_enum"), "{out}");
        let out = expand(quote!(#[component(wasmtime_crate = my::rt)] struct P { a: u8 }), Trait::Lift).to_string();
        assert!(out.contains("my :: rt :: component :: Lift"), "{out}");
    }
}
