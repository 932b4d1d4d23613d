//! The `imports` guest: implements the `imports` world of `../wit`, whose exports call the host's functions
//! and return what they made of the results, so the tests can check both sides of each call.

wit_bindgen::generate!({
    world: "imports",
    path: "../wit",
});

use tenon::guest::host;

/// The component: the world's exports are implemented on it.
struct Component;

impl Guest for Component {
    fn run(name: String) -> String {
        host::log(&format!("run({name})"));
        let greeting = host::greet(&name);
        let sum = host::add(40, 2);
        format!("{greeting} {sum}")
    }

    fn total(csv: String) -> Result<u64, String> {
        let numbers = host::split(&csv, ',').iter().map(|part| host::parse(part)).collect::<Result<Vec<_>, _>>()?;
        Ok(host::sum(&numbers))
    }

    fn find(key: String) -> String {
        match host::lookup(&key) {
            Some(entry) => format!("{}={}", entry.key, entry.value),
            None => format!("{key} missing"),
        }
    }

    fn divide(a: u32, b: u32) -> String {
        let (q, r) = host::divmod(a, b);
        format!("{q} {r}")
    }

    fn letters(n: u32) -> String {
        let l = |c: char| c.to_string().repeat(n as usize);
        host::join9(&l('a'), &l('b'), &l('c'), &l('d'), &l('e'), &l('f'), &l('g'), &l('h'), &l('i'))
    }

    fn mixed() -> f64 {
        host::mix(true, -3, 500, -7_000_000_000, 1.5, 0.25, 'é')
    }
}

export!(Component);
