//! The boundary between host and wasm: entering compiled code, and coming back from a trap.
//!
//! The host enters wasm through [`enter`], which records the callee-saved registers and the stack pointer
//! in a jump buffer before calling the entry trampoline. Every way out other than a normal return is a
//! trap instruction or a fault inside published wasm code: the signal handler claims it only if the faulting
//! PC lies in published code, records why and where (with a backtrace walked along the frame pointers), and
//! makes the thread resume in [`arch::resume`], which restores the jump buffer so that [`enter`] returns
//! again. Host errors and panics are stored in the current activation by the host shim, which then returns a
//! failure flag; the exit trampoline turns that into a trap. Host functions and builtins that compiled code
//! calls directly resume the activation themselves ([`raise_host_failure`]). No Rust frame is ever unwound
//! by this, since only compiled wasm frames and trampolines lie between a jump buffer and the point of the
//! trap.

use super::arch::{self, JmpBuf, Returned};
use super::{code_registry, sys};
use crate::environ::{Trap, TrapSite};
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::OnceLock;

/// Records the trap `code` (a [`TrapSite::code`]) raised at `pc` in the frame `fp` and resumes at the
/// innermost [`enter`]. Reached from [`arch::raise_trap`].
pub(super) unsafe extern "sysv64" fn raise_trap_at(_vmctx: *mut u8, code: u32, pc: usize, fp: usize) -> ! {
    let activation = CURRENT.with(|c| c.get());
    assert!(!activation.is_null(), "compiled code raised a trap outside of any call into wasm");
    // SAFETY: `activation` is the live innermost activation of this thread, and the thread is in compiled
    // code called from it, so nothing else touches it. No value with a destructor is live in this frame when
    // `resume` abandons it.
    unsafe {
        let activation = &*activation;
        match TrapSite::from_code(code) {
            Some(TrapSite::Trap(trap)) => **activation.reason.get() = Some(UnwindReason::Trap(trap)),
            // The host shim stored the reason before returning its failure flag.
            Some(TrapSite::HostCallFailed) | None => {}
        }
        walk_frames(pc, fp);
        arch::resume(activation.jmpbuf.get().cast())
    }
}

/// Why wasm execution ended early.
pub enum UnwindReason {
    /// A trap of compiled code.
    Trap(Trap),
    /// A host function returned an error.
    HostError(anyhow::Error),
    /// A host function panicked.
    Panic(Box<dyn Any + Send>),
}

/// How many frames a trap's backtrace keeps (the innermost ones).
const MAX_FRAMES: usize = 64;

/// The PCs of the wasm frames at a trap, innermost first.
#[derive(Clone)]
pub struct RawBacktrace {
    pcs: [usize; MAX_FRAMES],
    len: usize,
}

impl RawBacktrace {
    /// The recorded PCs, innermost first.
    pub fn pcs(&self) -> &[usize] {
        &self.pcs[..self.len]
    }
}

/// One entry into wasm, linked to the activations further out on this thread.
struct Activation {
    /// Filled by [`arch::call_with_jmpbuf`] before anything can resume to it.
    jmpbuf: UnsafeCell<MaybeUninit<JmpBuf>>,
    /// Set only on the way to `resume`, so a call that returns normally has nothing here to drop.
    reason: UnsafeCell<ManuallyDrop<Option<UnwindReason>>>,
    prev: *const Activation,
}

thread_local! {
    static CURRENT: Cell<*const Activation> = const { Cell::new(std::ptr::null()) };
    /// The backtrace of this thread's latest trap, written by the trap handler just before it resumes the
    /// innermost activation (kept out of `Activation` so that entering wasm need not initialise it).
    static TRAP_BACKTRACE: UnsafeCell<RawBacktrace> =
        const { UnsafeCell::new(RawBacktrace { pcs: [0; MAX_FRAMES], len: 0 }) };
}

