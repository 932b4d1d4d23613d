//! The `consumer` guest: calls `tenon:guest/api`, which the `provider` guest implements, from the functions
//! it exports; `tests/build.rs` composes the two into one component with `wasm-compose`.

wit_bindgen::generate!({
    world: "consumer",
    path: "../wit",
});

use tenon::guest::api::{self, Counter, Shape};

/// The component.
struct Component;

impl Guest for Component {
    fn shout(s: String) -> String {
        api::echo(&s).to_uppercase()
    }
    fn total(xs: Vec<u32>) -> u64 {
        api::sum(&xs)
    }
    fn backwards(xs: Vec<String>) -> Vec<String> {
        api::reversed(&xs)
    }
    fn area_of(kind: u8, x: f64, y: f64) -> Option<f64> {
        let shape = match kind {
            0 => Shape::Circle(x),
            1 => Shape::Rect((x, y)),
            _ => Shape::Empty,
        };
        api::area(shape)
    }
    fn many(q: String) -> String {
        api::seventeen(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, &q)
    }
    fn count(start: u32, times: u32) -> String {
        let counter = Counter::new(start);
        for _ in 0..times {
            counter.add(1);
        }
        counter.describe()
    }
}

export!(Component);
