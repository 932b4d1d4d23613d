//! `tenon bindgen` and `tenon wit`: the Rust bindings of a WIT world (the same code `bindgen!` expands to,
//! formatted), and the WIT of a component or of WIT files.

use anyhow::{Context, Result, bail};
use std::path::Path;
use wit_component::WitPrinter;
use wit_parser::Resolve;
use wit_parser::decoding::DecodedWasm;

/// The bindings `opts` describe, as formatted Rust source.
pub fn bindgen(opts: &tenon_wit::Opts) -> Result<String> {
    let generated = tenon_wit::generate(opts)?;
    let file: syn3::File = syn3::parse2(generated.tokens).context("the generated code does not parse (a bug in tenon-wit)")?;
    Ok(prettyplease::unparse(&file))
}

/// The WIT of `path`: a component (its world, as it imports and exports), a binary WIT package, or WIT
/// text (a file, or a directory with its `deps/`), printed as WIT.
pub fn wit(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()));
    let (resolve, package) = match bytes {
        Ok(bytes) if bytes.starts_with(b"\0asm") => match wit_component::decode(&bytes).context("failed to decode the WIT of the binary")? {
            DecodedWasm::WitPackage(resolve, package) => (resolve, package),
            DecodedWasm::Component(resolve, world) => {
                let package = resolve.worlds[world].package.context("the component's world has no package")?;
                (resolve, package)
            }
        },
        _ if path.exists() => {
            let mut resolve = Resolve::default();
            let (package, _) = resolve.push_path(path)?;
            (resolve, package)
        }
        Err(e) => return Err(e),
        Ok(_) => bail!("`{}` is neither a component nor WIT", path.display()),
    };
    let mut printer = WitPrinter::default();
    printer.print(&resolve, package, &[])?;
    Ok(printer.output.to_string())
}
