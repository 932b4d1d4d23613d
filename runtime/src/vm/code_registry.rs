//! The process-wide map from code addresses to published images, read by the signal handler (is this fault
//! a trap of compiled code, and which?) and by backtraces (which function is this frame in?).

use crate::environ::{FrameInfo, FrameNames, FuncKey, TrapSite};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// The location of one function in an image.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub struct FunctionRange {
    /// Offset of its first byte.
    pub start: u32,
    /// Offset one past its last byte.
    pub end: u32,
    /// Which function it is.
    pub key: FuncKey,
}

/// What the runtime knows about one published image.
#[derive(Debug)]
pub struct CodeInfo {
    /// First address of the image's mapping.
    pub start: usize,
    /// Bytes of code in it.
    pub len: usize,
    /// Its functions, by start offset.
    pub functions: Vec<FunctionRange>,
    /// Its trapping instructions, by offset.
    pub traps: Vec<(u32, TrapSite)>,
    /// The module's name and function names, for backtraces (absent for trampolines).
    pub names: Option<Arc<FrameNames>>,
}

impl CodeInfo {
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
        let FuncKey::Wasm { index, .. } = f.key else { return None };
        (offset < f.end).then(|| FrameInfo::new(index, names))
    }
}

/// Published images keyed by the start of their mapping. Mappings never overlap and are at least a page
/// long, so every live image has its own key, and an image without code (whose range is empty) can never
/// hide another.
static IMAGES: RwLock<BTreeMap<usize, Arc<CodeInfo>>> = RwLock::new(BTreeMap::new());

/// Makes `info`'s code range known to the trap handler.
pub fn register(info: Arc<CodeInfo>) {
    IMAGES.write().unwrap_or_else(|e| e.into_inner()).insert(info.start, info);
}

/// Forgets the image whose mapping starts at `start`.
pub fn unregister(start: usize) {
    IMAGES.write().unwrap_or_else(|e| e.into_inner()).remove(&start);
}

/// The image whose code contains `pc`, if any.
pub fn lookup(pc: usize) -> Option<Arc<CodeInfo>> {
    let images = IMAGES.read().unwrap_or_else(|e| e.into_inner());
    let (_, info) = images.range(..=pc).next_back()?;
    (pc - info.start < info.len).then(|| info.clone())
}

/// Whether `pc` lies in published code.
pub fn is_code(pc: usize) -> bool {
    lookup(pc).is_some()
}

/// The trap recorded for the instruction at `pc`, if `pc` is a trapping instruction of published code.
pub fn trap_at(pc: usize) -> Option<TrapSite> {
    let info = lookup(pc)?;
    info.trap_at(pc - info.start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environ::Trap;

    fn image(start: usize, len: usize) -> Arc<CodeInfo> {
        let traps = if len > 0 { vec![(0, TrapSite::Trap(Trap::UnreachableCodeReached))] } else { vec![] };
        Arc::new(CodeInfo { start, len, functions: vec![], traps, names: None })
    }

    /// An image without code that starts where a neighbour's code ends must neither hide the neighbour
    /// while it lives nor take the neighbour's entry with it when it goes (keyed by end address, both had
    /// the same key).
    #[test]
    fn an_empty_image_never_hides_its_neighbour() {
        // Addresses no real image can have, so that tests running in parallel cannot collide.
        let (neighbour, empty) = (usize::MAX - 0x3000, usize::MAX - 0x2000);
        register(image(neighbour, 0x1000));
        register(image(empty, 0));
        assert_eq!(trap_at(neighbour), Some(TrapSite::Trap(Trap::UnreachableCodeReached)));
        assert!(!is_code(empty));
        unregister(empty);
        assert_eq!(trap_at(neighbour), Some(TrapSite::Trap(Trap::UnreachableCodeReached)));
        assert!(is_code(neighbour + 0xfff) && !is_code(neighbour + 0x1000));
        unregister(neighbour);
        assert!(!is_code(neighbour));
    }
}
