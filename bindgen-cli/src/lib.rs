//! The library behind the `tenon` command: running modules and components, generating bindings, and running spec
//! test scripts.

pub mod bindgen;
pub mod component_new;
pub mod run;
pub mod run_component;
pub mod spectest;
pub mod wast;
mod wast_component;
