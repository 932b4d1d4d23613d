//! An engine-neutral representation of values, traps and call outcomes, so that two engines' results can be
//! compared.

use std::fmt;

/// A value type as far as the differential tests need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValKind {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `funcref`.
    FuncRef,
    /// `externref`.
    ExternRef,
    /// Any other type (`v128`, typed references): present in a signature but never passed or compared.
    Unsupported,
}

/// A function's parameter and result types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Parameter types.
    pub params: Vec<ValKind>,
    /// Result types.
    pub results: Vec<ValKind>,
}

/// A value. Floats are kept as bits. References are kept as what they identify, which two engines can
/// compare: a function by its position among the module's function exports ([`UNEXPORTED_FUNC`] for one
/// that is not exported), an external reference by the number the host stored in it.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`'s bits.
    F32(u32),
    /// An `f64`'s bits.
    F64(u64),
    /// A `funcref`: null, or the position of the function among the function exports.
    FuncRef(Option<u32>),
    /// An `externref`: null, or the number its host data holds.
    ExternRef(Option<u32>),
}

/// The identity of a non-null `funcref` to a function that no export names.
pub const UNEXPORTED_FUNC: u32 = u32::MAX;

impl Value {
    /// The argument of type `kind` used for parameter `index` in call variant `variant`: a few interesting
    /// values, cycling with `index + variant`; for references, null or (every other time) one of the
    /// module's `funcs` function exports or a host reference numbered after the cycle. `None` for
    /// unsupported types.
    pub fn argument(kind: ValKind, index: usize, variant: usize, funcs: usize) -> Option<Value> {
        const I32S: [i32; 6] = [0, 1, -1, 0x7fff_ffff, i32::MIN, 0x1234_5678];
        const I64S: [i64; 6] = [0, 1, -1, i64::MAX, i64::MIN, 0x0123_4567_89ab_cdef];
        const F32S: [f32; 6] = [0.0, 1.5, -1.0, f32::INFINITY, -0.0, f32::NAN];
        const F64S: [f64; 6] = [0.0, 1.5, -1.0, f64::NEG_INFINITY, -0.0, f64::NAN];
        let i = (index + variant) % I32S.len();
        let non_null = (index + variant) % 2 == 1;
        Some(match kind {
            ValKind::I32 => Value::I32(I32S[i]),
            ValKind::I64 => Value::I64(I64S[i]),
            ValKind::F32 => Value::F32(F32S[i].to_bits()),
            ValKind::F64 => Value::F64(F64S[i].to_bits()),
            ValKind::FuncRef if non_null && funcs > 0 => Value::FuncRef(Some(((index + variant) % funcs) as u32)),
            ValKind::ExternRef if non_null => Value::ExternRef(Some(i as u32)),
            ValKind::FuncRef => Value::FuncRef(None),
            ValKind::ExternRef => Value::ExternRef(None),
            ValKind::Unsupported => return None,
        })
    }

    /// Whether two values agree: same type and bits, except that canonical NaNs agree whatever their signs
    /// (wasm leaves the sign of a canonical NaN result nondeterministic); references must be identical.
    pub fn agrees_with(&self, other: &Value) -> bool {
        const F32_CANONICAL_NAN: u32 = 0x7fc0_0000;
        const F64_CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;
        match (*self, *other) {
            (Value::I32(a), Value::I32(b)) => a == b,
            (Value::I64(a), Value::I64(b)) => a == b,
            (Value::F32(a), Value::F32(b)) => a == b || (a << 1 == F32_CANONICAL_NAN << 1 && b << 1 == a << 1),
            (Value::F64(a), Value::F64(b)) => a == b || (a << 1 == F64_CANONICAL_NAN << 1 && b << 1 == a << 1),
            (Value::FuncRef(a), Value::FuncRef(b)) => a == b,
            (Value::ExternRef(a), Value::ExternRef(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(bits) => write!(f, "f32:{:?}({bits:#010x})", f32::from_bits(bits)),
            Value::F64(bits) => write!(f, "f64:{:?}({bits:#018x})", f64::from_bits(bits)),
            Value::FuncRef(None) => f.write_str("funcref:null"),
            Value::FuncRef(Some(UNEXPORTED_FUNC)) => f.write_str("funcref:(unexported function)"),
            Value::FuncRef(Some(k)) => write!(f, "funcref:(function export #{k})"),
            Value::ExternRef(None) => f.write_str("externref:null"),
            Value::ExternRef(Some(k)) => write!(f, "externref:{k}"),
        }
    }
}

/// `values` as a bracketed list.
pub fn list(values: &[Value]) -> String {
    let values: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("[{}]", values.join(", "))
}

/// Why execution trapped, in categories both engines report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// A memory access out of bounds.
    MemoryOutOfBounds,
    /// A table access out of bounds.
    TableOutOfBounds,
    /// `call_indirect` of a null element.
    IndirectCallToNull,
    /// `call_indirect` of a function of the wrong type.
    BadSignature,
    /// Integer overflow (`INT_MIN / -1`, an out-of-range float-to-int truncation).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    DivisionByZero,
    /// Float-to-int truncation of NaN.
    InvalidConversion,
    /// `unreachable` executed (also how wasm-smith's fuel check stops a function).
    Unreachable,
    /// The call stack was exhausted; its depth legitimately differs between engines.
    StackOverflow,
    /// A null reference was dereferenced.
    NullReference,
    /// Any other trap or error, with its message.
    Other(String),
}

/// What running something (a call, or instantiation with its start function) produced.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Returned these values.
    Returned(Vec<Value>),
    /// Trapped.
    Trapped(TrapKind),
}

impl Outcome {
    /// Whether both outcomes are the same: equal values, or traps of the same kind (`Other` traps agree
    /// whatever their messages).
    pub fn agrees_with(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Returned(a), Outcome::Returned(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.agrees_with(y))
            }
            (Outcome::Trapped(TrapKind::Other(_)), Outcome::Trapped(TrapKind::Other(_))) => true,
            (Outcome::Trapped(a), Outcome::Trapped(b)) => a == b,
            _ => false,
        }
    }

    /// A short name for the kind of outcome ("returned", or the trap kind), for statistics.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Returned(_) => "returned",
            Outcome::Trapped(kind) => match kind {
                TrapKind::MemoryOutOfBounds => "memory out of bounds",
                TrapKind::TableOutOfBounds => "table out of bounds",
                TrapKind::IndirectCallToNull => "indirect call to null",
                TrapKind::BadSignature => "bad signature",
                TrapKind::IntegerOverflow => "integer overflow",
                TrapKind::DivisionByZero => "division by zero",
                TrapKind::InvalidConversion => "invalid conversion",
                TrapKind::Unreachable => "unreachable",
                TrapKind::StackOverflow => "stack overflow",
                TrapKind::NullReference => "null reference",
                TrapKind::Other(_) => "other error",
            },
        }
    }

    /// Whether this is a stack overflow.
    pub fn is_stack_overflow(&self) -> bool {
        matches!(self, Outcome::Trapped(TrapKind::StackOverflow))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(values) => write!(f, "returned {}", list(values)),
            Outcome::Trapped(TrapKind::Other(message)) => write!(f, "error: {message}"),
            Outcome::Trapped(kind) => write!(f, "trap: {kind:?}"),
        }
    }
}

/// How loading a module went on one engine.
pub enum Instantiation<R> {
    /// Validation or compilation rejected the module, with the message.
    Rejected(String),
    /// Instantiation failed: a segment did not fit or the start function trapped.
    Failed(TrapKind),
    /// The module is instantiated and ready to be called.
    Ready(R),
}
