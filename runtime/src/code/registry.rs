//! The process-wide map from code addresses to published images, read by the signal handler.

use super::{CodeInfo, TrapSite};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Published images keyed by their end address (exclusive).
static IMAGES: RwLock<BTreeMap<usize, Arc<CodeInfo>>> = RwLock::new(BTreeMap::new());

/// Makes `info`'s code range known to the trap handler.
pub fn register(info: Arc<CodeInfo>) {
    IMAGES.write().unwrap_or_else(|e| e.into_inner()).insert(info.end(), info);
}

/// Forgets the image ending at `end`.
pub fn unregister(end: usize) {
    IMAGES.write().unwrap_or_else(|e| e.into_inner()).remove(&end);
}

/// The image containing `pc`, if any.
pub fn lookup(pc: usize) -> Option<Arc<CodeInfo>> {
    let images = IMAGES.read().unwrap_or_else(|e| e.into_inner());
    let (_, info) = images.range(pc + 1..).next()?;
    (info.start() <= pc).then(|| info.clone())
}

/// Whether `pc` lies in published code.
pub fn is_code(pc: usize) -> bool {
    lookup(pc).is_some()
}

/// The trap recorded for the instruction at `pc`, if `pc` is a trapping instruction of published code.
pub fn trap_at(pc: usize) -> Option<TrapSite> {
    let info = lookup(pc)?;
    info.trap_at(pc - info.start())
}
