//! Tenon's procedural macros, re-exported by `tenon::component`: `#[derive(ComponentType, Lift, Lower)]`
//! makes a Rust struct or enum a component value type, and `flags!` defines a bit-set type for WIT `flags`.
//! The code they generate is a few lines per type that hand the fields or cases to generic code in `tenon`
//! (`tenon::component::__internal`), so deriving for many types stays cheap to compile.
//!
//! ```ignore
//! use tenon::component::{ComponentType, Lift, Lower};
//!
//! #[derive(ComponentType, Lift, Lower)]
//! #[component(record)]
//! struct Person {
//!     first_name: String, // the WIT field `first-name`
//!     age: u8,
//! }
//!
//! #[derive(ComponentType, Lift, Lower)]
//! #[component(variant)]
//! enum Shape {
//!     Circle(f32),
//!     #[component(name = "rect")]
//!     Rectangle(f32, f32), // several fields: the payload `tuple<f32, f32>`
//!     Empty,
//! }
//! ```

mod bindgen;
mod derive;
mod flags;
mod names;

use proc_macro::TokenStream;

/// Derives `ComponentType`: which component type the Rust type stands for, and its layout. The kind comes
/// from `#[component(record)]`, `#[component(variant)]`, `#[component(enum)]` or `#[component(flags)]`
/// (structs default to records, enums to `enum` when no case has fields and to `variant` otherwise). Names
/// are the Rust names in kebab-case unless `#[component(name = "...")]` says otherwise;
/// `#[component(tenon_crate = path)]` (or `wasmtime_crate`) names the `tenon` crate.
#[proc_macro_derive(ComponentType, attributes(component))]
pub fn derive_component_type(input: TokenStream) -> TokenStream {
    derive::expand(input.into(), derive::Trait::ComponentType).into()
}

/// Derives `Lift`: reading the type out of a guest. See [`ComponentType`](derive@ComponentType).
#[proc_macro_derive(Lift, attributes(component))]
pub fn derive_lift(input: TokenStream) -> TokenStream {
    derive::expand(input.into(), derive::Trait::Lift).into()
}

/// Derives `Lower`: writing the type into a guest. See [`ComponentType`](derive@ComponentType).
#[proc_macro_derive(Lower, attributes(component))]
pub fn derive_lower(input: TokenStream) -> TokenStream {
    derive::expand(input.into(), derive::Trait::Lower).into()
}

/// Defines bit-set types for WIT `flags`, in Wasmtime's syntax:
///
/// ```ignore
/// tenon::component::flags! {
///     Permissions {
///         #[component(name = "read")]
///         const READ;
///         const WRITE; // the flag `write`
///     }
/// }
/// let rw = Permissions::READ | Permissions::WRITE;
/// assert!(rw.contains(Permissions::READ));
/// ```
///
/// Each type is `Copy`, `Eq`, `Hash`, `Default` (empty) and `Debug`, has `|`, `&`, `^`, `!` and their
/// assigning forms, `empty`, `all`, `contains`, `intersects` and `is_empty`, and is a component type (at most
/// 32 flags).
#[proc_macro]
pub fn flags(input: TokenStream) -> TokenStream {
    flags::expand(input.into()).into()
}

/// Generates Rust bindings for a WIT world, as Wasmtime 48's `bindgen!` does and with its options: `path`
/// (a file or directory, or a list; `wit` by default), `inline`, `world`, `"world" in "path"`, `interfaces`, `with`
/// (`"ns:pkg/iface": path`, a package, a namespace, or `"ns:pkg/iface.type"`), `trappable_error_type`
/// (`"ns:pkg/iface.type" => Type`), `additional_derives`, `imports` / `exports` (`{ default: FLAGS,
/// "ns:pkg/iface.f": FLAGS }` with `trappable`, `tracing`, `verbose_tracing`, `exact`),
/// `skip_mut_forwarding_impls`, `require_store_data_send`, `include_generated_code_from_file`,
/// `ownership` (`Owning`, `Borrowing { duplicate_if_necessary }`), `stringify`, `tenon_crate` (or `wasmtime_crate`), `async: false`, and the older
/// `trappable_imports: true`. For each imported interface it generates a `Host` trait and `add_to_linker`;
/// for the world, a struct with typed accessors for its exports, `<World>Pre` and `<World>Indices`. Traced
/// calls log through `tracing` as re-exported by Tenon: the host needs no `tracing` dependency. The same
/// code comes out of `tenon bindgen`.
#[proc_macro]
pub fn bindgen(input: TokenStream) -> TokenStream {
    bindgen::expand(input.into()).into()
}