/// A wasm call that did not return normally.
pub struct Unwind {
    /// Why it ended.
    pub reason: UnwindReason,
    /// Where, if compiled code trapped.
    pub backtrace: Option<RawBacktrace>,
}

/// Runs compiled code `code` with integer arguments `ints` and float arguments `floats` (System V
/// registers, which wasm's convention shares for such calls), catching any trap it raises; returns what it
/// left in its result registers.
///
/// # Safety
/// `code` must be published compiled code that takes these arguments; the store that owns it must be
/// exclusively borrowed by the caller for the duration of the call, with no reference into it live (host
/// functions and builtins reach it through its owning pointer).
#[inline(always)]
pub unsafe fn enter(
    code: *const u8,
    ints: [usize; arch::ENTRY_INT_ARGS],
    floats: [f64; arch::ENTRY_FLOAT_ARGS],
) -> Result<Returned, Box<Unwind>> {
    let activation = Activation {
        jmpbuf: UnsafeCell::new(MaybeUninit::uninit()),
        reason: UnsafeCell::new(ManuallyDrop::new(None)),
        prev: CURRENT.get(),
    };
    CURRENT.set(&activation);
    let jmpbuf: *mut JmpBuf = activation.jmpbuf.get().cast();
    let [a0, a1, a2, a3] = ints;
    // SAFETY: the caller guarantees the code and its arguments; the jump buffer lives in this frame, which
    // outlives the call, and only `resume` (from a trap, while this activation is current) uses it. The
    // call fills every field of the buffer, so reading its status afterwards reads initialised memory.
    let (returned, resumed) = unsafe {
        let returned = arch::call_with_jmpbuf(jmpbuf, code, a0, a1, a2, a3, floats[0], floats[1]);
        (returned, (*jmpbuf).status != 0)
    };
    CURRENT.set(activation.prev);
    if resumed { Err(unwind_of(activation)) } else { Ok(returned) }
}

/// What ended the call of `activation` early.
#[cold]
#[inline(never)]
fn unwind_of(activation: Activation) -> Box<Unwind> {
    let reason = ManuallyDrop::into_inner(activation.reason.into_inner())
        .unwrap_or(UnwindReason::Trap(Trap::UnreachableCodeReached));
    // SAFETY: the trap that resumed this activation wrote the backtrace on this thread; nothing else is
    // writing it now.
    let backtrace = TRAP_BACKTRACE.with(|b| unsafe { (*b.get()).clone() });
    Box::new(Unwind { reason, backtrace: (backtrace.len > 0).then_some(backtrace) })
}

/// Runs `f`, which compiled code reached directly (a host function's native shim or a builtin), and
/// returns its value; if it fails or panics, ends the innermost call into wasm instead, with the failure
/// as the reason and the wasm frames below as the backtrace.
///
/// # Safety
/// Must be called by a function that compiled code called, with no value that needs dropping live in the
/// frames between here and that compiled code (everything `f` owns is dropped before this returns or
/// resumes).
#[inline(always)]
pub unsafe fn catch_host_failure<R>(f: impl FnOnce() -> anyhow::Result<R>) -> R {
    let reason = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(value)) => return value,
        Ok(Err(error)) => UnwindReason::HostError(error),
        Err(payload) => UnwindReason::Panic(payload),
    };
    // SAFETY: per the contract.
    unsafe { raise_host_failure(reason) }
}

