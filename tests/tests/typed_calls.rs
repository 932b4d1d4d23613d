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
