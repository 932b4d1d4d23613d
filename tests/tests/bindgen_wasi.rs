//! The WASI 0.2 worlds of `../shared/wit` (`wasi:cli/command`, `wasi:cli/imports`, `wasi:http/proxy`,
//! `wasi:http/imports`) and worlds exporting WASI interfaces (io, http types, filesystem) through `bindgen!`:
//! they compile (with `cargo clippy` finding nothing), imported resources are host resources with
//! `Host<Resource>` traits, exported ones the guest's with typed handles, and `add_to_linker` defines every
//! import. Skipped when `../shared` is absent.

#[cfg(tenon_wasi_wit)]
mod wasi {
    include!(concat!(env!("OUT_DIR"), "/wasi_bindings.rs"));
}

#[cfg(tenon_wasi_wit)]
#[test]
fn wasi_worlds_generate_and_compile() {
    use wasi::command::wasi::io::poll::{HostPollable, Pollable};
    use wasi::command::wasi::io::streams::OutputStream;
    // A host resource type, and its trait's `drop`.
    fn _drop_of<H: HostPollable>(host: &mut H, p: tenon::component::Resource<Pollable>) -> tenon::Result<()> {
        host.drop(p)
    }
    let _: Option<tenon::component::Resource<OutputStream>> = None;
    // The world's exports: `wasi:cli/run`'s `run`.
    let _run = wasi::command::exports::wasi::cli::run::Guest::call_run::<tenon::Store<()>>;
    // The proxy world's export takes resources the host gives.
    let _handle = wasi::proxy::exports::wasi::http::incoming_handler::Guest::call_handle::<tenon::Store<()>>;
    // Exported WASI resources are the guest's: `ResourceAny`s, and typed handles with their methods.
    let _write = wasi::exports_io::exports::wasi::io::streams::OutputStreamHandle::blocking_write_and_flush::<tenon::Store<()>>;
    let _: Option<wasi::exports_io::exports::wasi::io::streams::OutputStream> = None::<tenon::component::ResourceAny>;
    let _fields = wasi::exports_http::exports::wasi::http::types::GuestFields::new::<tenon::Store<()>>;
    let _stat = wasi::exports_filesystem::exports::wasi::filesystem::types::DescriptorHandle::stat::<tenon::Store<()>>;
}

#[cfg(not(tenon_wasi_wit))]
#[test]
fn wasi_worlds_generate_and_compile() {
    eprintln!("skipped: ../shared/wit not found");
}
