// Host code written once against the code `bindgen!` generates, with Tenon's and with Wasmtime 48's macro
// (`rt::component::bindgen!`). `api-compat.rs` includes this file twice: it compiles against both, which
// checks every generated name and signature it uses (types, `Host` traits, `add_to_linker`, the world's
// `instantiate` and accessors, `call_*` parameters and results), and the greeter runs the same on both.

use rt::component::{Component, HasSelf, Linker};
use rt::{Engine, Store};

mod greeter {
    super::rt::component::bindgen!({ path: "../examples/greeter/wit", world: "greeter" });
}

// Wasmtime's `call_*` methods for functions of many parameters draw clippy's `too_many_arguments`.
#[allow(clippy::too_many_arguments)]
mod guest_exports {
    super::rt::component::bindgen!({ path: "../tests/guests/wit", world: "exports" });
}

mod guest_resources {
    super::rt::component::bindgen!({ path: "../tests/guests/wit", world: "resources" });
}

/// A resource the guest exports, through the generated `GuestCounter` (compiled only: the signatures are what
/// is checked; Tenon's tests run it on the guest).
#[allow(dead_code)]
fn guest_resource_calls(store: &mut Store<()>, world: &guest_resources::Resources) -> rt::Result<()> {
    use guest_resources::exports::tenon::guest::counters::Counter;
    let counters = world.tenon_guest_counters();
    let a: Counter = counters.counter().call_constructor(&mut *store, 1)?;
    let b: rt::component::ResourceAny = counters.counter().call_next(&mut *store, a)?;
    counters.counter().call_increment(&mut *store, a, 2)?;
    let _: u32 = counters.counter().call_get(&mut *store, a)?;
    let _: u32 = counters.counter().call_sum(&mut *store, a, b)?;
    let _: (u32,) = counters.counter().func_get().call(&mut *store, (a,))?;
    let _: u32 = counters.call_consume(&mut *store, b)?;
    let _: u32 = counters.call_dropped(&mut *store)?;
    a.resource_drop(&mut *store)
}

mod guest_imports {
    super::rt::component::bindgen!({ path: "../tests/guests/wit", world: "imports" });
}

/// The greeter's host: how many greetings it handed out, what the guest logged.
#[derive(Default)]
pub struct GreeterHost {
    greeted: u32,
    logged: Vec<String>,
}

impl greeter::example::greeter::host::Host for GreeterHost {
    fn log(&mut self, msg: String) {
        self.logged.push(msg);
    }
    fn greeted(&mut self) -> u32 {
        self.greeted
    }
}

