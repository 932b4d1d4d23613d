//! Real guest components, compiled from Rust with `wit-bindgen` (see `tests/guests`): every export of the
//! `exports` guest called with `Val`s and, where the types allow, through `TypedFunc`; functions of its
//! exported interface; lockdown after a panic; and the `imports` guest calling host functions defined
//! with `func_wrap` and with `func_new`.

use std::sync::{Arc, Mutex};
use tenon::component::types::Type;
use tenon::component::{Component, ComponentExportIndex, Func, Instance, Linker, Val};
use tenon::{Engine, Store, StoreContextMut, Trap};
use tenon_tests::guests;

/// The name of the interface the `exports` guest exports.
const VALUES: &str = "tenon:guest/values";
/// The name of the interface the `imports` guest imports.
const HOST: &str = "tenon:guest/host";

/// Compiles the guest component at `path`.
fn load(engine: &Engine, path: &str) -> Component {
    Component::from_file(engine, path).unwrap_or_else(|e| panic!("compiling {path}: {e:#}"))
}

/// A fresh instance of the `exports` guest, which imports nothing.
fn exports_guest() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = load(&engine, guests::EXPORTS);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{e:#}"));
    (store, instance)
}

/// The root export `name`.
fn root_func<T>(store: &mut Store<T>, instance: Instance, name: &str) -> Func {
    instance.get_func(&mut *store, name).unwrap_or_else(|| panic!("no export `{name}`"))
}

/// The index of function `name` of the exported interface `tenon:guest/values`.
fn values_index<T>(store: &Store<T>, instance: Instance, name: &str) -> ComponentExportIndex {
    let interface = instance.get_export_index(store, None, VALUES).expect("the exported interface");
    instance.get_export_index(store, Some(&interface), name).unwrap_or_else(|| panic!("no `{VALUES}#{name}`"))
}

/// Calls `func` with `params`; its result, if it has one.
fn call_func<T>(store: &mut Store<T>, func: Func, params: &[Val]) -> tenon::Result<Option<Val>> {
    let mut results = vec![Val::Bool(false); func.ty(&*store).results().len()];
    func.call(&mut *store, params, &mut results)?;
    Ok(results.pop())
}

/// Calls the root export `name` with `params` and returns its one result.
fn call(store: &mut Store<()>, instance: Instance, name: &str, params: &[Val]) -> Val {
    let func = root_func(store, instance, name);
    call_func(store, func, params)
        .unwrap_or_else(|e| panic!("{name}: {e:#}"))
        .unwrap_or_else(|| panic!("{name}: no result"))
}

/// Calls `name` of the exported interface with `params` and returns its one result.
fn call_values(store: &mut Store<()>, instance: Instance, name: &str, params: &[Val]) -> Val {
    let index = values_index(store, instance, name);
    let func = instance.get_func(&mut *store, &index).unwrap_or_else(|| panic!("no function at `{name}`'s index"));
    call_func(store, func, params)
        .unwrap_or_else(|e| panic!("{name}: {e:#}"))
        .unwrap_or_else(|| panic!("{name}: no result"))
}

/// Checks that the root export `name` returns each value of `values` unchanged.
fn echoes(store: &mut Store<()>, instance: Instance, name: &str, values: &[Val]) {
    for value in values {
        assert_eq!(&call(store, instance, name, std::slice::from_ref(value)), value, "{name}");
    }
}

/// Checks that the interface's `name` returns each value of `values` unchanged.
fn echoes_values(store: &mut Store<()>, instance: Instance, name: &str, values: &[Val]) {
    for value in values {
        assert_eq!(&call_values(store, instance, name, std::slice::from_ref(value)), value, "{name}");
    }
}

/// A `string` value.
fn string(s: &str) -> Val {
    Val::String(s.to_string())
}

/// A `list` of `items`.
fn list(items: impl IntoIterator<Item = Val>) -> Val {
    Val::List(items.into_iter().collect())
}

/// `some(v)`.
fn some(v: Val) -> Val {
    Val::Option(Some(Box::new(v)))
}

/// `ok(v)`.
fn ok(v: Val) -> Val {
    Val::Result(Ok(Some(Box::new(v))))
}

/// `err(v)`.
fn err(v: Val) -> Val {
    Val::Result(Err(Some(Box::new(v))))
}

/// A record of `fields`, in order.
fn record(fields: &[(&str, Val)]) -> Val {
    Val::Record(fields.iter().map(|(name, v)| (name.to_string(), v.clone())).collect())
}

/// Flags with `names` set.
fn flags(names: &[&str]) -> Val {
    Val::Flags(names.iter().map(|n| n.to_string()).collect())
}

/// A `point` record.
fn point(x: i32, y: i32) -> Val {
    record(&[("x", Val::S32(x)), ("y", Val::S32(y))])
}

/// A `person` record.
fn person(name: &str, age: u8, tags: &[&str], nick: Option<&str>) -> Val {
    record(&[
        ("name", string(name)),
        ("age", Val::U8(age)),
        ("tags", list(tags.iter().map(|t| string(t)))),
        ("nick", Val::Option(nick.map(|n| Box::new(string(n))))),
    ])
}

/// A variant's `case`, with its payload if it has one.
fn variant(case: &str, payload: Option<Val>) -> Val {
    Val::Variant(case.to_string(), payload.map(Box::new))
}

