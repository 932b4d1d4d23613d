//! The few lines that know the operating system: memory mapping, thread stack bounds, alternate signal
//! stacks and signal handlers.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;
