//! The current thread's native stack: where it ends, so that wasm's stack limit never lies beyond it, and
//! an alternate stack for the signal handler.

use super::sys;
use std::cell::Cell;

/// Stack kept free below wasm's limit for host functions wasm calls and for trap handling.
pub const HOST_RESERVE: usize = 64 << 10;
/// The smallest alternate signal stack Tenon's signal handler runs on: a thread whose alternate stack is
/// smaller (or that has none) gets one of this size.
const ALT_STACK_SIZE: usize = 64 << 10;

/// [`FLOOR`] before this thread first entered wasm.
const UNKNOWN: usize = usize::MAX;

thread_local! {
    /// The lowest address of this thread's stack that wasm may use (0 if the bounds are unknown), or
    /// [`UNKNOWN`] before the first call into wasm on this thread.
    static FLOOR: Cell<usize> = const { Cell::new(UNKNOWN) };
}

/// The lowest stack address wasm may use on this thread: the end of the thread's stack plus a reserve for
/// host code, or 0 when the bounds cannot be found. The first call on a thread also makes sure the thread
/// has an alternate signal stack large enough for the trap handler; later calls cost one thread-local load.
#[inline]
pub fn wasm_floor() -> usize {
    match FLOOR.get() {
        UNKNOWN => first_entry_on_thread(),
        known => known,
    }
}

/// Prepares this thread for running wasm: looks its stack bounds up (which can read /proc/self/maps, for
/// the main thread) and installs an alternate signal stack if it has none or too small a one.
#[cold]
#[inline(never)]
fn first_entry_on_thread() -> usize {
    sys::ensure_alt_stack(ALT_STACK_SIZE);
    let floor = sys::thread_stack_low().map_or(0, |low| low + HOST_RESERVE);
    FLOOR.set(floor);
    floor
}