#[test]
fn scalars_round_trip_as_vals() {
    let (mut store, instance) = exports_guest();
    let s = &mut store;
    echoes(s, instance, "echo-bool", &[Val::Bool(true), Val::Bool(false)]);
    echoes(s, instance, "echo-s8", &[Val::S8(i8::MIN), Val::S8(-1), Val::S8(i8::MAX)]);
    echoes(s, instance, "echo-u8", &[Val::U8(0), Val::U8(200), Val::U8(u8::MAX)]);
    echoes(s, instance, "echo-s16", &[Val::S16(i16::MIN), Val::S16(-300), Val::S16(i16::MAX)]);
    echoes(s, instance, "echo-u16", &[Val::U16(0), Val::U16(u16::MAX)]);
    echoes(s, instance, "echo-s32", &[Val::S32(i32::MIN), Val::S32(-1), Val::S32(i32::MAX)]);
    echoes(s, instance, "echo-u32", &[Val::U32(0), Val::U32(u32::MAX)]);
    echoes(s, instance, "echo-s64", &[Val::S64(i64::MIN), Val::S64(-1), Val::S64(i64::MAX)]);
    echoes(s, instance, "echo-u64", &[Val::U64(0), Val::U64(u64::MAX)]);
    echoes(s, instance, "echo-f32", &[Val::Float32(1.5), Val::Float32(-0.0), Val::Float32(f32::INFINITY)]);
    echoes(
        s,
        instance,
        "echo-f64",
        &[Val::Float64(-2.25), Val::Float64(f64::MIN_POSITIVE), Val::Float64(f64::NEG_INFINITY)],
    );
    echoes(s, instance, "echo-char", &[Val::Char('a'), Val::Char('é'), Val::Char('😀'), Val::Char('\u{10ffff}')]);
    echoes(s, instance, "echo-string", &[string(""), string("hello"), string("héllo wörld 😀")]);
    // A NaN comes back as the canonical NaN.
    let Val::Float32(nan) = call(s, instance, "echo-f32", &[Val::Float32(f32::from_bits(0x7fa0_0001))]) else {
        panic!()
    };
    assert_eq!(nan.to_bits(), 0x7fc0_0000);
    let Val::Float64(nan) = call(s, instance, "echo-f64", &[Val::Float64(f64::NAN)]) else { panic!() };
    assert!(nan.is_nan());
    assert_eq!(call(s, instance, "add", &[Val::U32(40), Val::U32(2)]), Val::U32(42));
    assert_eq!(call(s, instance, "add", &[Val::U32(u32::MAX), Val::U32(2)]), Val::U32(1));
    assert_eq!(call(s, instance, "reverse", &[string("héllo 😀")]), string("😀 olléh"));
}

#[test]
fn lists_options_results_and_tuples_as_vals() {
    let (mut store, instance) = exports_guest();
    let s = &mut store;
    echoes(s, instance, "echo-bytes", &[list([]), list((0..=255).map(Val::U8))]);
    echoes(s, instance, "echo-strings", &[list([]), list([string("a"), string(""), string("ü😀")])]);
    echoes(s, instance, "echo-option", &[Val::Option(None), some(Val::U32(7)), some(Val::U32(u32::MAX))]);
    echoes(s, instance, "echo-option-string", &[Val::Option(None), some(string("")), some(string("x"))]);
    echoes(s, instance, "echo-result", &[ok(Val::U32(3)), err(string("bad"))]);
    echoes(s, instance, "echo-tuple", &[Val::Tuple(vec![Val::U8(1), string("two"), Val::Float64(3.5)])]);
    assert_eq!(
        call(s, instance, "lengths", &[list([string("a"), string("é"), string("😀"), string("")])]),
        Val::Tuple(vec![list([Val::U32(1), Val::U32(2), Val::U32(4), Val::U32(0)]), Val::U64(7)])
    );
    assert_eq!(
        call(s, instance, "divmod", &[Val::U32(17), Val::U32(5)]),
        ok(Val::Tuple(vec![Val::U32(3), Val::U32(2)]))
    );
    assert_eq!(call(s, instance, "divmod", &[Val::U32(1), Val::U32(0)]), err(string("cannot divide 1 by zero")));
    assert_eq!(call(s, instance, "check-even", &[Val::U32(4)]), Val::Result(Ok(None)));
    assert_eq!(call(s, instance, "check-even", &[Val::U32(5)]), Val::Result(Err(None)));
    assert_eq!(
        call(s, instance, "double-bytes", &[list([Val::U8(1), Val::U8(200)])]),
        Val::Tuple(vec![Val::U32(2), list([Val::U8(2), Val::U8(144)])])
    );
    assert_eq!(call(s, instance, "parse", &[string("1234")]), ok(Val::U32(1234)));
    assert_eq!(call(s, instance, "parse", &[string("12a")]), Val::Result(Err(None)));
    assert_eq!(call(s, instance, "validate-name", &[string("Ada")]), Val::Result(Ok(None)));
    assert_eq!(call(s, instance, "validate-name", &[string("")]), err(string("empty name")));
    assert_eq!(call(s, instance, "validate-name", &[string("a1")]), err(string("bad character '1' in \"a1\"")));
    assert_eq!(
        call(s, instance, "split", &[string("a,b,,c"), Val::Char(',')]),
        some(list([string("a"), string("b"), string(""), string("c")]))
    );
    assert_eq!(call(s, instance, "split", &[string("abc"), Val::Char('😀')]), Val::Option(None));
}

#[test]
fn many_parameters_and_results_as_vals() {
    let (mut store, instance) = exports_guest();
    let s = &mut store;
    let params = [
        Val::U8(1),
        Val::S8(-2),
        Val::U16(3),
        Val::S16(-4),
        Val::U32(5),
        Val::S32(-6),
        Val::U64(7),
        Val::S64(-8),
        Val::Float32(0.5),
        Val::Float64(0.25),
        Val::U32(10),
        Val::U32(11),
        Val::U32(12),
        Val::U32(13),
        Val::U32(14),
        Val::U32(15),
        Val::U32(16),
    ];
    assert_eq!(
        call(s, instance, "sum17", &params),
        Val::Float64(1.0 - 2.0 + 3.0 - 4.0 + 5.0 - 6.0 + 7.0 - 8.0 + 0.75 + 91.0)
    );
    let letters: Vec<Val> = ["a", "bb", "", "é", "e", "f", "g", "h", "😀"].map(string).into();
    assert_eq!(call(s, instance, "join9", &letters), string("a-bb--é-e-f-g-h-😀"));
    let scalars = [
        Val::Bool(true),
        Val::S8(-8),
        Val::U16(65535),
        Val::S32(-32),
        Val::U64(u64::MAX),
        Val::Float32(1.5),
        Val::Float64(-0.125),
        Val::Char('ß'),
        Val::S16(-16),
        Val::U8(8),
    ];
    assert_eq!(
        call(s, instance, "describe-scalars", &scalars),
        string("true -8 65535 -32 18446744073709551615 1.5 -0.125 ß -16 8")
    );
    assert_eq!(
        call(s, instance, "divide", &[Val::U32(17), Val::U32(5)]),
        Val::Tuple(vec![Val::U32(3), Val::U32(2), Val::Bool(false), string("17 = 3 * 5 + 2")])
    );
    assert_eq!(
        call(s, instance, "divide", &[Val::U32(20), Val::U32(5)]),
        Val::Tuple(vec![Val::U32(4), Val::U32(0), Val::Bool(true), string("20 = 4 * 5 + 0")])
    );
}

