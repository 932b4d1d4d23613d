//! Malformed input never crashes Tenon: thousands of deterministic mutations of valid modules (bit flips,
//! byte replacement, insertion and deletion, truncation, duplicated sections, LEB128 bytes set to 0xff) must
//! each make `Module::new` return `Ok` or `Err` without panicking. Mutants that compile are instantiated, and
//! their parameterless exports called, when their run time is bounded (no loops and no calls).

use std::panic::{AssertUnwindSafe, catch_unwind};
use tenon::{Engine, Instance, Module, Store, Val};
use tenon_tests::generate;
use tenon_tests::rng::SplitMix64;
use wasmparser::{Operator, Parser, Payload};

/// Random single-point mutations made of each base module.
const RANDOM_MUTATIONS: usize = 400;

/// Truncations made of each base module, at evenly spaced lengths.
const TRUNCATIONS: usize = 60;

/// Seeds of the wasm-smith base modules.
const SMITH_SEEDS: std::ops::Range<u64> = 0..8;

/// Hand-written base modules covering every section kind and the features Tenon supports.
const WAT_MODULES: &[&str] = &[
    r#"(module
         (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
         (func $branches (export "branches") (result i32)
           (local i32)
           (block $out
             (block $a (br_table $a $out (i32.const 1)))
             (local.set 0 (i32.const 7)))
           (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2))))
         (func (export "count") (param i32) (result i32)
           (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
           (local.get 0)))"#,
    r#"(module
         (memory (export "mem") 1 2)
         (data (i32.const 8) "hello, world")
         (data $passive "passive")
         (func (export "bytes") (result i32)
           (memory.fill (i32.const 100) (i32.const 0xab) (i32.const 16))
           (memory.copy (i32.const 200) (i32.const 8) (i32.const 12))
           (memory.init $passive (i32.const 300) (i32.const 0) (i32.const 7))
           (data.drop $passive)
           (i32.store offset=4 (i32.const 400) (i32.load8_u (i32.const 9)))
           (i64.store (i32.const 408) (i64.load (i32.const 8)))
           (i32.add (memory.size) (memory.grow (i32.const 1)))))"#,
    r#"(module
         (type $unary (func (param i32) (result i32)))
         (table $t (export "table") 4 8 funcref)
         (table $ext 2 externref)
         (elem (i32.const 0) $inc $dec)
         (elem $passive func $inc)
         (elem declare func $dec)
         (func $inc (type $unary) (i32.add (local.get 0) (i32.const 1)))
         (func $dec (type $unary) (i32.sub (local.get 0) (i32.const 1)))
         (func (export "tables") (result i32)
           (table.init $t $passive (i32.const 2) (i32.const 0) (i32.const 1))
           (elem.drop $passive)
           (table.set $t (i32.const 3) (ref.func $dec))
           (drop (table.grow $t (ref.null func) (i32.const 1)))
           (table.set $ext (i32.const 0) (ref.null extern))
           (i32.add
             (i32.add (ref.is_null (table.get $t (i32.const 1))) (table.size $t))
             (call_indirect (type $unary) (i32.const 41) (i32.const 2)))))"#,
    r#"(module
         (global $a (export "a") (mut i32) (i32.const 1))
         (global $b i64 (i64.const -1))
         (global $c (mut f32) (f32.const 1.5))
         (global $d (export "d") f64 (f64.const -0.25))
         (global $e (mut funcref) (ref.null func))
         (global $f (mut externref) (ref.null extern))
         (global $g i32 (i32.add (i32.const 40) (i32.const 2)))
         (func (export "globals") (result i32)
           (global.set $a (i32.add (global.get $a) (global.get $g)))
           (global.set $c (f32.mul (global.get $c) (f32.const 2)))
           (global.set $e (ref.null func))
           (i32.wrap_i64 (global.get $b))))"#,
    r#"(module
         (import "env" "f" (func $f (param i32)))
         (import "env" "m" (memory 1))
         (import "env" "t" (table 1 funcref))
         (import "env" "g" (global i32))
         (func (export "call") (call $f (global.get 0))))"#,
    r#"(module
         (memory $m0 1)
         (memory $m1 1 1)
         (global $started (mut i32) (i32.const 0))
         (start $init)
         (func $init (global.set $started (i32.const 1)) (i32.store $m1 (i32.const 0) (i32.const 5)))
         (func (export "pair") (result i32 i64) (i32.load $m1 (i32.const 0)) (i64.const 6))
         (func (export "copy") (result i32)
           (memory.copy $m0 $m1 (i32.const 0) (i32.const 0) (i32.const 4))
           (i32.load $m0 (i32.const 0))))"#,
    r#"(module
         (func (export "numbers") (result i64)
           (drop (i32.trunc_sat_f32_s (f32.const -1e30)))
           (drop (i64.trunc_sat_f64_u (f64.const 1e300)))
           (drop (f32.demote_f64 (f64.promote_f32 (f32.sqrt (f32.const 2)))))
           (drop (f64.copysign (f64.const 1) (f64.neg (f64.const 0))))
           (drop (i32.extend8_s (i32.const 0x80)))
           (drop (i32.div_u (i32.const 7) (i32.const 2)))
           (drop (i64.rotl (i64.const 1) (i64.const 63)))
           (i64.extend32_s (i64.reinterpret_f64 (f64.convert_i32_s (i32.const -3))))))"#,
];

