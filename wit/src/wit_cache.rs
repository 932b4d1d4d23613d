//! The WIT files a process has read, kept for the next `bindgen!` of the same paths: a crate with one call
//! per world, or rust-analyzer's long-lived macro server, parses them once. An entry is used only while
//! every file it read has the same contents and every directory it listed the same `.wit` files and
//! packages.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use wit_parser::{PackageId, Resolve};

/// The packages read from some paths.
#[derive(Clone)]
pub(crate) struct Read {
    /// Everything read, with all features (`@unstable` items) on.
    pub resolve: Resolve,
    /// The package of each path.
    pub packages: Vec<PackageId>,
    /// The files read.
    pub files: Vec<PathBuf>,
}

/// A cached read, and what it was read from.
struct Entry {
    paths: Vec<PathBuf>,
    /// The contents of each file read.
    contents: Vec<(PathBuf, Vec<u8>)>,
    /// The entries of each directory that could hold WIT (a path, its `deps/`, and each package in it).
    listings: Vec<(PathBuf, Vec<String>)>,
    read: Read,
}

/// At most this many reads are kept (a crate's worlds usually share one WIT directory).
const ENTRIES: usize = 4;

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The packages of `paths`, read with all features on: from the cache when nothing changed on disk.
pub(crate) fn read(paths: &[PathBuf]) -> Result<Read> {
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(entry) = cache.iter().find(|e| e.paths == paths && unchanged(e)) {
        return Ok(entry.read.clone());
    }
    let mut resolve = Resolve { all_features: true, ..Resolve::default() };
    let (mut packages, mut files) = (Vec::new(), Vec::new());
    for path in paths {
        let (package, sources) = resolve.push_path(path).with_context(|| format!("failed to read WIT from `{}`", path.display()))?;
        packages.push(package);
        files.extend(sources.paths().map(PathBuf::from));
    }
    let read = Read { resolve, packages, files };
    let contents = read.files.iter().filter_map(|f| Some((f.clone(), std::fs::read(f).ok()?))).collect();
    let listings = paths.iter().flat_map(|p| wit_dirs(p)).map(|dir| (dir.clone(), listing(&dir))).collect();
    if cache.len() == ENTRIES {
        cache.remove(0);
    }
    cache.push(Entry { paths: paths.to_vec(), contents, listings, read: read.clone() });
    Ok(read)
}

/// Whether `entry`'s files and directories are as they were.
fn unchanged(entry: &Entry) -> bool {
    entry.contents.iter().all(|(file, contents)| std::fs::read(file).is_ok_and(|now| now == *contents))
        && entry.listings.iter().all(|(dir, names)| listing(dir) == *names)
        && entry.paths.iter().flat_map(|p| wit_dirs(p)).count() == entry.listings.len()
}

/// The directories under `path` whose entries decide what `Resolve::push_path` reads: `path` itself, its
/// `deps/`, and each directory in `deps/`.
fn wit_dirs(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return Vec::new();
    }
    let deps = path.join("deps");
    let mut dirs = vec![path.to_path_buf()];
    if deps.is_dir() {
        dirs.extend(std::fs::read_dir(&deps).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        dirs.push(deps);
    }
    dirs
}

/// The names in directory `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::read;

    /// A second read of the same paths comes from the cache; any change on disk is seen.
    #[test]
    fn changes_on_disk_are_seen() {
        let dir = std::env::temp_dir().join(format!("tenon-wit-cache-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("deps")).unwrap();
        let world = |body: &str| format!("package a:b; interface i {{ {body} }} world w {{ import i; }}");
        std::fs::write(dir.join("a.wit"), world("f: func();")).unwrap();
        let functions = |paths: &[std::path::PathBuf]| {
            let r = read(paths).unwrap();
            let i = r.resolve.packages[r.packages[0]].interfaces["i"];
            let mut names: Vec<String> = r.resolve.interfaces[i].functions.keys().cloned().collect();
            names.sort();
            names
        };
        let paths = vec![dir.clone()];
        assert_eq!(functions(&paths), ["f"]);
        assert_eq!(functions(&paths), ["f"]);
        std::fs::write(dir.join("a.wit"), world("g: func();")).unwrap();
        assert_eq!(functions(&paths), ["g"], "a changed file is read again");
        std::fs::write(dir.join("b.wit"), "package a:b; interface j { h: func(); }").unwrap();
        let r = read(&paths).unwrap();
        assert!(r.resolve.packages[r.packages[0]].interfaces.contains_key("j"), "a new file is read");
        std::fs::create_dir_all(dir.join("deps/c")).unwrap();
        std::fs::write(dir.join("deps/c/c.wit"), "package c:d; interface k {}").unwrap();
        let r = read(&paths).unwrap();
        assert!(r.resolve.package_names.keys().any(|n| n.namespace == "c"), "a new dependency is read");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