#[test]
fn state_persists_between_calls_and_functions_may_have_no_results() {
    let (mut store, instance) = exports_guest();
    for n in 1..=3 {
        assert_eq!(call(&mut store, instance, "bump", &[]), Val::U32(n));
    }
    let nothing = root_func(&mut store, instance, "nothing");
    assert_eq!(nothing.ty(&store).params().len(), 0);
    assert_eq!(nothing.ty(&store).results().len(), 0);
    nothing.call(&mut store, &[], &mut []).unwrap();
    // Other instances, in this store or another, have their own state.
    let (mut other_store, other) = exports_guest();
    assert_eq!(call(&mut other_store, other, "bump", &[]), Val::U32(1));
    let engine = store.engine().clone();
    let pre = Linker::new(&engine).instantiate_pre(&load(&engine, guests::EXPORTS)).unwrap();
    let (first, second) = (pre.instantiate(&mut store).unwrap(), pre.instantiate(&mut store).unwrap());
    for n in 1..=2 {
        assert_eq!(call(&mut store, first, "bump", &[]), Val::U32(n));
    }
    assert_eq!(call(&mut store, second, "bump", &[]), Val::U32(1));
    assert_eq!(call(&mut store, instance, "bump", &[]), Val::U32(4));
}

#[test]
fn records_as_vals() {
    let (mut store, instance) = exports_guest();
    let s = &mut store;
    echoes_values(s, instance, "echo-point", &[point(0, 0), point(i32::MIN, i32::MAX)]);
    assert_eq!(call_values(s, instance, "translate", &[point(1, 2), Val::S32(10), Val::S32(-20)]), point(11, -18));
    let ada = person("Ada", 36, &["math", "engines"], Some("countess"));
    let bob = person("Bob", 36, &[], None);
    let cy = person("Cy", 7, &["😀"], Some(""));
    echoes_values(s, instance, "echo-person", &[ada.clone(), bob.clone(), cy.clone()]);
    assert_eq!(
        call_values(s, instance, "birthday", std::slice::from_ref(&cy)),
        person("Cy", 8, &["😀", "older"], Some(""))
    );
    let people = list([cy.clone(), ada.clone(), bob.clone()]);
    echoes_values(s, instance, "echo-people", &[list([]), people.clone()]);
    assert_eq!(call_values(s, instance, "oldest", &[people]), some(ada));
    assert_eq!(call_values(s, instance, "oldest", &[list([])]), Val::Option(None));
    let stats = |count: u32, min: f64, max: f64, mean: f64| {
        record(&[
            ("count", Val::U32(count)),
            ("min", Val::Float64(min)),
            ("max", Val::Float64(max)),
            ("mean", Val::Float64(mean)),
        ])
    };
    let xs = list([Val::Float64(2.0), Val::Float64(-1.0), Val::Float64(5.0)]);
    assert_eq!(call_values(s, instance, "stats-of", &[xs]), stats(3, -1.0, 5.0, 2.0));
    assert_eq!(call_values(s, instance, "stats-of", &[list([])]), stats(0, 0.0, 0.0, 0.0));
}

#[test]
fn variants_enums_and_flags_as_vals() {
    let (mut store, instance) = exports_guest();
    let s = &mut store;
    let shapes = [
        variant("circle", Some(Val::Float32(2.0))),
        variant("rect", Some(point(3, -4))),
        variant("label", Some(string("hi"))),
        variant("empty", None),
    ];
    echoes_values(s, instance, "echo-shape", &shapes);
    let areas: Vec<Val> =
        shapes.iter().map(|shape| call_values(s, instance, "area", std::slice::from_ref(shape))).collect();
    assert_eq!(areas, [std::f32::consts::PI * 4.0, 12.0, 0.0, 0.0].map(Val::Float32));
    let colors = ["red", "green", "blue", "yellow"].map(|c| Val::Enum(c.to_string()));
    echoes_values(s, instance, "echo-color", &colors);
    for (i, color) in colors.iter().enumerate() {
        assert_eq!(call_values(s, instance, "next-color", std::slice::from_ref(color)), colors[(i + 1) % 4]);
    }
    echoes_values(
        s,
        instance,
        "echo-perms",
        &[flags(&[]), flags(&["write"]), flags(&["read", "exec"]), flags(&["read", "write", "exec"])],
    );
    assert_eq!(call_values(s, instance, "invert-perms", &[flags(&["write"])]), flags(&["read", "exec"]));
    assert_eq!(call_values(s, instance, "invert-perms", &[flags(&[])]), flags(&["read", "write", "exec"]));
    let all: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    echoes_values(s, instance, "echo-wide", &[flags(&[]), flags(&["f0", "f7", "f8"]), flags(&["f9"]), flags(&all)]);
    echoes_values(
        s,
        instance,
        "echo-nested",
        &[
            ok(list([])),
            ok(list([some(point(1, 2)), Val::Option(None), some(point(-3, 4))])),
            err(variant("empty", None)),
            err(variant("label", Some(string("nested")))),
        ],
    );
}

