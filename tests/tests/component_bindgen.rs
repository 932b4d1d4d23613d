//! `bindgen!` on the real guests' WIT (`tests/guests/wit`): the `exports` world called through the generated
//! `call_*` methods (root functions and the `tenon:guest/values` interface, with generated records, variants,
//! enums and flags), and the `imports` world's host interface implemented through the generated `Host` trait,
//! its calls traced.

use tenon::component::{Component, HasSelf, Linker};
use tenon::{Engine, Store};
use tenon_tests::guests;

mod exports_world {
    ::tenon::component::bindgen!({ path: "guests/wit", world: "exports" });
}

mod imports_world {
    ::tenon::component::bindgen!({
        path: "guests/wit",
        world: "imports",
        additional_derives: [PartialEq],
        // Traced (see `traced_calls_log_spans_and_events`); `sum` shows its list argument too.
        imports: { default: tracing, "tenon:guest/host.sum": verbose_tracing },
        exports: { default: tracing },
    });
}

use exports_world::exports::tenon::guest::values::{Color, Perms, Person, Point, Shape};

#[test]
fn exports_are_called_through_generated_methods() {
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::EXPORTS).unwrap();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let guest = exports_world::Exports::instantiate(&mut store, &component, &linker).unwrap();

    assert_eq!(guest.call_add(&mut store, 40, 2).unwrap(), 42);
    assert_eq!(guest.call_reverse(&mut store, "abc").unwrap(), "cba");
    assert_eq!(guest.call_echo_strings(&mut store, &["a".to_string(), "b".to_string()]).unwrap(), ["a", "b"]);
    assert_eq!(guest.call_echo_option_string(&mut store, Some("x")).unwrap(), Some("x".to_string()));
    assert_eq!(guest.call_divmod(&mut store, 7, 2).unwrap(), Ok((3, 1)));
    assert_eq!(guest.call_check_even(&mut store, 3).unwrap(), Err(()));
    assert!(guest.call_validate_name(&mut store, "").unwrap().is_err());
    assert_eq!(guest.call_sum17(&mut store, 1, -1, 2, -2, 3, -3, 4, -4, 0.5, 0.25, 1, 1, 1, 1, 1, 1, 1).unwrap(), 7.75);
    assert_eq!(guest.call_bump(&mut store).unwrap(), 1);
    guest.call_nothing(&mut store).unwrap();

    let values = guest.tenon_guest_values();
    let p = Point { x: 1, y: 2 };
    let moved = values.call_translate(&mut store, p, 10, 20).unwrap();
    assert_eq!((moved.x, moved.y), (11, 22));
    let ada = Person { name: "Ada".into(), age: 36, tags: vec!["math".into()], nick: None };
    assert_eq!(values.call_birthday(&mut store, &ada).unwrap().age, 37);
    assert!(matches!(values.call_echo_shape(&mut store, &Shape::Label("hi".into())).unwrap(), Shape::Label(s) if s == "hi"));
    assert_eq!(values.call_area(&mut store, &Shape::Rect(Point { x: 2, y: 3 })).unwrap(), 6.0);
    assert_eq!(values.call_next_color(&mut store, Color::Yellow).unwrap(), Color::Red);
    assert_eq!(values.call_invert_perms(&mut store, Perms::READ).unwrap(), Perms::WRITE | Perms::EXEC);

    let err = guest.call_boom(&mut store, "no").unwrap_err();
    assert_eq!(err.downcast_ref::<tenon::Trap>(), Some(&tenon::Trap::UnreachableCodeReached));
}

/// The host side of the `imports` world: what the guest's calls did.
#[derive(Default)]
struct Host {
    logged: Vec<String>,
}