/// Ends the innermost call into wasm because host code that compiled code called directly failed: records
/// `reason` and the backtrace of the wasm frames below the host code, and resumes at the innermost
/// [`enter`].
///
/// # Safety
/// As for [`catch_host_failure`].
#[cold]
#[inline(never)]
unsafe fn raise_host_failure(reason: UnwindReason) -> ! {
    let activation = CURRENT.get();
    assert!(!activation.is_null(), "a host function failed outside of any call into wasm");
    // SAFETY: the activation is live and its jump buffer was filled when its call began.
    let entry_sp = unsafe { (*(*activation).jmpbuf.get()).assume_init_ref().rsp };
    match innermost_wasm_frame(entry_sp) {
        // SAFETY: the frame was found on this thread's stack, below which the host frames still run.
        Some((pc, fp)) => unsafe { walk_frames(pc, fp) },
        // SAFETY: only the trap path of this thread writes the buffer.
        None => TRAP_BACKTRACE.with(|b| unsafe { (*b.get()).len = 0 }),
    }
    // SAFETY: `activation` is the live innermost activation of this thread; the caller guarantees that the
    // frames `resume` abandons hold nothing to drop (the reason is moved into the activation).
    unsafe {
        let activation = &*activation;
        **activation.reason.get() = Some(reason);
        arch::resume(activation.jmpbuf.get().cast())
    }
}

/// The PC (inside the call instruction) and frame pointer of the innermost compiled-code frame below the
/// running host code, found with the system unwinder, which follows the host frames' unwind tables.
/// Compiled code has no unwind tables, so the host function's caller is as far as it gets; wasm's frame
/// pointers lead on from there. Frames at or above `entry_sp` (the stack pointer where the current call into
/// wasm began) belong to outer calls and are never reported. `None` if there is no such frame below it (the
/// host function was called by an entry trampoline or directly from the host) or the host frames cannot be
/// unwound.
fn innermost_wasm_frame(entry_sp: usize) -> Option<(usize, usize)> {
    /// The unwinder's opaque per-frame context.
    #[repr(C)]
    struct UnwindContext {
        _private: [u8; 0],
    }
    /// What the walk looks for and what it found.
    struct Search {
        entry_sp: usize,
        found: Option<(usize, usize)>,
    }
    /// `_URC_NO_REASON`: go on to the next frame.
    const CONTINUE: i32 = 0;
    /// `_URC_NORMAL_STOP`: stop the walk.
    const STOP: i32 = 4;
    unsafe extern "C" {
        fn _Unwind_Backtrace(
            trace: extern "C" fn(*mut UnwindContext, *mut libc::c_void) -> i32,
            arg: *mut libc::c_void,
        ) -> i32;
        fn _Unwind_GetIP(context: *mut UnwindContext) -> usize;
        fn _Unwind_GetGR(context: *mut UnwindContext, register: i32) -> usize;
        fn _Unwind_GetCFA(context: *mut UnwindContext) -> usize;
    }
    extern "C" fn visit(context: *mut UnwindContext, search: *mut libc::c_void) -> i32 {
        // SAFETY: `search` is the `Search` below, borrowed for this walk only; the unwinder passes a valid
        // context for the frame being visited.
        let (search, return_pc, cfa) =
            unsafe { (&mut *search.cast::<Search>(), _Unwind_GetIP(context), _Unwind_GetCFA(context)) };
        if cfa >= search.entry_sp {
            return STOP;
        }
        if !code_registry::is_code(return_pc.wrapping_sub(1)) {
            return CONTINUE;
        }
        // SAFETY: as above.
        let fp = unsafe { _Unwind_GetGR(context, arch::DWARF_FRAME_POINTER) };
        search.found = Some((return_pc.wrapping_sub(1), fp));
        STOP
    }
    let mut search = Search { entry_sp, found: None };
    // SAFETY: `visit` only touches `search`, which outlives the walk.
    unsafe { _Unwind_Backtrace(visit, (&raw mut search).cast()) };
    search.found
}

