//! The engine: compiler settings shared by modules and stores.

use crate::Config;
use crate::compile::{self, Tunables};
use crate::vm::memory::{MemoryLayout, ReservationPool};
use anyhow::Result;
use cranelift_codegen::isa::OwnedTargetIsa;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A compilation environment shared by modules and stores; cheap to clone.
#[derive(Clone)]
pub struct Engine(Arc<EngineInner>);

struct EngineInner {
    config: Config,
    isa: OwnedTargetIsa,
    tunables: Tunables,
    epoch: AtomicU64,
    /// The largest frame of any function compiled for this engine (see `StoreOpaque::enter_wasm`).
    max_frame_size: AtomicUsize,
    /// How linear memories are laid out.
    memory_layout: MemoryLayout,
    /// Reservations of dropped linear memories, for the next ones.
    reservations: Arc<ReservationPool>,
}

impl Engine {
    /// An engine with the given configuration; errors if the configuration cannot work on this host.
    pub fn new(config: &Config) -> Result<Engine> {
        config.validate()?;
        if config.signals_based_traps {
            crate::vm::traphandlers::install_handlers()?;
        }
        if config.profiler == crate::ProfilingStrategy::PerfMap {
            crate::code::perf_map::enable();
        }
        let elide_checks = config.signals_based_traps && config.memory_reservation >= 1 << 32;
        let tunables = Tunables {
            features: config.features,
            parallel: config.parallel_compilation,
            signals_based_traps: config.signals_based_traps,
            guard_size: if elide_checks { config.memory_guard_size } else { 0 },
            memory_reservation: config.memory_reservation,
            memory_may_move: config.memory_may_move,
            consume_fuel: config.consume_fuel,
            epoch_interruption: config.epoch_interruption,
        };
        Ok(Engine(Arc::new(EngineInner {
            config: config.clone(),
            isa: compile::host_isa(match config.opt_level {
                crate::OptLevel::None => "none",
                crate::OptLevel::Speed => "speed",
                crate::OptLevel::SpeedAndSize => "speed_and_size",
            })?,
            tunables,
            memory_layout: MemoryLayout {
                reservation: config.memory_reservation as usize,
                growth: usize::try_from(config.memory_reservation_for_growth).unwrap_or(usize::MAX),
                may_move: config.memory_may_move,
                guard_before: if config.guard_before_linear_memory { config.memory_guard_size as usize } else { 0 },
                guard: config.memory_guard_size as usize,
            },
            reservations: Arc::default(),
            epoch: AtomicU64::new(0),
            max_frame_size: AtomicUsize::new(0),
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

    /// The largest frame any function compiled for this engine takes.
    pub(crate) fn max_frame_size(&self) -> usize {
        self.0.max_frame_size.load(Ordering::Relaxed)
    }

    /// Records functions whose largest frame takes `size` bytes.
    pub(crate) fn note_frame_size(&self, size: u32) {
        self.0.max_frame_size.fetch_max(size as usize, Ordering::Relaxed);
    }

    /// Whether two handles refer to the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// Compiles a module (binary or text) to an artifact that [`Module::deserialize`](crate::Module::deserialize)
    /// loads without compiling, with an engine of the same settings (see [`Module::serialize`](crate::Module::serialize)).
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        crate::Module::new(self, bytes)?.serialize()
    }

    /// Compiles a component (binary or text) to an artifact that
    /// [`Component::deserialize`](crate::component::Component::deserialize) loads without compiling.
    pub fn precompile_component(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        crate::component::Component::new(self, bytes)?.serialize()
    }

    /// Whether `bytes` are a Tenon artifact, and of what: a quick look at its settings, not a check that it
    /// loads.
    pub fn detect_precompiled(bytes: &[u8]) -> Option<crate::Precompiled> {
        crate::artifact::detect(bytes)
    }

    /// [`Engine::detect_precompiled`] of the file at `path`.
    pub fn detect_precompiled_file(path: impl AsRef<std::path::Path>) -> Result<Option<crate::Precompiled>> {
        Ok(Self::detect_precompiled(&std::fs::read(path)?))
    }

    /// A hash of everything artifacts depend on in this engine: two engines with equal hashes load each
    /// other's artifacts.
    pub fn precompile_compatibility_hash(&self) -> impl std::hash::Hash + '_ {
        crate::artifact::compatibility(self)
    }

    /// The engine's configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub(crate) fn isa(&self) -> &dyn cranelift_codegen::isa::TargetIsa {
        &*self.0.isa
    }

    pub(crate) fn tunables(&self) -> &Tunables {
        &self.0.tunables
    }

    /// How this engine lays out linear memories.
    pub(crate) fn memory_layout(&self) -> &MemoryLayout {
        &self.0.memory_layout
    }

    /// Where this engine's linear memories come from and go back to.
    pub(crate) fn reservations(&self) -> &Arc<ReservationPool> {
        &self.0.reservations
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
