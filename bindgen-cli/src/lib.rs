//! The library behind the `tenon` command: running modules and running spec test scripts.

pub mod run;
pub mod spectest;
pub mod wast;
mod wast_component;