#[test]
fn typed_calls_of_root_exports() {
    let (mut store, instance) = exports_guest();
    let s = &mut store;
    macro_rules! echo {
        ($name:literal: $ty:ty = $($value:expr),+) => {{
            let f = instance.get_typed_func::<($ty,), ($ty,)>(&mut *s, $name);
            let f = f.unwrap_or_else(|e| panic!("{}: {e:#}", $name));
            $(assert_eq!(f.call(&mut *s, ($value,)).unwrap(), ($value,), "{}", $name);)+
        }};
    }
    echo!("echo-bool": bool = true, false);
    echo!("echo-s8": i8 = i8::MIN, -1, i8::MAX);
    echo!("echo-u8": u8 = 0, u8::MAX);
    echo!("echo-s16": i16 = i16::MIN, i16::MAX);
    echo!("echo-u16": u16 = 0, u16::MAX);
    echo!("echo-s32": i32 = i32::MIN, -7, i32::MAX);
    echo!("echo-u32": u32 = 0, u32::MAX);
    echo!("echo-s64": i64 = i64::MIN, i64::MAX);
    echo!("echo-u64": u64 = 0, u64::MAX);
    echo!("echo-f32": f32 = 1.5, f32::NEG_INFINITY);
    echo!("echo-f64": f64 = -2.25, f64::MAX);
    echo!("echo-char": char = 'a', '😀');
    echo!("echo-string": String = String::new(), "héllo 😀".to_string());
    echo!("echo-bytes": Vec<u8> = vec![], (0..=255).collect::<Vec<u8>>());
    echo!("echo-strings": Vec<String> = vec![], vec!["a".to_string(), "ü".to_string()]);
    echo!("echo-option": Option<u32> = None, Some(9));
    echo!("echo-option-string": Option<String> = None, Some("x".to_string()));
    echo!("echo-result": Result<u32, String> = Ok(1), Err("no".to_string()));
    echo!("echo-tuple": (u8, String, f64) = (1, "two".to_string(), 3.5));

    let add = instance.get_typed_func::<(u32, u32), (u32,)>(&mut *s, "add").unwrap();
    assert_eq!(add.call(&mut *s, (40, 2)).unwrap(), (42,));
    let reverse = instance.get_typed_func::<(&str,), (String,)>(&mut *s, "reverse").unwrap();
    assert_eq!(reverse.call(&mut *s, ("abc😀",)).unwrap().0, "😀cba");
    let lengths = instance.get_typed_func::<(&[&str],), ((Vec<u32>, u64),)>(&mut *s, "lengths").unwrap();
    assert_eq!(lengths.call(&mut *s, (&["ab", "é", ""],)).unwrap().0, (vec![2, 2, 0], 4));
    let divmod = instance.get_typed_func::<(u32, u32), (Result<(u32, u32), String>,)>(&mut *s, "divmod").unwrap();
    assert_eq!(divmod.call(&mut *s, (17, 5)).unwrap().0, Ok((3, 2)));
    assert_eq!(divmod.call(&mut *s, (3, 0)).unwrap().0, Err("cannot divide 3 by zero".to_string()));
    let check_even = instance.get_typed_func::<(u32,), (Result<(), ()>,)>(&mut *s, "check-even").unwrap();
    assert_eq!(check_even.call(&mut *s, (10,)).unwrap().0, Ok(()));
    assert_eq!(check_even.call(&mut *s, (11,)).unwrap().0, Err(()));
    let double = instance.get_typed_func::<(&[u8],), ((u32, Vec<u8>),)>(&mut *s, "double-bytes").unwrap();
    assert_eq!(double.call(&mut *s, (&[3, 128, 255],)).unwrap().0, (3, vec![6, 0, 254]));
    let parse = instance.get_typed_func::<(&str,), (Result<u32, ()>,)>(&mut *s, "parse").unwrap();
    assert_eq!(parse.call(&mut *s, ("4294967295",)).unwrap().0, Ok(u32::MAX));
    assert_eq!(parse.call(&mut *s, ("4294967296",)).unwrap().0, Err(()));
    let validate = instance.get_typed_func::<(&str,), (Result<(), String>,)>(&mut *s, "validate-name").unwrap();
    assert_eq!(validate.call(&mut *s, ("Grace",)).unwrap().0, Ok(()));
    assert_eq!(validate.call(&mut *s, ("G race",)).unwrap().0, Err("bad character ' ' in \"G race\"".to_string()));
    let split = instance.get_typed_func::<(&str, char), (Option<Vec<String>>,)>(&mut *s, "split").unwrap();
    assert_eq!(split.call(&mut *s, ("1😀2", '😀')).unwrap().0, Some(vec!["1".to_string(), "2".to_string()]));
    assert_eq!(split.call(&mut *s, ("12", '😀')).unwrap().0, None);
    let bump = instance.get_typed_func::<(), (u32,)>(&mut *s, "bump").unwrap();
    assert_eq!(bump.call(&mut *s, ()).unwrap(), (1,));
    assert_eq!(bump.call(&mut *s, ()).unwrap(), (2,));
    let nothing = instance.get_typed_func::<(), ()>(&mut *s, "nothing").unwrap();
    nothing.call(&mut *s, ()).unwrap();
    // Borrowed arguments inside options and results.
    let echo = instance.get_typed_func::<(Option<&str>,), (Option<String>,)>(&mut *s, "echo-option-string").unwrap();
    assert_eq!(echo.call(&mut *s, (Some("borrowed"),)).unwrap().0.as_deref(), Some("borrowed"));
    let echo = instance.get_typed_func::<(Result<u32, &str>,), (Result<u32, String>,)>(&mut *s, "echo-result").unwrap();
    assert_eq!(echo.call(&mut *s, (Err("borrowed"),)).unwrap().0, Err("borrowed".to_string()));
}

#[test]
fn typed_calls_with_many_parameters_and_results() {
    let (mut store, instance) = exports_guest();
    let s = &mut store;
    type Nine<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str);
    let join9 = instance.get_typed_func::<Nine<'_>, (String,)>(&mut *s, "join9").unwrap();
    assert_eq!(join9.call(&mut *s, ("a", "b", "c", "d", "e", "f", "g", "h", "i")).unwrap().0, "a-b-c-d-e-f-g-h-i");
    assert_eq!(join9.call(&mut *s, ("", "", "", "", "", "", "", "", "")).unwrap().0, "--------");
    type Ten = (bool, i8, u16, i32, u64, f32, f64, char, i16, u8);
    let describe = instance.get_typed_func::<Ten, (String,)>(&mut *s, "describe-scalars").unwrap();
    let (text,) = describe.call(&mut *s, (false, i8::MIN, 1, i32::MIN, 2, -0.5, 1e100, '\0', i16::MAX, 0)).unwrap();
    assert_eq!(text, format!("false -128 1 -2147483648 2 -0.5 {} \0 32767 0", 1e100));
    let divide = instance.get_typed_func::<(u32, u32), ((u32, u32, bool, String),)>(&mut *s, "divide").unwrap();
    assert_eq!(divide.call(&mut *s, (9, 3)).unwrap().0, (3, 0, true, "9 = 3 * 3 + 0".to_string()));
    assert_eq!(divide.call(&mut *s, (9, 0)).unwrap().0, (0, 9, false, "9 = 0 * 0 + 9".to_string()));
}

