//! `TypedFunc::call` into wasm: directly with values in registers when at most two integers, two floats
//! and one result are involved, through the entry trampoline's arrays otherwise. Both must deliver every
//! value intact, including the bits of floats and the upper halves of 64-bit integers.

use tenon::{Engine, Instance, Module, Store, Trap};

const MODULE: &str = r#"
(module
  (func (export "mix") (param f32 i64 f64 i32) (result f64)
    (f64.add
      (f64.add (f64.promote_f32 (local.get 0)) (f64.convert_i64_s (local.get 1)))
      (f64.add (local.get 2) (f64.convert_i32_s (local.get 3)))))
  (func (export "f32_bits") (param f32) (result f32) (local.get 0))
  (func (export "i64_high") (param i64 i64) (result i64) (i64.xor (local.get 0) (local.get 1)))
  (func (export "three_ints") (param i32 i32 i32) (result i32)
    (i32.sub (i32.mul (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "three_floats") (param f64 f64 f64) (result f64)
    (f64.sub (f64.mul (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "two_results") (param i32) (result i32 i64)
    (i32.add (local.get 0) (i32.const 1)) (i64.extend_i32_s (local.get 0)))
  (func (export "trap") (param i32) (result i32)
    (i32.div_s (i32.const 1) (local.get 0))))
"#;

fn instance(store: &mut Store<()>) -> Instance {
    let module = Module::new(store.engine(), MODULE).unwrap();
    Instance::new(store, &module, &[]).unwrap()
}

#[test]
fn values_arrive_intact_in_registers_and_in_arrays() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let instance = instance(&mut store);

    let mix = instance.get_typed_func::<(f32, i64, f64, i32), f64>(&mut store, "mix").unwrap();
    assert_eq!(mix.call(&mut store, (1.5, -(1 << 40), 0.25, -7)).unwrap(), 1.5 - (1u64 << 40) as f64 + 0.25 - 7.0);

    let f32_bits = instance.get_typed_func::<f32, f32>(&mut store, "f32_bits").unwrap();
    let nan = f32::from_bits(0x7fc0_1234);
    assert_eq!(f32_bits.call(&mut store, nan).unwrap().to_bits(), 0x7fc0_1234);

    let i64_high = instance.get_typed_func::<(i64, i64), i64>(&mut store, "i64_high").unwrap();
    assert_eq!(i64_high.call(&mut store, (0x1234_5678_0000_0000, 0x0f0f)).unwrap(), 0x1234_5678_0000_0f0f);

    // Three of a class no longer fit in registers, and two results come back through the array.
    let three_ints = instance.get_typed_func::<(i32, i32, i32), i32>(&mut store, "three_ints").unwrap();
    assert_eq!(three_ints.call(&mut store, (6, 7, 2)).unwrap(), 40);
    let three_floats = instance.get_typed_func::<(f64, f64, f64), f64>(&mut store, "three_floats").unwrap();
    assert_eq!(three_floats.call(&mut store, (1.5, 4.0, 0.5)).unwrap(), 5.5);
    let two_results = instance.get_typed_func::<i32, (i32, i64)>(&mut store, "two_results").unwrap();
    assert_eq!(two_results.call(&mut store, -5).unwrap(), (-4, -5));
}

#[test]
fn a_trap_in_a_direct_call_leaves_the_store_usable() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let instance = instance(&mut store);
    let trap = instance.get_typed_func::<i32, i32>(&mut store, "trap").unwrap();
    for _ in 0..3 {
        let error = trap.call(&mut store, 0).unwrap_err();
        assert_eq!(error.downcast_ref::<Trap>(), Some(&Trap::IntegerDivisionByZero));
        assert_eq!(trap.call(&mut store, 1).unwrap(), 1);
    }
}

/// Functions whose result depends on every bit of every argument, so a value passed in the wrong register
/// (or with its upper half lost) changes it.
const MIXERS: &str = r#"
(module
  (func (export "a") (param i32 f64) (result i64)
    (i64.xor (i64.rotl (i64.extend_i32_u (local.get 0)) (i64.const 13)) (i64.reinterpret_f64 (local.get 1))))
  (func (export "b") (param f32 i64 f64 i32) (result f32)
    (f32.reinterpret_i32
      (i32.xor
        (i32.xor (i32.reinterpret_f32 (local.get 0)) (i32.rotl (local.get 3) (i32.const 7)))
        (i32.wrap_i64
          (i64.xor (i64.rotl (local.get 1) (i64.const 17))
                   (i64.xor (i64.reinterpret_f64 (local.get 2)) (i64.shr_u (local.get 1) (i64.const 32))))))))
  (func (export "c") (param i64 i64 f64 f64) (result f64)
    (f64.reinterpret_i64
      (i64.xor (i64.xor (local.get 0) (i64.rotl (local.get 1) (i64.const 29)))
               (i64.xor (i64.reinterpret_f64 (local.get 2)) (i64.rotl (i64.reinterpret_f64 (local.get 3)) (i64.const 3))))))
  (func (export "d") (param f64) (result i32)
    (i32.wrap_i64 (i64.xor (i64.reinterpret_f64 (local.get 0)) (i64.shr_u (i64.reinterpret_f64 (local.get 0)) (i64.const 32))))))
"#;

#[test]
fn typed_calls_agree_with_untyped_calls_on_random_values() {
    use tenon::Val;
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, MIXERS).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let a = instance.get_typed_func::<(i32, f64), i64>(&mut store, "a").unwrap();
    let b = instance.get_typed_func::<(f32, i64, f64, i32), f32>(&mut store, "b").unwrap();
    let c = instance.get_typed_func::<(i64, i64, f64, f64), f64>(&mut store, "c").unwrap();
    let d = instance.get_typed_func::<f64, i32>(&mut store, "d").unwrap();
    let mut untyped = |name: &str, args: &[Val]| {
        let f = instance.get_func(&mut store, name).unwrap();
        let mut results = [Val::I32(0)];
        f.call(&mut store, args, &mut results).unwrap();
        results[0]
    };
    let untyped_results: Vec<_> = (0..500u64)
        .map(|i| {
            let (x, y) = (mix(i), mix(i + 1000));
            let f64s = (f64::from_bits(x), f64::from_bits(y));
            (
                untyped("a", &[Val::I32(x as i32), Val::F64(y)]).unwrap_i64(),
                untyped("b", &[Val::F32(x as u32), Val::I64(y as i64), Val::F64(x.rotate_left(5)), Val::I32(y as i32)])
                    .unwrap_f32()
                    .to_bits(),
                untyped("c", &[Val::I64(x as i64), Val::I64(y as i64), Val::F64(y.rotate_left(9)), Val::F64(x ^ y)])
                    .unwrap_f64()
                    .to_bits(),
                untyped("d", &[Val::F64(f64s.0.to_bits())]).unwrap_i32(),
            )
        })
        .collect();
    for (i, expected) in (0..500u64).zip(untyped_results) {
        let (x, y) = (mix(i), mix(i + 1000));
        let typed = (
            a.call(&mut store, (x as i32, f64::from_bits(y))).unwrap(),
            b.call(&mut store, (f32::from_bits(x as u32), y as i64, f64::from_bits(x.rotate_left(5)), y as i32))
                .unwrap()
                .to_bits(),
            c.call(&mut store, (x as i64, y as i64, f64::from_bits(y.rotate_left(9)), f64::from_bits(x ^ y)))
                .unwrap()
                .to_bits(),
            d.call(&mut store, f64::from_bits(x)).unwrap(),
        );
        assert_eq!(typed, expected, "inputs {x:#x} {y:#x}");
    }
}

/// A 64-bit mix of `i` (splitmix64's finaliser), covering NaN payloads, infinities and subnormals.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The register-pressure checks of the direct paths: a typed call jumps straight into wasm, and wasm calls
/// register-only host functions through a System V shim, both relying on Cranelift's x86-64 `tail` calling
/// convention agreeing with System V on argument registers and on the callee-saved set. A Cranelift upgrade
/// that broke either would corrupt values here.
#[cfg(target_arch = "x86_64")]
mod register_pressure {
    use std::hint::black_box;
    use tenon::{Caller, Engine, Linker, Module, Store, TypedFunc};

    /// A wasm function that uses every register it can: 24 values live at once, mixed by multiplications
    /// and rotations, with calls in between so that some live across calls too.
    const CLOBBER: &str = r#"
    (module
      (import "host" "all_registers"
        (func $all (param i64 i64 i64 i64 f64 f64 f64 f64 f64 f64 f64 f64) (result i64)))
      (func $leaf (param i64) (result i64) (i64.rotl (local.get 0) (i64.const 7)))
      (func (export "clobber") (param $a i64) (param $b i64) (result i64)
        (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
        (local.set 2 (i64.mul (local.get $a) (i64.const 3)))
        (local.set 3 (i64.mul (local.get $b) (i64.const 5)))
        (local.set 4 (i64.rotl (local.get 2) (local.get 3)))
        (local.set 5 (i64.xor (local.get 3) (local.get 4)))
        (local.set 6 (i64.add (local.get 4) (local.get 5)))
        (local.set 7 (i64.mul (local.get 5) (local.get 6)))
        (local.set 8 (i64.sub (local.get 6) (local.get 7)))
        (local.set 9 (i64.rotr (local.get 7) (local.get 8)))
        (local.set 10 (call $leaf (local.get 9)))
        (local.set 11 (i64.add (local.get 9) (local.get 10)))
        (local.set 12 (i64.mul (local.get 10) (local.get 11)))
        (local.set 13 (i64.xor (local.get 11) (local.get 12)))
        (local.set 14 (i64.add (local.get 12) (local.get 13)))
        (local.set 15 (call $leaf (local.get 14)))
        (local.set 16 (i64.mul (local.get 14) (local.get 15)))
        (local.set 17 (i64.sub (local.get 15) (local.get 16)))
        (local.set 18 (i64.rotl (local.get 16) (local.get 17)))
        (local.set 19 (i64.xor (local.get 17) (local.get 18)))
        (local.set 20 (i64.add (local.get 18) (local.get 19)))
        (local.set 21 (i64.mul (local.get 19) (local.get 20)))
        (local.set 22 (i64.add (local.get 20) (local.get 21)))
        (local.set 23 (i64.xor (local.get 21) (local.get 22)))
        (i64.add (i64.add (i64.add (i64.add (local.get 2) (local.get 3)) (i64.add (local.get 4) (local.get 5)))
                          (i64.add (i64.add (local.get 6) (local.get 7)) (i64.add (local.get 8) (local.get 9))))
                 (i64.add (i64.add (i64.add (local.get 10) (local.get 11)) (i64.add (local.get 12) (local.get 13)))
                          (i64.add (i64.add (local.get 14) (local.get 15)) (i64.add (local.get 16) (local.get 17)))))
        (i64.add (i64.add (local.get 18) (local.get 19)) (i64.add (local.get 20) (local.get 21)))
        i64.add
        (i64.add (local.get 22) (local.get 23))
        i64.add)
      (func (export "call_host") (param $x i64) (result i64)
        (local i64 i64 i64 i64 i64 i64 i64 i64 f64 f64 f64 f64)
        (local.set 1 (i64.mul (local.get $x) (i64.const 3)))
        (local.set 2 (i64.mul (local.get $x) (i64.const 5)))
        (local.set 3 (i64.mul (local.get $x) (i64.const 7)))
        (local.set 4 (i64.mul (local.get $x) (i64.const 11)))
        (local.set 5 (i64.mul (local.get $x) (i64.const 13)))
        (local.set 6 (i64.mul (local.get $x) (i64.const 17)))
        (local.set 7 (i64.mul (local.get $x) (i64.const 19)))
        (local.set 8 (i64.mul (local.get $x) (i64.const 23)))
        (local.set 9 (f64.convert_i64_s (local.get 1)))
        (local.set 10 (f64.convert_i64_s (local.get 2)))
        (local.set 11 (f64.convert_i64_s (local.get 3)))
        (local.set 12 (f64.convert_i64_s (local.get 4)))
        (call $all (local.get 1) (local.get 2) (local.get 3) (local.get 4)
                   (local.get 9) (local.get 10) (local.get 11) (local.get 12)
                   (f64.const 0.5) (f64.const 1.5) (f64.const 2.5) (f64.const 3.5))
        ;; Everything computed before the call is still needed after it.
        (i64.add (i64.add (local.get 1) (local.get 2)) (i64.add (local.get 3) (local.get 4)))
        i64.add
        (i64.add (i64.add (local.get 5) (local.get 6)) (i64.add (local.get 7) (local.get 8)))
        i64.add
        (i64.trunc_f64_s (f64.add (f64.add (local.get 9) (local.get 10)) (f64.add (local.get 11) (local.get 12))))
        i64.add))
    "#;

    /// What `clobber` returns, computed in Rust.
    fn clobber_expected(a: i64, b: i64) -> i64 {
        let leaf = |x: i64| x.rotate_left(7);
        let mut l = [0i64; 24];
        l[2] = a.wrapping_mul(3);
        l[3] = b.wrapping_mul(5);
        l[4] = l[2].rotate_left(l[3] as u32 & 63);
        l[5] = l[3] ^ l[4];
        l[6] = l[4].wrapping_add(l[5]);
        l[7] = l[5].wrapping_mul(l[6]);
        l[8] = l[6].wrapping_sub(l[7]);
        l[9] = l[7].rotate_right(l[8] as u32 & 63);
        l[10] = leaf(l[9]);
        l[11] = l[9].wrapping_add(l[10]);
        l[12] = l[10].wrapping_mul(l[11]);
        l[13] = l[11] ^ l[12];
        l[14] = l[12].wrapping_add(l[13]);
        l[15] = leaf(l[14]);
        l[16] = l[14].wrapping_mul(l[15]);
        l[17] = l[15].wrapping_sub(l[16]);
        l[18] = l[16].rotate_left(l[17] as u32 & 63);
        l[19] = l[17] ^ l[18];
        l[20] = l[18].wrapping_add(l[19]);
        l[21] = l[19].wrapping_mul(l[20]);
        l[22] = l[20].wrapping_add(l[21]);
        l[23] = l[21] ^ l[22];
        l[2..].iter().fold(0i64, |s, &x| s.wrapping_add(x))
    }

    /// Calls `f(arg)` with the callee-saved registers `rbx` and `r12`-`r15` holding sentinel values, and
    /// returns whether they held them afterwards.
    #[unsafe(naked)]
    extern "sysv64" fn preserves_callee_saved(f: extern "sysv64" fn(*mut u8), arg: *mut u8) -> u64 {
        core::arch::naked_asm!(
            "push rbx",
            "push r12",
            "push r13",
            "push r14",
            "push r15",
            "mov rax, rdi",
            "mov rdi, rsi",
            "mov rbx, 0x1111111111111111",
            "mov r12, 0x2222222222222222",
            "mov r13, 0x3333333333333333",
            "mov r14, 0x4444444444444444",
            "mov r15, 0x5555555555555555",
            "call rax",
            "xor eax, eax",
            "mov rcx, 0x1111111111111111",
            "cmp rbx, rcx",
            "jne 2f",
            "mov rcx, 0x2222222222222222",
            "cmp r12, rcx",
            "jne 2f",
            "mov rcx, 0x3333333333333333",
            "cmp r13, rcx",
            "jne 2f",
            "mov rcx, 0x4444444444444444",
            "cmp r14, rcx",
            "jne 2f",
            "mov rcx, 0x5555555555555555",
            "cmp r15, rcx",
            "jne 2f",
            "mov eax, 1",
            "2:",
            "pop r15",
            "pop r14",
            "pop r13",
            "pop r12",
            "pop rbx",
            "ret",
        )
    }

    /// What [`run_clobber`] works on.
    struct ClobberCall<'a> {
        store: &'a mut Store<()>,
        clobber: TypedFunc<(i64, i64), i64>,
        args: (i64, i64),
        result: i64,
    }

    /// Makes the typed call of `arg` (a `ClobberCall`): the direct path, two integers and one result.
    extern "sysv64" fn run_clobber(arg: *mut u8) {
        // SAFETY: `preserves_callee_saved` passes the `ClobberCall` the test gave it, borrowed for the call.
        let call = unsafe { &mut *arg.cast::<ClobberCall<'_>>() };
        call.result = call.clobber.call(&mut *call.store, call.args).unwrap();
    }

    #[test]
    fn typed_calls_preserve_the_hosts_registers() {
        let engine = Engine::default();
        let mut linker = Linker::new(&engine);
        linker.func_wrap("host", "all_registers", |_: i64, _: i64, _: i64, _: i64, _: f64, _: f64, _: f64, _: f64, _: f64, _: f64, _: f64, _: f64| 0i64).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &Module::new(&engine, CLOBBER).unwrap()).unwrap();
        let clobber = instance.get_typed_func::<(i64, i64), i64>(&mut store, "clobber").unwrap();
        for (a, b) in [(1, 2), (-7, 1 << 40), (0x1234_5678_9abc, -3)] {
            let mut call = ClobberCall { store: &mut store, clobber, args: (a, b), result: 0 };
            let preserved = preserves_callee_saved(run_clobber, (&raw mut call).cast());
            assert_eq!(preserved, 1, "a typed call changed a callee-saved register");
            assert_eq!(call.result, clobber_expected(a, b));
        }
        // Many host values live across the call, where the compiler keeps them in callee-saved registers.
        let values: [u64; 12] = std::array::from_fn(|i| black_box(0x0101_0101_0101_0101u64.wrapping_mul(i as u64 + 1)));
        let result = clobber.call(&mut store, (black_box(5), black_box(9))).unwrap();
        let after: u64 = values.iter().fold(0u64, |s, &v| s.rotate_left(5) ^ v);
        let expected: u64 = (1..=12u64).fold(0u64, |s, i| s.rotate_left(5) ^ 0x0101_0101_0101_0101u64.wrapping_mul(i));
        assert_eq!((result, after), (clobber_expected(5, 9), expected));
    }

    #[test]
    fn wasm_values_survive_a_host_call_with_every_argument_register() {
        let engine = Engine::default();
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "all_registers",
                |mut caller: Caller<'_, Vec<f64>>,
                 a: i64, b: i64, c: i64, d: i64,
                 e: f64, f: f64, g: f64, h: f64, i: f64, j: f64, k: f64, l: f64| {
                    // Work that uses the caller-saved registers freely.
                    let floats = [e, f, g, h, i, j, k, l];
                    caller.data_mut().extend(floats.iter().map(|x| black_box(x.sqrt() * 3.0)));
                    a.wrapping_mul(b) ^ c.wrapping_add(d)
                },
            )
            .unwrap();
        let mut store = Store::new(&engine, Vec::new());
        let instance = linker.instantiate(&mut store, &Module::new(&engine, CLOBBER).unwrap()).unwrap();
        let call_host = instance.get_typed_func::<i64, i64>(&mut store, "call_host").unwrap();
        for x in [1i64, 3, -1000, 1 << 33] {
            let ints: i64 = [3i64, 5, 7, 11, 13, 17, 19, 23].iter().fold(0i64, |s, m| s.wrapping_add(x.wrapping_mul(*m)));
            let floats = [3i64, 5, 7, 11].iter().map(|m| x.wrapping_mul(*m) as f64).sum::<f64>() as i64;
            let host = x.wrapping_mul(3).wrapping_mul(x.wrapping_mul(5)) ^ x.wrapping_mul(7).wrapping_add(x.wrapping_mul(11));
            assert_eq!(call_host.call(&mut store, x).unwrap(), host.wrapping_add(ints).wrapping_add(floats), "x = {x}");
        }
        assert_eq!(store.data().len(), 32);
    }
}
