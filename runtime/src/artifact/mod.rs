//! Ahead-of-time artifacts: compiled modules and components written to a file and loaded again without
//! compiling (`Engine::precompile_module`, `Module::serialize`, `Module::deserialize`, and the same for
//! components).
//!
//! An artifact is an ELF file (see [`elf`]) holding the engine settings the code was compiled with
//! ([`settings`]), the metadata (postcard-encoded [`ModuleMeta`]s: what each module declares, where its
//! functions and trapping instructions are, and a component's flattened description and types), and the
//! machine code, linked and free of relocations: loading copies it into fresh executable memory, at any
//! address. Loading checks, in order: that the file is an ELF file with Tenon's sections, its checksum, the
//! settings against the loading engine's (a mismatch is an error naming the setting), then decodes the
//! metadata and checks every code range against the code section before anything is made executable.

mod elf;
mod settings;

pub use settings::Kind;
use settings::Settings;

use crate::Engine;
use crate::environ::{ModuleInfo, TrapSite, WasmFuncType};
use crate::vm::code_registry::FunctionRange;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// What kind of precompiled artifact some bytes are (see [`Engine::detect_precompiled`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precompiled {
    /// A module, for [`Module::deserialize`](crate::Module::deserialize).
    Module,
    /// A component, for [`Component::deserialize`](crate::component::Component::deserialize).
    Component,
}

/// One compiled module in an artifact: what it declares (but for its function types, which the types
/// section holds), and its code's place in the code section.
#[derive(Serialize, Deserialize)]
pub struct ModuleMeta<I> {
    /// The module's [`ModuleInfo`] (borrowed when writing).
    pub info: I,
    /// Where its code is in the code section.
    pub text_start: u32,
    pub text_len: u32,
    /// Its functions, by offset in its code.
    pub functions: Vec<FunctionRange>,
    /// Its trapping instructions, by offset in its code.
    pub traps: Vec<(u32, TrapSite)>,
    /// The largest stack frame of its functions.
    pub max_frame_size: u32,
}

/// The parts of a compiled module an artifact is made of, and a module is made of again.
pub struct ModuleParts<'a> {
    pub info: &'a ModuleInfo,
    pub text: &'a [u8],
    pub functions: &'a [FunctionRange],
    pub traps: &'a [(u32, TrapSite)],
    pub max_frame_size: u32,
}

impl ModuleParts<'_> {
    /// Its metadata, its code appended to `text`.
    pub fn meta(&self, text: &mut Vec<u8>) -> Result<ModuleMeta<&'_ ModuleInfo>> {
        // Each module's code starts aligned, as the code section does.
        text.resize(text.len().next_multiple_of(16), 0);
        let text_start = u32::try_from(text.len()).context("the code is too large for an artifact")?;
        text.extend_from_slice(self.text);
        Ok(ModuleMeta {
            info: self.info,
            text_start,
            text_len: self.text.len() as u32,
            functions: self.functions.to_vec(),
            traps: self.traps.to_vec(),
            max_frame_size: self.max_frame_size,
        })
    }
}

impl ModuleMeta<ModuleInfo> {
    /// Gives the module back its function types, from the types section.
    pub fn with_types(mut self, types: Vec<WasmFuncType>) -> Self {
        self.info.types = types;
        self
    }

    /// The module's code in the code section `text`, with its function and trap tables checked against it.
    pub fn code<'t>(&self, text: &'t [u8]) -> Result<&'t [u8]> {
        let start = self.text_start as usize;
        let code = start.checked_add(self.text_len as usize).and_then(|end| text.get(start..end));
        let code = code.context("the artifact is corrupt: a module's code lies outside the code section")?;
        let len = code.len() as u32;
        let functions_fit = self.functions.iter().all(|f| f.start <= f.end && f.end <= len)
            && self.functions.is_sorted_by_key(|f| f.start);
        let traps_fit = self.traps.iter().all(|(at, _)| *at < len) && self.traps.is_sorted_by_key(|(at, _)| *at);
        if !functions_fit || !traps_fit {
            bail!("the artifact is corrupt: a module's functions or traps lie outside its code");
        }
        Ok(code)
    }
}

/// Writes an artifact of `kind` for `engine` with this metadata, types and code.
pub fn write(engine: &Engine, kind: Kind, metadata: &impl Serialize, types: &impl Serialize, text: &[u8]) -> Result<Vec<u8>> {
    let settings = postcard::to_allocvec(&Settings::of(engine, kind)).context("encoding the artifact's settings")?;
    let metadata = postcard::to_allocvec(metadata).context("encoding the artifact's metadata")?;
    let types = postcard::to_allocvec(types).context("encoding the artifact's types")?;
    elf::write(&settings, &metadata, &types, text)
}

