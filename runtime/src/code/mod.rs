//! Code images: all functions of a module (or a set of trampolines) linked into one text section and
//! published to executable memory, with the metadata traps and backtraces need.

pub mod perf_map;
pub mod registry;

use crate::Trap;
use anyhow::{Result, bail};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a trapping instruction means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapSite {
    /// A wasm trap.
    Trap(Trap),
    /// A host function failed; its error or panic is stored in the current activation.
    HostCallFailed,
}

/// One function compiled to machine code, not yet placed in an image.
#[derive(Debug, Default)]
pub struct CompiledFunction {
    /// The machine code.
    pub code: Vec<u8>,
    /// Required alignment of the code, in bytes.
    pub alignment: u32,
    /// Direct calls to other functions of the same image: `(offset of the rel32 field, callee, addend)`.
    pub calls: Vec<(u32, u32, i64)>,
    /// Trapping instructions: `(offset, meaning)`.
    pub traps: Vec<(u32, TrapSite)>,
}

/// The location of one function in an image.
#[derive(Clone, Copy, Debug)]
struct FunctionRange {
    start: u32,
    end: u32,
    index: u32,
}

/// Metadata of a published image, shared with the trap handler.
#[derive(Debug)]
pub struct CodeInfo {
    start: usize,
    len: usize,
    functions: Vec<FunctionRange>,
    traps: Vec<(u32, TrapSite)>,
    /// The module's name and function names, for backtraces (absent for trampolines).
    names: Option<Arc<FrameNames>>,
}

/// Names used when printing a backtrace.
#[derive(Debug, Default)]
pub struct FrameNames {
    /// The module's name from its name section.
    pub module: Option<String>,
    /// Function names from the name section, by function index.
    pub functions: std::collections::HashMap<u32, String>,
}

/// One frame of a wasm backtrace.
#[derive(Clone, Debug)]
pub struct FrameInfo {
    /// The function's index in its module.
    pub func_index: u32,
    /// The function's name, if the module has one for it.
    pub func_name: Option<String>,
    /// The module's name, if it has one.
    pub module_name: Option<String>,
}

impl CodeInfo {
    /// First address of the image.
    pub fn start(&self) -> usize {
        self.start
    }

    /// One past the last address of the image.
    pub fn end(&self) -> usize {
        self.start + self.len
    }

    /// The trap recorded at `offset`.
    pub fn trap_at(&self, offset: usize) -> Option<TrapSite> {
        let offset = u32::try_from(offset).ok()?;
        let i = self.traps.binary_search_by_key(&offset, |(o, _)| *o).ok()?;
        Some(self.traps[i].1)
    }

    /// The wasm function containing `pc`, for backtraces.
    pub fn frame_at(&self, pc: usize) -> Option<FrameInfo> {
        let names = self.names.as_ref()?;
        let offset = u32::try_from(pc.checked_sub(self.start)?).ok()?;
        let i = self.functions.partition_point(|f| f.start <= offset).checked_sub(1)?;
        let f = self.functions[i];
        (offset < f.end).then(|| FrameInfo {
            func_index: f.index,
            func_name: names.functions.get(&f.index).cloned(),
            module_name: names.module.clone(),
        })
    }
}

/// Lays functions out in one text section.
#[derive(Default)]
pub struct CodeBuilder {
    text: Vec<u8>,
    functions: Vec<FunctionRange>,
    traps: Vec<(u32, TrapSite)>,
    calls: Vec<(u32, u32, i64)>,
}

impl CodeBuilder {
    /// Appends `f` as function `index`; returns its offset in the image.
    pub fn append(&mut self, index: u32, f: &CompiledFunction) -> u32 {
        let align = f.alignment.max(16) as usize;
        self.text.resize(self.text.len().next_multiple_of(align), 0xcc);
        let start = self.text.len() as u32;
        self.text.extend_from_slice(&f.code);
        self.functions.push(FunctionRange { start, end: self.text.len() as u32, index });
        self.traps.extend(f.traps.iter().map(|&(o, t)| (start + o, t)));
        self.calls.extend(f.calls.iter().map(|&(o, callee, addend)| (start + o, callee, addend)));
        start
    }

    /// Resolves the calls between functions and publishes the image.
    pub fn publish(mut self, names: Option<Arc<FrameNames>>) -> Result<CodeImage> {
        let offsets: std::collections::HashMap<u32, u32> =
            self.functions.iter().map(|f| (f.index, f.start)).collect();
        for &(at, callee, addend) in &self.calls {
            let Some(&target) = offsets.get(&callee) else { bail!("call to function {callee}, which is not in the image") };
            let delta = target as i64 - at as i64 + addend;
            let delta = i32::try_from(delta).map_err(|_| anyhow::anyhow!("code image too large for rel32 calls"))?;
            self.text[at as usize..at as usize + 4].copy_from_slice(&delta.to_le_bytes());
        }
        self.traps.sort_by_key(|(o, _)| *o);
        CodeImage::publish(&self.text, self.functions, self.traps, names)
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
        let offset = GIB + (random % (GIB >> 12) << 12);
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
#[derive(Debug)]
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
    fn publish(
        text: &[u8],
        functions: Vec<FunctionRange>,
        traps: Vec<(u32, TrapSite)>,
        names: Option<Arc<FrameNames>>,
    ) -> Result<Self> {
        let page = 4096;
        let mapping_len = text.len().max(1).next_multiple_of(page);
        // SAFETY: an anonymous private mapping; the address is only a hint (no MAP_FIXED), so nothing that is
        // mapped already is replaced. Checked for failure.
        let mapping = unsafe {
            libc::mmap(
                address_hint(mapping_len) as *mut libc::c_void,
                mapping_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if mapping == libc::MAP_FAILED {
            bail!("failed to allocate {mapping_len} bytes of code memory");
        }
        let mapping = mapping.cast::<u8>();
        // SAFETY: the mapping is writable, at least `text.len()` long, and does not overlap `text`; afterwards
        // it is made read-execute, which is what the copied machine code needs.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), mapping, text.len());
            if libc::mprotect(mapping.cast(), mapping_len, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                libc::munmap(mapping.cast(), mapping_len);
                bail!("failed to make code executable: {}", std::io::Error::last_os_error());
            }
        }
        if !functions.is_sorted_by_key(|f| f.index) {
            bail!("functions must be laid out in index order");
        }
        let info = Arc::new(CodeInfo { start: mapping as usize, len: text.len(), functions, traps, names });
        perf_map::record(&info);
        registry::register(info.clone());
        Ok(CodeImage { mapping, mapping_len, info })
    }

    /// The address of function `index`.
    pub fn function(&self, index: u32) -> Option<*const u8> {
        let functions = &self.info.functions;
        let start = functions[functions.binary_search_by_key(&index, |f| f.index).ok()?].start;
        // SAFETY: `start` is an offset inside the mapping.
        Some(unsafe { self.mapping.add(start as usize) })
    }
}

impl Drop for CodeImage {
    fn drop(&mut self) {
        registry::unregister(self.info.end());
        // SAFETY: the mapping was created in `publish` with this length; no code of it can be running, since
        // every store that could run it holds the module (and so this image) alive.
        unsafe {
            libc::munmap(self.mapping.cast(), self.mapping_len);
        }
    }
}
