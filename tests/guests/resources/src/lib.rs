//! The `resources` guest: a `counter` resource defined in the guest (`resource.new`, `resource.rep`, a
//! destructor), whose handles the tests move to the host and back.

wit_bindgen::generate!({
    world: "resources",
    path: "../wit",
});

use exports::tenon::guest::counters::{Counter, Guest, GuestCounter};
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

/// The component.
struct Component;

/// Counters dropped so far.
static DROPPED: AtomicU32 = AtomicU32::new(0);

/// A counter's state.
struct MyCounter {
    value: Cell<u32>,
}

impl Drop for MyCounter {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

impl GuestCounter for MyCounter {
    fn new(start: u32) -> Self {
        MyCounter { value: Cell::new(start) }
    }
    fn get(&self) -> u32 {
        self.value.get()
    }
    fn increment(&self, by: u32) {
        self.value.set(self.value.get() + by);
    }
    fn sum(a: exports::tenon::guest::counters::CounterBorrow<'_>, b: exports::tenon::guest::counters::CounterBorrow<'_>) -> u32 {
        a.get::<MyCounter>().get() + b.get::<MyCounter>().get()
    }
    fn next(&self) -> Counter {
        Counter::new(MyCounter::new(self.get() + 1))
    }
}

impl Guest for Component {
    type Counter = MyCounter;
    fn dropped() -> u32 {
        DROPPED.load(Ordering::Relaxed)
    }
    fn consume(c: Counter) -> u32 {
        c.get::<MyCounter>().get()
    }
}

export!(Component);
