//! The artifact file: an ELF object with Tenon's sections, and a CRC-32 over the whole file that is checked
//! before anything in it is decoded.
//!
//! Sections: [`SETTINGS`] (the engine settings, see [`Settings`](super::settings::Settings)), [`METADATA`]
//! (the module or component description), [`TYPES`] (the function types of each module, and a component's
//! type table), [`TEXT`] (the machine code of every module, linked, without relocations) and [`CHECKSUM`]
//! (four bytes: the CRC-32 of the file with these four bytes zero).

use anyhow::{Context, Result, bail};
use object::read::elf::ElfFile64;
use object::{Architecture, BinaryFormat, Endianness, Object, ObjectSection, SectionKind};

/// The section of the engine settings.
pub const SETTINGS: &str = ".tenon.settings";
/// The section of the module or component metadata.
pub const METADATA: &str = ".tenon.metadata";
/// The section of the types.
pub const TYPES: &str = ".tenon.types";
/// The section of the machine code.
pub const TEXT: &str = ".text";
/// The section of the checksum.
pub const CHECKSUM: &str = ".tenon.checksum";

/// The sections of an artifact, borrowed from its bytes.
pub struct Sections<'a> {
    pub settings: &'a [u8],
    pub metadata: &'a [u8],
    pub types: &'a [u8],
    pub text: &'a [u8],
}

/// Writes an artifact of these sections.
pub fn write(settings: &[u8], metadata: &[u8], types: &[u8], text: &[u8]) -> Result<Vec<u8>> {
    let mut object = object::write::Object::new(BinaryFormat::Elf, architecture(), Endianness::Little);
    for (name, kind, data, align) in [
        (SETTINGS, SectionKind::ReadOnlyData, settings, 1),
        (METADATA, SectionKind::ReadOnlyData, metadata, 8),
        (TYPES, SectionKind::ReadOnlyData, types, 8),
        (TEXT, SectionKind::Text, text, 16),
        (CHECKSUM, SectionKind::ReadOnlyData, &[0u8; 4][..], 4),
    ] {
        let section = object.add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        object.append_section_data(section, data, align);
    }
    let mut bytes = object.write().context("writing the artifact")?;
    let at = section_range(&bytes, CHECKSUM)?.start;
    let crc = checksum(&bytes, at);
    bytes[at..at + 4].copy_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Reads an artifact's sections, after checking its checksum.
pub fn read(bytes: &[u8]) -> Result<Sections<'_>> {
    let at = section_range(bytes, CHECKSUM)?;
    if at.len() != 4 {
        bail!("the artifact is corrupt: its checksum is {} bytes long", at.len());
    }
    let stored = u32::from_le_bytes(bytes[at.start..at.end].try_into().expect("four bytes"));
    if stored != checksum(bytes, at.start) {
        bail!("the artifact is corrupt: its checksum does not match its contents");
    }
    Ok(Sections {
        settings: &bytes[section_range(bytes, SETTINGS)?],
        metadata: &bytes[section_range(bytes, METADATA)?],
        types: &bytes[section_range(bytes, TYPES)?],
        text: &bytes[section_range(bytes, TEXT)?],
    })
}

/// Whether `bytes` look like an artifact (an ELF file with Tenon's settings section), and if so, the
/// settings section.
pub fn settings_of(bytes: &[u8]) -> Option<&[u8]> {
    section_range(bytes, SETTINGS).ok().map(|range| &bytes[range])
}

/// Where section `name` is in the file, checked to lie inside it.
fn section_range(bytes: &[u8], name: &str) -> Result<std::ops::Range<usize>> {
    let file = ElfFile64::<Endianness>::parse(bytes).map_err(|e| anyhow::anyhow!("not a Tenon artifact (not a 64-bit ELF file: {e})"))?;
    let section = file.section_by_name(name).with_context(|| format!("not a Tenon artifact (no section `{name}`)"))?;
    let (start, len) = section.file_range().with_context(|| format!("the artifact's section `{name}` has no data"))?;
    let range = usize::try_from(start).ok().zip(usize::try_from(len).ok()).and_then(|(s, l)| Some(s..s.checked_add(l)?));
    match range {
        Some(range) if range.end <= bytes.len() => Ok(range),
        _ => bail!("the artifact is corrupt: section `{name}` lies outside the file"),
    }
}

/// The CRC-32 of `bytes` with the four bytes at `at` taken as zero.
fn checksum(bytes: &[u8], at: usize) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&bytes[..at]);
    hasher.update(&[0; 4]);
    hasher.update(&bytes[at + 4..]);
    hasher.finalize()
}

/// The ELF machine of the host.
fn architecture() -> Architecture {
    match std::env::consts::ARCH {
        "x86_64" => Architecture::X86_64,
        "aarch64" => Architecture::Aarch64,
        "riscv64" => Architecture::Riscv64,
        "s390x" => Architecture::S390x,
        _ => Architecture::Unknown,
    }
}
