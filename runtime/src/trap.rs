//! The backtrace recorded when wasm execution stops abnormally; the trap kinds themselves are
//! [`crate::environ::Trap`], re-exported as `tenon::Trap`.

use crate::environ::FrameInfo;
use crate::vm::code_registry;
use std::fmt;

/// The wasm frames active when a trap happened, innermost first; attached as context to trap errors and
/// found with `error.downcast_ref::<WasmBacktrace>()`.
#[derive(Clone, Debug, Default)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    pub(crate) fn from_pcs(pcs: &[usize]) -> Self {
        let frames =
            pcs.iter().filter_map(|&pc| code_registry::lookup(pc).and_then(|info| info.frame_at(pc))).collect();
        WasmBacktrace { frames }
    }

    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wasm backtrace:")?;
        for (i, frame) in self.frames.iter().enumerate() {
            write!(f, "  {i:>3}: ")?;
            if let Some(module) = frame.module_name() {
                write!(f, "{module}!")?;
            }
            match frame.func_name() {
                Some(name) => writeln!(f, "{name}")?,
                None => writeln!(f, "<wasm function {}>", frame.func_index())?,
            }
        }
        Ok(())
    }
}
