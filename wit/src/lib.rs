//! `tenon-wit`: reads WIT with `wit-parser`, selects a world, and writes the Rust that `tenon::component`
//! needs to host it — types with their `ComponentType`, `Lift` and `Lower` impls (written by
//! [`component_impls`], as the derives write them), a `Host` trait and an
//! `add_to_linker` per imported interface, and for exports a `Guest` per interface with a `call_*` method per
//! function, plus the world's `<World>`, `<World>Pre` and `<World>Indices`. `bindgen!` and `tenon bindgen`
//! both call [`generate`], so the two give the same code.
//!
//! ```no_run
//! let mut opts = tenon_wit::Opts::default();
//! opts.inline = Some("package a:b; world w { import log: func(msg: string); export run: func(); }".into());
//! let generated = tenon_wit::generate(&opts).unwrap();
//! println!("{}", generated.tokens);
//! ```

pub mod component_impls;
mod function_config;
mod generate;
mod lookup;
mod names;
mod wit_cache;

pub use function_config::{FunctionConfig, FunctionFlags};

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use std::path::PathBuf;
use wit_parser::{Resolve, UnresolvedPackageGroup, WorldId};

/// What to generate bindings for, and how (the options of `bindgen!`, with Wasmtime 48's names).
#[derive(Clone, Debug)]
pub struct Opts {
    /// WIT files or directories (a directory may hold a `deps/` directory of dependencies).
    pub paths: Vec<PathBuf>,
    /// WIT text holding the world; `paths` then give the packages it uses.
    pub inline: Option<String>,
    /// The world to generate, when the packages hold several (`name` or `ns:pkg/name`).
    pub world: Option<String>,
    /// World items to generate instead of a world (`"import wasi:io/streams@0.2.0; export a:b/c;"`), as
    /// Wasmtime's `interfaces` option: only their interfaces' modules come out, with no world struct.
    pub interfaces: Option<String>,
    /// Flags of imported functions (`imports: { default: trappable, "ns:pkg/iface.f": tracing }`).
    pub imports: FunctionConfig,
    /// Flags of exported functions (`exports: { default: tracing }`).
    pub exports: FunctionConfig,
    /// Whether types that only pass arguments into the guest borrow their strings and lists (`ownership`).
    pub ownership: Ownership,
    /// Whether to add `HostStub`, a type implementing every host trait with `todo!()` bodies: a skeleton
    /// to copy into the host and fill in (`tenon bindgen --stub`).
    pub stub: bool,
    /// Whether to leave out the `impl Host for &mut T` forwarding impls.
    pub skip_mut_forwarding_impls: bool,
    /// Whether `add_to_linker` requires the store's data to be `Send`.
    pub require_store_data_send: bool,
    /// More derives for the generated records, variants and enums (`serde::Serialize`, say).
    pub additional_derives: Vec<String>,
    /// The path of the `tenon` crate in generated code (`::tenon` unless renamed).
    pub krate: String,
    /// Imported interfaces, packages, namespaces or types mapped to existing Rust
    /// (`("ns:pkg/iface", "crate::iface")`, `("ns:pkg", ..)`, `("ns", ..)`, `("ns:pkg/iface.type", ..)`, each
    /// name with or without the package's version): nothing is generated for them, and generated code uses
    /// the paths given (absolute ones, such as `crate::...`). An entry that names nothing is an error.
    pub with: Vec<(String, String)>,
    /// Error types mapped to the host's own error types (`("wasi:io/streams.stream-error", "crate::MyError")`):
    /// imported functions returning `result<T, E>` return `Result<T, MyError>`, and the interface defining
    /// `E` gets `Host::convert_<e>` to turn a `MyError` back into an `E` (or trap).
    pub trappable_error_types: Vec<(String, String)>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts { paths: Vec::new(), inline: None, world: None, interfaces: None, imports: FunctionConfig::default(), exports: FunctionConfig::default(), additional_derives: Vec::new(), krate: "::tenon".into(), with: Vec::new(), trappable_error_types: Vec::new(), skip_mut_forwarding_impls: false, require_store_data_send: false, stub: false, ownership: Ownership::Owning }
    }
}