impl imports_world::tenon::guest::host::Host for Host {
    fn log(&mut self, msg: String) {
        self.logged.push(msg);
    }
    fn add(&mut self, a: u32, b: u32) -> u32 {
        a + b
    }
    fn greet(&mut self, name: String) -> String {
        format!("hello, {name}")
    }
    fn split(&mut self, s: String, sep: char) -> Vec<String> {
        s.split(sep).map(str::to_string).collect()
    }
    fn parse(&mut self, s: String) -> Result<u32, String> {
        s.parse().map_err(|e| format!("{s}: {e}"))
    }
    fn sum(&mut self, xs: Vec<u32>) -> u64 {
        xs.iter().map(|&x| x as u64).sum()
    }
    fn lookup(&mut self, key: String) -> Option<imports_world::tenon::guest::host::Entry> {
        (key == "answer").then_some(imports_world::tenon::guest::host::Entry { key, value: 42 })
    }
    fn divmod(&mut self, a: u32, b: u32) -> (u32, u32) {
        (a / b, a % b)
    }
    #[allow(clippy::too_many_arguments)]
    fn join9(&mut self, a: String, b: String, c: String, d: String, e: String, f: String, g: String, h: String, i: String) -> String {
        [a, b, c, d, e, f, g, h, i].concat()
    }
    fn mix(&mut self, a: bool, b: i8, c: u16, d: i64, e: f32, f: f64, g: char) -> f64 {
        a as u8 as f64 + b as f64 + c as f64 + d as f64 + e as f64 + f + g as u32 as f64
    }
}

/// The `imports` guest instantiated with the generated `add_to_linker` over `Host`.
fn imports_guest() -> (Store<Host>, imports_world::Imports) {
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::IMPORTS).unwrap();
    let mut linker: Linker<Host> = Linker::new(&engine);
    imports_world::Imports::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |host| host).unwrap();
    let mut store = Store::new(&engine, Host::default());
    let guest = imports_world::Imports::instantiate(&mut store, &component, &linker).unwrap();
    (store, guest)
}

#[test]
fn imports_are_implemented_through_the_generated_host_trait() {
    let (mut store, guest) = imports_guest();

    assert_eq!(guest.call_run(&mut store, "you").unwrap(), "hello, you 42");
    assert_eq!(store.data().logged, ["run(you)"]);
    assert_eq!(guest.call_total(&mut store, "1,2,3").unwrap(), Ok(6));
    assert!(guest.call_total(&mut store, "1,x").unwrap().is_err());
    assert_eq!(guest.call_find(&mut store, "answer").unwrap(), "answer=42");
    assert_eq!(guest.call_find(&mut store, "question").unwrap(), "question missing");
    assert_eq!(guest.call_divide(&mut store, 7, 2).unwrap(), "3 1");
    assert_eq!(guest.call_letters(&mut store, 2).unwrap(), "aabbccddeeffgghhii");
}

/// The generated pieces used one by one: `<World>Pre` from an `InstancePre`, then several instances.
#[test]
fn pre_instantiates_many_times() {
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::EXPORTS).unwrap();
    let linker: Linker<()> = Linker::new(&engine);
    let pre = exports_world::ExportsPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    for _ in 0..3 {
        let guest = pre.instantiate(&mut store).unwrap();
        assert_eq!(guest.call_bump(&mut store).unwrap(), 1, "each instance counts from its own start");
    }
    assert!(tenon::Engine::same(pre.engine(), &engine));
    // The world's exports from an instance made without the bindings (through `Instance::instance_pre`).
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let guest = exports_world::Exports::new(&mut store, &instance).unwrap();
    assert_eq!(guest.call_add(&mut store, 2, 3).unwrap(), 5);
    // The typed function behind a `call_*` method, as Wasmtime's `func_*` accessors give it.
    assert_eq!(guest.func_add().call(&mut store, (4, 5)).unwrap(), (9,));
    assert_eq!(guest.func_reverse().call(&mut store, ("abc",)).unwrap(), ("cba".to_string(),));
    assert_eq!(guest.tenon_guest_values().func_next_color().call(&mut store, (Color::Red,)).unwrap(), (Color::Green,));
    assert!(tenon::Engine::same(instance.instance_pre(&store).engine(), &engine));
}

