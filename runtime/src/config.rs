//! Engine configuration.

/// Settings for an [`Engine`](crate::Engine); the setters mirror Wasmtime's.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) max_wasm_stack: usize,
    pub(crate) signals_based_traps: bool,
    pub(crate) memory_reservation: u64,
    pub(crate) memory_guard_size: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_wasm_stack: 512 * 1024,
            signals_based_traps: true,
            memory_reservation: 1 << 32,
            memory_guard_size: 32 << 20,
        }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most stack wasm code may use (default 512 KiB); deeper recursion traps with
    /// [`Trap::StackOverflow`](crate::Trap::StackOverflow).
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }

    /// Whether out-of-bounds memory accesses are caught by guard pages (the default) or by an explicit check
    /// before every access.
    pub fn signals_based_traps(&mut self, enable: bool) -> &mut Self {
        self.signals_based_traps = enable;
        self
    }

    /// Address space reserved for each linear memory (default 4 GiB); a memory cannot grow past it.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation = bytes;
        self
    }

    /// Size of the inaccessible region after each memory's reservation (default 32 MiB); accesses whose
    /// static offset fits in it need no bounds check.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Self {
        self.memory_guard_size = bytes;
        self
    }
}
