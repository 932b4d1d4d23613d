//! Gives the crate a build id: a hash of its own sources, which ahead-of-time artifacts record so that one
//! build of Tenon never loads another's (their layouts of contexts and metadata may differ under the same
//! version number).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    files.sort();
    // FNV-1a, 64-bit: stable across Rust versions, unlike the standard library's hashers.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in &files {
        let contents = std::fs::read(path).unwrap_or_default();
        for byte in path.to_string_lossy().bytes().chain([0]).chain(contents) {
            hash = (hash ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=TENON_BUILD_ID={hash:016x}");
}

/// Every file under `dir`.
fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
