//! Linux: `mmap` and friends, `pthread` stack bounds, `sigaltstack` and `sigaction`.

use anyhow::{Result, bail};
use std::cell::Cell;

/// The system's page size.
pub fn page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// How a range of mapped memory may be accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Not at all: any access faults.
    None,
    /// Read and write.
    ReadWrite,
    /// Read and execute.
    ReadExecute,
}

impl Access {
    fn prot(self) -> libc::c_int {
        match self {
            Access::None => libc::PROT_NONE,
            Access::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
            Access::ReadExecute => libc::PROT_READ | libc::PROT_EXEC,
        }
    }
}

/// Maps `size` bytes of fresh, zeroed memory with access `access`, as close to `hint` as the kernel allows
/// (0: anywhere). Inaccessible mappings reserve address space without committing memory.
pub fn map(size: usize, access: Access, hint: usize) -> Result<*mut u8> {
    let mut flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    if access == Access::None {
        flags |= libc::MAP_NORESERVE;
    }
    // SAFETY: an anonymous private mapping whose address is only a hint (no MAP_FIXED) replaces nothing that
    // is mapped already; the result is checked for failure before use.
    let mapping = unsafe { libc::mmap(hint as *mut libc::c_void, size, access.prot(), flags, -1, 0) };
    if mapping == libc::MAP_FAILED {
        bail!("failed to map {size} bytes of memory: {}", std::io::Error::last_os_error());
    }
    Ok(mapping.cast())
}

