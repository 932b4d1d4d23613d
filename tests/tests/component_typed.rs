//! Typed component calls: `TypedFunc` and `func_wrap` with Rust values of every supported type, checked
//! once against the component's types, through flat values and through memory.

use std::sync::Arc;
use tenon::component::{Component, Linker, TypedFunc};
use tenon::{Engine, Store, Trap};
use tenon_tests::component::{LIBC, OPTIONS, echo_component};


/// Round-trips `values` of Rust type `V` through [`echo_component`], with a typed host function and a
/// `TypedFunc`.
fn round_trip<V>(types: &str, params: &[&str], result: Option<&str>, values: &[V])
where
    V: tenon::component::Lift + tenon::component::Lower + tenon::component::ComponentType + Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static,
{
    let engine = Engine::default();
    let component = Component::new(&engine, echo_component(types, params, result, "")).unwrap();
    let mut linker = Linker::new(&engine);
    linker.root().func_wrap("host-echo", |_store, (x,): (V,)| Ok((x,))).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo: TypedFunc<(V,), (V,)> = instance.get_typed_func(&mut store, "echo").unwrap();
    for value in values {
        let (back,) = echo.call(&mut store, (value.clone(),)).unwrap_or_else(|e| panic!("echo {value:?}: {e:?}"));
        assert_eq!(&back, value);
    }
}

#[test]
fn every_supported_type_round_trips() {
    round_trip("(type $t u8)", &["i32"], Some("i32"), &[0u8, 255]);
    round_trip("(type $t s16)", &["i32"], Some("i32"), &[i16::MIN, -1, 7]);
    round_trip("(type $t u64)", &["i64"], Some("i64"), &[u64::MAX]);
    round_trip("(type $t s64)", &["i64"], Some("i64"), &[i64::MIN]);
    round_trip("(type $t f32)", &["f32"], Some("f32"), &[1.5f32, -0.0, f32::INFINITY]);
    round_trip("(type $t f64)", &["f64"], Some("f64"), &[2.25f64]);
    round_trip("(type $t bool)", &["i32"], Some("i32"), &[true, false]);
    round_trip("(type $t char)", &["i32"], Some("i32"), &['x', '😀']);
    round_trip("(type $t string)", &["i32", "i32"], None, &["".to_string(), "héllo 😀".to_string()]);
    round_trip("(type $t string)", &["i32", "i32"], None, &[Box::<str>::from("boxed")]);
    round_trip("(type $t string)", &["i32", "i32"], None, &[Arc::<str>::from("shared")]);
    round_trip("(type $t (list u32))", &["i32", "i32"], None, &[vec![], vec![1u32, 2, u32::MAX]]);
    round_trip("(type $t (list u8))", &["i32", "i32"], None, &[(0..=255).collect::<Vec<u8>>()]);
    round_trip("(type $t (list string))", &["i32", "i32"], None, &[vec!["a".to_string(), "bc".to_string()]]);
    round_trip("(type $t (list (list s8)))", &["i32", "i32"], None, &[vec![vec![-1i8, 2], vec![]]]);
    round_trip("(type $t (list f64))", &["i32", "i32"], None, &[Box::<[f64]>::from(vec![1.0, -2.5])]);
    round_trip("(type $t (option string))", &["i32", "i32", "i32"], None, &[None, Some("x".to_string())]);
    round_trip("(type $t (option u8))", &["i32", "i32"], None, &[None, Some(9u8)]);
    round_trip(
        "(type $t (result u32 (error string)))",
        &["i32", "i32", "i32"],
        None,
        &[Ok::<u32, String>(5), Err("bad".to_string())],
    );
    round_trip("(type $t (result (error u8)))", &["i32", "i32"], None, &[Ok::<(), u8>(()), Err(3)]);
    round_trip("(type $t (result))", &["i32"], Some("i32"), &[Ok::<(), ()>(()), Err(())]);
    round_trip(
        "(type $t (tuple u8 string (list u16)))",
        &["i32", "i32", "i32", "i32", "i32"],
        None,
        &[(1u8, "two".to_string(), vec![3u16, 4])],
    );
    round_trip(
        "(type $t (option (tuple f32 u64)))",
        &["i32", "f32", "i64"],
        None,
        &[None, Some((0.5f32, u64::MAX))],
    );
}

#[test]
fn arguments_lower_from_references_and_smart_pointers() {
    let engine = Engine::default();
    let component = Component::new(&engine, echo_component("(type $t (list u8))", &["i32", "i32"], None, "")).unwrap();
    let mut linker = Linker::new(&engine);
    linker.root().func_wrap("host-echo", |_store, (x,): (Vec<u8>,)| Ok((x,))).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let bytes: std::rc::Rc<Arc<[u8]>> = std::rc::Rc::new(Arc::from(&b"abc"[..]));
    let echo = instance.get_typed_func::<(&std::rc::Rc<Arc<[u8]>>,), (Vec<u8>,)>(&mut store, "echo").unwrap();
    assert_eq!(echo.call(&mut store, (&bytes,)).unwrap().0, b"abc");
    let echo = instance.get_typed_func::<(&[u8],), (Vec<u8>,)>(&mut store, "echo").unwrap();
    assert_eq!(echo.call(&mut store, (&b"xyz"[..],)).unwrap().0, b"xyz");
}

