//! The WIT corpus of `tests/wit/corpus` (every kind of type, Rust keywords as names, the same type names in
//! two interfaces, `use` across interfaces and packages, versioned packages, a world with its own types and
//! root functions) compiled through `bindgen!` with each option, without warnings (`cargo clippy` checks
//! this file too); and its types used.

mod plain {
    ::tenon::component::bindgen!({ path: "wit/corpus" });
}

mod trappable {
    ::tenon::component::bindgen!({ path: "wit/corpus", world: "corpus", trappable_imports: true });
}

mod derives {
    ::tenon::component::bindgen!({ path: ["wit/corpus"], additional_derives: [PartialEq, Eq, Hash, Clone] });
}

mod renamed {
    // `tenon` under another name, as a crate re-exporting it would.
    pub use ::tenon as rt;
    ::tenon::component::bindgen!({ path: "wit/corpus", wasmtime_crate: crate::renamed::rt });
}

mod inline {
    ::tenon::component::bindgen!({
        inline: "
            package a:b;
            world w {
                record r { x: u32 }
                import f: func(r: r) -> r;
                export g: func(r: r, s: string) -> list<r>;
            }
        ",
    });
}

mod interfaces_only {
    // Wasmtime's `interfaces`: the modules of the interfaces named, no world struct.
    ::tenon::component::bindgen!({
        path: "wit/corpus",
        interfaces: "import tenon:corpus/twins@1.2.3; export tenon:other/deep@0.1.0;",
    });
}

mod inline_using_files {
    // Inline WIT holds the world; the files given are packages it uses.
    ::tenon::component::bindgen!({
        path: "wit/corpus",
        inline: "package a:uses; world w { import tenon:other/deep@0.1.0; }",
    });
}

/// `stringify: true`: the generated code as a string.
const STRINGIFIED: &str = ::tenon::component::bindgen!({ path: "wit/corpus", world: "corpus", stringify: true });

#[test]
fn stringify_gives_the_code_as_text() {
    assert!(STRINGIFIED.contains("pub trait Host"), "{STRINGIFIED}");
    assert!(STRINGIFIED.contains("pub struct Corpus"));
}

use plain::tenon::corpus::kinds::{Everything, Keywords, Size, ThirtyTwo};

#[test]
fn generated_types_have_rust_names() {
    let k = Keywords { type_: 1, use_: "x".into(), self_: true, match_: -1, async_thing: Some(2) };
    let e = Everything::Nested(Some(Ok(vec![k.clone()])));
    assert!(matches!(e, Everything::Nested(Some(Ok(ref v))) if v[0].type_ == 1));
    assert_eq!(Size::MediumLarge as u8, 1);
    let all = ThirtyTwo::B0 | ThirtyTwo::B31;
    assert!(all.contains(ThirtyTwo::B31) && !all.contains(ThirtyTwo::B1));
    let _twin = plain::tenon::corpus::twins::Keywords { value: 3 };
    let _wrapped = plain::tenon::other::deep::Wrapped { level: plain::tenon::other::deep::Level::High, tags: vec![] };
    let _root = plain::RootThing { id: 1, what: Everything::Nothing };
    let derived = derives::tenon::corpus::kinds::Keywords { type_: 1, use_: String::new(), self_: false, match_: 0, async_thing: None };
    assert_eq!(derived.clone(), derived);
    let _inline = inline::R { x: 1 };
    let _only: interfaces_only::tenon::corpus::twins::Keywords = interfaces_only::tenon::corpus::twins::Keywords { value: 1 };
    // `deep` is exported, and imported too (`twins` uses its types): as in Wasmtime, each side has its own
    // module and types.
    let _exported: Option<interfaces_only::exports::tenon::other::deep::Guest> = None;
    let _import_side = interfaces_only::tenon::other::deep::Level::High;
    let _export_side = interfaces_only::exports::tenon::other::deep::Level::High;
    let _used = inline_using_files::tenon::other::deep::Level::Low;
}

