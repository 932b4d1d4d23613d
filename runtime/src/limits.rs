//! Resource limits: how an embedder bounds what a store's guests may allocate.

use anyhow::{Result, bail};

/// The default limit on the number of instances, tables and memories of a store, as in Wasmtime.
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// See [`DEFAULT_INSTANCE_LIMIT`].
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// See [`DEFAULT_INSTANCE_LIMIT`].
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// Decides whether a store's memories and tables may grow and how many instances, tables and memories it
/// may hold; installed with [`Store::limiter`](crate::Store::limiter).
///
/// A refused growth makes `memory.grow`/`table.grow` return -1 (and [`Memory::grow`](crate::Memory::grow)
/// return an error); an error returned from a method traps the running wasm with that error. Creating a
/// memory or table asks for growth from zero to its minimum size, and a refusal fails the instantiation.
pub trait ResourceLimiter {
    /// Whether a memory may grow from `current` to `desired` bytes (`maximum`: its declared maximum).
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool>;

    /// Told that a memory growth failed after it was allowed; an error traps.
    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// Whether a table may grow from `current` to `desired` elements (`maximum`: its declared maximum).
    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool>;

    /// Told that a table growth failed after it was allowed; an error traps.
    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// The most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// The most tables the store may hold.
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// The most memories the store may hold.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// A [`ResourceLimiter`] with fixed limits, made by [`StoreLimitsBuilder`].
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

impl StoreLimits {
    fn allow(&self, what: &str, desired: usize, limit: Option<usize>) -> Result<bool> {
        match limit {
            Some(limit) if desired > limit => {
                if self.trap_on_grow_failure {
                    bail!("forcing trap when growing {what} to {desired}: the limit is {limit}");
                }
                Ok(false)
            }
            _ => Ok(true),
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        self.allow("memory (bytes)", desired, self.memory_size)
    }

    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure { Err(error.context("forcing a memory growth failure to be a trap")) } else { Ok(()) }
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        self.allow("table (elements)", desired, self.table_elements)
    }

    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure { Err(error.context("forcing a table growth failure to be a trap")) } else { Ok(()) }
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// Builds [`StoreLimits`]; every limit is unset (or Wasmtime's default) until given.
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// No limits beyond the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most bytes any one linear memory may have.
    pub fn memory_size(mut self, bytes: usize) -> Self {
        self.0.memory_size = Some(bytes);
        self
    }

    /// The most elements any one table may have.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.0.table_elements = Some(elements);
        self
    }

    /// The most instances the store may hold.
    pub fn instances(mut self, limit: usize) -> Self {
        self.0.instances = limit;
        self
    }

    /// The most tables the store may hold.
    pub fn tables(mut self, limit: usize) -> Self {
        self.0.tables = limit;
        self
    }

    /// The most memories the store may hold.
    pub fn memories(mut self, limit: usize) -> Self {
        self.0.memories = limit;
        self
    }

    /// Whether growth past a limit traps instead of failing with -1.
    pub fn trap_on_grow_failure(mut self, trap: bool) -> Self {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

/// Reborrows an optional limiter for a shorter time (so it can be lent again and again).
pub(crate) fn reborrow<'a>(limiter: &'a mut Option<&mut dyn ResourceLimiter>) -> Option<&'a mut dyn ResourceLimiter> {
    match limiter {
        Some(limiter) => Some(&mut **limiter),
        None => None,
    }
}
