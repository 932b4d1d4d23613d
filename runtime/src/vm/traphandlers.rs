//! The boundary between host and wasm: entering compiled code, and coming back from a trap.
//!
//! The host enters wasm through [`enter`], which records the callee-saved registers and the stack pointer
//! in a jump buffer before calling the entry trampoline. Every way out other than a normal return is a
//! trap instruction or a fault inside published wasm code: the signal handler claims it only if the faulting
//! PC lies in published code, records why and where (with a backtrace walked along the frame pointers), and
//! makes the thread resume in [`resume`], which restores the jump buffer so that [`enter`] returns again.
//! Host errors and panics are stored in the current activation by the host shim, which then returns a
//! failure flag; the exit trampoline turns that into a trap. No Rust frame is ever unwound by this, since
//! only compiled wasm frames and trampolines lie between a jump buffer and the point of the trap.

use crate::Trap;
use crate::code::{TrapSite, registry};
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::Once;

/// Saved callee-saved registers, stack pointer and return address of one entry into wasm.
#[repr(C)]
struct JmpBuf {
    rbx: usize,
    rbp: usize,
    r12: usize,
    r13: usize,
    r14: usize,
    r15: usize,
    rsp: usize,
    rip: usize,
    /// 0 while the call runs and when it returns; 1 after [`resume`].
    status: usize,
}

/// What the called code left in the first integer and first float result registers (`rax`, `xmm0`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Returned {
    /// The integer register.
    pub int: u64,
    /// The float register's low 64 bits.
    pub float_bits: u64,
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!("Tenon currently runs on x86_64 Linux only");

/// Calls `f(a0, a1, a2, a3, x0, x1)` (integer arguments in the first four integer registers, floats in
/// `xmm0` and `xmm1`) after saving the caller's registers in `buf`, and returns what `f` left in `rax` and
/// `xmm0`. `buf.status` tells whether `f` returned (0) or [`resume`] ended the call (1).
///
/// `f` is a trampoline or a wasm function itself. Wasm functions use Cranelift's `tail` convention, which on
/// x86-64 (cranelift-codegen 0.135, `isa/x64/abi.rs`) passes arguments in the same registers as System V,
/// preserves the same callee-saved registers and returns the first integer and float results in `rax` and
/// `xmm0`; it differs only for stack arguments (callee-popped) and further results, which direct calls never
/// use. A Cranelift upgrade must keep this true (the typed-call tests check the values, not the registers).
#[unsafe(naked)]
unsafe extern "sysv64" fn call_with_jmpbuf(
    buf: *mut JmpBuf,
    f: *const u8,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    x0: f64,
    x1: f64,
) -> Returned {
    core::arch::naked_asm!(
        "mov [rdi + 0], rbx",
        "mov [rdi + 8], rbp",
        "mov [rdi + 16], r12",
        "mov [rdi + 24], r13",
        "mov [rdi + 32], r14",
        "mov [rdi + 40], r15",
        "lea rax, [rsp + 8]",
        "mov [rdi + 48], rax",
        "mov rax, [rsp]",
        "mov [rdi + 56], rax",
        "mov qword ptr [rdi + 64], 0",
        "push rbp",
        "mov rbp, rsp",
        "mov rax, rsi",
        "mov rdi, rdx",
        "mov rsi, rcx",
        "mov rdx, r8",
        "mov rcx, r9",
        "call rax",
        "movq rdx, xmm0",
        "pop rbp",
        "ret",
    )
}

/// Restores the registers saved in `buf`, marks it resumed, and returns from the [`call_with_jmpbuf`] that
/// saved them.
#[unsafe(naked)]
unsafe extern "sysv64" fn resume(buf: *mut JmpBuf) -> ! {
    core::arch::naked_asm!(
        "mov rbx, [rdi + 0]",
        "mov rbp, [rdi + 8]",
        "mov r12, [rdi + 16]",
        "mov r13, [rdi + 24]",
        "mov r14, [rdi + 32]",
        "mov r15, [rdi + 40]",
        "mov qword ptr [rdi + 64], 1",
        "mov rsp, [rdi + 48]",
        "jmp qword ptr [rdi + 56]",
    )
}

