//! The few lines that know the CPU: the jump buffer that enters wasm and comes back from a trap, the stack
//! pointer, and the registers of an interrupted thread.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::*;
