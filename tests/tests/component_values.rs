//! Component values through the canonical ABI, with `Val`s: every value type round-trips host → guest →
//! host → guest → host, in each string encoding; guest mistakes are errors with their path.

use tenon::component::{Component, Linker, Val};
use tenon::{Engine, Store};
use tenon_tests::component::echo_component;

/// Round-trips `values` through [`echo_component`] in every string encoding and checks they come back.
fn round_trip(types: &str, params: &[&str], result: Option<&str>, values: &[Val]) {
    round_trip_in(&Engine::default(), types, params, result, values)
}

/// [`round_trip`] with `engine`.
fn round_trip_in(engine: &Engine, types: &str, params: &[&str], result: Option<&str>, values: &[Val]) {
    for encoding in ["string-encoding=utf8", "string-encoding=utf16", "string-encoding=latin1+utf16"] {
        let wat = echo_component(types, params, result, encoding);
        let component = Component::new(engine, &wat).unwrap_or_else(|e| panic!("{e:#}\n{wat}"));
        let mut linker = Linker::new(engine);
        linker
            .root()
            .func_new("host-echo", |_, _, params, results| {
                results[0] = params[0].clone();
                Ok(())
            })
            .unwrap();
        let mut store = Store::new(engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let echo = instance.get_func(&mut store, "echo").unwrap();
        for value in values {
            let mut results = [Val::Bool(false)];
            echo.call(&mut store, std::slice::from_ref(value), &mut results)
                .unwrap_or_else(|e| panic!("{encoding}: echo {value:?}: {e:?}"));
            assert_eq!(&results[0], value, "{encoding}");
        }
    }
}

#[test]
fn scalars_round_trip() {
    round_trip("(type $t u8)", &["i32"], Some("i32"), &[Val::U8(0), Val::U8(255)]);
    round_trip("(type $t s8)", &["i32"], Some("i32"), &[Val::S8(-128), Val::S8(127), Val::S8(-1)]);
    round_trip("(type $t u16)", &["i32"], Some("i32"), &[Val::U16(65535)]);
    round_trip("(type $t s16)", &["i32"], Some("i32"), &[Val::S16(-32768)]);
    round_trip("(type $t u32)", &["i32"], Some("i32"), &[Val::U32(u32::MAX)]);
    round_trip("(type $t s32)", &["i32"], Some("i32"), &[Val::S32(i32::MIN)]);
    round_trip("(type $t u64)", &["i64"], Some("i64"), &[Val::U64(u64::MAX)]);
    round_trip("(type $t s64)", &["i64"], Some("i64"), &[Val::S64(i64::MIN)]);
    round_trip("(type $t bool)", &["i32"], Some("i32"), &[Val::Bool(true), Val::Bool(false)]);
    round_trip("(type $t char)", &["i32"], Some("i32"), &[Val::Char('a'), Val::Char('\u{10FFFF}'), Val::Char('😀')]);
    round_trip("(type $t f32)", &["f32"], Some("f32"), &[Val::Float32(1.5), Val::Float32(f32::INFINITY), Val::Float32(-0.0)]);
    round_trip("(type $t f64)", &["f64"], Some("f64"), &[Val::Float64(-2.25), Val::Float64(f64::MIN_POSITIVE)]);
}

#[test]
fn strings_round_trip_in_every_encoding() {
    let strings = ["", "hello", "héllo wörld", "ÿ", "日本語", "emoji 😀 and more", &"long ".repeat(1000)];
    round_trip("(type $t string)", &["i32", "i32"], None, &strings.map(|s| Val::String(s.to_string())));
}

#[test]
fn compound_values_round_trip() {
    let list = |items: Vec<Val>| Val::List(items);
    round_trip("(type $t (list u8))", &["i32", "i32"], None, &[list(vec![]), list((0..=255).map(Val::U8).collect())]);
    round_trip(
        "(type $t (list string))",
        &["i32", "i32"],
        None,
        &[list(vec![Val::String("a".into()), Val::String("bcd".into()), Val::String(String::new())])],
    );
    round_trip(
        "(type $t (list (list u16)))",
        &["i32", "i32"],
        None,
        &[list(vec![list(vec![Val::U16(1), Val::U16(2)]), list(vec![]), list(vec![Val::U16(3)])])],
    );
    round_trip(
        "(type $t (tuple u8 u64 string))",
        &["i32", "i64", "i32", "i32"],
        None,
        &[Val::Tuple(vec![Val::U8(7), Val::U64(1 << 40), Val::String("x".into())])],
    );
    round_trip("(type $t (option u32))", &["i32", "i32"], None, &[Val::Option(None), Val::Option(Some(Box::new(Val::U32(5))))]);
    round_trip(
        "(type $t (result string (error u8)))",
        &["i32", "i32", "i32"],
        None,
        &[Val::Result(Ok(Some(Box::new(Val::String("ok".into()))))), Val::Result(Err(Some(Box::new(Val::U8(3)))))],
    );
    round_trip("(type $t (result))", &["i32"], Some("i32"), &[Val::Result(Ok(None)), Val::Result(Err(None))]);
    // A variant whose payloads join: f32 and u64 share an i64 slot.
    round_trip(
        r#"(type $v (variant (case "a" f32) (case "b" u64) (case "c")))
           (import "v" (type $t (eq $v)))"#,
        &["i32", "i64"],
        None,
        &[
            Val::Variant("a".into(), Some(Box::new(Val::Float32(2.5)))),
            Val::Variant("b".into(), Some(Box::new(Val::U64(u64::MAX)))),
            Val::Variant("c".into(), None),
        ],
    );
    round_trip(
        r#"(type $r (record (field "id" u32) (field "name" string) (field "tags" (list string))))
           (import "r" (type $t (eq $r)))"#,
        &["i32", "i32", "i32", "i32", "i32"],
        None,
        &[Val::Record(vec![
            ("id".into(), Val::U32(42)),
            ("name".into(), Val::String("tenon".into())),
            ("tags".into(), Val::List(vec![Val::String("a".into()), Val::String("b".into())])),
        ])],
    );
    round_trip(
        r#"(type $e (enum "red" "green" "blue"))
           (import "e" (type $t (eq $e)))"#,
        &["i32"],
        Some("i32"),
        &[Val::Enum("red".into()), Val::Enum("blue".into())],
    );
    let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let flags = format!("(type $f (flags {}))(import \"f\" (type $t (eq $f)))", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" "));
    round_trip(&flags, &["i32"], Some("i32"), &[Val::Flags(vec![]), Val::Flags(vec!["f0".into(), "f9".into(), "f19".into()])]);
}

