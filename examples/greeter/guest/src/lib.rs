//! The guest of the `greeter` example: greets people in a style, logging each greeting through the host.

wit_bindgen::generate!({ path: "../wit", world: "greeter" });

use example::greeter::host;
use exports::example::greeter::greetings::{Greeting, Guest, Style};

struct Greeter;

impl Guest for Greeter {
    fn greet(name: String, style: Style) -> Greeting {
        let number = host::greeted() + 1;
        let text = match style {
            Style::Plain => format!("Hello, {name}!"),
            Style::Loud => format!("HELLO, {}!!!", name.to_uppercase()),
        };
        host::log(&format!("greeting #{number}: {text}"));
        Greeting { text, number }
    }
}

export!(Greeter);
