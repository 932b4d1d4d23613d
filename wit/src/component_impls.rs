//! The impls of `ComponentType`, `Lift` and `Lower` for a record, variant, enum or flags type, written once
//! for both of their writers: `#[derive(...)]`, which reads the Rust type into a [`Shape`], and `bindgen!`,
//! which writes the type from WIT and its impls beside it (sparing the compiler a derive per type). Each impl
//! lists the fields or cases and hands them to the generic code of `tenon::component::__internal`.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Which trait an impl is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trait {
    /// `ComponentType`: the layout and the type check.
    ComponentType,
    /// `Lift`: reading the value out of a guest.
    Lift,
    /// `Lower`: writing the value into a guest.
    Lower,
}

/// A field of a record or flags: its Rust name and type, and its component name.
pub struct Field {
    /// The Rust field.
    pub ident: Ident,
    /// Its Rust type.
    pub ty: TokenStream,
    /// Its component (WIT) name.
    pub name: String,
}

/// A case of a variant or enum: its Rust name, component name and payload.
pub struct Case {
    /// The Rust variant.
    pub ident: Ident,
    /// Its component (WIT) name.
    pub name: String,
    /// What it carries.
    pub payload: Payload,
}

/// What a case carries.
pub enum Payload {
    /// Nothing.
    None,
    /// One unnamed field: the payload's type.
    One(TokenStream),
    /// Several unnamed fields: the payload is their tuple.
    Tuple(Vec<TokenStream>),
}

/// The component type a Rust type stands for.
pub enum Shape {
    /// A struct with named fields.
    Record(Vec<Field>),
    /// A struct of `bool` fields, one per flag.
    Flags(Vec<Field>),
    /// An enum whose cases may carry payloads.
    Variant(Vec<Case>),
    /// An enum whose cases carry nothing.
    Enum(Vec<Case>),
}

/// The type an impl is for.
pub struct ImplTarget<'a> {
    /// The type's name.
    pub name: &'a Ident,
    /// The impl's generics (`<'a, T: Bound>`), empty for none.
    pub impl_generics: TokenStream,
    /// The type's generic arguments (`<'a, T>`), empty for none.
    pub ty_generics: TokenStream,
    /// The type's own where-clause predicates.
    pub predicates: Vec<TokenStream>,
    /// Whether the type has generic parameters: then the impl requires the trait of its fields' types.
    pub generic: bool,
    /// The path of `tenon::component`.
    pub component: TokenStream,
}

impl Shape {
    /// The impl of `which` for `target`.
    pub fn impl_of(&self, which: Trait, target: &ImplTarget<'_>) -> TokenStream {
        let c = &target.component;
        let trait_path = match which {
            Trait::ComponentType => quote!(#c::ComponentType),
            Trait::Lift => quote!(#c::Lift),
            Trait::Lower => quote!(#c::Lower),
        };
        let ImplTarget { name, impl_generics, ty_generics, .. } = target;
        let mut predicates = target.predicates.clone();
        // A generic type implements the trait where its fields do; a concrete one needs no bounds (they would
        // only be proven again at every use).
        if target.generic {
            predicates.extend(self.types().iter().map(|ty| quote!(#ty: #trait_path)));
        }
        let body = match which {
            Trait::ComponentType => self.component_type(c, &name.to_string()),
            Trait::Lift => self.lift(c),
            Trait::Lower => self.lower(c),
        };
        quote! {
            impl #impl_generics #trait_path for #name #ty_generics where #(#predicates,)* {
                #body
            }
        }
    }

    /// The Rust types of the fields and payloads.
    fn types(&self) -> Vec<TokenStream> {
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

    /// The item of `Lower`: lowering to flat values or memory (one body for both).
    fn lower(&self, c: &TokenStream) -> TokenStream {
        let i = quote!(#c::__internal);
        let body = match self {
            Shape::Record(fields) => {
                let refs = fields.iter().map(|f| {
                    let ident = &f.ident;
                    quote!(&self.#ident as &dyn #i::DynLower)
                });
                quote!(#i::lower_record(cx, ty, &[#(#refs),*], dst))
            }
            Shape::Flags(fields) => {
                let bits = flag_bits(fields);
                quote!(#i::lower_flags(cx, <Self as #c::ComponentType>::ABI, #bits, dst))
            }
            Shape::Variant(cases) | Shape::Enum(cases) => {
                let arms = cases.iter().enumerate().map(|(n, case)| {
                    let (index, ident) = (n as u32, &case.ident);
                    let (pattern, payload) = match &case.payload {
                        Payload::None => (quote!(Self::#ident), quote!(None)),
                        Payload::One(_) => (quote!(Self::#ident(v0)), quote!(Some(v0 as &dyn #i::DynLower))),
                        Payload::Tuple(tys) => {
                            let vars: Vec<_> = (0..tys.len()).map(|k| format_ident!("v{k}")).collect();
                            (quote!(Self::#ident(#(#vars),*)), quote!(Some(&(#(#vars,)*) as &dyn #i::DynLower)))
                        }
                    };
                    quote!(#pattern => #i::lower_case(cx, ty, <Self as #c::ComponentType>::ABI, #index, #payload, dst))
                });
                quote!(match self { #(#arms,)* })
            }
        };
        quote! {
            #[inline]
            fn lower_to(&self, cx: &mut #i::LowerContext<'_>, ty: #i::InterfaceType, dst: #i::LowerDest<'_>) -> #i::AbiResult<()> {
                #body
            }
        }
    }

    /// The item of `Lift`: lifting from flat values or memory (one body for both).
    fn lift(&self, c: &TokenStream) -> TokenStream {
        let i = quote!(#c::__internal);
        let body = match self {
            Shape::Record(fields) => {
                let idents = fields.iter().map(|f| &f.ident);
                quote! {
                    let mut fields = #i::RecordReader::new(cx, ty, src)?;
                    Ok(Self { #(#idents: fields.field()?,)* })
                }
            }
            Shape::Flags(fields) => {
                let count = fields.len();
                let set = fields.iter().enumerate().map(|(n, f)| {
                    let ident = &f.ident;
                    let bit = 1u32 << n;
                    quote!(#ident: bits & #bit != 0)
                });
                quote! {
                    let bits = #i::lift_flags(cx, <Self as #c::ComponentType>::ABI, #count, src)?;
                    Ok(Self { #(#set,)* })
                }
            }
            Shape::Variant(cases) | Shape::Enum(cases) => {
                let arms = cases.iter().enumerate().map(|(n, case)| {
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
                });
                quote! {
                    #i::lift_case(cx, ty, <Self as #c::ComponentType>::ABI, src, |index, case| Ok(match index {
                        #(#arms,)*
                        _ => return Err(case.bad_case()),
                    }))
                }
            }
        };
        quote! {
            #[inline]
            fn lift_from(cx: &#i::LiftContext<'_>, ty: #i::InterfaceType, src: #i::LiftSource<'_, '_>) -> #i::AbiResult<Self> {
                #body
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