#[test]
fn types_are_checked_once_with_clear_errors() {
    let engine = Engine::default();
    let component = Component::new(&engine, echo_component("(type $t string)", &["i32", "i32"], None, "")).unwrap();
    // A host function of the wrong type is refused when the instance is prepared.
    let mut linker: Linker<()> = Linker::new(&engine);
    linker.root().func_wrap("host-echo", |_store, (x,): (u32,)| Ok((x,))).unwrap();
    let err = linker.instantiate_pre(&component).err().unwrap();
    assert_eq!(format!("{err:#}"), "import `host-echo` has the wrong type: expected func(x: string) -> string, found `fn((u32,)) -> (u32,)`: the parameters do not match: type mismatch: `u32` is not the component type string");
    let mut linker = Linker::new(&engine);
    linker.root().func_wrap("host-echo", |_store, (x,): (String,)| Ok((x,))).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let err = instance.get_typed_func::<(u32,), (String,)>(&mut store, "echo").err().unwrap();
    assert_eq!(format!("{err:#}"), "the parameters do not match: type mismatch: `u32` is not the component type string");
    let err = instance.get_typed_func::<(String,), ()>(&mut store, "echo").err().unwrap();
    assert_eq!(format!("{err:#}"), "the results do not match: type mismatch: expected no values, the function has 1");
    let err = instance.get_typed_func::<(String,), (String,)>(&mut store, "missing").err().unwrap();
    assert_eq!(format!("{err:#}"), "failed to find function export");
}

/// Nine strings are 18 flat values: they go through memory, a tuple the guest reads.
#[test]
fn many_parameters_go_through_memory_and_a_trap_locks_down() {
    let params: String = (0..9).map(|i| format!(r#"(param "p{i}" string)"#)).collect();
    let wat = format!(
        r#"(component
          {LIBC}
          (core module $m
            (import "libc" "memory" (memory 1))
            ;; The total length of the nine strings of the tuple at $ptr.
            (func (export "total") (param $ptr i32) (result i32)
              (local $i i32) (local $sum i32)
              (block $done (loop $next
                (br_if $done (i32.eq (local.get $i) (i32.const 9)))
                (local.set $sum (i32.add (local.get $sum)
                  (i32.load (i32.add (local.get $ptr) (i32.add (i32.mul (local.get $i) (i32.const 8)) (i32.const 4))))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
              (local.get $sum))
            (func (export "boom") unreachable))
          (core instance $i (instantiate $m (with "libc" (instance $libc))))
          (func (export "total") {params} (result u32) (canon lift (core func $i "total") {OPTIONS}))
          (func (export "boom") (canon lift (core func $i "boom"))))"#
    );
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    type Nine<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str);
    let total = instance.get_typed_func::<Nine<'_>, (u32,)>(&mut store, "total").unwrap();
    let (n,) = total.call(&mut store, ("a", "bb", "ccc", "", "é", "ff", "g", "hh", "iii")).unwrap();
    // Lengths in UTF-8 bytes ("é" is two).
    assert_eq!(n, [1, 2, 3, 0, 2, 2, 1, 2, 3].iter().sum::<u32>());
    let boom = instance.get_typed_func::<(), ()>(&mut store, "boom").unwrap();
    let err = boom.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached));
    let err = total.call(&mut store, ("", "", "", "", "", "", "", "", "")).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent));
}