/// Generated bindings.
pub struct Generated {
    /// The Rust code.
    pub tokens: TokenStream,
    /// The WIT files read, so a macro can make the build re-run when they change.
    pub files: Vec<PathBuf>,
}

/// Wasmtime 48's `ownership` option: how generated types hold strings and lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ownership {
    /// Every type owns its data (`String`, `Vec<T>`); calls into the guest borrow it (`&str`, `&Record`).
    #[default]
    Owning,
    /// A type that only passes arguments into the guest is defined borrowing its strings and lists
    /// (`Foo<'a> { name: &'a str }`); one that is also lifted (a result, or a host function's argument) is
    /// defined owning them, or, with `duplicate_if_necessary`, both ways (`FooResult`, `FooParam<'a>`).
    Borrowing {
        /// Whether a type used both ways gets both definitions.
        duplicate_if_necessary: bool,
    },
}

/// The package of the world `Opts::interfaces` makes.
const SYNTHESIZED_PACKAGE: &str = "tenon:bindgen-synthesized";

/// Reads the WIT `opts` names and generates the bindings of its world.
pub fn generate(opts: &Opts) -> Result<Generated> {
    // Every `@unstable` item is read (as Wasmtime does): `LinkOptions` enables them at link time.
    let wit_cache::Read { mut resolve, mut packages, files } = wit_cache::read(&opts.paths)?;
    // The world comes from the inline WIT (or `interfaces`) when there is some: the files are its dependencies.
    let mut world_name = opts.world.clone();
    if opts.interfaces.is_some() && (opts.inline.is_some() || opts.world.is_some()) {
        bail!("`interfaces` makes its own world: it cannot be given with `world` or `inline`");
    }
    let inline = match (&opts.inline, &opts.interfaces) {
        (_, Some(items)) => {
            world_name = Some(format!("{SYNTHESIZED_PACKAGE}/interfaces"));
            Some(("interfaces", format!("package {SYNTHESIZED_PACKAGE};\nworld interfaces {{\n{items}\n}}\n")))
        }
        (Some(text), None) => Some(("inline WIT", text.clone())),
        (None, None) => None,
    };
    if let Some((what, text)) = inline {
        // wit-parser panics on a package added twice: refuse that first (a parse error is reported below).
        if let Ok(group) = UnresolvedPackageGroup::parse(format!("{what}.wit"), &text)
            && resolve.package_names.contains_key(&group.main.name)
        {
            bail!("the {what} declares package `{}`, which the WIT files already hold", group.main.name);
        }
        packages = vec![resolve.push_str(format!("{what}.wit"), &text).with_context(|| format!("failed to parse the {what}"))?];
    }
    if packages.is_empty() {
        bail!("no WIT given: name files or directories with `path`, or give WIT text with `inline`");
    }
    let world = resolve.select_world(&packages, world_name.as_deref())?;
    let tokens = generate_world(resolve, world, opts)?;
    Ok(Generated { tokens, files })
}

/// The bindings of `world` in `resolve`, which the caller has read (from a component's own type, say);
/// `opts`' `paths`, `inline`, `world` and `interfaces` play no part.
pub fn generate_world(mut resolve: Resolve, world: WorldId, opts: &Opts) -> Result<TokenStream> {
    // An interface the world both imports and exports gets two sets of types, one per side, as in Wasmtime.
    resolve.generate_nominal_type_ids(world);
    generate::Generator::new(&resolve, world, opts)?.generate()
}

