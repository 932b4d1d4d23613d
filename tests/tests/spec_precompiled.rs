//! The spec suite and the Component Model reference tests again, with every module and component compiled,
//! serialized to an artifact and loaded from it before it runs (`tenon wast --precompiled`): what an
//! artifact holds runs as the compiled code does. The same ratchet lists as the compiled runs apply. A
//! `harness = false` target, so its summary is printed in `cargo test`'s output.

mod common;

use tenon_cli::wast::Loading;

fn main() {
    let tiers = ["wasm2", "multi-memory", "function-references"];
    let mut problems = common::run_tiers_loading("precompiled", &tenon::Config::new(), &tiers, Loading::Precompiled);
    let dirs = ["values", "validation", "binary", "linking", "resources"];
    let config = tenon_cli::wast::config();
    problems.extend(common::run_component_dirs_loading("component reference tests, precompiled", &config, &dirs, Loading::Precompiled));
    common::finish(problems);
}