/// A host for the corpus world's imports, with and without trappable imports.
struct Host;

impl plain::tenon::corpus::twins::Host for Host {
    fn twin(&mut self, _k: plain::tenon::corpus::twins::Keywords, _s: Size, _w: plain::tenon::other::deep::Wrapped, _l: plain::tenon::other::deep::Level) -> Vec<(String, f64)> {
        vec![("twin".into(), 2.0)]
    }
}

impl trappable::tenon::other::deep::Host for Host {
    fn wrap(&mut self, l: trappable::tenon::other::deep::Level) -> tenon::Result<trappable::tenon::other::deep::Wrapped> {
        Ok(trappable::tenon::other::deep::Wrapped { level: l, tags: vec![] })
    }
}

#[test]
fn host_traits_are_implementable() {
    use plain::tenon::corpus::twins::Host as _;
    let mut host = Host;
    assert_eq!(host.twin(plain::tenon::corpus::twins::Keywords { value: 1 }, Size::Small, plain::tenon::other::deep::Wrapped { level: plain::tenon::other::deep::Level::Low, tags: vec![] }, plain::tenon::other::deep::Level::Low).len(), 1);
    let mut linker = tenon::component::Linker::<Host>::new(&tenon::Engine::default());
    plain::tenon::corpus::twins::add_to_linker::<Host, tenon::component::HasSelf<Host>>(&mut linker, |h| h).unwrap();
    trappable::tenon::other::deep::add_to_linker::<Host, tenon::component::HasSelf<Host>>(&mut linker, |h| h).unwrap();
}

/// `with` maps imported interfaces and types to existing Rust: here, to the modules `plain` generated.
mod with_existing {
    ::tenon::component::bindgen!({
        path: "wit/corpus",
        with: {
            "tenon:other/deep@0.1.0": crate::plain::tenon::other::deep,
            "tenon:corpus/kinds.size": crate::plain::tenon::corpus::kinds::Size,
        },
    });
}

#[test]
fn with_maps_to_existing_rust() {
    // The twins' `use` of `deep` and `size` now names `plain`'s types.
    let wrapped: crate::plain::tenon::other::deep::Wrapped = crate::plain::tenon::other::deep::Wrapped { level: crate::plain::tenon::other::deep::Level::Low, tags: vec![] };
    let _alias: with_existing::tenon::corpus::twins::Wrapped = wrapped;
    let _size: with_existing::tenon::corpus::kinds::Keywords = with_existing::tenon::corpus::kinds::Keywords { type_: 0, use_: String::new(), self_: true, match_: 0, async_thing: None };
    let _s: crate::plain::tenon::corpus::kinds::Size = with_existing::tenon::corpus::twins::Size::Small;
}

/// Wasmtime 48's `imports`/`exports` syntax, and the other options Tenon has.
mod options {
    ::tenon::component::bindgen!({
        path: "wit/corpus",
        imports: { "tenon:corpus/twins.twin": trappable | exact, default: exact },
        exports: { default: exact },
        skip_mut_forwarding_impls: true,
        require_store_data_send: true,
        include_generated_code_from_file: true,
        ownership: Owning,
        anyhow: true,
        debug: false,
    });
}

struct OptionsHost;

// Without the forwarding impls, what `HasSelf` hands out (`&mut OptionsHost`) implements the trait itself.
impl options::tenon::corpus::twins::Host for &mut OptionsHost {
    fn twin(
        &mut self,
        _k: options::tenon::corpus::twins::Keywords,
        _s: options::tenon::corpus::kinds::Size,
        _w: options::tenon::other::deep::Wrapped,
        _l: options::tenon::other::deep::Level,
    ) -> tenon::Result<Vec<(String, f64)>> {
        tenon::bail!("a trappable import may fail")
    }
}

