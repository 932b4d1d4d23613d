//! `#[derive(ComponentType, Lift, Lower)]`: reads the Rust type into a [`Shape`] (record, variant, enum or
//! flags), then writes the impl of one trait. Each impl lists the fields or cases and hands them to the
//! generic code of `tenon::component::__internal`.

use crate::names::ComponentAttrs;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Type};

/// Which trait to derive.
#[derive(Clone, Copy)]
pub enum Trait {
    ComponentType,
    Lift,
    Lower,
}

/// The derive's output, or its error as a compile error.
pub fn expand(input: TokenStream, which: Trait) -> TokenStream {
    derive(input, which).unwrap_or_else(syn::Error::into_compile_error)
}

/// A field of a record or flags, with its component name.
struct Field {
    ident: syn::Ident,
    ty: Type,
    name: String,
}

/// A case of a variant or enum, with its component name and payload.
struct Case {
    ident: syn::Ident,
    name: String,
    payload: Payload,
}

/// What a case carries.
enum Payload {
    None,
    /// One unnamed field: the payload's type.
    One(Type),
    /// Several unnamed fields: the payload is their tuple.
    Tuple(Vec<Type>),
}

/// The component type a Rust type stands for.
enum Shape {
    Record(Vec<Field>),
    Flags(Vec<Field>),
    Variant(Vec<Case>),
    Enum(Vec<Case>),
}

