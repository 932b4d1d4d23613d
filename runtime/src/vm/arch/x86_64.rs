//! x86-64 (System V).

/// Saved callee-saved registers, stack pointer and return address of one entry into wasm.
#[repr(C)]
pub struct JmpBuf {
    rbx: usize,
    rbp: usize,
    r12: usize,
    r13: usize,
    r14: usize,
    r15: usize,
    /// The stack pointer of the caller of [`call_with_jmpbuf`].
    pub rsp: usize,
    rip: usize,
    /// 0 while the call runs and when it returns; 1 after [`resume`].
    pub status: usize,
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

/// How many integer and float argument registers [`call_with_jmpbuf`] passes to the code it calls.
pub const ENTRY_INT_ARGS: usize = 4;
/// See [`ENTRY_INT_ARGS`].
pub const ENTRY_FLOAT_ARGS: usize = 2;

/// Calls `f(a0, a1, a2, a3, x0, x1)` (integer arguments in the first four integer registers, floats in
/// `xmm0` and `xmm1`) after saving the caller's registers in `buf`, and returns what `f` left in `rax` and
/// `xmm0`. `buf.status` tells whether `f` returned (0) or [`resume`] ended the call (1).
///
/// `f` is a trampoline or a wasm function itself. Wasm functions use Cranelift's `tail` convention, which on
/// x86-64 (cranelift-codegen 0.135, `isa/x64/abi.rs`) passes arguments in the same registers as System V,
/// preserves the same callee-saved registers and returns the first integer and float results in `rax` and
/// `xmm0`; it differs only for stack arguments (callee-popped) and further results, which direct calls never
/// use. A Cranelift upgrade must keep this true: `tests/typed_calls.rs` checks it under register pressure.
///
/// # Safety
/// `buf` must be valid for writes, and `f` must be code that takes these arguments.
#[unsafe(naked)]
pub unsafe extern "sysv64" fn call_with_jmpbuf(
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
///
/// # Safety
/// `buf` must have been filled by a [`call_with_jmpbuf`] whose frame is still on this thread's stack, and
/// the frames between here and there must hold nothing that needs dropping.
#[unsafe(naked)]
pub unsafe extern "sysv64" fn resume(buf: *mut JmpBuf) -> ! {
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

/// The `raise_trap` builtin: `raise_trap(vmctx, code)`, called by compiled code to raise a trap without a
/// signal. Passes its return address (a PC in the calling wasm or trampoline code) and the caller's frame
/// pointer on to `traphandlers::raise_trap_at`.
///
/// # Safety
/// Only compiled code calls it, inside a call into wasm.
#[unsafe(naked)]
pub unsafe extern "sysv64" fn raise_trap(_vmctx: *mut u8, _code: u32) -> ! {
    core::arch::naked_asm!(
        "mov rdx, [rsp]",
        "mov rcx, rbp",
        "jmp {raise}",
        raise = sym super::super::traphandlers::raise_trap_at,
    )
}

/// The current stack pointer (of the caller, where this is inlined).
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register; touches no memory, stack or flags.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

/// The DWARF number of the frame-pointer register, for the system unwinder.
pub const DWARF_FRAME_POINTER: i32 = 6;

/// The frame pointer of the frame at `fp`'s caller and the return address into it: compiled code keeps
/// frame pointers, so a frame starts with the caller's frame pointer followed by the return address.
///
/// # Safety
/// `fp` must be the frame pointer of a live frame of compiled code on this thread's stack.
pub unsafe fn caller_frame(fp: usize) -> (usize, usize) {
    // SAFETY: per the contract, `fp` points to two saved words.
    unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) }
}

/// Registers of a thread interrupted by a signal.
#[cfg(target_os = "linux")]
pub mod signal_context {
    /// The program counter and frame pointer at the interruption.
    ///
    /// # Safety
    /// `context` must be the `ucontext_t` the kernel passed to a signal handler.
    pub unsafe fn pc_and_fp(context: *mut libc::c_void) -> (usize, usize) {
        // SAFETY: per the contract.
        let gregs = unsafe { &(*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
        (gregs[libc::REG_RIP as usize] as usize, gregs[libc::REG_RBP as usize] as usize)
    }

    /// Makes the interrupted thread continue at `pc` with `arg` as its first argument once the handler returns.
    ///
    /// # Safety
    /// As for [`pc_and_fp`]; `pc` must be a function that takes one pointer argument and never returns.
    pub unsafe fn redirect(context: *mut libc::c_void, pc: usize, arg: usize) {
        // SAFETY: per the contract; the context is writable.
        let gregs = unsafe { &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
        gregs[libc::REG_RIP as usize] = pc as i64;
        gregs[libc::REG_RDI as usize] = arg as i64;
    }
}
