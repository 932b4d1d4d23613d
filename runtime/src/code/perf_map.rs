//! Perf maps: `/tmp/perf-PID.map`, where `perf report` finds names for code it did not load from a file.
//! With [`ProfilingStrategy::PerfMap`](crate::ProfilingStrategy), every published image adds a line per
//! function: its address, size and name.

use crate::environ::FuncKey;
use crate::vm::code_registry::CodeInfo;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);
static FILE: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// Records the images published from now on (process-wide, as the map is).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Adds `info`'s functions to the map, if enabled. Failing to write it only loses names for the profiler.
pub fn record(info: &CodeInfo) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let mut file = FILE.lock().unwrap_or_else(|e| e.into_inner());
    if file.is_none() {
        let path = format!("/tmp/perf-{}.map", std::process::id());
        // Never through a symbolic link someone else left in /tmp.
        use std::os::unix::fs::OpenOptionsExt;
        *file = std::fs::OpenOptions::new().create(true).append(true).custom_flags(libc::O_NOFOLLOW).open(path).ok();
    }
    let Some(file) = file.as_mut() else { return };
    let mut lines = String::new();
    for f in &info.functions {
        let start = info.start + f.start as usize;
        let size = f.end - f.start;
        let name = match f.key {
            FuncKey::Wasm { index, .. } => {
                let names = info.names.as_deref();
                let module = names.and_then(|n| n.module.as_deref()).unwrap_or("");
                match names.and_then(|n| n.functions.get(&index)) {
                    Some(name) => format!("wasm[{module}]::{name}"),
                    None => format!("wasm[{module}]::function[{index}]"),
                }
            }
            FuncKey::EntryTrampoline => "tenon::trampoline[entry]".to_string(),
            FuncKey::ExitTrampoline => "tenon::trampoline[exit]".to_string(),
        };
        // One line per function, whatever the name section says.
        let name: String = name.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
        lines += &format!("{start:x} {size:x} {name}\n");
    }
    let _ = file.write_all(lines.as_bytes());
}