/// Generated code `body` in a module whose unused items raise no lints, its items re-exported: how
/// generated code stays quiet where its spans are real (a file `tenon bindgen` writes, or one
/// `include_generated_code_from_file` includes), as it is in a macro's expansion.
pub fn quiet(body: TokenStream) -> TokenStream {
    quote::quote! {
        #[allow(dead_code, unused_imports, clippy::all)]
        mod __tenon_bindgen { #body }
        #[allow(unused_imports)]
        pub use __tenon_bindgen::*;
    }
}

#[cfg(test)]
mod tests {
    use super::{FunctionConfig, FunctionFlags, Opts, generate};

    fn opts(wit: &str) -> Opts {
        Opts { inline: Some(wit.into()), ..Opts::default() }
    }

    fn error(opts: &Opts) -> String {
        match generate(opts) {
            Ok(_) => panic!("expected an error"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn with_entries_that_match_nothing_are_errors() {
        let mut o = opts("package a:b; interface i { f: func(); } world w { import i; }");
        o.with = vec![("a:b/nope".into(), "crate::x".into())];
        assert_eq!(error(&o), "`with`: `a:b/nope` names no interface, package or type this world imports");
        o.with = vec![("a:b/i".into(), "crate::x".into())];
        assert!(generate(&o).is_ok());
        // Paths are named by aliases at the root (so that they are relative to the macro's module), and the
        // interface's module re-exports what they name.
        o.with = vec![("a:b".into(), "crate::x".into())];
        let tokens = generate(&o).unwrap().tokens.to_string();
        assert!(tokens.contains("pub use crate :: x :: i as __with_name0"), "{tokens}");
        assert!(tokens.contains("__with_name0 :: add_to_linker"), "{tokens}");
        assert!(tokens.contains("pub mod i { # [allow (unused_imports)] pub use super :: super :: super :: __with_name0 :: * ; }"), "{tokens}");
        o.with = vec![("a".into(), "super::x".into())];
        assert!(generate(&o).unwrap().tokens.to_string().contains("pub use super :: x :: b :: i as __with_name0"));
    }

    #[test]
    fn with_maps_a_type_by_its_wasmtime_name() {
        let mut o = opts("package a:b@1.0.0; interface i { record t { x: u8 } f: func(v: t); } world w { import i; }");
        for name in ["a:b/i.t", "a:b/i@1.0.0.t"] {
            o.with = vec![(name.into(), "crate::T".into())];
            let tokens = generate(&o).unwrap().tokens.to_string();
            assert!(tokens.contains("pub use crate :: T as __with_name0"), "{name}: {tokens}");
            assert!(tokens.contains("pub use super :: super :: super :: __with_name0 as T"), "{name}: {tokens}");
            assert!(tokens.contains("fn f (& mut self , v : super :: super :: super :: __with_name0)"), "{name}: {tokens}");
            assert!(!tokens.contains("struct T"), "{name}");
        }
        o.with = vec![("a:b/i/t".into(), "crate::T".into())];
        assert!(error(&o).contains("`a:b/i/t` names no interface"));
    }

    #[test]
    fn function_entries_use_wasmtime_names_and_replace_the_default() {
        let trappable = FunctionFlags { trappable: true, ..FunctionFlags::default() };
        let exact = FunctionFlags { exact: true, ..trappable };
        let run = |default: FunctionFlags, rules: &[(&str, FunctionFlags)]| {
            let mut o = opts("package a:b@1.0.0; interface i { f: func(); g: func(); } world w { import i; import r: func(); }");
            o.imports = FunctionConfig { default, rules: rules.iter().map(|(n, f)| (n.to_string(), *f)).collect() };
            generate(&o).map(|g| g.tokens.to_string()).map_err(|e| format!("{e:#}"))
        };
        let traps = |tokens: &str, f: &str| tokens.contains(&format!("fn {f} (& mut self ,) -> :: tenon :: Result < () >"));
        let none = FunctionFlags::default();
        for name in ["a:b/i.f", "a:b/i@1.0.0.f"] {
            let tokens = run(none, &[(name, exact)]).unwrap();
            assert!(traps(&tokens, "f") && !traps(&tokens, "g") && !traps(&tokens, "r"), "{name}");
        }
        for name in ["a:b/i", "a:b/i@1.0.0", "a:b", "a:b@1.0.0", "a"] {
            let tokens = run(none, &[(name, trappable)]).unwrap();
            assert!(traps(&tokens, "f") && traps(&tokens, "g") && !traps(&tokens, "r"), "{name}");
            assert!(run(none, &[(name, exact)]).unwrap_err().contains(&format!("`imports`: `{name}` names no imported function")));
        }
        assert!(traps(&run(none, &[("r", trappable)]).unwrap(), "r"));
        let tokens = run(trappable, &[("a:b/i.f", FunctionFlags { tracing: true, ..none })]).unwrap();
        assert!(!traps(&tokens, "f") && traps(&tokens, "g") && traps(&tokens, "r"));
        assert!(tokens.contains("\"wit-bindgen import\" , module = \"a:b/i@1.0.0\" , function = \"f\""));
        let error = run(none, &[("a:b/i#f", trappable)]).unwrap_err();
        assert!(error.contains("`imports`: `a:b/i#f` names no imported function (write `ns:pkg/iface.function`"), "{error}");
    }

    #[test]
    fn interfaces_generate_their_modules_alone() {
        let dir = std::env::temp_dir().join(format!("tenon-wit-interfaces-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.wit"), "package a:b; interface i { f: func(); } world w { import i; export g: func(); }").unwrap();
        let o = Opts { paths: vec![dir.clone()], interfaces: Some("import a:b/i;".into()), ..Opts::default() };
        let tokens = generate(&o).unwrap().tokens.to_string();
        assert!(tokens.contains("pub mod i") && tokens.contains("fn add_to_linker"), "{tokens}");
        assert!(!tokens.contains("struct W") && !tokens.contains("struct Interfaces") && !tokens.contains("call_g"), "{tokens}");
        let both = Opts { inline: Some("package a:c; world w {}".into()), ..o.clone() };
        assert!(error(&both).contains("`interfaces` makes its own world: it cannot be given with `world` or `inline`"));
        let clash = Opts { inline: Some("package a:b; world v {}".into()), interfaces: None, ..o };
        assert_eq!(error(&clash), "the inline WIT declares package `a:b`, which the WIT files already hold");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// As Wasmtime: calls into the guest borrow what holds strings or lists, and take the rest by value;
    /// types holding neither (nor handles) are `Copy`.
    #[test]
    fn export_parameters_borrow_what_holds_lists() {
        let o = opts("package a:b; interface i { record p { x: u32 } record n { s: string } f: func(a: p, b: n, c: list<p>, d: option<n>, e: string, g: tuple<p, n>); } world w { export i; }");
        let tokens = generate(&o).unwrap().tokens.to_string();
        assert!(
            tokens.contains("a : P , b : & N , c : & [P] , d : Option < & N > , e : & str , g : (P , & N ,)"),
            "{tokens}"
        );
        assert!(tokens.contains("# [derive (Copy , Clone ,)] pub struct P"), "{tokens}");
        assert!(tokens.contains("# [derive (Clone ,)] pub struct N"), "{tokens}");
        assert!(tokens.contains("impl core :: fmt :: Debug for N"), "{tokens}");
    }

    #[test]
    fn what_is_not_supported_yet_is_named() {
        let async_fn = opts("package a:b; world w { export f: async func(); }");
        assert!(error(&async_fn).contains("`f` is an async function: async host functions are not supported yet"));
        let resource = opts("package a:b; interface i { resource r; } world w { import i; }");
        assert!(generate(&resource).unwrap().tokens.to_string().contains("trait HostR"));
        let exported = opts("package a:b; interface i { resource r { m: func(); } } world w { export i; }");
        let tokens = generate(&exported).unwrap().tokens.to_string();
        assert!(tokens.contains("pub type R = :: tenon :: component :: ResourceAny"), "{tokens}");
        assert!(tokens.contains("pub struct GuestR") && tokens.contains("fn call_m"), "{tokens}");
        assert!(error(&Opts::default()).contains("no WIT given"));
        let drop_method = opts("package a:b; interface i { resource r { %drop: func(); } } world w { import i; }");
        assert!(error(&drop_method).contains("`[method]r.drop`: a method or static named `drop` would clash with `HostR::drop`"));
    }
}