#[test]
fn per_function_options_apply() {
    use options::tenon::corpus::twins::Host as _;
    let keywords = options::tenon::corpus::twins::Keywords { value: 1 };
    let wrapped = options::tenon::other::deep::Wrapped { level: options::tenon::other::deep::Level::Low, tags: vec![] };
    let err = (&mut OptionsHost).twin(keywords, options::tenon::corpus::kinds::Size::Small, wrapped, options::tenon::other::deep::Level::Low);
    assert_eq!(err.unwrap_err().to_string(), "a trappable import may fail");
    let mut linker = tenon::component::Linker::<OptionsHost>::new(&tenon::Engine::default());
    options::tenon::corpus::twins::add_to_linker::<OptionsHost, tenon::component::HasSelf<OptionsHost>>(&mut linker, |h| h).unwrap();
}

/// `trappable_error_type`: a function returning `result<_, E>` returns the host's error type, turned back
/// into `E` (or a trap) by the defining interface's `convert_<e>`.
mod trappable_errors {
    ::tenon::component::bindgen!({
        inline: "
            package t:e;
            interface files {
                variant file-error { missing(string), denied }
                open: func(path: string) -> result<u32, file-error>;
                touch: func(path: string) -> result<_, file-error>;
            }
            interface users {
                use files.{file-error};
                home: func(user: string) -> result<string, file-error>;
            }
            world w { import files; import users; }
        ",
        // A path relative to the module the macro is in, as in Wasmtime.
        trappable_error_type: { "t:e/files.file-error" => HostError },
    });

    /// The host's own error type.
    #[derive(Debug)]
    pub enum HostError {
        Wit(t::e::files::FileError),
        Fatal(String),
    }
}

use trappable_errors::HostError;
use trappable_errors::t::e::files::FileError;

struct FileHost;

impl trappable_errors::t::e::files::Host for FileHost {
    fn open(&mut self, path: String) -> Result<u32, HostError> {
        match path.as_str() {
            "ok" => Ok(3),
            "fatal" => Err(HostError::Fatal("disk on fire".into())),
            _ => Err(HostError::Wit(FileError::Missing(path))),
        }
    }
    fn touch(&mut self, _path: String) -> Result<(), HostError> {
        Err(HostError::Wit(FileError::Denied))
    }
    fn convert_file_error(&mut self, error: HostError) -> tenon::Result<FileError> {
        match error {
            HostError::Wit(e) => Ok(e),
            HostError::Fatal(why) => tenon::bail!("fatal: {why}"),
        }
    }
}

impl trappable_errors::t::e::users::Host for FileHost {
    fn home(&mut self, user: String) -> Result<String, HostError> {
        Ok(format!("/home/{user}"))
    }
}

#[test]
fn trappable_error_types_convert() {
    use trappable_errors::t::e::files::Host as _;
    let mut host = FileHost;
    assert!(matches!(host.open("x".into()), Err(HostError::Wit(FileError::Missing(_)))));
    assert!(host.convert_file_error(HostError::Fatal("x".into())).is_err());
    let mut linker = tenon::component::Linker::<FileHost>::new(&tenon::Engine::default());
    trappable_errors::W::add_to_linker::<FileHost, tenon::component::HasSelf<FileHost>>(&mut linker, |h| h).unwrap();
}