/// What a `tracing` subscriber saw: a line per span (`span NAME fields`) and per event (`event fields`).
#[derive(Clone, Default)]
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

/// The fields of a span or event as `name=value` text.
#[derive(Default)]
struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(&format!("{}={value:?}", field.name()));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = Fields::default();
        span.record(&mut fields);
        let mut lines = self.0.lock().unwrap();
        lines.push(format!("span {} {}", span.metadata().name(), fields.0));
        tracing::span::Id::from_u64(lines.len() as u64)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0.lock().unwrap().push(format!("event {}", fields.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// `imports: { default: tracing }` and `exports: { default: tracing }`: each call runs in a span naming the
/// interface and function; imports log their arguments and result, lists as `"..."` unless the function's
/// own entry asks for `verbose_tracing` (which replaces the default for it).
#[test]
fn traced_calls_log_spans_and_events() {
    let (mut store, guest) = imports_guest();

    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        assert_eq!(guest.call_total(&mut store, "1,2").unwrap(), Ok(3));
    });
    let lines = recorder.0.lock().unwrap().clone();
    let import = |f: &str| format!("span wit-bindgen import module=\"tenon:guest/host\" function=\"{f}\"");
    assert_eq!(
        lines,
        [
            "span wit-bindgen export module=\"default\" function=\"total\"".to_string(),
            import("split"),
            "event message=call s=\"1,2\" sep=','".into(),
            "event message=return result=\"...\"".into(),
            import("parse"),
            "event message=call s=\"1\"".into(),
            "event message=return result=Ok(1)".into(),
            import("parse"),
            "event message=call s=\"2\"".into(),
            "event message=return result=Ok(2)".into(),
            import("sum"),
            "event message=call xs=[1, 2]".into(),
            "event message=return result=3".into(),
        ]
    );
}

mod borrowing_world {
    ::tenon::component::bindgen!({ path: "guests/wit", world: "exports", ownership: Borrowing { duplicate_if_necessary: true } });
}

/// `ownership: Borrowing { duplicate_if_necessary: true }`: arguments into the guest borrow their strings and
/// lists (`PersonParam<'a>`), results own theirs (`PersonResult`), as with Wasmtime.
#[test]
fn borrowing_types_pass_borrowed_data_to_the_guest() {
    use borrowing_world::exports::tenon::guest::values::{PersonParam, PersonResult, ShapeParam, ShapeResult};
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::EXPORTS).unwrap();
    let mut store = Store::new(&engine, ());
    let guest = borrowing_world::Exports::instantiate(&mut store, &component, &Linker::new(&engine)).unwrap();
    let values = guest.tenon_guest_values();
    let name = String::from("Ada");
    let ada = PersonParam { name: &name, age: 36, tags: &["math", "engines"], nick: Some("countess") };
    let older: PersonResult = values.call_birthday(&mut store, ada.clone()).unwrap();
    assert_eq!((older.name.as_str(), older.age, older.tags.join(","), older.nick.as_deref()), ("Ada", 37, "math,engines,older".into(), Some("countess")));
    let people = values.call_echo_people(&mut store, &[ada.clone(), PersonParam { name: "Bo", age: 5, tags: &[], nick: None }]).unwrap();
    assert_eq!(people.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Ada", "Bo"]);
    assert!(matches!(values.call_echo_shape(&mut store, ShapeParam::Label("hi")).unwrap(), ShapeResult::Label(s) if s == "hi"));
    assert_eq!(values.func_echo_person().call(&mut store, (ada,)).unwrap().0.name, "Ada");
}

/// The `store` check of api-compat (the same code runs against Wasmtime 48 there).
mod shared {
    use tenon as rt;
    include!("../../benches/benches/api_compat/store.rs");
}

/// `imports: { "ns:pkg/iface.f": store }`: the function is an associated function of `HostWithStore<T>`,
/// given an `Access` to the store and the host data, as in Wasmtime.
#[test]
fn store_functions_get_the_store_and_the_host_data() {
    assert_eq!(shared::store::store_functions().unwrap(), 3);
}
