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
            "tenon:corpus/kinds/size": crate::plain::tenon::corpus::kinds::Size,
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
        imports: { "tenon:corpus/twins#twin": trappable | exact, default: exact },
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