#[test]
fn typed_types_are_checked_against_the_guest() {
    let (mut store, instance) = exports_guest();
    let err = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "reverse").err().unwrap();
    assert_eq!(
        format!("{err:#}"),
        "the parameters do not match: type mismatch: `u32` is not the component type string"
    );
    let err = instance.get_typed_func::<(u32, u32), (u64,)>(&mut store, "add").err().unwrap();
    assert!(format!("{err:#}").starts_with("the results do not match"), "{err:#}");
    // Functions of the exported interface are not root exports.
    assert!(instance.get_func(&mut store, "echo-point").is_none());
    // An interface is not a function.
    let interface = instance.get_export_index(&store, None, VALUES).unwrap();
    assert!(instance.get_func(&mut store, &interface).is_none());
    assert!(instance.get_export_index(&store, Some(&interface), "add").is_none());
}

#[test]
fn functions_of_the_exported_interface() {
    let (mut store, instance) = exports_guest();
    let index = values_index(&store, instance, "manhattan");
    let manhattan = instance.get_typed_func::<((i32, i32), (i32, i32)), (u32,)>(&mut store, &index).unwrap();
    assert_eq!(manhattan.call(&mut store, ((1, 2), (-3, 7))).unwrap(), (9,));
    assert_eq!(manhattan.call(&mut store, ((i32::MIN, 0), (i32::MAX, 0))).unwrap(), (u32::MAX,));
    // The same function through `Val`s, found by index.
    let func = instance.get_func(&mut store, &index).unwrap();
    let params = [Val::Tuple(vec![Val::S32(0), Val::S32(0)]), Val::Tuple(vec![Val::S32(-1), Val::S32(-1)])];
    assert_eq!(call_func(&mut store, func, &params).unwrap(), Some(Val::U32(2)));
    // Their types are the guest's.
    let index = values_index(&store, instance, "echo-person");
    let ty = instance.get_func(&mut store, &index).unwrap().ty(&store);
    let params: Vec<_> = ty.params().map(|(name, _)| name.to_string()).collect();
    assert_eq!(params, ["p"]);
    let Some(Type::Record(person)) = ty.results().next() else { panic!("a record result") };
    let fields: Vec<_> = person.fields().map(|f| f.name.to_string()).collect();
    assert_eq!(fields, ["name", "age", "tags", "nick"]);
    let index = values_index(&store, instance, "echo-wide");
    let ty = instance.get_func(&mut store, &index).unwrap().ty(&store);
    let Some(Type::Flags(wide)) = ty.results().next() else { panic!("a flags result") };
    assert_eq!(wide.names().collect::<Vec<_>>(), ["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"]);
    let index = values_index(&store, instance, "echo-shape");
    let ty = instance.get_func(&mut store, &index).unwrap().ty(&store);
    let Some(Type::Variant(shape)) = ty.results().next() else { panic!("a variant result") };
    let cases: Vec<_> = shape.cases().map(|c| (c.name.to_string(), c.ty.is_some())).collect();
    let expected = [("circle", true), ("rect", true), ("label", true), ("empty", false)];
    assert_eq!(cases, expected.map(|(n, p)| (n.to_string(), p)));
}

#[test]
fn a_panic_traps_and_locks_the_instance_down() {
    let (mut store, instance) = exports_guest();
    assert_eq!(call(&mut store, instance, "bump", &[]), Val::U32(1));
    let boom = instance.get_typed_func::<(&str,), ()>(&mut store, "boom").unwrap();
    let err = boom.call(&mut store, ("now",)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached), "{err:#}");
    // Every later call into the instance is refused, at the root, in the interface, typed or not.
    let bump = root_func(&mut store, instance, "bump");
    let err = call_func(&mut store, bump, &[]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent), "{err:#}");
    assert_eq!(err.to_string(), "wasm trap: cannot enter component instance");
    let index = values_index(&store, instance, "echo-point");
    let echo = instance.get_func(&mut store, &index).unwrap();
    let err = call_func(&mut store, echo, &[point(1, 1)]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent), "{err:#}");
    let err = boom.call(&mut store, ("again",)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent), "{err:#}");
    // A new instance in the same store starts afresh.
    let engine = store.engine().clone();
    let other = Linker::new(&engine).instantiate(&mut store, &load(&engine, guests::EXPORTS)).unwrap();
    assert_eq!(call(&mut store, other, "bump", &[]), Val::U32(1));
}

/// The store's data for the `imports` guest: the calls the host functions saw, as text, in order.
type Calls = Vec<String>;

/// The host's entries for `lookup`.
fn entry(key: &str) -> Option<u32> {
    match key {
        "answer" => Some(42),
        "zero" => Some(0),
        _ => None,
    }
}

/// What `mix` makes of its scalars.
fn mix(a: bool, b: i8, c: u16, d: i64, e: f32, f: f64, g: char) -> f64 {
    f64::from(u8::from(a)) + f64::from(b) + f64::from(c) + d as f64 + f64::from(e) + f + f64::from(u32::from(g))
}

/// The calls the host functions saw since the last time, taken from the store.
fn take_calls(store: &mut Store<Calls>) -> Calls {
    std::mem::take(store.data_mut())
}

/// Records a call in the store's data.
fn record_call(store: &mut StoreContextMut<'_, Calls>, call: String) {
    store.data_mut().push(call);
}

/// A host `lookup` through `Val`s: the record type cannot be typed yet.
fn lookup_dynamic(mut store: StoreContextMut<'_, Calls>, params: &[Val], results: &mut [Val]) -> tenon::Result<()> {
    let [Val::String(key)] = params else { panic!("lookup params {params:?}") };
    record_call(&mut store, format!("lookup({key})"));
    results[0] = Val::Option(entry(key).map(|value| {
        Box::new(Val::Record(vec![
            ("key".to_string(), Val::String(key.clone())),
            ("value".to_string(), Val::U32(value)),
        ]))
    }));
    Ok(())
}

