//! `tenon bindgen`'s output for the WIT corpus, checked in as `tests/wit/corpus_bindings.rs` (the flow of a
//! project that keeps its bindings in the repository): compiled here by rustc with warnings denied, used
//! as a host (by hand, and through `--stub`'s skeleton), and checked to be what the command prints today and
//! the code `bindgen!` expands to.

#[deny(warnings)]
mod cli {
    include!("../wit/corpus_bindings.rs");
}

use std::path::PathBuf;

#[test]
fn the_checked_in_output_is_what_tenon_bindgen_prints() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let opts = tenon_wit::Opts { paths: vec![root.join("wit/corpus")], world: Some("corpus".into()), stub: true, ..Default::default() };
    let printed = tenon_cli::bindgen::bindgen(&opts).unwrap();
    let checked_in = std::fs::read_to_string(root.join("wit/corpus_bindings.rs")).unwrap();
    assert!(
        printed == checked_in,
        "tests/wit/corpus_bindings.rs is stale: regenerate it with \
         `cargo run -p tenon-cli -- bindgen tests/wit/corpus --world corpus --stub -o tests/wit/corpus_bindings.rs`"
    );
}

/// What `bindgen!` expands to for the corpus, as text.
const MACRO_OUTPUT: &str = tenon::component::bindgen!({ path: "wit/corpus", world: "corpus", stringify: true });

#[test]
fn the_macro_and_the_command_emit_the_same_code() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let opts = tenon_wit::Opts { paths: vec![root.join("wit/corpus")], world: Some("corpus".into()), ..Default::default() };
    let printed = tenon_cli::bindgen::bindgen(&opts).unwrap();
    let from_macro = tenon_cli::bindgen::format(MACRO_OUTPUT.parse().unwrap()).unwrap();
    assert!(printed == from_macro, "the macro's tokens, formatted as `tenon bindgen` formats, differ from its output");
}

/// A host of the corpus world's imports, written against the CLI's output.
struct Host;

impl cli::tenon::corpus::twins::Host for Host {
    fn twin(
        &mut self,
        _k: cli::tenon::corpus::twins::Keywords,
        s: cli::tenon::corpus::kinds::Size,
        _w: cli::tenon::other::deep::Wrapped,
        _l: cli::tenon::other::deep::Level,
    ) -> Vec<(String, f64)> {
        vec![(format!("{s:?}"), 1.0)]
    }
}

#[test]
fn the_output_serves_as_a_host() {
    let engine = tenon::Engine::default();
    let mut linker: tenon::component::Linker<Host> = tenon::component::Linker::new(&engine);
    cli::tenon::corpus::twins::add_to_linker::<Host, tenon::component::HasSelf<Host>>(&mut linker, |h| h).unwrap();
    let mut host = Host;
    let twins = cli::tenon::corpus::twins::Host::twin(
        &mut host,
        cli::tenon::corpus::twins::Keywords { value: 1 },
        cli::tenon::corpus::kinds::Size::Small,
        cli::tenon::other::deep::Wrapped { level: cli::tenon::other::deep::Level::Low, tags: Vec::new() },
        cli::tenon::other::deep::Level::High,
    );
    // Cases print as Wasmtime's bindings print them.
    assert_eq!(twins, [("Size::Small".to_string(), 1.0)]);
}

/// `--stub`'s `HostStub` implements every host trait of the world (its methods are `todo!()`).
#[test]
fn the_stub_implements_every_host_trait() {
    let engine = tenon::Engine::default();
    let mut linker: tenon::component::Linker<cli::HostStub> = tenon::component::Linker::new(&engine);
    cli::Corpus::add_to_linker::<cli::HostStub, tenon::component::HasSelf<cli::HostStub>>(&mut linker, |h| h).unwrap();
    // The world's own imports alone, through the world type's associated function (as in Wasmtime).
    let mut linker: tenon::component::Linker<cli::HostStub> = tenon::component::Linker::new(&engine);
    cli::Corpus::add_to_linker_imports::<cli::HostStub, tenon::component::HasSelf<cli::HostStub>>(&mut linker, |h| h).unwrap();
}
