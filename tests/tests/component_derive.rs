//! `#[derive(ComponentType, Lift, Lower)]` and `flags!`: Rust types for the real guest's records, variants,
//! enums and flags (`tests/guests/wit/exports.wit`, interface `tenon:guest/values`), called through typed
//! functions; kebab-case names by default; type errors that name the difference.

use tenon::component::{Component, ComponentType, Instance, Lift, Linker, Lower, TypedFunc, flags};
use tenon::{Engine, Store};
use tenon_tests::guests;

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(record)]
struct Point {
    x: i32,
    y: i32,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
struct Person {
    name: String,
    age: u8,
    tags: Vec<String>,
    nick: Option<String>,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
enum Shape {
    Circle(f32),
    Rect(Point),
    Label(String),
    Empty,
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(enum)]
enum Color {
    Red,
    Green,
    Blue,
    Yellow,
}

flags! {
    Perms {
        #[component(name = "read")]
        const READ;
        const WRITE;
        const EXEC;
    }
}

/// The same flags as a struct of `bool`s (Tenon's alternative to `flags!`).
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Default)]
#[component(flags)]
struct Wide {
    f0: bool,
    f1: bool,
    f2: bool,
    f3: bool,
    f4: bool,
    f5: bool,
    f6: bool,
    f7: bool,
    f8: bool,
    f9: bool,
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
struct Stats {
    count: u32,
    min: f64,
    max: f64,
    mean: f64,
}

/// An instance of the exports guest.
fn guest() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::EXPORTS).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    (store, instance)
}

/// The typed function `name` of the `values` interface.
fn func<P, R>(store: &mut Store<()>, instance: Instance, name: &str) -> TypedFunc<P, R>
where
    P: tenon::component::ComponentNamedList + Lower,
    R: tenon::component::ComponentNamedList + Lift,
{
    let values = instance.get_export_index(&*store, None, "tenon:guest/values").unwrap();
    let index = instance.get_export_index(&*store, Some(&values), name).unwrap();
    instance.get_typed_func(&mut *store, &index).unwrap_or_else(|e| panic!("{name}: {e:#}"))
}

#[test]
fn records_round_trip() {
    let (mut store, instance) = guest();
    let echo = func::<(Point,), (Point,)>(&mut store, instance, "echo-point");
    assert_eq!(echo.call(&mut store, (Point { x: -3, y: 7 },)).unwrap().0, Point { x: -3, y: 7 });
    let translate = func::<(Point, i32, i32), (Point,)>(&mut store, instance, "translate");
    assert_eq!(translate.call(&mut store, (Point { x: 1, y: 2 }, 10, -20)).unwrap().0, Point { x: 11, y: -18 });

    let ada = Person { name: "Ada".into(), age: 36, tags: vec!["math".into()], nick: Some("countess".into()) };
    let echo = func::<(Person,), (Person,)>(&mut store, instance, "echo-person");
    assert_eq!(echo.call(&mut store, (ada.clone(),)).unwrap().0, ada);
    let birthday = func::<(Person,), (Person,)>(&mut store, instance, "birthday");
    let older = birthday.call(&mut store, (ada.clone(),)).unwrap().0;
    assert_eq!((older.age, older.tags.last().map(String::as_str)), (37, Some("older")));
    let grace = Person { name: "Grace".into(), age: 85, tags: vec![], nick: None };
    let oldest = func::<(Vec<Person>,), (Option<Person>,)>(&mut store, instance, "oldest");
    assert_eq!(oldest.call(&mut store, (vec![ada.clone(), grace.clone()],)).unwrap().0, Some(grace.clone()));
    assert_eq!(oldest.call(&mut store, (vec![],)).unwrap().0, None);
    let people = func::<(&[Person],), (Vec<Person>,)>(&mut store, instance, "echo-people");
    assert_eq!(people.call(&mut store, (&[ada, grace][..],)).unwrap().0.len(), 2);

    let stats = func::<(&[f64],), (Stats,)>(&mut store, instance, "stats-of");
    assert_eq!(stats.call(&mut store, (&[1.0, 2.0, 6.0][..],)).unwrap().0, Stats { count: 3, min: 1.0, max: 6.0, mean: 3.0 });
}