/// Discriminants and flags take the bytes their case or member count needs (1, 2 or 4): values that only
/// fit in the wider size survive a trip through memory (lists), next to their neighbours.
#[test]
fn discriminants_and_flags_take_the_size_their_count_needs() {
    let quoted = |names: &[String]| names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" ");
    let cases: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
    let enums = format!("(type $e (enum {}))(import \"e\" (type $e2 (eq $e)))(type $t (list $e2))", quoted(&cases));
    let values = ["c0", "c255", "c256", "c299"].map(|c| Val::Enum(c.into()));
    round_trip(&enums, &["i32", "i32"], None, &[Val::List(values.to_vec())]);

    let variant_cases: String = (0..257).map(|i| format!("(case \"v{i}\" u8)")).collect();
    let variants = format!("(type $v (variant {variant_cases}))(import \"v\" (type $v2 (eq $v)))(type $t (list $v2))");
    let case = |i: usize| Val::Variant(format!("v{i}"), Some(Box::new(Val::U8(i as u8))));
    round_trip(&variants, &["i32", "i32"], None, &[Val::List(vec![case(0), case(256), case(255)])]);

    for count in [8, 9, 16, 17, 32] {
        let members: Vec<String> = (0..count).map(|i| format!("m{i}")).collect();
        let flags = format!("(type $f (flags {}))(import \"f\" (type $f2 (eq $f)))(type $t (list $f2))", quoted(&members));
        let last = Val::Flags(vec![members[count - 1].clone()]);
        let first_and_last = Val::Flags(vec![members[0].clone(), members[count - 1].clone()]);
        round_trip(&flags, &["i32", "i32"], None, &[Val::List(vec![last, Val::Flags(vec![]), first_and_last])]);
    }
}

