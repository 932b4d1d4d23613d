//! Rust names for WIT names: types and cases in `UpperCamelCase`, functions and fields in `snake_case`,
//! flags in `SHOUTY_SNAKE_CASE`, with Rust keywords escaped.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Words Rust reserves: a WIT name that becomes one gets a trailing `_`.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct",
    "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen",
    "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// An identifier for `name`, escaped if it is a keyword.
fn ident(name: String) -> Ident {
    let name = if KEYWORDS.contains(&name.as_str()) { format!("{name}_") } else { name };
    Ident::new(&name, Span::call_site())
}

/// A type or case name: `http-request` → `HttpRequest`.
pub fn type_name(wit: &str) -> Ident {
    ident(wit.to_upper_camel_case())
}

/// A function, field, parameter or module name: `http-request` → `http_request`.
pub fn snake(wit: &str) -> Ident {
    ident(wit.to_snake_case())
}

/// A flag constant: `read-only` → `READ_ONLY`.
pub fn shouty(wit: &str) -> Ident {
    ident(wit.to_shouty_snake_case())
}