#[test]
fn variants_and_enums_round_trip() {
    let (mut store, instance) = guest();
    let echo = func::<(Shape,), (Shape,)>(&mut store, instance, "echo-shape");
    for shape in [Shape::Circle(1.5), Shape::Rect(Point { x: 2, y: 3 }), Shape::Label("hi".into()), Shape::Empty] {
        assert_eq!(echo.call(&mut store, (shape.clone(),)).unwrap().0, shape);
    }
    let area = func::<(Shape,), (f32,)>(&mut store, instance, "area");
    assert_eq!(area.call(&mut store, (Shape::Rect(Point { x: -2, y: 3 }),)).unwrap().0, 6.0);

    let next = func::<(Color,), (Color,)>(&mut store, instance, "next-color");
    assert_eq!(next.call(&mut store, (Color::Blue,)).unwrap().0, Color::Yellow);
    assert_eq!(next.call(&mut store, (Color::Yellow,)).unwrap().0, Color::Red);

    type Nested = Result<Vec<Option<Point>>, Shape>;
    let nested = func::<(Nested,), (Nested,)>(&mut store, instance, "echo-nested");
    let value: Nested = Ok(vec![Some(Point { x: 1, y: 1 }), None]);
    assert_eq!(nested.call(&mut store, (value.clone(),)).unwrap().0, value);
    let value: Nested = Err(Shape::Label("no".into()));
    assert_eq!(nested.call(&mut store, (value.clone(),)).unwrap().0, value);
}

#[test]
fn flags_round_trip_both_ways() {
    let (mut store, instance) = guest();
    let invert = func::<(Perms,), (Perms,)>(&mut store, instance, "invert-perms");
    assert_eq!(invert.call(&mut store, (Perms::READ,)).unwrap().0, Perms::WRITE | Perms::EXEC);
    assert_eq!(invert.call(&mut store, (Perms::all(),)).unwrap().0, Perms::empty());
    let rw = Perms::READ | Perms::WRITE;
    assert!(rw.contains(Perms::READ) && !rw.contains(Perms::EXEC) && rw.intersects(Perms::WRITE));
    assert_eq!(!rw, Perms::EXEC);
    assert_eq!(rw ^ Perms::READ, Perms::WRITE);
    assert_eq!(rw & Perms::WRITE, Perms::WRITE);
    assert_eq!(format!("{rw:?}"), "Perms(READ | WRITE)");

    let echo = func::<(Wide,), (Wide,)>(&mut store, instance, "echo-wide");
    let wide = Wide { f0: true, f9: true, ..Default::default() };
    assert_eq!(echo.call(&mut store, (wide,)).unwrap().0, wide);
}

#[test]
fn mismatched_types_are_named() {
    let (mut store, instance) = guest();
    let values = instance.get_export_index(&store, None, "tenon:guest/values").unwrap();
    let check = |store: &mut Store<()>, name: &str| {
        let index = instance.get_export_index(&*store, Some(&values), name).unwrap();
        instance.get_func(&mut *store, &index).unwrap()
    };

    #[derive(ComponentType, Lift, Lower, Debug)]
    struct Flipped {
        y: i32,
        x: i32,
    }
    let err = check(&mut store, "echo-point").typed::<(Flipped,), (Flipped,)>(&store).err().unwrap();
    assert_eq!(
        format!("{err:#}"),
        "the parameters do not match: type mismatch: `Flipped` has the fields `y`, `x`, the component type has `x`, `y`"
    );

    #[derive(ComponentType, Lift, Lower, Debug)]
    enum Hue {
        Red,
        Green,
        Blue,
    }
    let err = check(&mut store, "echo-color").typed::<(Hue,), (Hue,)>(&store).err().unwrap();
    assert_eq!(
        format!("{err:#}"),
        "the parameters do not match: type mismatch: `Hue` has the cases `red`, `green`, `blue`, the component type has `red`, `green`, `blue`, `yellow`"
    );

    #[derive(ComponentType, Lift, Lower, Debug)]
    struct WrongField {
        x: i32,
        #[component(name = "y")]
        why: String,
    }
    let err = check(&mut store, "echo-point").typed::<(WrongField,), (WrongField,)>(&store).err().unwrap();
    assert_eq!(
        format!("{err:#}"),
        "the parameters do not match: field `y`: type mismatch: `str` is not the component type s32"
    );

    let err = check(&mut store, "echo-point").typed::<(Shape,), (Shape,)>(&store).err().unwrap();
    assert_eq!(format!("{err:#}"), "the parameters do not match: type mismatch: `Shape` is not the component type record");
}

/// Through host functions too, and with `Val`: a derived type is just another component value.
#[test]
fn derived_types_work_in_host_functions() {
    let engine = Engine::default();
    let wat = tenon_tests::component::echo_component(
        r#"(type $p0 (record (field "first-name" string) (field "age" u8)))
           (import "p" (type $t (eq $p0)))"#,
        &["i32", "i32", "i32"],
        None,
        "",
    );
    #[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
    struct Named {
        first_name: String,
        age: u8,
    }
    let component = Component::new(&engine, wat).unwrap();
    let mut linker = Linker::new(&engine);
    linker.root().func_wrap("host-echo", |_, (mut p,): (Named,)| {
        p.age += 1;
        Ok((p,))
    })
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance.get_typed_func::<(Named,), (Named,)>(&mut store, "echo").unwrap();
    let back = echo.call(&mut store, (Named { first_name: "Lin".into(), age: 9 },)).unwrap().0;
    assert_eq!(back, Named { first_name: "Lin".into(), age: 10 });
}
