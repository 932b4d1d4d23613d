//! `flags!`: bit-set types for WIT `flags`, in Wasmtime's syntax (`Name { #[component(name = "..")] const
//! FLAG; ... }`, several types per invocation).

use crate::names::{ComponentAttrs, kebab};
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Token, braced};

/// One flags type.
struct FlagsType {
    attrs: Vec<Attribute>,
    name: syn::Ident,
    flags: Vec<Flag>,
}

/// One flag: its Rust constant and its component name.
struct Flag {
    ident: syn::Ident,
    name: String,
}

/// Every type of one invocation.
struct Input(Vec<FlagsType>);

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut types = Vec::new();
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            let name: syn::Ident = input.parse()?;
            let content;
            braced!(content in input);
            let mut flags = Vec::new();
            while !content.is_empty() {
                let attrs = content.call(Attribute::parse_outer)?;
                content.parse::<Token![const]>()?;
                let ident: syn::Ident = content.parse()?;
                content.parse::<Token![;]>()?;
                let name = ComponentAttrs::parse(&attrs)?.name.map_or_else(|| kebab(&ident), |n| n.value());
                flags.push(Flag { ident, name });
            }
            if flags.len() > 32 {
                return Err(syn::Error::new(name.span(), "flags have at most 32 members"));
            }
            types.push(FlagsType { attrs, name, flags });
        }
        Ok(Input(types))
    }
}

/// The expansion of `flags!`, or its error as a compile error.
pub fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Input>(input) {
        Ok(Input(types)) => types.iter().map(expand_one).collect(),
        Err(e) => e.into_compile_error(),
    }
}

fn expand_one(ty: &FlagsType) -> TokenStream {
    let component_attrs = ComponentAttrs::parse(&ty.attrs).unwrap_or_default();
    let c = component_attrs.component_path();
    let i = quote!(#c::__internal);
    let other_attrs = ty.attrs.iter().filter(|a| !a.path().is_ident("component"));
    let name = &ty.name;
    let rust_name = name.to_string();
    let count = ty.flags.len();
    let all: u32 = if count == 32 { u32::MAX } else { (1u32 << count) - 1 };
    let consts = ty.flags.iter().enumerate().map(|(n, flag)| {
        let (ident, bit) = (&flag.ident, 1u32 << n);
        let doc = format!("The flag `{}`.", flag.name);
        quote!(#[doc = #doc] pub const #ident: Self = Self { bits: #bit };)
    });
    let names = ty.flags.iter().map(|f| &f.name);
    let rust_names = ty.flags.iter().map(|f| f.ident.to_string());
    let doc = format!("The WIT flags `{rust_name}`: a set of up to {count} flags.");
    quote! {
        #(#other_attrs)*
        #[doc = #doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct #name { bits: u32 }

        impl #name {
            #(#consts)*

            /// No flag set.
            #[inline] pub const fn empty() -> Self { Self { bits: 0 } }
            /// Every flag set.
            #[inline] pub const fn all() -> Self { Self { bits: #all } }
            /// Whether every flag of `other` is set in `self`.
            #[inline] pub const fn contains(&self, other: Self) -> bool { self.bits & other.bits == other.bits }
            /// Whether `self` and `other` have a flag in common.
            #[inline] pub const fn intersects(&self, other: Self) -> bool { self.bits & other.bits != 0 }
            /// Whether no flag is set.
            #[inline] pub const fn is_empty(&self) -> bool { self.bits == 0 }
        }

        impl ::core::ops::BitOr for #name { type Output = Self; #[inline] fn bitor(self, rhs: Self) -> Self { Self { bits: self.bits | rhs.bits } } }
        impl ::core::ops::BitOrAssign for #name { #[inline] fn bitor_assign(&mut self, rhs: Self) { self.bits |= rhs.bits; } }
        impl ::core::ops::BitAnd for #name { type Output = Self; #[inline] fn bitand(self, rhs: Self) -> Self { Self { bits: self.bits & rhs.bits } } }
        impl ::core::ops::BitAndAssign for #name { #[inline] fn bitand_assign(&mut self, rhs: Self) { self.bits &= rhs.bits; } }
        impl ::core::ops::BitXor for #name { type Output = Self; #[inline] fn bitxor(self, rhs: Self) -> Self { Self { bits: self.bits ^ rhs.bits } } }
        impl ::core::ops::BitXorAssign for #name { #[inline] fn bitxor_assign(&mut self, rhs: Self) { self.bits ^= rhs.bits; } }
        impl ::core::ops::Not for #name { type Output = Self; #[inline] fn not(self) -> Self { Self { bits: !self.bits & #all } } }

        impl ::core::fmt::Debug for #name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #i::format_flags(f, #rust_name, self.bits, &[#(#rust_names),*])
            }
        }

        impl #c::ComponentType for #name {
            const ABI: #i::CanonicalAbiInfo = #i::flags_abi(#count);
            #[inline]
            fn typecheck(ty: #i::InterfaceType, types: &#i::ComponentTypes) -> #i::Result<()> {
                #i::typecheck_flags(ty, types, #rust_name, &[#(#names),*])
            }
        }

        impl #c::Lower for #name {
            #[inline]
            fn lower_to(&self, cx: &mut #i::LowerContext<'_>, _ty: #i::InterfaceType, dst: #i::LowerDest<'_>) -> #i::AbiResult<()> {
                #i::lower_flags(cx, <Self as #c::ComponentType>::ABI, self.bits, dst)
            }
        }

        impl #c::Lift for #name {
            #[inline]
            fn lift_from(cx: &#i::LiftContext<'_>, _ty: #i::InterfaceType, src: #i::LiftSource<'_, '_>) -> #i::AbiResult<Self> {
                Ok(Self { bits: #i::lift_flags(cx, <Self as #c::ComponentType>::ABI, #count, src)? })
            }
        }
    }
}