/// Runs the greeter component through its generated bindings; the number of checks that passed.
pub fn run_bindings() -> rt::Result<usize> {
    use greeter::exports::example::greeter::greetings::Style;
    let engine = Engine::default();
    let component = Component::from_file(&engine, concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/greeter/greeter.wasm"))?;
    let mut linker = Linker::new(&engine);
    greeter::Greeter::add_to_linker::<GreeterHost, HasSelf<GreeterHost>>(&mut linker, |host| host)?;
    let mut store = Store::new(&engine, GreeterHost::default());
    let instance = greeter::Greeter::instantiate(&mut store, &component, &linker)?;
    let mut checks = 0;
    for (name, style, number) in [("world", Style::Plain, 1), ("you", Style::Loud, 2)] {
        let greeting = instance.example_greeter_greetings().call_greet(&mut store, name, style)?;
        assert_eq!(greeting.number, number);
        assert!(greeting.text.to_lowercase().contains(name), "{}", greeting.text);
        store.data_mut().greeted = greeting.number;
        checks += 1;
    }
    assert!(!store.data().logged.is_empty());
    let pre = greeter::GreeterPre::new(linker.instantiate_pre(&component)?)?;
    let _: &Engine = pre.engine();
    let _: &rt::component::InstancePre<GreeterHost> = pre.instance_pre();
    let again = pre.instantiate(&mut store)?;
    // The world's exports from an instance made without the bindings.
    let instance = linker.instantiate(&mut store, &component)?;
    let indices = greeter::GreeterIndices::new(pre.instance_pre())?;
    let loaded = indices.load(&mut store, &instance)?;
    let _ = greeter::Greeter::new(&mut store, &instance)?;
    let _ = loaded.example_greeter_greetings();
    let guest_indices = greeter::exports::example::greeter::greetings::GuestIndices::new(pre.instance_pre())?;
    let _ = guest_indices.load(&mut store, &instance)?;
    let expected = store.data().greeted + 1;
    assert_eq!(again.example_greeter_greetings().call_greet(&mut store, "pre", Style::Plain)?.number, expected);
    Ok(checks + 2 + error_types() + store::store_functions()?)
}

/// Every export of the guests' `exports` world called through the generated methods (compiled only: the
/// signatures are what is checked).
#[allow(dead_code)]
fn exports_world_calls(store: &mut Store<()>, world: &guest_exports::Exports) -> rt::Result<()> {
    use guest_exports::exports::tenon::guest::values::{Color, Perms, Person, Point, Shape, Stats, Wide};
    let _: u32 = world.call_add(&mut *store, 1, 2)?;
    let _: String = world.call_reverse(&mut *store, "abc")?;
    let _: (String,) = world.func_reverse().call(&mut *store, ("abc",))?;
    let _: (Person,) = world.tenon_guest_values().func_birthday().call(&mut *store, (&Person { name: "A".into(), age: 1, tags: vec![], nick: None },))?;
    let _: bool = world.call_echo_bool(&mut *store, true)?;
    let _: (i8, u8, i16, u16) = (
        world.call_echo_s8(&mut *store, -1)?,
        world.call_echo_u8(&mut *store, 1)?,
        world.call_echo_s16(&mut *store, -1)?,
        world.call_echo_u16(&mut *store, 1)?,
    );
    let _: (i32, u32, i64, u64) = (
        world.call_echo_s32(&mut *store, -1)?,
        world.call_echo_u32(&mut *store, 1)?,
        world.call_echo_s64(&mut *store, -1)?,
        world.call_echo_u64(&mut *store, 1)?,
    );
    let _: (f32, f64, char) = (world.call_echo_f32(&mut *store, 1.0)?, world.call_echo_f64(&mut *store, 1.0)?, world.call_echo_char(&mut *store, 'x')?);
    let _: String = world.call_echo_string(&mut *store, "x")?;
    let _: Vec<u8> = world.call_echo_bytes(&mut *store, &[1, 2])?;
    let _: Vec<String> = world.call_echo_strings(&mut *store, &["a".to_string()])?;
    let _: Option<u32> = world.call_echo_option(&mut *store, Some(1))?;
    let _: Option<String> = world.call_echo_option_string(&mut *store, Some("x"))?;
    let _: Result<u32, String> = world.call_echo_result(&mut *store, Err("no"))?;
    let _: (u8, String, f64) = world.call_echo_tuple(&mut *store, (1, "x", 2.0))?;
    let _: String = world.call_describe_scalars(&mut *store, true, -1, 2, -3, 4, 5.0, 6.0, 'z', -7, 8)?;
    let _: (Vec<u32>, u64) = world.call_lengths(&mut *store, &["ab".to_string()])?;
    let _: Result<(u32, u32), String> = world.call_divmod(&mut *store, 7, 2)?;
    let _: Result<(), ()> = world.call_check_even(&mut *store, 2)?;
    let _: (u32, Vec<u8>) = world.call_double_bytes(&mut *store, &[1])?;
    let _: Result<u32, ()> = world.call_parse(&mut *store, "1")?;
    let _: Result<(), String> = world.call_validate_name(&mut *store, "x")?;
    let _: Option<Vec<String>> = world.call_split(&mut *store, "a,b", ',')?;
    let _: u32 = world.call_bump(&mut *store)?;
    world.call_nothing(&mut *store)?;
    let _: f64 = world.call_sum17(&mut *store, 1, -1, 2, -2, 3, -3, 4, -4, 0.5, 0.25, 1, 1, 1, 1, 1, 1, 1)?;
    let _: String = world.call_join9(&mut *store, "a", "b", "c", "d", "e", "f", "g", "h", "i")?;
    let _: (u32, u32, bool, String) = world.call_divide(&mut *store, 7, 2)?;
    world.call_boom(&mut *store, "no")?;

    let values = world.tenon_guest_values();
    let p = Point { x: 1, y: 2 };
    let _: Point = values.call_echo_point(&mut *store, p)?;
    let _: Point = values.call_translate(&mut *store, p, 1, 2)?;
    let _: u32 = values.call_manhattan(&mut *store, (0, 0), (1, 1))?;
    let ada = Person { name: "Ada".into(), age: 36, tags: vec![], nick: None };
    let _: Person = values.call_echo_person(&mut *store, &ada)?;
    let _: Person = values.call_birthday(&mut *store, &ada)?;
    let _: Vec<Person> = values.call_echo_people(&mut *store, std::slice::from_ref(&ada))?;
    let _: Option<Person> = values.call_oldest(&mut *store, &[])?;
    let shape = Shape::Label("x".into());
    let _: Shape = values.call_echo_shape(&mut *store, &shape)?;
    let _: f32 = values.call_area(&mut *store, &Shape::Rect(p))?;
    let _: Color = values.call_echo_color(&mut *store, Color::Red)?;
    let _: Color = values.call_next_color(&mut *store, Color::Blue)?;
    let _: Perms = values.call_echo_perms(&mut *store, Perms::READ | Perms::WRITE)?;
    let _: Perms = values.call_invert_perms(&mut *store, Perms::EXEC)?;
    let _: Wide = values.call_echo_wide(&mut *store, Wide::F9)?;
    let _: Stats = values.call_stats_of(&mut *store, &[1.0, 2.0])?;
    let nested: Result<Vec<Option<Point>>, Shape> = values.call_echo_nested(&mut *store, Ok(&[Some(p), None]))?;
    let _ = nested;
    let _ = values.call_echo_nested(&mut *store, Err(&shape))?;
    Ok(())
}

/// A host of the guests' `imports` world, implementing the generated trait (compiled on both runtimes).
#[allow(dead_code)]
struct ImportsHost;

impl guest_imports::tenon::guest::host::Host for ImportsHost {
    fn log(&mut self, _msg: String) {}
    fn add(&mut self, a: u32, b: u32) -> u32 {
        a + b
    }
    fn greet(&mut self, name: String) -> String {
        name
    }
    fn split(&mut self, s: String, sep: char) -> Vec<String> {
        s.split(sep).map(str::to_string).collect()
    }
    fn parse(&mut self, s: String) -> Result<u32, String> {
        s.parse().map_err(|_| s)
    }
    fn sum(&mut self, xs: Vec<u32>) -> u64 {
        xs.iter().map(|&x| u64::from(x)).sum()
    }
    fn lookup(&mut self, key: String) -> Option<guest_imports::tenon::guest::host::Entry> {
        Some(guest_imports::tenon::guest::host::Entry { key, value: 1 })
    }
    fn divmod(&mut self, a: u32, b: u32) -> (u32, u32) {
        (a / b, a % b)
    }
    #[allow(clippy::too_many_arguments)]
    fn join9(&mut self, a: String, b: String, c: String, d: String, e: String, f: String, g: String, h: String, i: String) -> String {
        [a, b, c, d, e, f, g, h, i].concat()
    }
    fn mix(&mut self, a: bool, b: i8, c: u16, d: i64, e: f32, f: f64, g: char) -> f64 {
        f64::from(u8::from(a)) + f64::from(b) + f64::from(c) + d as f64 + f64::from(e) + f + f64::from(u32::from(g))
    }
}

/// The imports world's linking and calls (compiled only).
#[allow(dead_code)]
fn imports_world_calls(engine: &Engine, component: &Component) -> rt::Result<()> {
    let mut linker: Linker<ImportsHost> = Linker::new(engine);
    guest_imports::Imports::add_to_linker::<ImportsHost, HasSelf<ImportsHost>>(&mut linker, |host| host)?;
    guest_imports::tenon::guest::host::add_to_linker::<ImportsHost, HasSelf<ImportsHost>>(&mut linker, |host| host)?;
    let mut store = Store::new(engine, ImportsHost);
    let world = guest_imports::Imports::instantiate(&mut store, component, &linker)?;
    let _: String = world.call_run(&mut store, "you")?;
    let _: Result<u64, String> = world.call_total(&mut store, "1,2")?;
    let _: f64 = world.call_mixed(&mut store)?;
    Ok(())
}

mod corpus {
    super::rt::component::bindgen!({
        path: "../tests/wit/corpus",
        world: "corpus",
        imports: { default: trappable, "tenon:corpus/twins.twin": tracing },
        trappable_error_type: { "tenon:corpus/handles.split-error" => super::SplitError },
    });
}

/// The host's error for `split` (`trappable_error_type`).
#[allow(dead_code)]
pub struct SplitError(String);

/// A host of the corpus world's resource interface and more: resources (`HostCounter`), trappable imports,
/// a trappable error type, per-function entries (compiled on both runtimes).
#[allow(dead_code)]
struct CorpusHost {
    table: rt::component::ResourceTable,
}

use corpus::tenon::corpus::handles::{Counter, HostCounter, Pair, SplitError as WitSplitError};
use rt::component::Resource;

impl HostCounter for CorpusHost {
    fn new(&mut self, start: u32) -> rt::Result<Resource<Counter>> {
        Ok(Resource::new_own(start))
    }
    fn get(&mut self, self_: Resource<Counter>) -> rt::Result<u32> {
        Ok(self_.rep())
    }
    fn merge(&mut self, a: Resource<Counter>, b: Resource<Counter>) -> rt::Result<Resource<Counter>> {
        Ok(Resource::new_own(a.rep() + b.rep()))
    }
    fn drop(&mut self, rep: Resource<Counter>) -> rt::Result<()> {
        let _ = rep;
        Ok(())
    }
}

impl corpus::tenon::corpus::handles::Host for CorpusHost {
    fn split(&mut self, p: Pair) -> Result<Resource<Counter>, SplitError> {
        match p.second {
            0 => Err(SplitError("zero".into())),
            _ => Ok(p.first),
        }
    }
    fn convert_split_error(&mut self, error: SplitError) -> rt::Result<WitSplitError> {
        Ok(WitSplitError { reason: error.0 })
    }
}

impl corpus::CorpusImports for CorpusHost {
    fn root_log(&mut self, _msg: String) -> rt::Result<()> {
        Ok(())
    }
}

/// The corpus host added to a linker (compiled only).
#[allow(dead_code)]
fn corpus_linking(engine: &Engine) -> rt::Result<()> {
    let mut linker: Linker<CorpusHost> = Linker::new(engine);
    corpus::tenon::corpus::handles::add_to_linker::<CorpusHost, HasSelf<CorpusHost>>(&mut linker, |host| host)?;
    corpus::Corpus::add_to_linker_imports::<CorpusHost, HasSelf<CorpusHost>>(&mut linker, |host| host)?;
    Ok(())
}

mod gated {
    super::rt::component::bindgen!({
        inline: "
            package a:gated;
            interface clock {
                now: func() -> u64;
                @unstable(feature = fancy-time)
                later: func() -> u64;
            }
            world w {
                import clock;
                @unstable(feature = root-extra)
                import extra: func() -> u32;
            }
        ",
    });
}

/// A host of a world with `@unstable` members.
#[allow(dead_code)]
struct GatedHost;

impl gated::a::gated::clock::Host for GatedHost {
    fn now(&mut self) -> u64 {
        1
    }
    fn later(&mut self) -> u64 {
        2
    }
}

impl gated::WImports for GatedHost {
    fn extra(&mut self) -> u32 {
        3
    }
}

/// `LinkOptions` for `@unstable` features, world-wide and per interface (compiled only).
#[allow(dead_code)]
fn gated_linking(engine: &Engine) -> rt::Result<()> {
    let mut options = gated::LinkOptions::default();
    options.fancy_time(true).root_extra(false);
    let mut linker: Linker<GatedHost> = Linker::new(engine);
    gated::W::add_to_linker::<GatedHost, HasSelf<GatedHost>>(&mut linker, &options, |host| host)?;
    let clock: gated::a::gated::clock::LinkOptions = (&options).into();
    let mut linker: Linker<GatedHost> = Linker::new(engine);
    gated::a::gated::clock::add_to_linker::<GatedHost, HasSelf<GatedHost>>(&mut linker, &clock, |host| host)?;
    let mut linker: Linker<GatedHost> = Linker::new(engine);
    let mut instance = linker.instance("a:gated/clock")?;
    gated::a::gated::clock::add_to_linker_instance::<GatedHost, HasSelf<GatedHost>>(&mut instance, &clock, |host| host)?;
    Ok(())
}

mod errors {
    super::rt::component::bindgen!({
        inline: "
            package a:errs;
            interface fs {
                enum error-code {
                    /// Permission denied.
                    access,
                    /// No such file.
                    missing,
                }
                variant bad { oops(string), worse }
                record stat { link-count: u32, kind: error-code }
                size: func(s: stat);
                open: func(path: string) -> result<u32, error-code>;
                check: func() -> result<_, bad>;
            }
            world w {
                import fs;
                export run: func() -> u32;
            }
        ",
    });
}

/// Error types (the `E` of a function's `result`): an enum names and describes its cases, and they
/// display and are `Error`s; the typed export, and `HostWithStore` (checked at run time on both).
pub fn error_types() -> usize {
    use errors::a::errs::fs::{Bad, ErrorCode};
    assert_eq!(ErrorCode::Missing.name(), "missing");
    assert_eq!(ErrorCode::Access.message(), "Permission denied.");
    assert_eq!(ErrorCode::Missing.to_string(), "missing (error 1)");
    let boxed: Box<dyn std::error::Error> = Box::new(ErrorCode::Access);
    assert_eq!(boxed.to_string(), "access (error 0)");
    // Displayed as debug-printed; `Debug` the same on both: records with their WIT field names, cases as
    // `Type::Case`, error enums with code, name and message.
    assert_eq!(Bad::Oops("x".into()).to_string(), "Bad::Oops(\"x\")");
    assert_eq!(format!("{:?}", Bad::Worse), "Bad::Worse");
    let stat = errors::a::errs::fs::Stat { link_count: 2, kind: ErrorCode::Missing };
    assert_eq!(
        format!("{stat:?}"),
        "Stat { link-count: 2, kind: ErrorCode { code: 1, name: \"missing\", message: \"No such file.\" } }"
    );
    let _: Box<dyn std::error::Error> = Box::new(Bad::Worse);
    fn with_store<T: 'static, D: errors::a::errs::fs::HostWithStore<T>>() {}
    with_store::<(), HasSelf<()>>();
    let _ = |world: &errors::W| -> rt::component::TypedFunc<(), (u32,)> { world.func_run() };
    9
}

/// The host's own type for the corpus's resource (mapped by `with`).
#[allow(dead_code)]
pub struct MyCounter;

mod corpus_with {
    // `with` paths relative to the macro's module, for a resource and for an interface.
    super::rt::component::bindgen!({
        path: "../tests/wit/corpus",
        world: "corpus",
        with: {
            "tenon:corpus/handles.counter": super::MyCounter,
            "tenon:other/deep": super::corpus::tenon::other::deep,
        },
    });
}

/// What `with` maps is used, and is still reachable under its WIT names (compiled only).
#[allow(dead_code)]
fn with_mappings() {
    let _: Resource<corpus_with::tenon::corpus::handles::Counter> = Resource::<MyCounter>::new_own(1);
    let _: corpus::tenon::other::deep::Level = corpus_with::tenon::other::deep::Level::High;
}

// Wasmtime's `call_*` methods for functions of many parameters draw clippy's `too_many_arguments`.
#[allow(clippy::too_many_arguments)]
mod borrowing {
    super::rt::component::bindgen!({
        path: "../tests/guests/wit",
        world: "exports",
        ownership: Borrowing { duplicate_if_necessary: true },
    });
}

/// `ownership: Borrowing`: arguments borrow (`PersonParam<'a>`), results own (`PersonResult`) (compiled only).
#[allow(dead_code)]
fn borrowing_calls(store: &mut Store<()>, world: &borrowing::Exports) -> rt::Result<()> {
    use borrowing::exports::tenon::guest::values::{PersonParam, PersonResult, Point, ShapeParam, ShapeResult};
    let values = world.tenon_guest_values();
    let ada = PersonParam { name: "Ada", age: 36, tags: &["math"], nick: None };
    let _: PersonResult = values.call_birthday(&mut *store, ada.clone())?;
    let _: Vec<PersonResult> = values.call_echo_people(&mut *store, &[ada])?;
    let _: ShapeResult = values.call_echo_shape(&mut *store, ShapeParam::Rect(Point { x: 1, y: 2 }))?;
    let _: Result<Vec<Option<Point>>, ShapeResult> = values.call_echo_nested(&mut *store, Err(ShapeParam::Label("x")))?;
    Ok(())
}

// `store` functions, shared with Tenon's own tests (`tests/tests/component_bindgen.rs`).
include!("store.rs");
