//! `bindgen!`: parses Wasmtime 48's syntax into [`tenon_wit::Opts`] and expands to what `tenon-wit`
//! generates, plus `include_str!` of every WIT file read so the build re-runs when one changes.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Token, braced, bracketed};

/// Options of Wasmtime's `bindgen!` that Tenon does not implement yet; named in the error.
const NOT_YET: &[&str] = &["named_imports", "include_component_type"];

/// The parsed invocation, and how to hand out the code.
struct Parsed {
    opts: tenon_wit::Opts,
    include_from_file: bool,
    /// `stringify: true`: the macro stands for the generated code as a string literal.
    stringify: bool,
}

/// Reads `imports: { default: FLAGS, "name": FLAGS, ... }` (or `exports`) into `config`; flags Tenon does
/// not have yet are errors.
fn function_config(input: ParseStream, config: &mut tenon_wit::FunctionConfig, imports: bool) -> syn::Result<()> {
    let content;
    braced!(content in input);
    while !content.is_empty() {
        let name = if content.peek(Token![default]) {
            content.parse::<Token![default]>()?;
            None
        } else {
            Some(content.parse::<LitStr>()?.value())
        };
        content.parse::<Token![:]>()?;
        let mut flags = tenon_wit::FunctionFlags::default();
        loop {
            let flag: syn::Ident = content.call(syn::ext::IdentExt::parse_any)?;
            match flag.to_string().as_str() {
                "trappable" if imports => flags.trappable = true,
                "tracing" => flags.tracing = true,
                "verbose_tracing" => flags.verbose_tracing = true,
                "exact" => flags.exact = true,
                "async" => return Err(syn::Error::new(flag.span(), "async host functions are not supported yet")),
                "store" if imports => flags.store = true,
                other => {
                    let which = if imports { "imports" } else { "exports" };
                    return Err(syn::Error::new(flag.span(), format!("the `{which}` flag `{other}` is not supported by Tenon")));
                }
            }
            if content.parse::<Option<Token![|]>>()?.is_none() {
                break;
            }
        }
        match name {
            None => config.default = flags,
            Some(name) => config.rules.push((name, flags)),
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(())
}

/// Reads `Owning`, or `Borrowing { duplicate_if_necessary: BOOL }` (the braces may be left out).
fn ownership(input: ParseStream) -> syn::Result<tenon_wit::Ownership> {
    let mode: syn::Ident = input.parse()?;
    match mode.to_string().as_str() {
        "Owning" => Ok(tenon_wit::Ownership::Owning),
        "Borrowing" => {
            let mut duplicate_if_necessary = false;
            if input.peek(syn::token::Brace) {
                let content;
                braced!(content in input);
                while !content.is_empty() {
                    let key: syn::Ident = content.parse()?;
                    content.parse::<Token![:]>()?;
                    match key.to_string().as_str() {
                        "duplicate_if_necessary" => duplicate_if_necessary = content.parse::<syn::LitBool>()?.value,
                        other => return Err(syn::Error::new(key.span(), format!("unknown `Borrowing` field `{other}`"))),
                    }
                    if content.parse::<Option<Token![,]>>()?.is_none() {
                        break;
                    }
                }
            }
            Ok(tenon_wit::Ownership::Borrowing { duplicate_if_necessary })
        }
        other => Err(syn::Error::new(mode.span(), format!("unknown ownership `{other}`: `Owning` or `Borrowing {{ duplicate_if_necessary: bool }}`"))),
    }
}

impl Parse for Parsed {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut opts = tenon_wit::Opts::default();
        let mut include_from_file = false;
        let mut stringify = false;
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
                    "trappable_error_type" => {
                        let map;
                        braced!(map in content);
                        while !map.is_empty() {
                            let key: LitStr = map.parse()?;
                            map.parse::<Token![=>]>()?;
                            let path: syn::Path = map.parse()?;
                            opts.trappable_error_types.push((key.value(), quote!(#path).to_string()));
                            if map.is_empty() {
                                break;
                            }
                            map.parse::<Token![,]>()?;
                        }
                    }
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
                    "interfaces" => opts.interfaces = Some(content.parse::<LitStr>()?.value()),
                    "trappable_imports" => opts.imports.default.trappable = content.parse::<syn::LitBool>()?.value,
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
                    "imports" => function_config(&content, &mut opts.imports, true)?,
                    "exports" => function_config(&content, &mut opts.exports, false)?,
                    "skip_mut_forwarding_impls" => opts.skip_mut_forwarding_impls = content.parse::<syn::LitBool>()?.value,
                    "require_store_data_send" => opts.require_store_data_send = content.parse::<syn::LitBool>()?.value,
                    "include_generated_code_from_file" => include_from_file = content.parse::<syn::LitBool>()?.value,
                    // Tenon's errors are `anyhow::Error` whatever this says; `debug` changes nothing.
                    "anyhow" | "debug" => {
                        content.parse::<syn::LitBool>()?;
                    }
                    "stringify" => stringify = content.parse::<syn::LitBool>()?.value,
                    "ownership" => opts.ownership = ownership(&content)?,
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
        let root = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
        // `wit` by default, unless the WIT is inline (then `path` names the packages it uses, if any).
        if paths.is_empty() && opts.inline.is_none() && opts.interfaces.is_none() {
            paths.push("wit".into());
        }
        opts.paths = paths.iter().map(|p| if Path::new(p).is_absolute() { PathBuf::from(p) } else { root.join(p) }).collect();
        Ok(Parsed { opts, include_from_file, stringify })
    }
}

/// The expansion of `bindgen!`, or its error as a compile error.
pub fn expand(input: TokenStream) -> TokenStream {
    let Parsed { opts, include_from_file, stringify } = match syn::parse2::<Parsed>(input) {
        Ok(input) => input,
        Err(e) => return e.into_compile_error(),
    };
    match tenon_wit::generate(&opts) {
        Ok(generated) if stringify => {
            let code = generated.tokens.to_string();
            quote!(#code)
        }
        Ok(generated) => {
            let files = generated.files.iter().filter_map(|f| f.to_str().map(str::to_string));
            let tokens = match include_from_file {
                // Spans in the file are real, so lints would see the world's unused items.
                true => match write_code(&opts, &generated.tokens) {
                    Ok(path) => tenon_wit::quiet(quote!(include!(#path);)),
                    Err(e) => return syn::Error::new(Span::call_site(), e).into_compile_error(),
                },
                false => generated.tokens,
            };
            quote! {
                #tokens
                const _: () = { #(const _: &str = include_str!(#files);)* };
            }
        }
        Err(e) => syn::Error::new(Span::call_site(), format!("{e:#}")).into_compile_error(),
    }
}

/// Writes generated code to a file in `OUT_DIR` (or the temporary directory), named after the world and a
/// hash of the code; its path.
fn write_code(opts: &tenon_wit::Opts, code: &TokenStream) -> Result<String, String> {
    use std::hash::{Hash, Hasher};
    let text = code.to_string();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let dir = std::env::var_os("OUT_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let world = opts.world.as_deref().unwrap_or("world").replace([':', '/', '@', '.'], "-");
    let path = dir.join(format!("tenon-bindgen-{world}-{:016x}.rs", hasher.finish()));
    std::fs::write(&path, text).map_err(|e| format!("failed to write `{}`: {e}", path.display()))?;
    path.to_str().map(str::to_string).ok_or_else(|| format!("`{}` is not UTF-8", path.display()))
}