/// What an artifact holds, decoded: metadata `M`, types `T`, and the code section.
pub struct Contents<'a, M, T> {
    pub metadata: M,
    pub types: T,
    pub text: &'a [u8],
}

/// Reads an artifact of `kind` for `engine`: checks it, and decodes its metadata and types.
pub fn read<'a, M: Deserialize<'a>, T: Deserialize<'a>>(engine: &Engine, kind: Kind, bytes: &'a [u8]) -> Result<Contents<'a, M, T>> {
    let sections = elf::read(bytes)?;
    let settings: Settings = decode(sections.settings, "settings")?;
    settings.check(&Settings::of(engine, kind))?;
    Ok(Contents { metadata: decode(sections.metadata, "metadata")?, types: decode(sections.types, "types")?, text: sections.text })
}

/// Decodes section `what` (whole).
fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok(_) => bail!("the artifact is corrupt: its {what} have bytes left over"),
        Err(e) => bail!("the artifact is corrupt: its {what} cannot be decoded ({e})"),
    }
}

/// What kind of artifact `bytes` are, if they are one Tenon can tell (see [`Engine::detect_precompiled`]).
pub fn detect(bytes: &[u8]) -> Option<Precompiled> {
    let settings: Settings = decode(elf::settings_of(bytes)?, "settings").ok()?;
    Some(match settings.kind {
        Kind::Module => Precompiled::Module,
        Kind::Component => Precompiled::Component,
    })
}

/// The settings of `engine` that artifacts must share with it, to hash.
pub fn compatibility(engine: &Engine) -> impl std::hash::Hash + use<> {
    Settings::of(engine, Kind::Module)
}

/// Serde for hash maps written in key order, so that the same map always encodes to the same bytes.
pub mod sorted_map {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::{BTreeMap, HashMap};
    use std::hash::Hash;

    pub fn serialize<K: Serialize + Ord, V: Serialize, S: Serializer>(map: &HashMap<K, V>, serializer: S) -> Result<S::Ok, S::Error> {
        map.iter().collect::<BTreeMap<_, _>>().serialize(serializer)
    }

    pub fn deserialize<'de, K, V, D>(deserializer: D) -> Result<HashMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(BTreeMap::<K, V>::deserialize(deserializer)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::elf;
    use crate::{Engine, Module};

    /// Metadata and types altered byte by byte, with the checksum made to match (as only someone crafting an
    /// artifact would): decoding and checking them is an error or a module, never a panic.
    #[test]
    fn altered_sections_with_a_valid_checksum_do_not_panic() {
        let engine = Engine::default();
        let wat = r#"(module (memory 1) (data (i32.const 0) "x") (func $f (export "f") (param i32) (result i32) (call $f (local.get 0))))"#;
        let module = Module::new(&engine, wat).unwrap().serialize().unwrap();
        alter_each_byte(&module, |artifact| {
            // SAFETY: the code section is this process's own compiled code, unaltered; only the tables
            // describing it changed, which loading checks against it.
            let _ = unsafe { Module::deserialize(&engine, artifact) };
        });
        let wat = r#"(component
          (component $inner
            (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
            (core instance $i (instantiate $m))
            (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))
          (instance $inner (instantiate $inner))
          (core func $add (canon lower (func $inner "add")))
          (core module $outer
            (import "" "add" (func $add (param i32 i32) (result i32)))
            (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
          (core instance $o (instantiate $outer (with "" (instance (export "add" (func $add))))))
          (func (export "twice") (param "x" u32) (result u32) (canon lift (core func $o "twice"))))"#;
        let component = crate::component::Component::new(&engine, wat).unwrap().serialize().unwrap();
        alter_each_byte(&component, |artifact| {
            // SAFETY: as above.
            let _ = unsafe { crate::component::Component::deserialize(&engine, artifact) };
        });
    }

    /// Calls `load` with `bytes` altered in each byte of the metadata and types sections (three ways each),
    /// the checksum made to match.
    fn alter_each_byte(bytes: &[u8], load: impl Fn(&[u8])) {
        let sections = elf::read(bytes).unwrap();
        let (metadata, types) = (sections.metadata.to_vec(), sections.types.to_vec());
        for (which, section) in [(0, &metadata), (1, &types)] {
            for at in 0..section.len() {
                for flip in [0x01, 0x80, 0xff] {
                    let mut altered = section.clone();
                    altered[at] ^= flip;
                    let (m, t) = if which == 0 { (&altered, &types) } else { (&metadata, &altered) };
                    load(&elf::write(sections.settings, m, t, sections.text).unwrap());
                }
            }
        }
    }
}