/// A host function given the guest's string and list as lazy views reads them in place, in every string
/// encoding, and in-place number slices see the guest's bytes.
#[test]
fn host_functions_read_guest_strings_and_lists_lazily() {
    use tenon::component::{WasmList, WasmStr};
    let engine = Engine::default();
    for encoding in ["", "string-encoding=utf16", "string-encoding=latin1+utf16"] {
        let component = Component::new(&engine, echo_component("(type $t string)", &["i32", "i32"], None, encoding)).unwrap();
        let mut linker = Linker::new(&engine);
        linker
            .root()
            .func_wrap("host-echo", |store, (s,): (WasmStr,)| {
                let text = s.to_str(&store)?;
                Ok((text.to_uppercase(),))
            })
            .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let echo = instance.get_typed_func::<(&str,), (String,)>(&mut store, "echo").unwrap();
        assert_eq!(echo.call(&mut store, ("grüße, 世界",)).unwrap().0, "GRÜSSE, 世界", "{encoding}");
    }

    let component = Component::new(&engine, echo_component("(type $t (list u32))", &["i32", "i32"], None, "")).unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .root()
        .func_wrap("host-echo", |mut store, (list,): (WasmList<u32>,)| {
            assert_eq!(list.len(), 4);
            assert_eq!(list.as_le_slice(&store), &[1, 2, 3, 4]);
            assert_eq!(list.get(&mut store, 3).unwrap().unwrap(), 4);
            assert!(list.get(&mut store, 4).is_none());
            let doubled: Vec<u32> = list.iter(&mut store).map(|x| x.map(|x| x * 2)).collect::<tenon::Result<_>>()?;
            Ok((doubled,))
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance.get_typed_func::<(&[u32],), (Vec<u32>,)>(&mut store, "echo").unwrap();
    assert_eq!(echo.call(&mut store, (&[1, 2, 3, 4],)).unwrap().0, vec![2, 4, 6, 8]);

    // Elements are lifted (and checked) one by one as they are read.
    let component = Component::new(&engine, echo_component("(type $t (list char))", &["i32", "i32"], None, "")).unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .root()
        .func_wrap("host-echo", |mut store, (list,): (WasmList<char>,)| {
            let chars: Vec<tenon::Result<char>> = list.iter(&mut store).collect();
            assert_eq!(chars.len(), 2);
            assert_eq!(*chars[0].as_ref().unwrap(), 'a');
            Ok((vec!['z'],))
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance.get_typed_func::<(&[char],), (Vec<char>,)>(&mut store, "echo").unwrap();
    assert_eq!(echo.call(&mut store, (&['a', 'b'],)).unwrap().0, vec!['z']);
}

/// `component_type` lists imports and exports with their types; `get_export` finds them in instances.
#[test]
fn component_types_describe_imports_and_exports() {
    use tenon::component::types::{ComponentItem, Type};
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
          (type $point (record (field "x" s32) (field "y" s32)))
          (import "log" (func $log (param "msg" string)))
          (import "api" (instance (export "get" (func (result u32)))))
          (core module $m (func (export "f") (param i32) (result i32) local.get 0))
          (core instance $i (instantiate $m))
          (func $f (param "x" u32) (result u32) (canon lift (core func $i "f")))
          (instance $inner (export "f" (func $f)))
          (export "point" (type $point))
          (export "f" (func $f))
          (export "inner" (instance $inner))
          (export "m" (core module $m)))"#,
    )
    .unwrap();
    let ty = component.component_type();
    let imports: Vec<_> = ty.imports(&engine).map(|(name, _)| name).collect();
    assert_eq!(imports, ["log", "api"]);
    let Some(ComponentItem::ComponentFunc(log)) = ty.get_import(&engine, "log").map(|e| e.ty) else { panic!("log is a function") };
    assert_eq!(log.params().map(|(n, t)| (n.to_string(), t)).collect::<Vec<_>>(), [("msg".to_string(), Type::String)]);
    let Some(ComponentItem::ComponentInstance(api)) = ty.get_import(&engine, "api").map(|e| e.ty) else { panic!("api is an instance") };
    let Some(ComponentItem::ComponentFunc(get)) = api.get_export(&engine, "get").map(|e| e.ty) else { panic!("get is a function") };
    assert_eq!(get.results().collect::<Vec<_>>(), [Type::U32]);

    let exports: Vec<_> = ty.exports(&engine).map(|(name, _)| name).collect();
    assert_eq!(exports, ["point", "f", "inner", "m"]);
    let Some(ComponentItem::Type(Type::Record(point))) = ty.get_export(&engine, "point").map(|e| e.ty) else { panic!("point is a record") };
    assert_eq!(point.fields().map(|f| f.name).collect::<Vec<_>>(), ["x", "y"]);
    assert_eq!(ty.get_export(&engine, "m").map(|e| e.ty), Some(ComponentItem::Module));
    assert_eq!(ty.get_export(&engine, "missing"), None);
    // Indices come from the component too, and name the same export in every instance.
    let (item, by_component) = component.get_export(None, "f").unwrap();
    assert!(matches!(item, ComponentItem::ComponentFunc(_)));

    // The same through an instance, with indices.
    let mut linker: Linker<()> = Linker::new(&engine);
    linker.root().func_new("log", |_, _, _, _| Ok(())).unwrap();
    linker.instance("api").unwrap().func_new("get", |_, _, _, _| Ok(())).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let f_at_root = instance.get_typed_func::<(u32,), (u32,)>(&mut store, &by_component).unwrap();
    assert_eq!(f_at_root.call(&mut store, (3,)).unwrap(), (3,));
    let (item, inner) = instance.get_export(&store, None, "inner").unwrap();
    assert!(matches!(item, ComponentItem::ComponentInstance(_)));
    let (item, f) = instance.get_export(&store, Some(&inner), "f").unwrap();
    let ComponentItem::ComponentFunc(f_ty) = item else { panic!("f is a function") };
    assert_eq!(f_ty.results().collect::<Vec<_>>(), [Type::U32]);
    let f = instance.get_typed_func::<(u32,), (u32,)>(&mut store, &f).unwrap();
    assert_eq!(f.call(&mut store, (7,)).unwrap(), (7,));
    assert!(instance.get_export(&store, Some(&inner), "g").is_none());
    // Types print as WIT.
    assert_eq!(point.fields().map(|f| f.ty.to_string()).collect::<Vec<_>>(), ["s32", "s32"]);
    assert_eq!(Type::Record(point).to_string(), "record { x: s32, y: s32 }");
    assert_eq!(log.to_string(), "func(msg: string)");
    assert_eq!(get.to_string(), "func() -> u32");
}
