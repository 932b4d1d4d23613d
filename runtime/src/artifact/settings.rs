//! The engine settings an artifact records, and the check that the loading engine's are the same.

use crate::Engine;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

/// The version of the artifact format: bumped whenever the layout of any section changes.
pub const FORMAT_VERSION: u32 = 1;

/// What kind of artifact a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    Module,
    Component,
}

/// Everything about an engine that the compiled code depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Settings {
    /// [`FORMAT_VERSION`]; read first, so that a newer format is refused before anything else is decoded.
    pub format: u32,
    pub kind: Kind,
    /// The version of Tenon that wrote it.
    pub tenon_version: String,
    /// The build of Tenon that wrote it: a hash of the runtime's sources (see `build.rs`).
    pub build: String,
    /// The target triple.
    pub triple: String,
    /// The target's CPU features as Cranelift uses them, `name=value`.
    pub isa_flags: Vec<String>,
    /// Cranelift's shared settings that affect the code, `name=value`.
    pub cranelift_flags: Vec<String>,
    /// The enabled wasm features (`wasmparser::WasmFeatures` bits).
    pub wasm_features: u64,
    pub memory_reservation: u64,
    pub guard_size: u64,
    pub memory_may_move: bool,
    pub signals_based_traps: bool,
    pub consume_fuel: bool,
    pub epoch_interruption: bool,
}

/// Cranelift settings that do not change the code (checks of the compiler itself).
const IGNORED_FLAGS: [&str; 1] = ["enable_verifier"];

impl Settings {
    /// The settings of `engine`, for an artifact of `kind`.
    pub fn of(engine: &Engine, kind: Kind) -> Settings {
        let isa = engine.isa();
        let tunables = engine.tunables();
        let flags = |values: Vec<cranelift_codegen::settings::Value>| -> Vec<String> {
            values.iter().filter(|v| !IGNORED_FLAGS.contains(&v.name)).map(|v| v.to_string()).collect()
        };
        Settings {
            format: FORMAT_VERSION,
            kind,
            tenon_version: env!("CARGO_PKG_VERSION").to_string(),
            build: env!("TENON_BUILD_ID").to_string(),
            triple: isa.triple().to_string(),
            isa_flags: flags(isa.isa_flags()),
            cranelift_flags: flags(isa.flags().iter().collect()),
            wasm_features: tunables.features.bits(),
            memory_reservation: tunables.memory_reservation,
            guard_size: tunables.guard_size,
            memory_may_move: tunables.memory_may_move,
            signals_based_traps: tunables.signals_based_traps,
            consume_fuel: tunables.consume_fuel,
            epoch_interruption: tunables.epoch_interruption,
        }
    }

    /// Checks that an artifact with these settings can run on an engine with settings `engine`: an
    /// error naming the first difference otherwise.
    pub fn check(&self, engine: &Settings) -> Result<()> {
        if self.format != engine.format {
            bail!("the artifact has format version {}, but this version of Tenon reads version {}", self.format, engine.format);
        }
        if self.kind != engine.kind {
            let name = |k: Kind| if k == Kind::Module { "a module" } else { "a component" };
            bail!("the artifact is {}, not {}", name(self.kind), name(engine.kind));
        }
        if self.tenon_version != engine.tenon_version {
            bail!("the artifact was compiled by Tenon {}, but this is Tenon {}", self.tenon_version, engine.tenon_version);
        }
        if self.build != engine.build {
            bail!("the artifact was compiled by another build of Tenon {} (build {}, this is build {})", self.tenon_version, self.build, engine.build);
        }
        if self.triple != engine.triple {
            bail!("the artifact was compiled for target `{}`, but this engine compiles for `{}`", self.triple, engine.triple);
        }
        check_cpu_features(&self.isa_flags, &engine.isa_flags)?;
        check_flags("Cranelift setting", &self.cranelift_flags, &engine.cranelift_flags)?;
        if self.wasm_features != engine.wasm_features {
            let (ours, theirs) = (features(self.wasm_features), features(engine.wasm_features));
            if let Some(name) = ours.difference(&theirs).next() {
                bail!("the artifact was compiled with wasm feature `{name}` enabled, but this engine has it disabled");
            }
            if let Some(name) = theirs.difference(&ours).next() {
                bail!("the artifact was compiled with wasm feature `{name}` disabled, but this engine has it enabled");
            }
            bail!("the artifact was compiled with other wasm features than this engine's");
        }
        let switches = [
            ("fuel instrumentation", self.consume_fuel, engine.consume_fuel),
            ("epoch interruption", self.epoch_interruption, engine.epoch_interruption),
            ("signals-based traps", self.signals_based_traps, engine.signals_based_traps),
            ("moving memories", self.memory_may_move, engine.memory_may_move),
        ];
        for (what, artifact, ours) in switches {
            if artifact != ours {
                let state = |on: bool| if on { "enabled" } else { "disabled" };
                bail!("the artifact was compiled with {what} {}, but this engine has it {}", state(artifact), state(ours));
            }
        }
        let sizes = [
            ("a memory reservation", self.memory_reservation, engine.memory_reservation),
            ("a memory guard", self.guard_size, engine.guard_size),
        ];
        for (what, artifact, ours) in sizes {
            if artifact != ours {
                bail!("the artifact was compiled for {what} of {artifact:#x} bytes, but this engine's is {ours:#x} bytes");
            }
        }
        Ok(())
    }
}

