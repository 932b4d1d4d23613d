//! The canonical ABI: layout ([`layout`]), and lifting values out of and lowering them into a guest's
//! core values and memory ([`lift`], [`lower`]). Guest memory is only ever read and written through the
//! bounds-checked slices these take, so a bad pointer from a guest is an error, never an access outside its
//! memory.

pub mod layout;
pub mod lift;
pub mod lower;

pub use layout::{CanonicalAbiInfo, FlatType, FlatTypes, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};

use crate::Trap;
use crate::component::type_table::InterfaceType;
use std::fmt;

/// Most bytes a string or list may take in memory (`MAX_STRING_BYTE_LENGTH`, `MAX_LIST_BYTE_LENGTH`).
pub const MAX_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The bit of a `latin1+utf16` string's length that says it is UTF-16.
pub const UTF16_TAG: u32 = 1 << 31;

/// Why lifting or lowering a value failed, and where in the value.
#[derive(Debug)]
pub struct AbiError {
    /// The trap it raises, if it is one (a bad value from the guest); `None` for other errors (a host
    /// value of the wrong type, invalid UTF-8 from the guest).
    pub trap: Option<Trap>,
    /// What went wrong.
    pub message: String,
    /// Where: list indices and field or case names, innermost first.
    path: Vec<PathSegment>,
    /// The error of the guest code that failed (`realloc`), if that is what happened.
    cause: Option<anyhow::Error>,
}

#[derive(Debug)]
enum PathSegment {
    Index(usize),
    Name(String),
}

impl AbiError {
    /// A trap, with details.
    pub fn trap(trap: Trap, details: impl Into<String>) -> Self {
        AbiError { trap: Some(trap), message: details.into(), path: Vec::new(), cause: None }
    }

    /// An error that is not a trap.
    pub fn msg(message: impl Into<String>) -> Self {
        AbiError { trap: None, message: message.into(), path: Vec::new(), cause: None }
    }

    /// Guest code that ran while lowering (its `realloc`) failed with `error` (a trap, say).
    pub fn guest(error: anyhow::Error, during: &str) -> Self {
        AbiError { trap: None, message: during.to_string(), path: Vec::new(), cause: Some(error) }
    }

    /// A host value that does not have the type the function needs.
    pub fn mismatch(expected: &str, found: &str) -> Self {
        AbiError::msg(format!("type mismatch: expected {expected}, found {found}"))
    }

    /// The same error, inside element `index` of a list or tuple.
    pub fn at_index(mut self, index: usize) -> Self {
        self.path.push(PathSegment::Index(index));
        self
    }

    /// The same error, inside the field or case `name`.
    pub fn at_name(mut self, name: &str) -> Self {
        self.path.push(PathSegment::Name(name.to_string()));
        self
    }

    /// The error as reported to the embedder, for a value in the arguments of function `func` with
    /// parameters `params`: "`func` argument `name`: ...", when the outermost step of the path is the index
    /// of an argument.
    pub fn in_arguments(mut self, func: &str, params: &[(String, InterfaceType)]) -> anyhow::Error {
        if let Some(PathSegment::Index(n)) = self.path.last()
            && let Some((name, _)) = params.get(*n)
        {
            let what = format!("`{func}` argument `{name}`");
            self.path.pop();
            return self.into_error(&what);
        }
        self.into_error(&format!("`{func}` arguments"))
    }

    /// The error as reported to the embedder, for a value in the result list of function `func`, where the
    /// outermost step of the path, if any, is the index in that list: "`func` result: ...".
    pub fn in_results(mut self, func: &str) -> anyhow::Error {
        if let Some(PathSegment::Index(_)) = self.path.last() {
            self.path.pop();
        }
        self.into_error(&format!("`{func}` result"))
    }

    /// The error as reported to the embedder: `what` says which value (e.g. "`get-items` result"), then
    /// the path and the message; a trap stays findable with `downcast_ref::<Trap>()`.
    pub fn into_error(self, what: &str) -> anyhow::Error {
        let message = format!("{what}: {self}");
        match (self.cause, self.trap) {
            (Some(cause), _) => cause.context(message),
            (None, Some(trap)) => anyhow::Error::new(trap).context(message),
            (None, None) => anyhow::Error::msg(message),
        }
    }
}

impl fmt::Display for AbiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for segment in self.path.iter().rev() {
            match segment {
                PathSegment::Index(i) => write!(f, "[{i}]")?,
                PathSegment::Name(name) if first => write!(f, "{name}")?,
                PathSegment::Name(name) => write!(f, ".{name}")?,
            }
            first = false;
        }
        if !self.path.is_empty() {
            f.write_str(": ")?;
        }
        match (self.trap, self.message.is_empty()) {
            (Some(trap), true) => f.write_str(trap.message()),
            (Some(trap), false) => write!(f, "{} ({})", trap.message(), self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

/// The result of lifting or lowering.
pub type AbiResult<T> = Result<T, AbiError>;
