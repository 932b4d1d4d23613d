//! The Component Model reference tests (`../shared/testsuite/component-model`): `values/`, `validation/`,
//! `binary/`, `linking/` and `resources/`, except what `nyi.txt` lists, run through the same code as `tenon wast` with its
//! configuration. Files that fail or use what Tenon does not support yet (resources, async, maps, ...) are
//! listed with the reason in `tests/spec/failing-component-*.txt`, enforced both ways. A `harness = false`
//! target, so the counts are printed in `cargo test`'s output.

mod common;

fn main() {
    let problems = common::run_component_dirs(&tenon_cli::wast::config(), &["values", "validation", "binary", "linking", "resources"]);
    common::finish(problems);
}