/// One change to a module's bytes.
#[derive(Clone, Copy, Debug)]
enum Mutation {
    /// Flip bit `bit` of the byte at `offset`.
    FlipBit { offset: usize, bit: u8 },
    /// Replace the byte at `offset`.
    Replace { offset: usize, byte: u8 },
    /// Insert a byte before `offset`.
    Insert { offset: usize, byte: u8 },
    /// Delete the byte at `offset`.
    Delete { offset: usize },
    /// Keep only the first `len` bytes.
    Truncate { len: usize },
    /// Set `count` bytes from `offset` to 0xff, as in an overlong or overflowing LEB128 number.
    Leb { offset: usize, count: usize },
    /// Insert a copy of the section spanning `start..end` right after it.
    DuplicateSection { start: usize, end: usize },
}

impl Mutation {
    /// The mutated bytes.
    fn apply(self, wasm: &[u8]) -> Vec<u8> {
        let mut out = wasm.to_vec();
        match self {
            Mutation::FlipBit { offset, bit } => out[offset] ^= 1 << bit,
            Mutation::Replace { offset, byte } => out[offset] = byte,
            Mutation::Insert { offset, byte } => out.insert(offset, byte),
            Mutation::Delete { offset } => {
                out.remove(offset);
            }
            Mutation::Truncate { len } => out.truncate(len),
            Mutation::Leb { offset, count } => out[offset..offset + count].fill(0xff),
            Mutation::DuplicateSection { start, end } => {
                out.splice(end..end, wasm[start..end].iter().copied());
            }
        }
        out
    }

    /// A random single-point mutation of a module of `len` (at least 1) bytes.
    fn random(rng: &mut SplitMix64, len: usize) -> Mutation {
        let offset = rng.below(len as u64) as usize;
        let byte = rng.next_u64() as u8;
        match rng.below(5) {
            0 => Mutation::FlipBit { offset, bit: rng.below(8) as u8 },
            1 => Mutation::Replace { offset, byte },
            2 => Mutation::Insert { offset, byte },
            3 => Mutation::Delete { offset },
            _ => Mutation::Leb { offset, count: (1 + rng.below(5) as usize).min(len - offset) },
        }
    }
}

/// The sections of a module as byte ranges (id byte to end of contents), and the offsets of their size
/// fields; stops at the first section that does not parse.
fn sections(wasm: &[u8]) -> Vec<(std::ops::Range<usize>, usize)> {
    let mut sections = Vec::new();
    let mut pos = 8;
    while pos < wasm.len() {
        let size_offset = pos + 1;
        let Some((size, size_len)) = read_leb_u32(&wasm[size_offset.min(wasm.len())..]) else { break };
        let end = size_offset + size_len + size as usize;
        if end > wasm.len() {
            break;
        }
        sections.push((pos..end, size_offset));
        pos = end;
    }
    sections
}