/// Calls every export of the `imports` guest and checks its results and the host calls each made.
fn exercise_imports_guest(store: &mut Store<Calls>, instance: Instance) {
    let run = instance.get_typed_func::<(&str,), (String,)>(&mut *store, "run").unwrap();
    assert_eq!(run.call(&mut *store, ("Ada",)).unwrap().0, "Hello, Ada! 42");
    assert_eq!(take_calls(store), ["log(run(Ada))", "greet(Ada)", "add(40, 2)"]);

    let total = instance.get_typed_func::<(&str,), (Result<u64, String>,)>(&mut *store, "total").unwrap();
    assert_eq!(total.call(&mut *store, ("4000000000,4000000000,1",)).unwrap().0, Ok(8_000_000_001));
    assert_eq!(
        take_calls(store),
        [
            "split(4000000000,4000000000,1, ',')",
            "parse(4000000000)",
            "parse(4000000000)",
            "parse(1)",
            "sum([4000000000, 4000000000, 1])"
        ]
    );
    assert_eq!(total.call(&mut *store, ("1,x,y",)).unwrap().0, Err("not a number: x".to_string()));
    assert_eq!(take_calls(store), ["split(1,x,y, ',')", "parse(1)", "parse(x)"]);

    let find = instance.get_func(&mut *store, "find").unwrap();
    assert_eq!(call_func(store, find, &[string("answer")]).unwrap(), Some(string("answer=42")));
    assert_eq!(call_func(store, find, &[string("nope")]).unwrap(), Some(string("nope missing")));
    assert_eq!(take_calls(store), ["lookup(answer)", "lookup(nope)"]);

    let divide = instance.get_typed_func::<(u32, u32), (String,)>(&mut *store, "divide").unwrap();
    assert_eq!(divide.call(&mut *store, (47, 5)).unwrap().0, "9 2");
    assert_eq!(take_calls(store), ["divmod(47, 5)"]);

    let letters = instance.get_typed_func::<(u32,), (String,)>(&mut *store, "letters").unwrap();
    assert_eq!(letters.call(&mut *store, (2,)).unwrap().0, "aa+bb+cc+dd+ee+ff+gg+hh+ii");
    assert_eq!(take_calls(store), ["join9(aa, bb, cc, dd, ee, ff, gg, hh, ii)"]);

    let mixed = instance.get_func(&mut *store, "mixed").unwrap();
    let expected = mix(true, -3, 500, -7_000_000_000, 1.5, 0.25, 'é');
    assert_eq!(call_func(store, mixed, &[]).unwrap(), Some(Val::Float64(expected)));
    assert_eq!(take_calls(store), ["mix(true, -3, 500, -7000000000, 1.5, 0.25, 'é')"]);
}

