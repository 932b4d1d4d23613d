//! `bindgen!`: parses Wasmtime 48's syntax into [`tenon_wit::Opts`] and expands to what `tenon-wit`
//! generates, plus `include_str!` of every WIT file read so the build re-runs when one changes.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Token, braced, bracketed};

/// The parsed invocation.
struct Input(tenon_wit::Opts);

/// Options of Wasmtime's `bindgen!` that Tenon does not implement yet; named in the error.
const NOT_YET: &[&str] =
    &["trappable_error_type", "ownership", "imports", "exports", "require_store_data_send", "include_generated_code_from_file", "anyhow", "stringify"];

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut opts = tenon_wit::Opts::default();
        let mut paths = Vec::new();
        if input.is_empty() {
        } else if input.peek(LitStr) {
            // `"world"` or `"world" in "path"`.
            opts.world = Some(input.parse::<LitStr>()?.value());
            if input.parse::<Option<Token![in]>>()?.is_some() {
                paths.push(input.parse::<LitStr>()?.value());
            }
        } else {
            let content;
            braced!(content in input);
            while !content.is_empty() {
                let key: syn::Ident = content.call(syn::ext::IdentExt::parse_any)?;
                content.parse::<Token![:]>()?;
                match key.to_string().as_str() {
                    "path" => {
                        if content.peek(syn::token::Bracket) {
                            let list;
                            bracketed!(list in content);
                            let items: Punctuated<LitStr, Token![,]> = Punctuated::parse_terminated(&list)?;
                            paths.extend(items.iter().map(LitStr::value));
                        } else {
                            paths.push(content.parse::<LitStr>()?.value());
                        }
                    }
                    "inline" => opts.inline = Some(content.parse::<LitStr>()?.value()),
                    "with" => {
                        let map;
                        braced!(map in content);
                        while !map.is_empty() {
                            let key: LitStr = map.parse()?;
                            map.parse::<Token![:]>()?;
                            let path: syn::Path = map.parse()?;
                            opts.with.push((key.value(), quote!(#path).to_string()));
                            if map.is_empty() {
                                break;
                            }
                            map.parse::<Token![,]>()?;
                        }
                    }
                    "world" => opts.world = Some(content.parse::<LitStr>()?.value()),
                    "trappable_imports" => opts.trappable_imports = content.parse::<syn::LitBool>()?.value,
                    "additional_derives" => {
                        let list;
                        bracketed!(list in content);
                        let items: Punctuated<syn::Path, Token![,]> = Punctuated::parse_terminated(&list)?;
                        opts.additional_derives = items.iter().map(|p| quote!(#p).to_string()).collect();
                    }
                    "tenon_crate" | "wasmtime_crate" => {
                        let path: syn::Path = content.parse()?;
                        opts.krate = quote!(#path).to_string();
                    }
                    "async" => {
                        let on = content.parse::<syn::LitBool>()?;
                        if on.value {
                            return Err(syn::Error::new(on.span(), "async host functions are not supported yet: use `async: false`"));
                        }
                    }
                    other if NOT_YET.contains(&other) => {
                        return Err(syn::Error::new(key.span(), format!("the `bindgen!` option `{other}` is not supported by Tenon yet")));
                    }
                    other => return Err(syn::Error::new(key.span(), format!("unknown `bindgen!` option `{other}`"))),
                }
                if content.is_empty() {
                    break;
                }
                content.parse::<Token![,]>()?;
            }
        }
        if paths.is_empty() && opts.inline.is_none() {
            paths.push("wit".into());
        }
        let root = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
        opts.paths = paths.iter().map(|p| if Path::new(p).is_absolute() { PathBuf::from(p) } else { root.join(p) }).collect();
        Ok(Input(opts))
    }
}

/// The expansion of `bindgen!`, or its error as a compile error.
pub fn expand(input: TokenStream) -> TokenStream {
    let Input(opts) = match syn::parse2::<Input>(input) {
        Ok(input) => input,
        Err(e) => return e.into_compile_error(),
    };
    match tenon_wit::generate(&opts) {
        Ok(generated) => {
            let files = generated.files.iter().filter_map(|f| f.to_str().map(str::to_string));
            let tokens = generated.tokens;
            quote! {
                #tokens
                const _: () = { #(const _: &str = include_str!(#files);)* };
            }
        }
        Err(e) => syn::Error::new(Span::call_site(), format!("{e:#}")).into_compile_error(),
    }
}