/// Checks that the engine's CPU has every feature the artifact's code may use (`name=1`); code compiled
/// for fewer features runs on more.
fn check_cpu_features(artifact: &[String], engine: &[String]) -> Result<()> {
    for setting in artifact {
        let (name, value) = setting.split_once('=').unwrap_or((setting, ""));
        let ours = engine.iter().find_map(|s| s.split_once('=').filter(|(n, _)| *n == name).map(|(_, v)| v));
        match ours {
            None => bail!("the artifact was compiled with CPU feature `{setting}`, which this engine does not know"),
            Some(ours) if ours != value && value != "0" && value != "false" => {
                bail!("the artifact was compiled with CPU feature `{setting}`, but this engine has `{name}={ours}`")
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks two lists of `name=value` settings; the first difference names the setting.
fn check_flags(what: &str, artifact: &[String], engine: &[String]) -> Result<()> {
    for setting in artifact {
        if !engine.contains(setting) {
            let name = setting.split('=').next().unwrap_or(setting);
            let ours = engine.iter().find(|s| s.split('=').next() == Some(name));
            match ours {
                Some(ours) => bail!("the artifact was compiled with {what} `{setting}`, but this engine has `{ours}`"),
                None => bail!("the artifact was compiled with {what} `{setting}`, which this engine does not know"),
            }
        }
    }
    if let Some(setting) = engine.iter().find(|s| !artifact.contains(s)) {
        bail!("this engine has {what} `{setting}`, which the artifact was not compiled with");
    }
    Ok(())
}

/// The names of the wasm features in `bits` (single features only, not groups such as `wasm2`), in lower
/// case.
fn features(bits: u64) -> std::collections::BTreeSet<String> {
    use wasmparser::WasmFeatures;
    let set = WasmFeatures::from_bits_truncate(bits);
    WasmFeatures::all()
        .iter_names()
        .filter(|(_, flag)| flag.bits().count_ones() == 1 && set.contains(*flag))
        .map(|(name, _)| name.to_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings a test engine has, and an artifact's with `change` made, checked against them.
    fn refused(change: impl FnOnce(&mut Settings)) -> String {
        let ours = Settings::of(&Engine::default(), Kind::Module);
        let mut artifact = ours.clone();
        change(&mut artifact);
        artifact.check(&ours).unwrap_err().to_string()
    }

    #[test]
    fn settings_only_the_loading_engine_sees_differ_are_named() {
        assert!(Settings::of(&Engine::default(), Kind::Module).check(&Settings::of(&Engine::default(), Kind::Module)).is_ok());
        assert_eq!(refused(|s| s.format += 1), "the artifact has format version 2, but this version of Tenon reads version 1");
        assert!(refused(|s| s.tenon_version = "0.0.1".into()).starts_with("the artifact was compiled by Tenon 0.0.1, but this is Tenon"));
        assert!(refused(|s| s.build = "0123456789abcdef".into()).contains("another build of Tenon"));
        assert!(refused(|s| s.triple = "riscv64gc-unknown-linux-gnu".into())
            .starts_with("the artifact was compiled for target `riscv64gc-unknown-linux-gnu`, but this engine compiles for"));
        // A CPU feature the artifact's code may use and this host lacks is refused; code compiled without a
        // feature the host has runs.
        let artifact = Settings::of(&Engine::default(), Kind::Module);
        let mut lacking = artifact.clone();
        let Some(flag) = lacking.isa_flags.iter_mut().find(|f| f.ends_with("=1")) else { return };
        let name = flag.trim_end_matches("=1").to_string();
        *flag = format!("{name}=0");
        assert_eq!(
            artifact.check(&lacking).unwrap_err().to_string(),
            format!("the artifact was compiled with CPU feature `{name}=1`, but this engine has `{name}=0`")
        );
        assert!(lacking.check(&artifact).is_ok());
        let message = refused(|s| s.isa_flags.push("has_teleport=1".into()));
        assert_eq!(message, "the artifact was compiled with CPU feature `has_teleport=1`, which this engine does not know");
    }
}