#[test]
fn imports_guest_with_func_wrap() {
    let engine = Engine::default();
    let component = load(&engine, guests::IMPORTS);
    let mut linker = Linker::<Calls>::new(&engine);
    let mut host = linker.instance(HOST).unwrap();
    host.func_wrap("log", |mut store, (msg,): (String,)| {
        record_call(&mut store, format!("log({msg})"));
        Ok(())
    })
    .unwrap();
    host.func_wrap("add", |mut store, (a, b): (u32, u32)| {
        record_call(&mut store, format!("add({a}, {b})"));
        Ok((a + b,))
    })
    .unwrap();
    host.func_wrap("greet", |mut store, (name,): (String,)| {
        record_call(&mut store, format!("greet({name})"));
        Ok((format!("Hello, {name}!"),))
    })
    .unwrap();
    host.func_wrap("split", |mut store, (s, sep): (String, char)| {
        record_call(&mut store, format!("split({s}, {sep:?})"));
        Ok((s.split(sep).map(str::to_string).collect::<Vec<_>>(),))
    })
    .unwrap();
    host.func_wrap("parse", |mut store, (s,): (String,)| {
        record_call(&mut store, format!("parse({s})"));
        Ok((s.parse::<u32>().map_err(|_| format!("not a number: {s}")),))
    })
    .unwrap();
    host.func_wrap("sum", |mut store, (xs,): (Vec<u32>,)| {
        record_call(&mut store, format!("sum({xs:?})"));
        Ok((xs.iter().map(|&x| u64::from(x)).sum::<u64>(),))
    })
    .unwrap();
    host.func_new("lookup", |store, _ty, params, results| lookup_dynamic(store, params, results)).unwrap();
    host.func_wrap("divmod", |mut store, (a, b): (u32, u32)| {
        record_call(&mut store, format!("divmod({a}, {b})"));
        Ok(((a / b, a % b),))
    })
    .unwrap();
    type Nine = (String, String, String, String, String, String, String, String, String);
    host.func_wrap("join9", |mut store, (a, b, c, d, e, f, g, h, i): Nine| {
        let all = [a, b, c, d, e, f, g, h, i];
        record_call(&mut store, format!("join9({})", all.join(", ")));
        Ok((all.join("+"),))
    })
    .unwrap();
    type Mix = (bool, i8, u16, i64, f32, f64, char);
    host.func_wrap("mix", |mut store, (a, b, c, d, e, f, g): Mix| {
        record_call(&mut store, format!("mix({a}, {b}, {c}, {d}, {e}, {f}, {g:?})"));
        Ok((mix(a, b, c, d, e, f, g),))
    })
    .unwrap();
    let mut store = Store::new(&engine, Calls::new());
    let instance = linker.instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{e:#}"));
    exercise_imports_guest(&mut store, instance);
}

/// The parameter of `params` at `i`, which must be a `Val::$case`.
macro_rules! param {
    ($params:expr, $i:expr, $case:ident) => {
        match &$params[$i] {
            Val::$case(v) => v.clone(),
            other => panic!("parameter {}: {other:?}", $i),
        }
    };
}

#[test]
fn imports_guest_with_func_new() {
    let engine = Engine::default();
    let component = load(&engine, guests::IMPORTS);
    let mut linker = Linker::<Calls>::new(&engine);
    let mut host = linker.instance(HOST).unwrap();
    host.func_new("log", |mut store, ty, params, results| {
        assert_eq!(
            ty.params().map(|(name, ty)| (name.to_string(), ty)).collect::<Vec<_>>(),
            [("msg".to_string(), Type::String)]
        );
        assert!(results.is_empty());
        record_call(&mut store, format!("log({})", param!(params, 0, String)));
        Ok(())
    })
    .unwrap();
    host.func_new("add", |mut store, _ty, params, results| {
        let (a, b) = (param!(params, 0, U32), param!(params, 1, U32));
        record_call(&mut store, format!("add({a}, {b})"));
        results[0] = Val::U32(a + b);
        Ok(())
    })
    .unwrap();
    host.func_new("greet", |mut store, _ty, params, results| {
        let name = param!(params, 0, String);
        record_call(&mut store, format!("greet({name})"));
        results[0] = Val::String(format!("Hello, {name}!"));
        Ok(())
    })
    .unwrap();
    host.func_new("split", |mut store, _ty, params, results| {
        let (s, sep) = (param!(params, 0, String), param!(params, 1, Char));
        record_call(&mut store, format!("split({s}, {sep:?})"));
        results[0] = list(s.split(sep).map(string));
        Ok(())
    })
    .unwrap();
    host.func_new("parse", |mut store, _ty, params, results| {
        let s = param!(params, 0, String);
        record_call(&mut store, format!("parse({s})"));
        results[0] = match s.parse::<u32>() {
            Ok(n) => ok(Val::U32(n)),
            Err(_) => err(Val::String(format!("not a number: {s}"))),
        };
        Ok(())
    })
    .unwrap();
    host.func_new("sum", |mut store, _ty, params, results| {
        let xs: Vec<u32> = param!(params, 0, List)
            .iter()
            .map(|x| match x {
                Val::U32(x) => *x,
                other => panic!("element {other:?}"),
            })
            .collect();
        record_call(&mut store, format!("sum({xs:?})"));
        results[0] = Val::U64(xs.iter().map(|&x| u64::from(x)).sum());
        Ok(())
    })
    .unwrap();
    host.func_new("lookup", |store, _ty, params, results| lookup_dynamic(store, params, results)).unwrap();
    host.func_new("divmod", |mut store, _ty, params, results| {
        let (a, b) = (param!(params, 0, U32), param!(params, 1, U32));
        record_call(&mut store, format!("divmod({a}, {b})"));
        results[0] = Val::Tuple(vec![Val::U32(a / b), Val::U32(a % b)]);
        Ok(())
    })
    .unwrap();
    host.func_new("join9", |mut store, _ty, params, results| {
        let all: Vec<String> = (0..9).map(|i| param!(params, i, String)).collect();
        record_call(&mut store, format!("join9({})", all.join(", ")));
        results[0] = Val::String(all.join("+"));
        Ok(())
    })
    .unwrap();
    host.func_new("mix", |mut store, _ty, params, results| {
        let (a, b, c, d) =
            (param!(params, 0, Bool), param!(params, 1, S8), param!(params, 2, U16), param!(params, 3, S64));
        let (e, f, g) = (param!(params, 4, Float32), param!(params, 5, Float64), param!(params, 6, Char));
        record_call(&mut store, format!("mix({a}, {b}, {c}, {d}, {e}, {f}, {g:?})"));
        results[0] = Val::Float64(mix(a, b, c, d, e, f, g));
        Ok(())
    })
    .unwrap();
    let mut store = Store::new(&engine, Calls::new());
    let instance = linker.instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{e:#}"));
    exercise_imports_guest(&mut store, instance);
}

#[test]
fn large_values_grow_the_guest_memory() {
    let (mut store, instance) = exports_guest();
    let s = &mut store;
    // Megabytes of arguments: the guest's allocator grows its memory while they are lowered.
    let bytes: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    let echo = instance.get_typed_func::<(&[u8],), (Vec<u8>,)>(&mut *s, "echo-bytes").unwrap();
    assert!(echo.call(&mut *s, (&bytes,)).unwrap().0 == bytes);
    let strings: Vec<String> = (0..20_000).map(|i| format!("string number {i} 😀")).collect();
    let echo = instance.get_typed_func::<(&[String],), (Vec<String>,)>(&mut *s, "echo-strings").unwrap();
    assert!(echo.call(&mut *s, (&strings,)).unwrap().0 == strings);
    let text = "héllo 😀 ".repeat(100_000);
    let reverse = instance.get_typed_func::<(&str,), (String,)>(&mut *s, "reverse").unwrap();
    assert_eq!(reverse.call(&mut *s, (&text,)).unwrap().0, text.chars().rev().collect::<String>());
    let people = list((0..2_000).map(|i| person(&format!("p{i}"), (i % 200) as u8, &["a", "b"], Some("n"))));
    assert_eq!(call_values(s, instance, "echo-people", std::slice::from_ref(&people)), people);
    let values = list((0..50_000u32).map(|i| Val::U8(i as u8)));
    assert_eq!(call(s, instance, "echo-bytes", std::slice::from_ref(&values)), values);
}

#[test]
fn large_values_to_and_from_the_host() {
    let engine = Engine::default();
    let component = load(&engine, guests::IMPORTS);
    let mut linker = Linker::<Calls>::new(&engine);
    let mut host = linker.instance(HOST).unwrap();
    host.func_wrap("split", |_store, (s, sep): (String, char)| {
        Ok((s.split(sep).map(str::to_string).collect::<Vec<_>>(),))
    })
    .unwrap();
    host.func_wrap("parse", |_store, (s,): (String,)| Ok((s.parse::<u32>().map_err(|e| e.to_string()),))).unwrap();
    host.func_wrap("sum", |_store, (xs,): (Vec<u32>,)| Ok((xs.iter().map(|&x| u64::from(x)).sum::<u64>(),))).unwrap();
    type Nine = (String, String, String, String, String, String, String, String, String);
    host.func_wrap("join9", |_store, (a, b, c, d, e, f, g, h, i): Nine| Ok(([a, b, c, d, e, f, g, h, i].concat(),)))
        .unwrap();
    for name in ["log", "add", "greet", "lookup", "divmod", "mix"] {
        host.func_new(name, |_, _, _, _| panic!("not called")).unwrap();
    }
    let mut store = Store::new(&engine, Calls::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    // 100,000 numbers: a long string to the host, a long list of strings back, a long list to the host.
    let csv = (0..100_000u32).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let total = instance.get_typed_func::<(&str,), (Result<u64, String>,)>(&mut store, "total").unwrap();
    assert_eq!(total.call(&mut store, (&csv,)).unwrap().0, Ok((0..100_000u64).sum()));
    let letters = instance.get_typed_func::<(u32,), (String,)>(&mut store, "letters").unwrap();
    let expected: String = "abcdefghi".chars().map(|c| c.to_string().repeat(200_000)).collect();
    assert_eq!(letters.call(&mut store, (200_000,)).unwrap().0, expected);
}

/// A linker for the `imports` guest whose `add` is `add`, whose `log` and `greet` record their calls, and
/// whose other functions are never called.
fn run_only_linker(
    engine: &Engine,
    log: impl Fn(StoreContextMut<'_, Calls>, (String,)) -> tenon::Result<()> + Send + Sync + 'static,
    add: impl Fn(StoreContextMut<'_, Calls>, &[Val], &mut [Val]) -> tenon::Result<()> + Send + Sync + 'static,
) -> Linker<Calls> {
    let mut linker = Linker::<Calls>::new(engine);
    let mut host = linker.instance(HOST).unwrap();
    host.func_wrap("log", log).unwrap();
    host.func_new("add", move |store, _ty, params, results| add(store, params, results)).unwrap();
    host.func_wrap("greet", |mut store, (name,): (String,)| {
        record_call(&mut store, format!("greet({name})"));
        Ok((name,))
    })
    .unwrap();
    for name in ["split", "parse", "sum", "lookup", "divmod", "join9", "mix"] {
        host.func_new(name, |_, _, _, _| panic!("not called")).unwrap();
    }
    linker
}

#[test]
fn the_guest_cannot_be_reentered_from_its_import() {
    let engine = Engine::default();
    let component = load(&engine, guests::IMPORTS);
    let instance_slot: Arc<Mutex<Option<Instance>>> = Arc::default();
    let slot = instance_slot.clone();
    let linker = run_only_linker(
        &engine,
        move |mut store, (msg,)| {
            // While the guest runs `run`, calling any of its exports is refused; the guest goes on.
            let instance = slot.lock().unwrap().expect("instantiated");
            let divide = instance.get_func(&mut store, "divide").unwrap();
            let err = divide.call(&mut store, &[Val::U32(1), Val::U32(1)], &mut [Val::Bool(false)]).unwrap_err();
            assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent), "{err:#}");
            record_call(&mut store, format!("log({msg}) refused"));
            Ok(())
        },
        |_store, _params, results| {
            results[0] = Val::U32(42);
            Ok(())
        },
    );
    let mut store = Store::new(&engine, Calls::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    *instance_slot.lock().unwrap() = Some(instance);
    let run = instance.get_typed_func::<(&str,), (String,)>(&mut store, "run").unwrap();
    for name in ["Ada", "Bob"] {
        assert_eq!(run.call(&mut store, (name,)).unwrap().0, format!("{name} 42"));
    }
    assert_eq!(*store.data(), ["log(run(Ada)) refused", "greet(Ada)", "log(run(Bob)) refused", "greet(Bob)"]);
}

#[test]
fn a_host_result_of_the_wrong_type_fails_the_guest_call() {
    let engine = Engine::default();
    let component = load(&engine, guests::IMPORTS);
    let cases: [(Option<Val>, &str); 3] = [
        (Some(Val::U64(42)), "expected u32, found u64"),
        (Some(Val::String("42".into())), "expected u32, found string"),
        // A slot left as the runtime filled it.
        (None, "expected u32, found bool"),
    ];
    for (result, message) in cases {
        let linker = run_only_linker(
            &engine,
            |_store, _msg| Ok(()),
            move |_store, _params, results| {
                if let Some(result) = &result {
                    results[0] = result.clone();
                }
                Ok(())
            },
        );
        let mut store = Store::new(&engine, Calls::new());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let run = instance.get_typed_func::<(&str,), (String,)>(&mut store, "run").unwrap();
        let err = run.call(&mut store, ("Ada",)).unwrap_err();
        let expected = format!("`tenon:guest/host#add` result from the host: type mismatch: {message}");
        assert!(format!("{err:#}").contains(&expected), "`{expected}` not in `{err:#}`");
        let err = run.call(&mut store, ("Ada",)).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent), "{err:#}");
    }
}

#[test]
fn a_host_error_fails_the_guest_call_and_locks_the_instance_down() {
    let engine = Engine::default();
    let component = load(&engine, guests::IMPORTS);
    let linker = run_only_linker(
        &engine,
        |_store, _msg| Ok(()),
        |_store, _params, _results| Err(tenon::Error::msg("the host refuses to add")),
    );
    let mut store = Store::new(&engine, Calls::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance.get_typed_func::<(&str,), (String,)>(&mut store, "run").unwrap();
    let err = run.call(&mut store, ("Ada",)).unwrap_err();
    assert!(format!("{err:#}").contains("the host refuses to add"), "{err:#}");
    let err = run.call(&mut store, ("Ada",)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent), "{err:#}");
    assert_eq!(*store.data(), ["greet(Ada)"]);
}

/// `tenon run` on the exporting guest: WAVE in, WAVE out, at the root and in the exported interface.
#[test]
fn tenon_run_calls_the_guest_in_wave() {
    let run = |call: &str| {
        let options = tenon_cli::run::RunOptions::default();
        tenon_cli::run::run(std::path::Path::new(guests::EXPORTS), Some(call), &[], &options)
            .unwrap_or_else(|e| panic!("{call}: {e:#}"))
    };
    assert_eq!(run("add(40, 2)"), ["42"]);
    assert_eq!(run(r#"reverse("héllo")"#), [r#""olléh""#]);
    assert_eq!(run("divmod(7, 2)"), ["ok((3, 1))"]);
    assert_eq!(run("divmod(7, 0)"), [r#"err("cannot divide 7 by zero")"#]);
    assert_eq!(run(r#"split("a,b", ',')"#), [r#"some(["a", "b"])"#]);
    assert_eq!(run("tenon:guest/values.echo-point({x: 1, y: -2})"), ["{x: 1, y: -2}"]);
    assert_eq!(run("tenon:guest/values.echo-shape(label(\"hi\"))"), [r#"label("hi")"#]);
    assert_eq!(run("echo-shape(empty)"), ["empty"]);
    let err = tenon_cli::run::run(std::path::Path::new(guests::EXPORTS), Some(r#"boom("no")"#), &[], &Default::default()).unwrap_err();
    assert_eq!(err.downcast_ref::<tenon::Trap>(), Some(&tenon::Trap::UnreachableCodeReached), "{err:#}");
}