/// `map<K, V>` is refused when `Config::wasm_component_model_map` is off; on (the default), maps round-trip as `Val::Map` and as
/// `HashMap`, entries in order, keys of any type.
#[test]
fn maps_round_trip_behind_their_config_flag() {
    use std::collections::HashMap;
    use tenon::component::TypedFunc;
    let types = "(type $t (map string (list u32)))";
    let mut config = tenon::Config::new();
    config.wasm_component_model_map(false);
    let err = Component::new(&Engine::new(&config).unwrap(), echo_component(types, &["i32", "i32"], None, "")).unwrap_err();
    assert!(format!("{err:#}").contains("map"), "{err:#}");

    let engine = Engine::default();
    let entry = |k: &str, v: &[u32]| (Val::String(k.into()), Val::List(v.iter().map(|&x| Val::U32(x)).collect()));
    let maps = [Val::Map(vec![]), Val::Map(vec![entry("one", &[1]), entry("empty", &[]), entry("three", &[1, 2, 3])])];
    round_trip_in(&engine, types, &["i32", "i32"], None, &maps);
    let nested = "(type $t (map u8 (map char bool)))";
    round_trip_in(&engine, nested, &["i32", "i32"], None, &[Val::Map(vec![(Val::U8(7), Val::Map(vec![(Val::Char('x'), Val::Bool(true))]))])]);

    let component = Component::new(&engine, echo_component(types, &["i32", "i32"], None, "")).unwrap();
    let mut linker = Linker::new(&engine);
    linker.root().func_wrap("host-echo", |_, (m,): (HashMap<String, Vec<u32>>,)| Ok((m,))).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let map: HashMap<String, Vec<u32>> = [("a".to_string(), vec![1, 2]), ("b".to_string(), vec![])].into();
    type Map = HashMap<String, Vec<u32>>;
    let echo: TypedFunc<(Map,), (Map,)> = instance.get_typed_func(&mut store, "echo").unwrap();
    assert_eq!(echo.call(&mut store, (map.clone(),)).unwrap().0, map);
    let err = instance.get_typed_func::<(HashMap<u32, Vec<u32>>,), ()>(&mut store, "echo").err().unwrap();
    assert_eq!(format!("{err:#}"), "the parameters do not match: the map's keys do not match: type mismatch: `u32` is not the component type string");
}

/// Fixed-length lists `list<T, N>` need `Config::wasm_component_model_fixed_length_lists`; they flatten to
/// their elements and come back as `Val::List`; the wrong length is an error.
#[test]
fn fixed_length_lists_round_trip_behind_their_config_flag() {
    let types = "(type $t (list u32 3))";
    let params = ["i32", "i32", "i32"];
    let err = Component::new(&Engine::default(), echo_component(types, &params, None, "")).unwrap_err();
    assert!(format!("{err:#}").contains("fixed-length lists"), "{err:#}");
    let mut config = tenon::Config::new();
    config.wasm_component_model_fixed_length_lists(true);
    let engine = Engine::new(&config).unwrap();
    round_trip_in(&engine, types, &params, None, &[Val::List(vec![Val::U32(1), Val::U32(2), Val::U32(u32::MAX)])]);
    let strings = "(type $t (list string 2))";
    let two = |a: &str, b: &str| Val::List(vec![Val::String(a.into()), Val::String(b.into())]);
    round_trip_in(&engine, strings, &["i32", "i32", "i32", "i32"], None, &[two("", "x"), two("héllo", "wörld")]);

    let component = Component::new(&engine, echo_component(types, &params, None, "")).unwrap();
    let mut linker = Linker::new(&engine);
    linker.root().func_new("host-echo", |_, _, params, results| {
        results[0] = params[0].clone();
        Ok(())
    }).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance.get_func(&mut store, "echo").unwrap();
    let err = echo.call(&mut store, &[Val::List(vec![Val::U32(1)])], &mut [Val::Bool(false)]).unwrap_err();
    assert!(format!("{err:#}").contains("`echo` argument `x`"), "{err:#}");
}