/// Raises a trap from compiled code without a signal (with `Config::signals_based_traps(false)`):
/// `raise_trap(_, code)`, where `code` is a Cranelift trap code. Passes its return address (a PC in the
/// calling wasm or trampoline code) and the caller's frame pointer on to [`raise_trap_at`].
#[unsafe(naked)]
pub unsafe extern "sysv64" fn raise_trap(_vmctx: *mut u8, _code: u32) -> ! {
    core::arch::naked_asm!(
        "mov rdx, [rsp]",
        "mov rcx, rbp",
        "jmp {raise}",
        raise = sym raise_trap_at,
    )
}

/// Records the trap `code` raised at `pc` in the frame `fp` and resumes at the innermost [`enter`].
unsafe extern "sysv64" fn raise_trap_at(_vmctx: *mut u8, code: u32, pc: usize, fp: usize) -> ! {
    let activation = CURRENT.with(|c| c.get());
    assert!(!activation.is_null(), "compiled code raised a trap outside of any call into wasm");
    let site = std::num::NonZeroU8::new(code as u8)
        .and_then(|raw| crate::compile::trap_site(cranelift_codegen::ir::TrapCode::from_raw(raw)).ok());
    // SAFETY: `activation` is the live innermost activation of this thread, and the thread is in compiled
    // code called from it, so nothing else touches it. No value with a destructor is live in this frame when
    // `resume` abandons it.
    unsafe {
        let activation = &*activation;
        match site {
            Some(TrapSite::Trap(trap)) => **activation.reason.get() = Some(UnwindReason::Trap(trap)),
            // The host shim stored the reason before returning its failure flag.
            Some(TrapSite::HostCallFailed) | None => {}
        }
        walk_frames(pc, fp);
        resume(activation.jmpbuf.get().cast())
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
    /// Filled by [`call_with_jmpbuf`] before anything can resume to it.
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
/// exclusively borrowed by the caller for the duration of the call.
#[inline(always)]
pub unsafe fn enter(code: *const u8, ints: [usize; 4], floats: [f64; 2]) -> Result<Returned, Box<Unwind>> {
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
        let returned = call_with_jmpbuf(jmpbuf, code, a0, a1, a2, a3, floats[0], floats[1]);
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

/// Ends the innermost call into wasm because a host function that compiled code called directly failed:
/// records `reason` and the backtrace of the wasm frames below the host function, and resumes at the
/// innermost [`enter`].
///
/// # Safety
/// Must be called from a native host function shim, with no value that needs dropping live in the frames
/// between here and the wasm code that called the shim.
#[inline(never)]
pub unsafe fn raise_host_failure(reason: UnwindReason) -> ! {
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
        resume(activation.jmpbuf.get().cast())
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
    /// DWARF register number of `rbp` on x86-64.
    const RBP: i32 = 6;
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
        if !registry::is_code(return_pc.wrapping_sub(1)) {
            return CONTINUE;
        }
        // SAFETY: as above.
        let fp = unsafe { _Unwind_GetGR(context, RBP) };
        search.found = Some((return_pc.wrapping_sub(1), fp));
        STOP
    }
    let mut search = Search { entry_sp, found: None };
    // SAFETY: `visit` only touches `search`, which outlives the walk.
    unsafe { _Unwind_Backtrace(visit, (&raw mut search).cast()) };
    search.found
}

/// Records why the current host call failed; the exit trampoline then raises a trap that unwinds to the
/// innermost [`enter`]. Must be called while wasm is running on this thread.
pub fn set_pending(reason: UnwindReason) {
    let current = CURRENT.with(|c| c.get());
    assert!(!current.is_null(), "a host call failed outside of any call into wasm");
    // SAFETY: `current` points to the live activation of the innermost `enter` on this thread, and nothing
    // else reads its reason until that call returns.
    unsafe { **(*current).reason.get() = Some(reason) };
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

struct PreviousHandlers(UnsafeCell<[std::mem::MaybeUninit<libc::sigaction>; 4]>);
// SAFETY: written once under `Once` before any handler of ours can run, read-only afterwards.
unsafe impl Sync for PreviousHandlers {}
static PREVIOUS: PreviousHandlers = PreviousHandlers(UnsafeCell::new([std::mem::MaybeUninit::uninit(); 4]));
static INSTALL: Once = Once::new();

/// Installs the process-wide signal handlers (once).
pub fn install_handlers() {
    INSTALL.call_once(|| {
        for (i, &signal) in SIGNALS.iter().enumerate() {
            // SAFETY: `sigaction` is called with a fully initialised action; `PREVIOUS` is written only here,
            // inside `Once`, before our handler is installed for this signal.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handle_signal as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = (*PREVIOUS.0.get())[i].as_mut_ptr();
                if libc::sigaction(signal, &action, previous) != 0 {
                    panic!("failed to install the signal handler for signal {signal}");
                }
            }
        }
    });
}

extern "C" fn handle_signal(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid `ucontext_t` to SA_SIGINFO handlers.
    let claimed = unsafe { claim_fault(context.cast()) };
    if !claimed {
        // SAFETY: forwarding with the arguments the kernel gave us.
        unsafe { forward(signal, info, context) };
    }
}

/// If the fault happened in published wasm code while an activation is current, records it and redirects the
/// thread to [`resume`]. Returns whether it did.
unsafe fn claim_fault(context: *mut libc::ucontext_t) -> bool {
    // SAFETY: `context` is the valid, writable context of the interrupted thread.
    let gregs = unsafe { &mut (*context).uc_mcontext.gregs };
    let pc = gregs[libc::REG_RIP as usize] as usize;
    let fp = gregs[libc::REG_RBP as usize] as usize;
    let activation = CURRENT.with(|c| c.get());
    if activation.is_null() {
        return false;
    }
    let Some(site) = registry::trap_at(pc) else { return false };
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
        gregs[libc::REG_RIP as usize] = resume as *const () as usize as i64;
        gregs[libc::REG_RDI as usize] = activation.jmpbuf.get() as usize as i64;
    }
    true
}

/// Records the wasm frames from `pc`/`fp` outwards in [`TRAP_BACKTRACE`], following the frame-pointer chain
/// of compiled code.
unsafe fn walk_frames(mut pc: usize, mut fp: usize) {
    // SAFETY: only the trap path of this thread writes the buffer, and it is not being read meanwhile.
    let backtrace = TRAP_BACKTRACE.with(|b| unsafe { &mut *b.get() });
    backtrace.len = 0;
    while registry::is_code(pc) && backtrace.len < MAX_FRAMES {
        backtrace.pcs[backtrace.len] = pc;
        backtrace.len += 1;
        if fp == 0 {
            break;
        }
        // SAFETY: compiled code keeps frame pointers, so `fp` points to a saved frame pointer followed by
        // the return address, both on this thread's stack.
        let (next_fp, return_pc) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if next_fp <= fp {
            break;
        }
        pc = return_pc.wrapping_sub(1);
        fp = next_fp;
    }
}

unsafe fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let index = SIGNALS.iter().position(|&s| s == signal).expect("handler installed only for SIGNALS");
    // SAFETY: `PREVIOUS` was initialised before our handler was installed.
    let previous = unsafe { (*PREVIOUS.0.get())[index].assume_init_ref() };
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: an SA_SIGINFO handler has this signature.
        let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(previous.sa_sigaction) };
        handler(signal, info, context);
    } else if previous.sa_sigaction == libc::SIG_DFL || previous.sa_sigaction == libc::SIG_IGN {
        // Put the previous disposition back; returning re-executes the faulting instruction, which then
        // takes the default action.
        // SAFETY: restoring a disposition that was valid before.
        unsafe { libc::sigaction(signal, previous, std::ptr::null_mut()) };
    } else {
        // SAFETY: a handler without SA_SIGINFO has this signature.
        let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(previous.sa_sigaction) };
        handler(signal);
    }
}

/// The current stack pointer (of the caller, where this is inlined).
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register; touches no memory, stack or flags.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}
