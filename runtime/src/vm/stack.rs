//! The current thread's native stack: where it ends, so that wasm's stack limit never lies beyond it, and
//! an alternate stack for the signal handler on threads that have none.

use std::cell::Cell;

/// Stack kept free below wasm's limit for host functions wasm calls and for trap handling.
const HOST_RESERVE: usize = 64 << 10;
/// Size of the alternate signal stack Tenon installs on threads without one.
const ALT_STACK_SIZE: usize = 64 << 10;

/// [`FLOOR`] before this thread first entered wasm.
const UNKNOWN: usize = usize::MAX;

thread_local! {
    /// The lowest address of this thread's stack that wasm may use (0 if the bounds are unknown), or
    /// [`UNKNOWN`] before the first call into wasm on this thread.
    static FLOOR: Cell<usize> = const { Cell::new(UNKNOWN) };
    /// The alternate signal stack Tenon installed on this thread, removed when the thread exits.
    static ALT_STACK: AltStack = const { AltStack(Cell::new(std::ptr::null_mut())) };
}

/// The lowest stack address wasm may use on this thread: the end of the thread's stack plus a reserve for
/// host code, or 0 when the bounds cannot be found. The first call on a thread also makes sure the thread
/// has an alternate signal stack; later calls cost one thread-local load.
#[inline]
pub fn wasm_floor() -> usize {
    match FLOOR.get() {
        UNKNOWN => first_entry_on_thread(),
        known => known,
    }
}

/// Prepares this thread for running wasm: looks its stack bounds up (which can read /proc/self/maps, for
/// the main thread) and installs an alternate signal stack if it has none.
#[cold]
#[inline(never)]
fn first_entry_on_thread() -> usize {
    ensure_alt_stack();
    let floor = floor_from_pthread().map_or(0, |low| low + HOST_RESERVE);
    FLOOR.set(floor);
    floor
}

fn floor_from_pthread() -> Option<usize> {
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before it is read and destroyed once; the
    // out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        let mut guard: libc::size_t = 0;
        libc::pthread_attr_getguardsize(&attr, &mut guard);
        libc::pthread_attr_destroy(&mut attr);
        (rc == 0 && !addr.is_null()).then(|| addr as usize + guard)
    }
}

struct AltStack(Cell<*mut libc::c_void>);

impl Drop for AltStack {
    fn drop(&mut self) {
        let mapping = self.0.get();
        if mapping.is_null() {
            return;
        }
        // SAFETY: the alternate stack is disabled before its memory (mapped by `ensure_alt_stack` with this
        // size) is unmapped; this runs at thread exit, outside any signal handler.
        unsafe {
            let disable = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
            libc::sigaltstack(&disable, std::ptr::null_mut());
            libc::munmap(mapping, page_size() + ALT_STACK_SIZE);
        }
    }
}

fn page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// Makes sure this thread has an alternate signal stack, so the trap handler never runs on the stack that
/// faulted. Threads started by Rust's standard library already have one; others get one here.
fn ensure_alt_stack() {
    ALT_STACK.with(|alt| {
        // SAFETY: querying with a null new stack only reads the current setting into a valid local.
        let mut current: libc::stack_t = unsafe { std::mem::zeroed() };
        if unsafe { libc::sigaltstack(std::ptr::null(), &mut current) } != 0 || current.ss_flags & libc::SS_DISABLE == 0 {
            return;
        }
        let guard = page_size();
        // SAFETY: a fresh anonymous mapping; its first page stays inaccessible as a guard and the rest is made
        // read-write before it is installed as the alternate stack.
        unsafe {
            let mapping = libc::mmap(
                std::ptr::null_mut(),
                guard + ALT_STACK_SIZE,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if mapping == libc::MAP_FAILED {
                return;
            }
            let stack = mapping.cast::<u8>().add(guard).cast::<libc::c_void>();
            if libc::mprotect(stack, ALT_STACK_SIZE, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                libc::munmap(mapping, guard + ALT_STACK_SIZE);
                return;
            }
            let new = libc::stack_t { ss_sp: stack, ss_flags: 0, ss_size: ALT_STACK_SIZE };
            if libc::sigaltstack(&new, std::ptr::null_mut()) != 0 {
                libc::munmap(mapping, guard + ALT_STACK_SIZE);
                return;
            }
            alt.0.set(mapping);
        }
    });
}
