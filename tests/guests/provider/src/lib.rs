//! The `provider` guest: implements `tenon:guest/api`, which the `consumer` guest imports; `tests/build.rs`
//! composes the two into one component with `wasm-compose`.

wit_bindgen::generate!({
    world: "provider",
    path: "../wit",
});

use exports::tenon::guest::api::{Guest, GuestCounter, Shape};
use std::cell::Cell;

/// The component.
struct Component;

/// A counter's state.
struct MyCounter {
    value: Cell<u32>,
}

impl GuestCounter for MyCounter {
    fn new(start: u32) -> Self {
        MyCounter { value: Cell::new(start) }
    }
    fn add(&self, n: u32) -> u32 {
        self.value.set(self.value.get() + n);
        self.value.get()
    }
    fn describe(&self) -> String {
        format!("counter at {}", self.value.get())
    }
}

impl Guest for Component {
    type Counter = MyCounter;
    fn echo(s: String) -> String {
        s
    }
    fn sum(xs: Vec<u32>) -> u64 {
        xs.iter().map(|&x| u64::from(x)).sum()
    }
    fn reversed(mut xs: Vec<String>) -> Vec<String> {
        xs.reverse();
        xs
    }
    fn area(s: Shape) -> Option<f64> {
        match s {
            Shape::Circle(r) => Some(std::f64::consts::PI * r * r),
            Shape::Rect((w, h)) => Some(w * h),
            Shape::Empty => None,
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn seventeen(
        a: u32, b: u32, c: u32, d: u32, e: u32, f: u32, g: u32, h: u32, i: u32, j: u32, k: u32, l: u32, m: u32,
        n: u32, o: u32, p: u32, q: String,
    ) -> String {
        let sum: u32 = [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p].iter().sum();
        format!("{q}: {sum}")
    }
}

export!(Component);