/// Changes the access of `[start, start + len)`.
///
/// # Safety
/// The range must lie inside a mapping made by [`map`] that the caller owns, and no live reference may point
/// into a part that loses access.
pub unsafe fn protect(start: *mut u8, len: usize, access: Access) -> Result<()> {
    // SAFETY: per the contract, the range is the caller's own mapping.
    if unsafe { libc::mprotect(start.cast(), len, access.prot()) } != 0 {
        bail!("failed to change memory protection: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

/// Gives the pages of `[start, start + len)` back to the system: they read as zero afterwards, and keep
/// their access. Returns whether it worked.
///
/// # Safety
/// As for [`protect`]; no live reference may point into the range.
pub unsafe fn decommit(start: *mut u8, len: usize) -> bool {
    // SAFETY: per the contract.
    unsafe { libc::madvise(start.cast(), len, libc::MADV_DONTNEED) == 0 }
}

/// A file that lives in memory only, `len` bytes long, holding `parts` (offset, bytes; written in order)
/// and zeroes elsewhere (which take no memory): a memory image to map copy-on-write.
pub fn memory_file<'a>(len: usize, parts: impl IntoIterator<Item = (usize, &'a [u8])>) -> Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    use std::os::unix::fs::FileExt;
    // SAFETY: the name is a NUL-terminated string; the result is checked before use.
    let fd = unsafe { libc::memfd_create(c"tenon-memory-image".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        bail!("failed to create a memory image: {}", std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.set_len(len as u64)?;
    for (offset, bytes) in parts {
        file.write_all_at(bytes, offset as u64)?;
    }
    Ok(file)
}

/// Maps the first `len` bytes of `file` over `[start, start + len)`, read-write and private: the pages read
/// as the file's until written, then as private copies.
///
/// # Safety
/// As for [`protect`]: the range must lie inside a mapping the caller owns, with no live reference into it;
/// `len` must be a multiple of the page size and at most the file's length.
pub unsafe fn map_file_over(start: *mut u8, len: usize, file: &std::fs::File) -> Result<()> {
    use std::os::fd::AsRawFd;
    let flags = libc::MAP_PRIVATE | libc::MAP_FIXED;
    // SAFETY: per the contract, the range is the caller's own; MAP_FIXED replaces exactly that range.
    let mapping = unsafe { libc::mmap(start.cast(), len, Access::ReadWrite.prot(), flags, file.as_raw_fd(), 0) };
    if mapping == libc::MAP_FAILED {
        bail!("failed to map a memory image: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

/// Replaces `[start, start + len)` with fresh zeroed read-write memory (undoing [`map_file_over`]).
///
/// # Safety
/// As for [`map_file_over`].
pub unsafe fn map_zeroed_over(start: *mut u8, len: usize) -> Result<()> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED;
    // SAFETY: per the contract, the range is the caller's own; MAP_FIXED replaces exactly that range.
    let mapping = unsafe { libc::mmap(start.cast(), len, Access::ReadWrite.prot(), flags, -1, 0) };
    if mapping == libc::MAP_FAILED {
        bail!("failed to zero a memory image's pages: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

/// Unmaps a whole mapping.
///
/// # Safety
/// `[start, start + len)` must be exactly a mapping made by [`map`] that nothing uses any more.
pub unsafe fn unmap(start: *mut u8, len: usize) {
    // SAFETY: per the contract.
    unsafe { libc::munmap(start.cast(), len) };
}

/// The lowest usable address of the current thread's stack (above its guard page), if it can be found.
/// For the main thread this reads `/proc/self/maps`, so callers cache it.
pub fn thread_stack_low() -> Option<usize> {
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

thread_local! {
    /// The alternate signal stack Tenon installed on this thread, removed when the thread exits.
    static ALT_STACK: AltStack = const { AltStack { mapping: Cell::new(std::ptr::null_mut()), size: Cell::new(0) } };
}

/// An alternate signal stack mapped by Tenon: a guard page, then the stack.
struct AltStack {
    mapping: Cell<*mut u8>,
    size: Cell<usize>,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let mapping = self.mapping.get();
        if mapping.is_null() {
            return;
        }
        // SAFETY: the alternate stack is disabled (if it is still ours) before its memory, mapped by
        // `ensure_alt_stack` with this size, is unmapped; this runs at thread exit, outside any handler.
        unsafe {
            let mut current: libc::stack_t = std::mem::zeroed();
            libc::sigaltstack(std::ptr::null(), &mut current);
            if current.ss_sp.cast::<u8>() == mapping.add(page_size()) {
                let disable = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
                libc::sigaltstack(&disable, std::ptr::null_mut());
            }
            unmap(mapping, self.size.get());
        }
    }
}

/// Makes sure this thread has an alternate signal stack of at least `min_size` bytes, so that signal
/// handlers never run on a stack that overflowed, nor on one too small for them. A smaller existing one
/// (such as the few kilobytes Rust's standard library installs) is replaced for the rest of the thread's
/// life. Returns whether the thread has one now.
pub fn ensure_alt_stack(min_size: usize) -> bool {
    // SAFETY: `stack_t` is plain data, for which all zeroes is a valid value; querying with a null new
    // stack only writes the current setting into that local.
    let queried = unsafe {
        let mut current: libc::stack_t = std::mem::zeroed();
        (libc::sigaltstack(std::ptr::null(), &mut current) == 0).then_some(current)
    };
    let Some(current) = queried else { return false };
    if current.ss_flags & libc::SS_DISABLE == 0 && current.ss_size >= min_size {
        return true;
    }
    let guard = page_size();
    let size = guard + min_size.next_multiple_of(guard);
    let Ok(mapping) = map(size, Access::None, 0) else { return false };
    // SAFETY: the fresh mapping is ours; its first page stays inaccessible as a guard, the rest is made
    // read-write before it is installed as the alternate stack. It is unmapped again only if installing
    // fails, or at thread exit after it is disabled.
    unsafe {
        let stack = mapping.add(guard);
        if protect(stack, size - guard, Access::ReadWrite).is_err() {
            unmap(mapping, size);
            return false;
        }
        let new = libc::stack_t { ss_sp: stack.cast(), ss_flags: 0, ss_size: size - guard };
        if libc::sigaltstack(&new, std::ptr::null_mut()) != 0 {
            unmap(mapping, size);
            return false;
        }
    }
    ALT_STACK.with(|alt| {
        let previous = alt.mapping.replace(mapping);
        let previous_size = alt.size.replace(size);
        if !previous.is_null() {
            // SAFETY: an earlier stack of ours, replaced above, so no longer in use (this thread is not in
            // a signal handler: it is setting up to run wasm).
            unsafe { unmap(previous, previous_size) };
        }
    });
    true
}

/// A signal handler: `(signal, info, context)`, as `sigaction` calls it with `SA_SIGINFO`.
pub type Handler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);

/// The signal dispositions replaced by [`install_handler`].
pub struct PreviousHandler(libc::sigaction);

/// Installs `handler` for `signal` on the alternate stack; returns the disposition it replaced.
pub fn install_handler(signal: libc::c_int, handler: Handler) -> Result<PreviousHandler> {
    // SAFETY: `sigaction` is called with a fully initialised action and a valid out-pointer.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(signal, &action, &mut previous) != 0 {
            bail!("failed to install the handler for signal {signal}: {}", std::io::Error::last_os_error());
        }
        Ok(PreviousHandler(previous))
    }
}

impl PreviousHandler {
    /// Hands a signal Tenon does not claim to the handler that was installed before.
    ///
    /// # Safety
    /// Must be called from a signal handler, with the arguments the kernel gave it.
    pub unsafe fn forward(&self, signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        let previous = &self.0;
        if previous.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: an SA_SIGINFO handler has this signature.
            let handler: Handler = unsafe { std::mem::transmute(previous.sa_sigaction) };
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
}
