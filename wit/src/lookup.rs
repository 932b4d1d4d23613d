//! The names options use for WIT items, spelled as Wasmtime 48 spells them: `ns:pkg/iface@1.0.0.item`
//! (a function or type of an interface), then ever less specific names up to the namespace (`ns`).

use crate::names::{snake, type_name};
use wit_parser::{Resolve, WorldKey};

/// One name an option may give an item by, with the Rust path segments that lead from what that name
/// denotes to the item (empty when the name is the item's own).
pub(crate) struct Key {
    /// The name: `wasi:io/streams@0.2.0.input-stream`, `wasi:io/streams`, `wasi:io`, `wasi`, ...
    pub name: String,
    /// From the named item's Rust path to the looked-up item's: `["streams", "InputStream"]` for
    /// `wasi:io` and the type `input-stream` of `wasi:io/streams`.
    pub projection: Vec<String>,
}

/// The names of `item` in the world item `key` (or of the interface itself, without `item`), from the
/// most specific to the least: `iface@v.item`, `iface.item`, `iface@v`, `iface`, `pkg@v`, `pkg`, `ns`.
/// An interface the world declares inline (`import x: interface { .. }`) has only `x.item` (or `x`).
pub(crate) fn keys(resolve: &Resolve, key: &WorldKey, item: Option<&str>) -> Vec<Key> {
    let with_item = |prefix: &str| match item {
        Some(item) => format!("{prefix}.{item}"),
        None => prefix.to_string(),
    };
    let id = match key {
        WorldKey::Name(name) => return vec![Key { name: with_item(name), projection: Vec::new() }],
        WorldKey::Interface(id) => *id,
    };
    let interface = &resolve.interfaces[id];
    let (Some(package), Some(iface)) = (interface.package, &interface.name) else {
        return vec![Key { name: with_item(&resolve.name_world_key(key)), projection: Vec::new() }];
    };
    let package = &resolve.packages[package].name;
    let bare_package = format!("{}:{}", package.namespace, package.name);
    let version = package.version.as_ref().map(|v| format!("@{v}"));
    let versions: Vec<&str> = version.iter().map(String::as_str).chain([""]).collect();
    let mut keys = Vec::new();
    let mut projection = Vec::new();
    if let Some(item) = item {
        for v in &versions {
            keys.push(Key { name: format!("{bare_package}/{iface}{v}.{item}"), projection: Vec::new() });
        }
        projection.push(type_name(item).to_string());
    }
    for v in &versions {
        keys.push(Key { name: format!("{bare_package}/{iface}{v}"), projection: projection.clone() });
    }
    projection.push(snake(iface).to_string());
    for v in &versions {
        keys.push(Key { name: format!("{bare_package}{v}"), projection: projection.clone() });
    }
    projection.push(snake(&package.name).to_string());
    keys.push(Key { name: package.namespace.clone(), projection });
    keys
}

/// `path` extended by `projection` (which lists the segments innermost first).
pub(crate) fn project(path: &str, projection: &[String]) -> String {
    std::iter::once(path).chain(projection.iter().rev().map(String::as_str)).collect::<Vec<_>>().join("::")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_run_from_the_item_to_the_namespace() {
        let mut resolve = Resolve::default();
        let package = resolve.push_str("a.wit", "package wasi:io@0.2.0; interface streams { resource input-stream; }").unwrap();
        let id = resolve.packages[package].interfaces["streams"];
        let keys = keys(&resolve, &WorldKey::Interface(id), Some("input-stream"));
        let names: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
        assert_eq!(
            names,
            [
                "wasi:io/streams@0.2.0.input-stream",
                "wasi:io/streams.input-stream",
                "wasi:io/streams@0.2.0",
                "wasi:io/streams",
                "wasi:io@0.2.0",
                "wasi:io",
                "wasi"
            ]
        );
        assert_eq!(project("crate::b", &keys[6].projection), "crate::b::io::streams::InputStream");
        assert_eq!(project("crate::s", &keys[3].projection), "crate::s::InputStream");
        assert!(keys[1].projection.is_empty());
    }
}