/// An unsigned LEB128 number at the start of `bytes`, and its length.
fn read_leb_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value = 0u32;
    for (i, &byte) in bytes.iter().take(5).enumerate() {
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// All the mutations made of `wasm`: random ones from `seed`, evenly spaced truncations, each section
/// duplicated, and each section size field made an overlong LEB128.
fn mutations(wasm: &[u8], seed: u64) -> Vec<Mutation> {
    let mut rng = SplitMix64::new(seed);
    let mut all: Vec<Mutation> = (0..RANDOM_MUTATIONS).map(|_| Mutation::random(&mut rng, wasm.len())).collect();
    let step = wasm.len().div_ceil(TRUNCATIONS).max(1);
    all.extend((0..wasm.len()).step_by(step).map(|len| Mutation::Truncate { len }));
    for (range, size_offset) in sections(wasm) {
        all.push(Mutation::DuplicateSection { start: range.start, end: range.end });
        all.push(Mutation::Leb { offset: size_offset, count: 1 });
        all.push(Mutation::Leb { offset: size_offset, count: (range.end - size_offset).min(5) });
    }
    all
}

/// Whether running any function of `wasm` takes bounded time: there are no loops, and no calls that could
/// recurse, so every instruction runs at most once.
fn runs_bounded(wasm: &[u8]) -> bool {
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { return false };
        if let Payload::CodeSectionEntry(body) = payload {
            let Ok(mut reader) = body.get_operators_reader() else { return false };
            while !reader.eof() {
                match reader.read() {
                    Ok(Operator::Loop { .. } | Operator::Call { .. } | Operator::CallIndirect { .. }) => return false,
                    Ok(Operator::ReturnCall { .. } | Operator::ReturnCallIndirect { .. }) => return false,
                    Ok(Operator::CallRef { .. } | Operator::ReturnCallRef { .. }) => return false,
                    Ok(_) => {}
                    Err(_) => return false,
                }
            }
        }
    }
    true
}

/// What became of the mutants.
#[derive(Default, Debug)]
struct Counts {
    mutations: usize,
    accepted: usize,
    rejected: usize,
    instantiated: usize,
    calls: usize,
}

/// Compiles a mutant and, when it compiles, has no imports and runs bounded, instantiates it and calls its
/// parameterless exports. Errors and traps are fine; a panic propagates.
fn exercise(engine: &Engine, wasm: &[u8], counts: &mut Counts) {
    let module = match Module::new(engine, wasm) {
        Ok(module) => module,
        Err(_) => {
            counts.rejected += 1;
            return;
        }
    };
    counts.accepted += 1;
    if module.imports().len() > 0 || !runs_bounded(wasm) {
        return;
    }
    let mut store = Store::new(engine, ());
    let Ok(instance) = Instance::new(&mut store, &module, &[]) else { return };
    counts.instantiated += 1;
    let names: Vec<String> = module.exports().map(|export| export.name().to_string()).collect();
    for name in names {
        let Some(func) = instance.get_func(&mut store, &name) else { continue };
        let ty = func.ty(&store);
        if ty.params().len() > 0 {
            continue;
        }
        let mut results = vec![Val::I32(0); ty.results().len()];
        let _ = func.call(&mut store, &[], &mut results);
        counts.calls += 1;
    }
}

#[test]
fn malformed_modules_never_panic() {
    let mut bases: Vec<(String, Vec<u8>)> = WAT_MODULES
        .iter()
        .enumerate()
        .map(|(i, wat)| (format!("wat module {i}"), wat::parse_str(wat).expect("base module parses")))
        .collect();
    bases.extend(
        SMITH_SEEDS.filter_map(|seed| Some((format!("wasm-smith seed {seed}"), generate::from_seed(seed)?.wasm))),
    );

    let engine = Engine::default();
    let mut counts = Counts::default();
    let mut panics = Vec::new();
    for (index, (name, wasm)) in bases.iter().enumerate() {
        if let Err(err) = Module::new(&engine, wasm) {
            panic!("base module `{name}` does not compile: {err:#}");
        }
        for mutation in mutations(wasm, index as u64) {
            counts.mutations += 1;
            let mutant = mutation.apply(wasm);
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| exercise(&engine, &mutant, &mut counts))) {
                let message = payload.downcast_ref::<&str>().map(|s| s.to_string());
                let message = message.or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_default();
                panics.push(format!("{name}, {mutation:?}: {message}"));
            }
        }
    }
    println!(
        "malformed: {} mutations of {} modules: {} accepted, {} rejected; {} instantiated, {} calls; {} panics",
        counts.mutations,
        bases.len(),
        counts.accepted,
        counts.rejected,
        counts.instantiated,
        counts.calls,
        panics.len()
    );
    assert!(panics.is_empty(), "Tenon panicked on malformed input:\n{}", panics.join("\n"));
    // Floors, so that a runtime that rejected everything (or an exercise that stopped instantiating or
    // calling) cannot look green; measured: 981 accepted, 302 instantiated, 362 calls.
    assert!(counts.accepted >= 800, "only {} mutants were accepted", counts.accepted);
    assert!(counts.instantiated >= 250, "only {} mutants were instantiated", counts.instantiated);
    assert!(counts.calls >= 300, "only {} calls were made", counts.calls);
}