fn derive(input: TokenStream, which: Trait) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let attrs = ComponentAttrs::parse(&input.attrs)?;
    let shape = Shape::of(&input, &attrs)?;
    let c = attrs.component_path();
    let trait_path = match which {
        Trait::ComponentType => quote!(#c::ComponentType),
        Trait::Lift => quote!(#c::Lift),
        Trait::Lower => quote!(#c::Lower),
    };
    let name = &input.ident;
    let rust_name = name.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut predicates: Vec<TokenStream> = where_clause.map(|w| w.predicates.iter().map(|p| quote!(#p)).collect()).unwrap_or_default();
    predicates.extend(shape.types().iter().map(|ty| quote!(#ty: #trait_path)));
    let body = match which {
        Trait::ComponentType => shape.component_type(&c, &rust_name),
        Trait::Lift => shape.lift(&c),
        Trait::Lower => shape.lower(&c),
    };
    Ok(quote! {
        impl #impl_generics #trait_path for #name #ty_generics where #(#predicates,)* {
            #body
        }
    })
}

impl Shape {
    /// Reads the shape of `input`, whose `#[component(...)]` attributes are `attrs`.
    fn of(input: &DeriveInput, attrs: &ComponentAttrs) -> syn::Result<Shape> {
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
                            Ok(Field { ident, ty: f.ty.clone(), name })
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
                        if let Some(field) = fields.iter().find(|f| !is_bool(&f.ty)) {
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
                            Fields::Unnamed(f) if f.unnamed.len() == 1 => Payload::One(f.unnamed[0].ty.clone()),
                            Fields::Unnamed(f) => Payload::Tuple(f.unnamed.iter().map(|f| f.ty.clone()).collect()),
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

    /// The Rust types the impl needs to have the trait too: fields and payloads.
    fn types(&self) -> Vec<Type> {
        match self {
            Shape::Record(fields) => fields.iter().map(|f| f.ty.clone()).collect(),
            Shape::Flags(_) | Shape::Enum(_) => Vec::new(),
            Shape::Variant(cases) => cases
                .iter()
                .flat_map(|c| match &c.payload {
                    Payload::None => Vec::new(),
                    Payload::One(ty) => vec![ty.clone()],
                    Payload::Tuple(tys) => tys.clone(),
                })
                .collect(),
        }
    }

    /// The items of `ComponentType`: the layout and the type check.
    fn component_type(&self, c: &TokenStream, rust_name: &str) -> TokenStream {
        let i = quote!(#c::__internal);
        let (abi, check) = match self {
            Shape::Record(fields) => {
                let tys = fields.iter().map(|f| &f.ty);
                let checks = fields.iter().map(|f| {
                    let (name, ty) = (&f.name, &f.ty);
                    quote!((#name, <#ty as #c::ComponentType>::typecheck))
                });
                (
                    quote!(#i::CanonicalAbiInfo::record_of(&[#(<#tys as #c::ComponentType>::ABI),*])),
                    quote!(#i::typecheck_record(ty, types, #rust_name, &[#(#checks),*])),
                )
            }
            Shape::Flags(fields) => {
                let (count, names) = (fields.len(), fields.iter().map(|f| &f.name));
                (quote!(#i::flags_abi(#count)), quote!(#i::typecheck_flags(ty, types, #rust_name, &[#(#names),*])))
            }
            Shape::Variant(cases) => {
                let payloads = cases.iter().map(|case| match payload_type(&case.payload) {
                    Some(ty) => quote!(Some(<#ty as #c::ComponentType>::ABI)),
                    None => quote!(None),
                });
                let checks = cases.iter().map(|case| {
                    let name = &case.name;
                    match payload_type(&case.payload) {
                        Some(ty) => quote!((#name, Some(<#ty as #c::ComponentType>::typecheck as #i::Typecheck))),
                        None => quote!((#name, None)),
                    }
                });
                (
                    quote!(#i::CanonicalAbiInfo::variant_of(&[#(#payloads),*])),
                    quote!(#i::typecheck_variant(ty, types, #rust_name, &[#(#checks),*])),
                )
            }
            Shape::Enum(cases) => {
                let nones = cases.iter().map(|_| quote!(None));
                let names = cases.iter().map(|case| &case.name);
                (
                    quote!(#i::CanonicalAbiInfo::variant_of(&[#(#nones),*])),
                    quote!(#i::typecheck_enum(ty, types, #rust_name, &[#(#names),*])),
                )
            }
        };
        quote! {
            const ABI: #i::CanonicalAbiInfo = #abi;
            #[inline]
            fn typecheck(ty: #i::InterfaceType, types: &#i::ComponentTypes) -> #i::Result<()> {
                #check
            }
        }
    }

    /// The items of `Lower`: lowering flat and storing in memory.
    fn lower(&self, c: &TokenStream) -> TokenStream {
        let i = quote!(#c::__internal);
        let (flat, store) = match self {
            Shape::Record(fields) => {
                let refs: Vec<TokenStream> = fields.iter().map(|f| {
                    let ident = &f.ident;
                    quote!(&self.#ident as &dyn #i::DynLower)
                }).collect();
                (
                    quote!(#i::lower_record_flat(cx, ty, &[#(#refs),*], dst)),
                    quote!(#i::store_record(cx, ty, &[#(#refs),*], ptr)),
                )
            }
            Shape::Flags(fields) => {
                let bits = flag_bits(fields);
                (
                    quote!(#i::lower_flags_flat(#bits, dst)),
                    quote!(#i::store_flags(cx, <Self as #c::ComponentType>::ABI, #bits, ptr)),
                )
            }
            Shape::Variant(cases) | Shape::Enum(cases) => {
                let arms = |call: TokenStream| {
                    let i = &i;
                    cases.iter().enumerate().map(move |(n, case)| {
                        let (index, ident) = (n as u32, &case.ident);
                        let (pattern, payload) = match &case.payload {
                            Payload::None => (quote!(Self::#ident), quote!(None)),
                            Payload::One(_) => (quote!(Self::#ident(v0)), quote!(Some(v0 as &dyn #i::DynLower))),
                            Payload::Tuple(tys) => {
                                let vars: Vec<_> = (0..tys.len()).map(|k| format_ident!("v{k}")).collect();
                                (quote!(Self::#ident(#(#vars),*)), quote!(Some(&(#(#vars,)*) as &dyn #i::DynLower)))
                            }
                        };
                        quote!(#pattern => #call(cx, ty, <Self as #c::ComponentType>::ABI, #index, #payload, out))
                    }).collect::<Vec<_>>()
                };
                let (flat_arms, store_arms) = (arms(quote!(#i::lower_case_flat)), arms(quote!(#i::store_case)));
                (
                    quote! { let out = dst; match self { #(#flat_arms,)* } },
                    quote! { let out = ptr; match self { #(#store_arms,)* } },
                )
            }
        };
        quote! {
            #[inline]
            fn lower_flat(&self, cx: &mut #i::LowerContext<'_>, ty: #i::InterfaceType, dst: &mut #i::FlatBuf) -> #i::AbiResult<()> {
                #flat
            }
            #[inline]
            fn store(&self, cx: &mut #i::LowerContext<'_>, ty: #i::InterfaceType, ptr: u32) -> #i::AbiResult<()> {
                #store
            }
        }
    }

    /// The items of `Lift`: lifting from flat values and loading from memory.
    fn lift(&self, c: &TokenStream) -> TokenStream {
        let i = quote!(#c::__internal);
        let (flat, load) = match self {
            Shape::Record(fields) => {
                let idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
                (
                    quote! {
                        let mut fields = #i::RecordReader::flat(cx, ty, src)?;
                        Ok(Self { #(#idents: fields.field()?,)* })
                    },
                    quote! {
                        let mut fields = #i::RecordReader::memory(cx, ty, ptr)?;
                        Ok(Self { #(#idents: fields.field()?,)* })
                    },
                )
            }
            Shape::Flags(fields) => {
                let count = fields.len();
                let set = fields.iter().enumerate().map(|(n, f)| {
                    let ident = &f.ident;
                    let bit = 1u32 << n;
                    quote!(#ident: bits & #bit != 0)
                });
                let build = quote!(Ok(Self { #(#set,)* }));
                (
                    quote! { let bits = #i::lift_flags_flat(#count, src)?; #build },
                    quote! { let bits = #i::load_flags(cx, <Self as #c::ComponentType>::ABI, #count, ptr)?; #build },
                )
            }
            Shape::Variant(cases) | Shape::Enum(cases) => {
                let arms: Vec<TokenStream> = cases
                    .iter()
                    .enumerate()
                    .map(|(n, case)| {
                        let (index, ident) = (n as u32, &case.ident);
                        match &case.payload {
                            Payload::None => quote!(#index => Self::#ident),
                            Payload::One(_) => quote!(#index => Self::#ident(case.payload()?)),
                            Payload::Tuple(tys) => {
                                let vars: Vec<_> = (0..tys.len()).map(|k| format_ident!("v{k}")).collect();
                                quote!(#index => {
                                    let (#(#vars,)*): (#(#tys,)*) = case.payload()?;
                                    Self::#ident(#(#vars),*)
                                })
                            }
                        }
                    })
                    .collect();
                let lift = quote! {
                    |index, case| Ok(match index {
                        #(#arms,)*
                        _ => return Err(case.bad_case()),
                    })
                };
                (
                    quote!(#i::lift_case_flat(cx, ty, <Self as #c::ComponentType>::ABI, src, #lift)),
                    quote!(#i::load_case(cx, ty, <Self as #c::ComponentType>::ABI, ptr, #lift)),
                )
            }
        };
        quote! {
            #[inline]
            fn lift_flat(cx: &#i::LiftContext<'_>, ty: #i::InterfaceType, src: &mut #i::FlatValues<'_>) -> #i::AbiResult<Self> {
                #flat
            }
            #[inline]
            fn load(cx: &#i::LiftContext<'_>, ty: #i::InterfaceType, ptr: u32) -> #i::AbiResult<Self> {
                #load
            }
        }
    }
}

/// The Rust type of a case's payload, if it has one.
fn payload_type(payload: &Payload) -> Option<TokenStream> {
    match payload {
        Payload::None => None,
        Payload::One(ty) => Some(quote!(#ty)),
        Payload::Tuple(tys) => Some(quote!((#(#tys,)*))),
    }
}

/// The expression of a flags struct's bits: each `bool` field at its position.
fn flag_bits(fields: &[Field]) -> TokenStream {
    let terms = fields.iter().enumerate().map(|(n, f)| {
        let ident = &f.ident;
        let shift = n as u32;
        quote!(((self.#ident as u32) << #shift))
    });
    quote!((0u32 #(| #terms)*))
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
