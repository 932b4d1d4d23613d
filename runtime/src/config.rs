//! Engine configuration.

use anyhow::{Result, bail};
use wasmparser::WasmFeatures;

/// Settings for an [`Engine`](crate::Engine); the setters mirror Wasmtime's.
#[derive(Clone, Debug)]
pub struct Config {
    /// The proposals modules may use (validation accepts them; those Tenon does not implement yet are then
    /// refused with a "not supported yet" error naming them).
    pub(crate) features: WasmFeatures,
    pub(crate) opt_level: OptLevel,
    pub(crate) parallel_compilation: bool,
    pub(crate) wasm_backtrace_max_frames: Option<std::num::NonZeroUsize>,
    pub(crate) max_wasm_stack: usize,
    pub(crate) signals_based_traps: bool,
    pub(crate) memory_reservation: u64,
    pub(crate) memory_reservation_for_growth: u64,
    pub(crate) memory_may_move: bool,
    pub(crate) memory_guard_size: u64,
    pub(crate) guard_before_linear_memory: bool,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) profiler: ProfilingStrategy,
    pub(crate) concurrency_support: bool,
}

/// How compiled code is made visible to profilers (see [`Config::profiler`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfilingStrategy {
    /// No profiler support (the default).
    #[default]
    None,
    /// Name every compiled function in `/tmp/perf-PID.map`, so `perf record` + `perf report` attribute
    /// samples in compiled code to wasm functions.
    PerfMap,
}

/// How hard Cranelift optimizes (see [`Config::cranelift_opt_level`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OptLevel {
    /// No optimizations.
    None,
    /// Optimize for speed (the default).
    #[default]
    Speed,
    /// Optimize for speed and code size.
    SpeedAndSize,
}

/// The proposals Tenon enables by default: WebAssembly 2.0 without SIMD, plus multi-memory, extended
/// constant expressions, typed function references, the relaxed constant expressions of the GC proposal,
/// and exception tags (defining, importing and exporting them); and the component model, with `map` types
/// and `implements` names as wasmparser enables them.
fn default_features() -> WasmFeatures {
    WasmFeatures::WASM2.difference(WasmFeatures::SIMD)
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::GC
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::COMPONENT_MODEL
        | WasmFeatures::CM_MAP
        | WasmFeatures::CM_IMPLEMENTS
}

