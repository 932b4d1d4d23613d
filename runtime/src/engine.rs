//! The engine: compiler settings and the trampoline cache.

use crate::Config;
use crate::code::CodeImage;
use crate::compile::{self, Tunables};
use crate::vm::memory::ReservationPool;
use anyhow::Result;
use cranelift_codegen::isa::OwnedTargetIsa;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A compilation environment shared by modules and stores; cheap to clone.
#[derive(Clone)]
pub struct Engine(Arc<EngineInner>);

struct EngineInner {
    config: Config,
    isa: OwnedTargetIsa,
    tunables: Tunables,
    trampolines: Mutex<HashMap<u32, Arc<Trampolines>>>,
    epoch: AtomicU64,
    /// Reservations of dropped linear memories, for the next ones.
    reservations: Arc<ReservationPool>,
}

/// The entry and exit trampolines of one function type.
pub(crate) struct Trampolines {
    /// Host-to-wasm: `extern "sysv64" fn(callee_vmctx, func_ptr, args, results)`.
    pub entry: *const u8,
    /// Wasm-to-host, with the wasm calling convention.
    pub exit: *const u8,
    /// The code both live in.
    _image: CodeImage,
}

// SAFETY: the two pointers point into the immutable, published code image owned alongside them.
unsafe impl Send for Trampolines {}
// SAFETY: as above.
unsafe impl Sync for Trampolines {}

impl Engine {
    /// An engine with the given configuration.
    pub fn new(config: &Config) -> Result<Engine> {
        if config.signals_based_traps {
            crate::vm::traphandlers::install_handlers();
        }
        if config.profiler == crate::ProfilingStrategy::PerfMap {
            crate::code::perf_map::enable();
        }
        let elide_checks = config.signals_based_traps && config.memory_reservation >= 1 << 32;
        let tunables = Tunables {
            signals_based_traps: config.signals_based_traps,
            guard_size: if elide_checks { config.memory_guard_size } else { 0 },
            consume_fuel: config.consume_fuel,
            epoch_interruption: config.epoch_interruption,
        };
        Ok(Engine(Arc::new(EngineInner {
            config: config.clone(),
            isa: compile::host_isa()?,
            tunables,
            trampolines: Mutex::default(),
            reservations: Arc::default(),
            epoch: AtomicU64::new(0),
        })))
    }

    /// Advances the epoch by one. Cheap, and safe to call from any thread (e.g. a timer thread) while wasm
    /// runs; stores whose epoch deadline is reached trap with [`Trap::Interrupt`](crate::Trap::Interrupt)
    /// at the next function entry or loop iteration.
    pub fn increment_epoch(&self) {
        self.0.epoch.fetch_add(1, Ordering::Release);
    }

    /// The current epoch.
    pub(crate) fn current_epoch(&self) -> u64 {
        self.0.epoch.load(Ordering::Acquire)
    }

    /// The epoch counter, read by compiled code.
    pub(crate) fn epoch_counter(&self) -> *const AtomicU64 {
        &self.0.epoch
    }

    /// Whether two handles refer to the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    pub(crate) fn config(&self) -> &Config {
        &self.0.config
    }

    pub(crate) fn isa(&self) -> &dyn cranelift_codegen::isa::TargetIsa {
        &*self.0.isa
    }

    pub(crate) fn tunables(&self) -> &Tunables {
        &self.0.tunables
    }

    /// Where this engine's linear memories come from and go back to.
    pub(crate) fn reservations(&self) -> &Arc<ReservationPool> {
        &self.0.reservations
    }

    /// The trampolines of the type with id `id`, compiled on first use.
    pub(crate) fn trampolines(&self, id: u32) -> Result<Arc<Trampolines>> {
        if let Some(t) = self.0.trampolines.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(t.clone());
        }
        let ty = crate::types::registry::lookup(id);
        let image = compile::trampolines::compile(self.isa(), &ty, self.0.config.signals_based_traps)?;
        let trampolines = Arc::new(Trampolines {
            entry: image.function(compile::trampolines::ENTRY).expect("entry trampoline"),
            exit: image.function(compile::trampolines::EXIT).expect("exit trampoline"),
            _image: image,
        });
        let mut cache = self.0.trampolines.lock().unwrap_or_else(|e| e.into_inner());
        Ok(cache.entry(id).or_insert(trampolines).clone())
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(&Config::default()).expect("the default configuration is valid for the host")
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}