/// Records why the current host call failed; the exit trampoline (or compiled code, after a builtin's
/// failure value) then raises a trap that unwinds to the innermost [`enter`]. Must be called while wasm is
/// running on this thread.
pub fn set_pending(reason: UnwindReason) {
    let current = CURRENT.with(|c| c.get());
    assert!(!current.is_null(), "a host call failed outside of any call into wasm");
    // SAFETY: `current` points to the live activation of the innermost `enter` on this thread, and nothing
    // else reads its reason until that call returns.
    unsafe { **(*current).reason.get() = Some(reason) };
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers that were installed before Tenon's, one per entry of [`SIGNALS`] that Tenon's replaced, and
/// the error that stopped the installation, if any.
static PREVIOUS: OnceLock<(Vec<sys::PreviousHandler>, Option<String>)> = OnceLock::new();

/// Installs the process-wide signal handlers (once).
pub fn install_handlers() -> anyhow::Result<()> {
    let (_, error) = PREVIOUS.get_or_init(|| {
        let mut previous = Vec::new();
        for &signal in &SIGNALS {
            match sys::install_handler(signal, handle_signal) {
                Ok(handler) => previous.push(handler),
                Err(e) => return (previous, Some(e.to_string())),
            }
        }
        (previous, None)
    });
    match error {
        Some(e) => Err(anyhow::anyhow!("{e}")),
        None => Ok(()),
    }
}

extern "C" fn handle_signal(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid `ucontext_t` to SA_SIGINFO handlers.
    if unsafe { claim_fault(context) } {
        return;
    }
    // Tenon's handler for a signal runs only after `PREVIOUS` holds the handler it replaced.
    let previous = SIGNALS.iter().position(|&s| s == signal).and_then(|i| PREVIOUS.get()?.0.get(i));
    if let Some(previous) = previous {
        // SAFETY: forwarding from a signal handler with the arguments the kernel gave it.
        unsafe { previous.forward(signal, info, context) };
    }
}

/// If the fault happened in published wasm code while an activation is current, records it and redirects the
/// thread to [`arch::resume`]. Returns whether it did.
///
/// # Safety
/// `context` must be the context the kernel passed to the signal handler.
unsafe fn claim_fault(context: *mut libc::c_void) -> bool {
    // SAFETY: per the contract.
    let (pc, fp) = unsafe { arch::signal_context::pc_and_fp(context) };
    let activation = CURRENT.with(|c| c.get());
    if activation.is_null() {
        return false;
    }
    let Some(site) = code_registry::trap_at(pc) else { return false };
    // SAFETY: `activation` is the live innermost activation of this thread (it is only current while its
    // `enter` frame is on the stack), and the thread is stopped in wasm code, so nothing else touches it.
    unsafe {
        let activation = &*activation;
        let reason = &mut **activation.reason.get();
        match site {
            TrapSite::Trap(code) => *reason = Some(UnwindReason::Trap(code)),
            // The host shim stored the reason before returning its failure flag.
            TrapSite::HostCallFailed => {}
        }
        walk_frames(pc, fp);
        arch::signal_context::redirect(context, arch::resume as *const () as usize, activation.jmpbuf.get() as usize);
    }
    true
}

/// Records the wasm frames from `pc`/`fp` outwards in [`TRAP_BACKTRACE`], following the frame-pointer chain
/// of compiled code.
///
/// # Safety
/// `pc` and `fp` must be the program counter and frame pointer of a frame of compiled code on this thread.
unsafe fn walk_frames(mut pc: usize, mut fp: usize) {
    // SAFETY: only the trap path of this thread writes the buffer, and it is not being read meanwhile.
    let backtrace = TRAP_BACKTRACE.with(|b| unsafe { &mut *b.get() });
    backtrace.len = 0;
    while code_registry::is_code(pc) && backtrace.len < MAX_FRAMES {
        backtrace.pcs[backtrace.len] = pc;
        backtrace.len += 1;
        if fp == 0 {
            break;
        }
        // SAFETY: `fp` is the frame pointer of a compiled-code frame on this thread's stack.
        let (next_fp, return_pc) = unsafe { arch::caller_frame(fp) };
        if next_fp <= fp {
            break;
        }
        pc = return_pc.wrapping_sub(1);
        fp = next_fp;
    }
}