impl Default for Config {
    fn default() -> Self {
        Config {
            features: default_features(),
            opt_level: OptLevel::Speed,
            parallel_compilation: true,
            wasm_backtrace_max_frames: std::num::NonZeroUsize::new(20),
            max_wasm_stack: 512 * 1024,
            signals_based_traps: true,
            memory_reservation: 1 << 32,
            memory_reservation_for_growth: 2 << 30,
            memory_may_move: true,
            memory_guard_size: 32 << 20,
            guard_before_linear_memory: true,
            consume_fuel: false,
            epoch_interruption: false,
            profiler: ProfilingStrategy::None,
            concurrency_support: false,
        }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    fn feature(&mut self, feature: WasmFeatures, enable: bool) -> &mut Self {
        self.features.set(feature, enable);
        self
    }

    /// Whether modules may use the tail-call proposal (not supported yet: such modules are refused).
    pub fn wasm_tail_call(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::TAIL_CALL, enable)
    }
    /// Whether modules may use the threads proposal (not supported yet: shared memories are refused).
    pub fn wasm_threads(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::THREADS, enable)
    }
    /// Whether modules may use reference types (default on).
    pub fn wasm_reference_types(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::REFERENCE_TYPES, enable)
    }
    /// Whether modules may use typed function references (default on).
    pub fn wasm_function_references(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::FUNCTION_REFERENCES, enable)
    }
    /// Whether modules may use the GC proposal (default on, for its relaxed constant expressions; struct
    /// and array types are not supported yet).
    pub fn wasm_gc(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::GC, enable)
    }
    /// Whether modules may use SIMD (default off: not supported yet).
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::SIMD, enable)
    }
    /// Whether modules may use relaxed SIMD (not supported yet).
    pub fn wasm_relaxed_simd(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::RELAXED_SIMD, enable)
    }
    /// Whether modules may use bulk memory operations (default on).
    pub fn wasm_bulk_memory(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::BULK_MEMORY, enable)
    }
    /// Whether functions and blocks may have several results (default on).
    pub fn wasm_multi_value(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::MULTI_VALUE, enable)
    }
    /// Whether modules may have several memories (default on).
    pub fn wasm_multi_memory(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::MULTI_MEMORY, enable)
    }
    /// Whether modules may use 64-bit memories and tables (not supported yet: such modules are refused).
    pub fn wasm_memory64(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::MEMORY64, enable)
    }
    /// Whether constant expressions may use integer arithmetic (default on).
    pub fn wasm_extended_const(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::EXTENDED_CONST, enable)
    }
    /// Whether modules may use exception handling (default on for tags; `throw` and `try_table` are not
    /// supported yet).
    pub fn wasm_exceptions(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::EXCEPTIONS, enable)
    }
    /// Whether memories may declare a custom page size (not supported yet).
    pub fn wasm_custom_page_sizes(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CUSTOM_PAGE_SIZES, enable)
    }
    /// Whether modules may use 128-bit wide arithmetic (not supported yet).
    pub fn wasm_wide_arithmetic(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::WIDE_ARITHMETIC, enable)
    }

    /// Whether components may be compiled (default on).
    pub fn wasm_component_model(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::COMPONENT_MODEL, enable)
    }
    /// Whether components may use the async ABI, `stream` and `future` (default off, as concurrency
    /// support is; validated, then refused as not supported yet).
    pub fn wasm_component_model_async(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_ASYNC, enable)
    }
    /// Whether components may use the further async built-ins (not supported yet).
    pub fn wasm_component_model_more_async_builtins(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_MORE_ASYNC_BUILTINS, enable)
    }
    /// Whether components may use stackful async (not supported yet).
    pub fn wasm_component_model_async_stackful(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_ASYNC_STACKFUL, enable)
    }
    /// Whether components may use threading built-ins (not supported yet).
    pub fn wasm_component_model_threading(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_THREADING, enable)
    }
    /// Whether components may use `error-context` (not supported yet).
    pub fn wasm_component_model_error_context(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_ERROR_CONTEXT, enable)
    }
    /// Whether components may use the GC-based canonical ABI (not supported yet).
    pub fn wasm_component_model_gc(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_GC, enable)
    }
    /// Whether components may use `map<K, V>` types (default on, as in wasmparser).
    pub fn wasm_component_model_map(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_MAP, enable)
    }
    /// Whether components may use fixed-length lists `list<T, N>` (default off).
    pub fn wasm_component_model_fixed_length_lists(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_FIXED_LENGTH_LISTS, enable)
    }
    /// Whether component imports and exports may carry `implements` names (default on).
    pub fn wasm_component_model_implements(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CM_IMPLEMENTS, enable)
    }
    /// Whether components may run concurrently (async): only `false`, the default, is supported for now;
    /// `Engine::new` refuses `true`.
    pub fn concurrency_support(&mut self, enable: bool) -> &mut Self {
        self.concurrency_support = enable;
        self
    }

    /// How hard Cranelift optimizes compiled code (default [`OptLevel::Speed`]).
    pub fn cranelift_opt_level(&mut self, level: OptLevel) -> &mut Self {
        self.opt_level = level;
        self
    }

    /// Whether a module's functions are compiled on several threads (default on).
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Self {
        self.parallel_compilation = enable;
        self
    }

    /// How many wasm frames (the innermost) the [`WasmBacktrace`](crate::WasmBacktrace) attached to traps
    /// and host errors keeps: 20 by default, at most 64; `None` attaches none.
    pub fn wasm_backtrace_max_frames(&mut self, limit: Option<std::num::NonZeroUsize>) -> &mut Self {
        self.wasm_backtrace_max_frames = limit;
        self
    }

    /// Whether traps and host errors carry a [`WasmBacktrace`](crate::WasmBacktrace) (default on).
    #[deprecated = "use `wasm_backtrace_max_frames` instead, as in Wasmtime 48"]
    pub fn wasm_backtrace(&mut self, enable: bool) -> &mut Self {
        self.wasm_backtrace_max_frames = if enable { std::num::NonZeroUsize::new(20) } else { None };
        self
    }

    /// Accepted for Wasmtime compatibility; Tenon has no async support, so this changes nothing (as in
    /// Wasmtime 48, where it is deprecated).
    #[deprecated = "Tenon has no async support; this setting has no effect"]
    pub fn async_support(&mut self, _enable: bool) -> &mut Self {
        self
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

    /// Address space reserved for each linear memory (default 4 GiB, all a 32-bit memory can use, so that
    /// with the guard region no access needs a bounds check and no memory ever moves). A memory whose
    /// largest size does not fit is bounds-checked explicitly and, as in Wasmtime, allocated at its initial
    /// size plus [`memory_reservation_for_growth`](Self::memory_reservation_for_growth) and copied to a
    /// larger allocation when it outgrows that (unless [`memory_may_move`](Self::memory_may_move) is off).
    /// `memory_reservation(0)` therefore gives explicitly checked memories that take no more address space
    /// than they need.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation = bytes;
        self
    }

    /// Room reserved after a memory that may move, when it is allocated or moved, for it to grow into
    /// without moving (default 2 GiB of address space, no memory).
    pub fn memory_reservation_for_growth(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation_for_growth = bytes;
        self
    }

    /// Whether a memory may move to a new allocation when it grows past its reservation (default on). Off,
    /// a memory cannot grow past [`memory_reservation`](Self::memory_reservation), and one whose minimum
    /// does not fit fails to instantiate.
    pub fn memory_may_move(&mut self, enable: bool) -> &mut Self {
        self.memory_may_move = enable;
        self
    }

    /// Size of the inaccessible region after each memory's reservation (default 32 MiB); accesses whose
    /// static offset fits in it need no bounds check.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Self {
        self.memory_guard_size = bytes;
        self
    }

    /// Whether a guard region of `memory_guard_size` bytes also precedes each memory (default on), as
    /// defence in depth against accesses below the base.
    pub fn guard_before_linear_memory(&mut self, enable: bool) -> &mut Self {
        self.guard_before_linear_memory = enable;
        self
    }

    /// Whether wasm consumes fuel as it runs (default off): entering a function costs one unit, and so does
    /// each instruction (`nop`, `drop`, block structure, `unreachable` and `return` are free), bulk memory and table instructions (`memory.copy`, `memory.fill`,
    /// `memory.init`, `table.copy`, `table.fill`, `table.init`, `table.grow`) one more per byte or element
    /// they are asked to process, as in Wasmtime 48, and running out traps with [`Trap::OutOfFuel`](crate::Trap::OutOfFuel).
    /// A store starts with no fuel; give it some with [`Store::set_fuel`](crate::Store::set_fuel).
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// Whether wasm checks the engine's epoch at function entries and loop headers (default off), trapping
    /// with [`Trap::Interrupt`](crate::Trap::Interrupt) once it reaches the store's deadline; see
    /// [`Engine::increment_epoch`](crate::Engine::increment_epoch) and
    /// [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline). The deadline starts at 0, so a store
    /// must set one before calling wasm.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }

    /// Makes compiled code visible to a profiler (default: [`ProfilingStrategy::None`]).
    pub fn profiler(&mut self, strategy: ProfilingStrategy) -> &mut Self {
        self.profiler = strategy;
        self
    }

    /// Checks that the settings fit together and fit the host's address space.
    pub(crate) fn validate(&self) -> Result<()> {
        let page = crate::vm::sys::page_size() as u64;
        let guard_before = if self.guard_before_linear_memory { self.memory_guard_size } else { 0 };
        let total = self.memory_reservation.checked_add(self.memory_guard_size).and_then(|t| t.checked_add(guard_before));
        match total {
            Some(total) if usize::try_from(total).is_ok() && total <= 1 << 47 => {}
            _ => bail!(
                "invalid configuration: memory reservation ({:#x}) plus guard regions ({:#x} after, {guard_before:#x} before) \
                 exceeds the host's address space",
                self.memory_reservation,
                self.memory_guard_size
            ),
        }
        let sizes = [self.memory_reservation, self.memory_reservation_for_growth, self.memory_guard_size];
        if sizes.iter().any(|size| !size.is_multiple_of(page)) {
            bail!(
                "invalid configuration: memory reservation, reservation for growth and guard sizes must be \
                 multiples of the page size ({page})"
            );
        }
        if self.concurrency_support {
            bail!("concurrency support (async components) is not supported yet");
        }
        if self.max_wasm_stack == 0 {
            bail!("invalid configuration: `max_wasm_stack` must be greater than zero");
        }
        Ok(())
    }
}