/// A guest calling `open` through the generated linker definitions: the host's errors become `file-error`s,
/// or a trap when `convert_file_error` says so.
#[test]
fn trappable_errors_reach_the_guest() {
    use tenon::component::{Component, HasSelf, Linker};
    let lib = tenon_tests::component::LIBC;
    let options = tenon_tests::component::OPTIONS;
    let wat = format!(
        r#"(component
          (import "t:e/files" (instance $files
            (type $fe (variant (case "missing" string) (case "denied")))
            (export "file-error" (type $fe2 (eq $fe)))
            (export "open" (func (param "path" string) (result (result u32 (error $fe2)))))))
          (alias export $files "open" (func $open))
          {lib}
          (core func $open-core (canon lower (func $open) {options}))
          (core module $m
            (import "libc" "memory" (memory 1))
            (import "" "open" (func $open (param i32 i32 i32)))
            ;; The ok value, or 1000 + the error's case.
            (func (export "try-open") (param $p i32) (param $l i32) (result i32)
              (call $open (local.get $p) (local.get $l) (i32.const 64))
              (if (result i32) (i32.eqz (i32.load8_u (i32.const 64)))
                (then (i32.load (i32.const 68)))
                (else (i32.add (i32.const 1000) (i32.load8_u (i32.const 68)))))))
          (core instance $i (instantiate $m (with "libc" (instance $libc)) (with "" (instance (export "open" (func $open-core))))))
          (func (export "try-open") (param "path" string) (result u32) (canon lift (core func $i "try-open") {options})))"#
    );
    let engine = tenon::Engine::default();
    let component = Component::new(&engine, wat).unwrap_or_else(|e| panic!("{e:#}"));
    let mut linker = Linker::<FileHost>::new(&engine);
    trappable_errors::W::add_to_linker::<FileHost, HasSelf<FileHost>>(&mut linker, |h| h).unwrap();
    let mut store = tenon::Store::new(&engine, FileHost);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let try_open = instance.get_typed_func::<(&str,), (u32,)>(&mut store, "try-open").unwrap();
    assert_eq!(try_open.call(&mut store, ("ok",)).unwrap(), (3,));
    assert_eq!(try_open.call(&mut store, ("nope",)).unwrap(), (1000,));
    let err = try_open.call(&mut store, ("fatal",)).unwrap_err();
    assert!(format!("{err:#}").contains("fatal: disk on fire"), "{err:#}");
}

/// `@unstable` items, as in Wasmtime: generated, and defined by `add_to_linker` only when `LinkOptions`
/// enables their feature.
mod gated {
    ::tenon::component::bindgen!({
        inline: "
            package a:gated;
            interface clock {
                now: func() -> u64;
                @unstable(feature = fancy-time)
                later: func() -> u64;
            }
            @unstable(feature = zones)
            interface zones {
                zone: func() -> string;
            }
            world w {
                import clock;
                @unstable(feature = zones)
                import zones;
                @unstable(feature = root-extra)
                import extra: func() -> u32;
            }
        ",
    });
}

struct GatedHost;

impl gated::a::gated::clock::Host for GatedHost {
    fn now(&mut self) -> u64 {
        1
    }
    fn later(&mut self) -> u64 {
        2
    }
}

impl gated::a::gated::zones::Host for GatedHost {
    fn zone(&mut self) -> String {
        "UTC".into()
    }
}

impl gated::WImports for GatedHost {
    fn extra(&mut self) -> u32 {
        3
    }
}

