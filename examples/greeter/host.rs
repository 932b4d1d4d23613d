//! The `greeter` example: a host for the component `examples/greeter/greeter.wasm` (built from
//! `examples/greeter/guest` by `build-guest.sh`), with bindings generated from its WIT by `bindgen!`.
//!
//! ```sh
//! cargo run --release --example greeter
//! ```

use tenon::component::{Component, HasSelf, Linker};
use tenon::{Engine, Store};

tenon::component::bindgen!({ path: "../examples/greeter/wit", world: "greeter" });

use example::greeter::host::Host;
use exports::example::greeter::greetings::Style;

/// The host's state: what the guest's imports see.
struct GreeterHost {
    greeted: u32,
}

impl Host for GreeterHost {
    fn log(&mut self, msg: String) {
        println!("[guest log] {msg}");
    }

    fn greeted(&mut self) -> u32 {
        self.greeted
    }
}

fn main() -> tenon::Result<()> {
    let engine = Engine::default();
    let component = Component::from_file(&engine, concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/greeter/greeter.wasm"))?;
    let mut linker = Linker::new(&engine);
    Greeter::add_to_linker::<GreeterHost, HasSelf<GreeterHost>>(&mut linker, |host| host)?;
    let mut store = Store::new(&engine, GreeterHost { greeted: 0 });
    let greeter = Greeter::instantiate(&mut store, &component, &linker)?;
    for (name, style) in [("world", Style::Plain), ("Tenon", Style::Loud)] {
        let greeting = greeter.example_greeter_greetings().call_greet(&mut store, name, style)?;
        store.data_mut().greeted = greeting.number;
        println!("{} (greeting #{})", greeting.text, greeting.number);
    }
    Ok(())
}
