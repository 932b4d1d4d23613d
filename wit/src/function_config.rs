//! Per-function options: `imports: { default: FLAGS, "name": FLAGS }` and the same for `exports`, with
//! names looked up as Wasmtime 48 looks them up.

use crate::lookup;
use wit_parser::{Resolve, WorldKey};

/// What an `imports` or `exports` entry asks of the functions it applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FunctionFlags {
    /// The host trait's method returns `tenon::Result`, so it can trap (imports only).
    pub trappable: bool,
    /// Each call runs in a `tracing` span (`wit-bindgen import` / `wit-bindgen export`, with `module` and
    /// `function`); imports also log their arguments (`"call"`) and result (`"return"`) as events.
    pub tracing: bool,
    /// Tracing shows arguments and results holding lists too (they show as `"..."` otherwise). Implies
    /// `tracing` (in Wasmtime it does nothing without it).
    pub verbose_tracing: bool,
    /// The function is given the store and the host data (an `Access`), as an associated function of the
    /// `<Trait>WithStore<T>` trait that the host's `HasData` type implements (imports only).
    pub store: bool,
    /// The entry applies only to the function it names exactly, not through an interface, package or
    /// namespace name.
    pub exact: bool,
}

impl FunctionFlags {
    /// Whether calls are traced.
    pub fn traced(&self) -> bool {
        self.tracing || self.verbose_tracing
    }
}

/// The `imports` or `exports` option: flags for every function, and entries for some.
#[derive(Clone, Debug, Default)]
pub struct FunctionConfig {
    /// The flags of functions no entry applies to.
    pub default: FunctionFlags,
    /// `(name, flags)` entries. A name is a function's (`ns:pkg/iface.f`, `ns:pkg/iface@1.0.0.f`,
    /// `ns:pkg/iface.[method]r.m`, or a root function's own name), or an interface's, package's or
    /// namespace's (`ns:pkg/iface`, `ns:pkg`, `ns`) for all their functions. Of the entries naming a
    /// function, the one with its most specific name wins and replaces the default; an entry naming no
    /// function is an error.
    pub rules: Vec<(String, FunctionFlags)>,
}

impl FunctionConfig {
    /// The flags of function `name` of the world's item `key` (`None` for a function the world imports
    /// or exports itself), and the index of the entry that gave them, if one did.
    pub(crate) fn flags(&self, resolve: &Resolve, key: Option<&WorldKey>, name: &str) -> (FunctionFlags, Option<usize>) {
        if self.rules.is_empty() {
            return (self.default, None);
        }
        let keys = match key {
            Some(key) => lookup::keys(resolve, key, Some(name)),
            None => vec![lookup::Key { name: name.to_string(), projection: Vec::new() }],
        };
        for key in keys {
            let exact = key.projection.is_empty();
            let rule = self.rules.iter().position(|(rule, flags)| *rule == key.name && (exact || !flags.exact));
            if let Some(index) = rule {
                return (self.rules[index].1, Some(index));
            }
        }
        (self.default, None)
    }
}
