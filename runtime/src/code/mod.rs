//! Code images: all functions of a module (or a set of trampolines) linked into one text section and
//! published to executable memory, where the trap handler finds them (`vm::code_registry`).

pub mod perf_map;

use crate::environ::{CompiledFunction, FrameNames, FuncKey, TrapSite};
use crate::vm::code_registry::{self, CodeInfo, FunctionRange};
use crate::vm::sys::{self, Access};
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Lays functions out in one text section.
#[derive(Default)]
pub struct CodeBuilder {
    text: Vec<u8>,
    functions: Vec<FunctionRange>,
    traps: Vec<(u32, TrapSite)>,
    calls: Vec<(u32, FuncKey, i64)>,
    max_frame_size: u32,
}

impl CodeBuilder {
    /// Appends `f` as function `key`; returns its offset in the image.
    pub fn append(&mut self, key: FuncKey, f: &CompiledFunction) -> u32 {
        let align = f.alignment.max(16) as usize;
        self.text.resize(self.text.len().next_multiple_of(align), 0xcc);
        let start = self.text.len() as u32;
        self.text.extend_from_slice(&f.code);
        self.functions.push(FunctionRange { start, end: self.text.len() as u32, key });
        self.traps.extend(f.traps.iter().map(|&(o, t)| (start + o, t)));
        self.calls.extend(f.calls.iter().map(|&(o, callee, addend)| (start + o, callee, addend)));
        self.max_frame_size = self.max_frame_size.max(f.frame_size);
        start
    }

    /// Resolves the calls between functions and publishes the image.
    pub fn publish(mut self, names: Option<Arc<FrameNames>>) -> Result<CodeImage> {
        let offsets: HashMap<FuncKey, u32> = self.functions.iter().map(|f| (f.key, f.start)).collect();
        for &(at, callee, addend) in &self.calls {
            let Some(&target) = offsets.get(&callee) else { bail!("call to {callee:?}, which is not in the image") };
            let delta = target as i64 - at as i64 + addend;
            let delta = i32::try_from(delta).map_err(|_| anyhow::anyhow!("code image too large for rel32 calls"))?;
            self.text[at as usize..at as usize + 4].copy_from_slice(&delta.to_le_bytes());
        }
        self.traps.sort_by_key(|(o, _)| *o);
        CodeImage::publish(&self.text, self.functions, self.traps, names)
    }

    /// The largest stack frame of the functions appended so far.
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }
}

/// Where the next image's mapping is asked for: each one just below the previous, starting at a random
/// page between one and two gigabytes below Tenon's own machine code (so one code address does not give
/// the others away). Calls and returns between compiled code and the host (trampolines, host functions)
/// are faster on some processors when both lie within a few gigabytes of each other: on the AMD EPYC the
/// benchmarks ran on, a wasm-to-host call took 2.2 ns placed so, 3.1 ns where mappings land by default.
/// The kernel ignores the hint when the range is taken; the image is then simply farther away.
fn address_hint(len: usize) -> usize {
    const GIB: usize = 1 << 30;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if NEXT.load(Ordering::Relaxed) == 0 {
        let own_code = address_hint as *const () as usize;
        let random = {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new().build_hasher().finish() as usize
        };
        let offset = GIB + ((random % (GIB >> 12)) << 12);
        // Where that would underflow (code in the lowest gigabytes), the kernel places images.
        let start = (own_code & !(GIB - 1)).checked_sub(offset).unwrap_or(usize::MAX);
        // Another thread may have chosen first; its choice stands.
        let _ = NEXT.compare_exchange(0, start, Ordering::Relaxed, Ordering::Relaxed);
    }
    let end = NEXT.fetch_sub(len, Ordering::Relaxed);
    // Near the bottom of the address space (or after wrapping), leave the placement to the kernel.
    if end < GIB + len || end > usize::MAX / 2 { 0 } else { end - len }
}

/// Executable memory holding one image; unpublished when dropped.
pub struct CodeImage {
    mapping: *mut u8,
    mapping_len: usize,
    info: Arc<CodeInfo>,
}

// SAFETY: the mapping is read-only and executable after publication; nothing mutates it until drop.
unsafe impl Send for CodeImage {}
// SAFETY: as above.
unsafe impl Sync for CodeImage {}

impl CodeImage {
    /// Copies `text`, linked code without relocations, into fresh executable memory, with its functions and
    /// trapping instructions (sorted by offset), and registers it for the trap handler.
    pub fn publish(
        text: &[u8],
        functions: Vec<FunctionRange>,
        traps: Vec<(u32, TrapSite)>,
        names: Option<Arc<FrameNames>>,
    ) -> Result<Self> {
        if !functions.is_sorted_by_key(|f| f.start) {
            bail!("functions must be laid out in order");
        }
        let mapping_len = text.len().max(1).next_multiple_of(sys::page_size());
        let mapping = sys::map(mapping_len, Access::ReadWrite, address_hint(mapping_len))?;
        // SAFETY: the fresh mapping is writable, at least `text.len()` long, and does not overlap `text`;
        // afterwards it is made read-execute, which is what the copied machine code needs. On failure it is
        // unmapped before anything could run it.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), mapping, text.len());
            if let Err(e) = sys::protect(mapping, mapping_len, Access::ReadExecute) {
                sys::unmap(mapping, mapping_len);
                return Err(e.context("failed to make code executable"));
            }
        }
        let info = Arc::new(CodeInfo { start: mapping as usize, len: text.len(), functions, traps, names });
        perf_map::record(&info);
        code_registry::register(info.clone());
        Ok(CodeImage { mapping, mapping_len, info })
    }

    /// The machine code.
    pub fn text(&self) -> &[u8] {
        // SAFETY: the mapping holds `info.len` bytes of code, readable (and executable) for as long as the
        // image lives, and nothing writes to it after publication.
        unsafe { std::slice::from_raw_parts(self.mapping, self.info.len) }
    }

    /// Its functions, by offset.
    pub fn function_ranges(&self) -> &[FunctionRange] {
        &self.info.functions
    }

    /// Its trapping instructions, by offset.
    pub fn traps(&self) -> &[(u32, TrapSite)] {
        &self.info.traps
    }

    /// The address of function `key`.
    pub fn function(&self, key: FuncKey) -> Option<*const u8> {
        let f = self.info.functions.iter().find(|f| f.key == key)?;
        Some(self.mapping.wrapping_add(f.start as usize))
    }

    /// The address of every function, in layout order (the order they were appended).
    pub fn functions(&self) -> impl Iterator<Item = (FuncKey, *const u8)> + '_ {
        self.info.functions.iter().map(|f| (f.key, self.mapping.wrapping_add(f.start as usize).cast_const()))
    }
}

impl Drop for CodeImage {
    fn drop(&mut self) {
        code_registry::unregister(self.info.start);
        // SAFETY: the mapping was created in `publish` with this length; no code of it can be running, since
        // every store that could run it holds the module (and so this image) alive.
        unsafe { sys::unmap(self.mapping, self.mapping_len) };
    }
}
