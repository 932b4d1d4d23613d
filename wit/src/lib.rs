//! `tenon-wit`: reads WIT with `wit-parser`, selects a world, and writes the Rust that `tenon::component`
//! needs to host it — types with `#[derive(ComponentType, Lift, Lower)]`, a `Host` trait and an
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

mod generate;
mod names;

use anyhow::{Context, Result, bail};
use proc_macro2::TokenStream;
use std::path::PathBuf;
use wit_parser::{PackageId, Resolve};

/// What to generate bindings for, and how (the options of `bindgen!`, with Wasmtime 48's names).
#[derive(Clone, Debug)]
pub struct Opts {
    /// WIT files or directories (a directory may hold a `deps/` directory of dependencies).
    pub paths: Vec<PathBuf>,
    /// WIT text, used besides (or instead of) `paths`.
    pub inline: Option<String>,
    /// The world to generate, when the packages hold several (`name` or `ns:pkg/name`).
    pub world: Option<String>,
    /// Whether every imported function's trait method returns `tenon::Result`, so it can trap
    /// (`imports: { default: trappable }`).
    pub trappable_imports: bool,
    /// Imported functions whose trait method returns `tenon::Result` (`imports: { "ns:pkg/iface#f":
    /// trappable }`, or a root function's name); a name that matches no import is an error.
    pub trappable: Vec<String>,
    /// Whether to leave out the `impl Host for &mut T` forwarding impls.
    pub skip_mut_forwarding_impls: bool,
    /// Whether `add_to_linker` requires the store's data to be `Send`.
    pub require_store_data_send: bool,
    /// More derives for the generated records, variants and enums (`serde::Serialize`, say).
    pub additional_derives: Vec<String>,
    /// The path of the `tenon` crate in generated code (`::tenon` unless renamed).
    pub krate: String,
    /// Imported interfaces, packages or types mapped to existing Rust (`("ns:pkg/iface", "crate::iface")`):
    /// nothing is generated for them, and generated code uses the paths given (absolute ones, such as
    /// `crate::...`). An entry that names nothing is an error.
    pub with: Vec<(String, String)>,
    /// Error types mapped to the host's own error types (`("wasi:io/streams/stream-error", "crate::MyError")`):
    /// imported functions returning `result<T, E>` return `Result<T, MyError>`, and the interface defining
    /// `E` gets `Host::convert_<e>` to turn a `MyError` back into an `E` (or trap).
    pub trappable_error_types: Vec<(String, String)>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts { paths: Vec::new(), inline: None, world: None, trappable_imports: false, additional_derives: Vec::new(), krate: "::tenon".into(), with: Vec::new(), trappable_error_types: Vec::new(), trappable: Vec::new(), skip_mut_forwarding_impls: false, require_store_data_send: false }
    }
}

/// Generated bindings.
pub struct Generated {
    /// The Rust code.
    pub tokens: TokenStream,
    /// The WIT files read, so a macro can make the build re-run when they change.
    pub files: Vec<PathBuf>,
}

/// Reads the WIT `opts` names and generates the bindings of its world.
pub fn generate(opts: &Opts) -> Result<Generated> {
    let mut resolve = Resolve::default();
    let mut packages: Vec<PackageId> = Vec::new();
    let mut files = Vec::new();
    for path in &opts.paths {
        let (package, sources) = resolve.push_path(path).with_context(|| format!("failed to read WIT from `{}`", path.display()))?;
        packages.push(package);
        files.extend(sources.paths().map(PathBuf::from));
    }
    if let Some(text) = &opts.inline {
        packages.push(resolve.push_str("inline.wit", text).context("failed to parse the inline WIT")?);
    }
    if packages.is_empty() {
        bail!("no WIT given: name files or directories with `path`, or give WIT text with `inline`");
    }
    let world = resolve.select_world(&packages, opts.world.as_deref())?;
    let tokens = generate::Generator::new(&resolve, world, opts)?.generate()?;
    Ok(Generated { tokens, files })
}

#[cfg(test)]
mod tests {
    use super::{Opts, generate};

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
        o.with = vec![("a:b".into(), "crate::x".into())];
        assert!(generate(&o).unwrap().tokens.to_string().contains("crate :: x :: i :: add_to_linker"));
    }

    #[test]
    fn what_is_not_supported_yet_is_named() {
        let async_fn = opts("package a:b; world w { export f: async func(); }");
        assert!(error(&async_fn).contains("`f` is an async function: async host functions are not supported yet"));
        let resource = opts("package a:b; interface i { resource r; } world w { import i; }");
        assert!(generate(&resource).unwrap().tokens.to_string().contains("trait HostR"));
        let exported = opts("package a:b; interface i { resource r { m: func(); } } world w { export i; }");
        assert!(error(&exported).contains("exported resources are not supported by the bindings yet"));
        assert!(error(&Opts::default()).contains("no WIT given"));
    }
}
