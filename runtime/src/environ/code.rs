//! Compiled functions before they are placed in an image, how the functions of an image are named, and the
//! names backtraces print.

use super::TrapSite;
use std::collections::HashMap;

/// Which function of an image this is. Functions of one image call each other by key, and the key's
/// namespace says where its index comes from, so one image can hold the functions of several modules (a
/// component's) and trampolines side by side.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FuncKey {
    /// Function `index` of core module `module` (a lone module is module 0).
    Wasm {
        /// The module within the image.
        module: u32,
        /// The function's index in the module's function index space.
        index: u32,
    },
    /// A signature's entry trampoline: host to wasm.
    EntryTrampoline,
    /// A signature's exit trampoline: wasm to host.
    ExitTrampoline,
}

impl FuncKey {
    /// The key as a Cranelift external name's namespace and index.
    pub fn to_parts(self) -> (u32, u32) {
        match self {
            FuncKey::Wasm { module, index } => (module, index),
            FuncKey::EntryTrampoline => (u32::MAX, 0),
            FuncKey::ExitTrampoline => (u32::MAX, 1),
        }
    }

    /// The key of a Cranelift external name's namespace and index (see [`FuncKey::to_parts`]).
    pub fn from_parts(namespace: u32, index: u32) -> Option<FuncKey> {
        match (namespace, index) {
            (u32::MAX, 0) => Some(FuncKey::EntryTrampoline),
            (u32::MAX, 1) => Some(FuncKey::ExitTrampoline),
            (u32::MAX, _) => None,
            (module, index) => Some(FuncKey::Wasm { module, index }),
        }
    }
}

/// One function compiled to machine code, not yet placed in an image.
#[derive(Debug, Default)]
pub struct CompiledFunction {
    /// The machine code.
    pub code: Vec<u8>,
    /// Required alignment of the code, in bytes.
    pub alignment: u32,
    /// Direct calls to other functions of the same image: `(offset of the rel32 field, callee, addend)`.
    pub calls: Vec<(u32, FuncKey, i64)>,
    /// Trapping instructions: `(offset, meaning)`.
    pub traps: Vec<(u32, TrapSite)>,
    /// Bytes of stack the function's frame takes below its caller's stack pointer (return address and saved
    /// frame pointer included).
    pub frame_size: u32,
}

/// Names used when printing a backtrace.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
pub struct FrameNames {
    /// The module's name from its name section.
    pub module: Option<String>,
    /// Function names from the name section, by function index.
    #[serde(with = "crate::artifact::sorted_map")]
    pub functions: HashMap<u32, String>,
}

/// One frame of a wasm backtrace.
#[derive(Clone, Debug)]
pub struct FrameInfo {
    func_index: u32,
    func_name: Option<String>,
    module_name: Option<String>,
}

impl FrameInfo {
    /// The frame of function `func_index` of a module, with the names `names` gives it.
    pub fn new(func_index: u32, names: &FrameNames) -> Self {
        FrameInfo {
            func_index,
            func_name: names.functions.get(&func_index).cloned(),
            module_name: names.module.clone(),
        }
    }

    /// The function's index in its module's function index space.
    pub fn func_index(&self) -> u32 {
        self.func_index
    }

    /// The function's name from the module's name section, if it has one.
    pub fn func_name(&self) -> Option<&str> {
        self.func_name.as_deref()
    }

    /// The module's name from its name section, if it has one.
    pub fn module_name(&self) -> Option<&str> {
        self.module_name.as_deref()
    }
}