#[test]
fn unstable_items_are_linked_when_their_feature_is_enabled() {
    use tenon::component::{Component, HasSelf, Linker};
    let engine = tenon::Engine::default();
    let wants = |import: &str| Component::new(&engine, import).unwrap();
    let later = wants(r#"(component (import "a:gated/clock" (instance (export "later" (func (result u64))))))"#);
    let now = wants(r#"(component (import "a:gated/clock" (instance (export "now" (func (result u64))))))"#);
    let zone = wants(r#"(component (import "a:gated/zones" (instance (export "zone" (func (result string))))))"#);
    let extra = wants(r#"(component (import "extra" (func (result u32))))"#);
    let linker_with = |options: &gated::LinkOptions| {
        let mut linker: Linker<GatedHost> = Linker::new(&engine);
        gated::W::add_to_linker::<GatedHost, HasSelf<GatedHost>>(&mut linker, options, |h| h).unwrap();
        linker
    };
    let default = linker_with(&gated::LinkOptions::default());
    assert!(default.instantiate_pre(&now).is_ok());
    for gated in [&later, &zone, &extra] {
        assert!(default.instantiate_pre(gated).is_err(), "a gated import is not defined by default");
    }
    let mut options = gated::LinkOptions::default();
    options.fancy_time(true).zones(true).root_extra(true);
    let all = linker_with(&options);
    for component in [&now, &later, &zone, &extra] {
        all.instantiate_pre(component).unwrap();
    }
    // An interface's own options, converted from the world's.
    let interface_options: gated::a::gated::clock::LinkOptions = (&options).into();
    let mut linker: Linker<GatedHost> = Linker::new(&engine);
    gated::a::gated::clock::add_to_linker::<GatedHost, HasSelf<GatedHost>>(&mut linker, &interface_options, |h| h).unwrap();
    linker.instantiate_pre(&later).unwrap();
    // Into an instance the caller opened.
    let mut linker: Linker<GatedHost> = Linker::new(&engine);
    let mut instance = linker.instance("a:gated/clock").unwrap();
    gated::a::gated::clock::add_to_linker_instance::<GatedHost, HasSelf<GatedHost>>(&mut instance, &interface_options, |h| h).unwrap();
    linker.instantiate_pre(&later).unwrap();
}

/// Error types, as Wasmtime's bindings make them: the `E` of a function's `result<_, E>` displays and is
/// an `Error`; an error enum names and describes its cases.
mod errors {
    ::tenon::component::bindgen!({
        inline: "
            package a:errs;
            interface fs {
                enum error-code {
                    /// Permission denied.
                    access,
                    /// No such file.
                    missing,
                }
                enum plain { a, b }
                record detail { code: u32 }
                open: func(path: string) -> result<u32, error-code>;
                check: func(p: plain) -> result<_, detail>;
            }
            world w { import fs; }
        ",
    });
}

#[test]
fn error_types_display_and_are_errors() {
    use errors::a::errs::fs::{Detail, ErrorCode};
    assert_eq!((ErrorCode::Access.name(), ErrorCode::Missing.message()), ("access", "No such file."));
    let error: Box<dyn std::error::Error> = Box::new(ErrorCode::Missing);
    assert_eq!(error.to_string(), "missing (error 1)");
    let error = tenon::Error::from(Detail { code: 7 });
    assert_eq!(error.to_string(), "Detail { code: 7 }");
}

/// `ownership: Borrowing`, without and with `duplicate_if_necessary`: the corpus compiles both ways.
mod borrowing {
    ::tenon::component::bindgen!({ path: "wit/corpus", world: "corpus", ownership: Borrowing { duplicate_if_necessary: false } });
}

mod borrowing_duplicated {
    ::tenon::component::bindgen!({ path: "wit/corpus", world: "corpus", ownership: Borrowing { duplicate_if_necessary: true } });
}

/// Names Wasmtime's bindings trip on: a resource named with a Rust keyword (`type`), methods named like the
/// typed handle's own (`resource`, `into-resource`, `handle`), handles of a resource both imported and
/// exported inside records, variants, lists, options and results (compiled only, warnings denied).
#[deny(warnings)]
mod awkward_names {
    tenon::component::bindgen!({
        inline: "
            package a:b;
            interface things {
                resource %type {
                    constructor();
                    %resource: func() -> u32;
                    into-resource: static func(x: %type) -> %type;
                    handle: static func() -> option<%type>;
                    self-ref: func(other: borrow<%type>, %list: list<%type>) -> result<%type, string>;
                }
                record holder { t: %type, name: string }
                variant maybe { some(%type), none }
                make: func() -> holder;
                take: func(h: holder, m: maybe, ts: list<%type>) -> u32;
            }
            world w {
                import things;
                export things;
            }
        ",
    });

    /// The guest's `type` through its typed handle, where the names allow it.
    #[allow(dead_code)]
    fn typed(store: &mut tenon::Store<()>, things: &exports::a::b::things::Guest) -> tenon::Result<()> {
        let t = things.type_().new(&mut *store)?;
        let any = t.resource(&*store)?;
        let _: u32 = things.type_().call_resource(&mut *store, any)?;
        let _: exports::a::b::things::TypeHandle = things.type_().into_resource(&mut *store, t)?;
        Ok(())
    }
}
