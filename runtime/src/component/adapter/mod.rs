//! Fused adapters: the core wasm function through which one component instance calls a function another
//! lifted. It reads the arguments out of the caller's core values and memory and writes them into the
//! callee's (allocating there with the callee's `realloc`), calls the callee, copies the result back the
//! same way (with the caller's `realloc`), then runs the callee's `post-return`: every value checked as
//! lifting checks it (discriminants, `char`s, alignment, bounds), all generated with `wasm-encoder` and
//! compiled like any core module.
//!
//! The instances' flags (running, may leave, locked down) are core globals the adapter imports and reads and
//! writes inline (see [`ComponentFlags`](crate::vm::ComponentFlags)). What only the runtime can do, it
//! imports from module `tenon` (see [`Helper`]): the traps with their reasons, the borrow scope of a call
//! that lends handles, moving handles between the two instances' tables, checking UTF-8 and UTF-16 that is
//! copied as it is, and transcoding strings between two encodings (as Wasmtime's adapters call the host
//! for). [`generate`] writes an adapter's module when the component is compiled; [`instantiate`] gives it
//! its imports when the component is instantiated.

mod generate;
mod instantiate;

pub(crate) use generate::generate;
pub(crate) use instantiate::instantiate;

use super::translate::StringEncoding;
use crate::Trap;

/// Which way a value crosses an adapter.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// An argument: from the caller into the callee.
    Params,
    /// The result: from the callee back into the caller.
    Results,
}

impl Direction {
    /// The code the adapter passes to a helper for this direction.
    fn code(self) -> i32 {
        match self {
            Direction::Params => 0,
            Direction::Results => 1,
        }
    }

    /// The direction of a helper's code.
    pub(crate) fn from_code(code: i32) -> Direction {
        if code == 0 { Direction::Params } else { Direction::Results }
    }
}

/// What an adapter's generation knows of one side's canonical options.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SideOptions {
    /// The (nested) component instance.
    pub instance: usize,
    pub encoding: StringEncoding,
    pub memory: bool,
    pub realloc: bool,
    pub post_return: bool,
}

/// The functions an adapter imports from module `tenon`, which the runtime provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helper {
    /// `begin_call()`: the callee's borrows are counted for this call from now on (called only when
    /// borrows are passed).
    BeginCall,
    /// `end_call()`: the callee must have dropped the handles lent to it for this call.
    EndCall,
    /// `fail(code)`: traps with [`FAIL_TRAPS`]`[code]`.
    Fail,
    /// `resource(code, handle) -> handle`: moves or lends handle `handle` of the adapter's resource type
    /// number `code` (see [`AdapterModule::resources`]) to the other side.
    Resource,
    /// `transcode(direction, ptr, len) -> (ptr, len)`: copies a string to the other side, checked, in the
    /// other side's (different) encoding.
    Transcode,
    /// `validate(direction, ptr, len)`: checks a string about to be copied as it is (traps if invalid).
    Validate,
}

impl Helper {
    const ALL: [Helper; 6] = [Helper::BeginCall, Helper::EndCall, Helper::Fail, Helper::Resource, Helper::Transcode, Helper::Validate];

    /// Its import name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Helper::BeginCall => "begin_call",
            Helper::EndCall => "end_call",
            Helper::Fail => "fail",
            Helper::Resource => "resource",
            Helper::Transcode => "transcode",
            Helper::Validate => "validate",
        }
    }

    /// The helper an import name names.
    pub(crate) fn from_name(name: &str) -> Option<Helper> {
        Helper::ALL.into_iter().find(|h| h.name() == name)
    }

    /// How many parameters and results it has, all `i32`.
    pub(crate) fn arity(self) -> (usize, usize) {
        match self {
            Helper::BeginCall | Helper::EndCall => (0, 0),
            Helper::Fail => (1, 0),
            Helper::Resource => (2, 1),
            Helper::Transcode => (3, 2),
            Helper::Validate => (3, 0),
        }
    }

    /// What generated code calls it by until the helpers it uses are imported (see
    /// [`of_placeholder`](Self::of_placeholder)).
    fn index(self) -> u32 {
        HELPER_PLACEHOLDERS + self as u32
    }

    /// The helper a placeholder function index stands for.
    fn of_placeholder(index: u32) -> Option<Helper> {
        Helper::ALL.get(index.checked_sub(HELPER_PLACEHOLDERS)? as usize).copied()
    }

}

/// The first of the function indices helpers are called by while an adapter is generated (far above any
/// real index).
const HELPER_PLACEHOLDERS: u32 = u32::MAX - 64;

/// The traps `fail` raises, by code.
pub(crate) const FAIL_TRAPS: [Trap; 8] = [
    Trap::MemoryOutOfBounds,
    Trap::InvalidChar,
    Trap::InvalidDiscriminant,
    Trap::UnalignedPointer,
    Trap::StringOutOfBounds,
    Trap::ListOutOfBounds,
    Trap::CannotEnterComponent,
    Trap::CannotLeaveComponent,
];

/// The `fail` code of `trap`.
fn fail_code(trap: Trap) -> i32 {
    FAIL_TRAPS.iter().position(|t| *t == trap).expect("a trap adapters raise") as i32
}

/// The import name of the flags global of (nested) component instance `instance`.
pub(crate) fn flags_name(instance: usize) -> String {
    format!("flags{instance}")
}

/// The (nested) component instance whose flags an import name names.
pub(crate) fn flags_instance(name: &str) -> Option<usize> {
    name.strip_prefix("flags")?.parse().ok()
}

/// Import names of the items the runtime takes from the two instances.
pub(crate) mod names {
    pub const CALLEE: &str = "callee";
    pub const CALLER_MEMORY: &str = "caller_memory";
    pub const CALLEE_MEMORY: &str = "callee_memory";
    pub const CALLER_REALLOC: &str = "caller_realloc";
    pub const CALLEE_REALLOC: &str = "callee_realloc";
    pub const POST_RETURN: &str = "post_return";
    /// The export: the adapter itself.
    pub const ADAPTER: &str = "adapter";
}
