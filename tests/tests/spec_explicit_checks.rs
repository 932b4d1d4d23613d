//! The spec suite with `Config::signals_based_traps(false)`: explicit bounds checks everywhere and every
//! trap raised without a signal; then again with memories that have no room to grow and move whenever they
//! do (`memory_reservation(0)`, `memory_reservation_for_growth(0)`). This file is its own test process (a `harness = false` target, whose
//! summary `cargo test` prints) and creates no engine that installs signal handlers, so a trap that still
//! relied on one would kill the process; it also checks at the end that no handler for SIGILL or SIGFPE
//! (the signals of trapping instructions) was installed.

mod common;

fn main() {
    every_trap_kind_without_signals();
    println!("every trap kind without signals: ok");
    let tiers = ["wasm2", "multi-memory", "function-references"];
    let config = tenon::Config::new().signals_based_traps(false).clone();
    let mut problems = common::run_tiers("explicit checks", &config, &tiers);
    // Memories with no reservation beyond their size, which move whenever they grow.
    let mut moving = config.clone();
    moving.memory_reservation(0).memory_reservation_for_growth(0).memory_guard_size(0);
    problems.extend(common::run_tiers("explicit checks, moving memories", &moving, &tiers));
    no_trap_signal_handlers();
    common::finish(problems);
}

/// No handler for the signals of trapping instructions was installed.
fn no_trap_signal_handlers() {
    for signal in [libc::SIGILL, libc::SIGFPE] {
        // SAFETY: querying the current action into a valid local.
        let action = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            assert_eq!(libc::sigaction(signal, std::ptr::null(), &mut action), 0);
            action
        };
        assert_eq!(action.sa_sigaction, libc::SIG_DFL, "a handler for signal {signal} was installed");
    }
}

/// Every kind of trap, raised without signals, whether or not the spec suite is present.
fn every_trap_kind_without_signals() {
    use tenon::{Config, Engine, Linker, Module, Store, Trap};
    let mut config = Config::new();
    config.signals_based_traps(false).consume_fuel(true).max_wasm_stack(256 << 10);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "fail" (func $fail))
             (type $unary (func (param i32) (result i32)))
             (memory 1) (table 2 funcref) (elem (i32.const 1) $nullary)
             (func $nullary (result i32) (i32.const 0))
             (func $recurse (call $recurse))
             (func (export "unreachable") unreachable)
             (func (export "div_by_zero") (drop (i32.div_u (i32.const 1) (i32.const 0))))
             (func (export "div_overflow") (drop (i64.div_s (i64.const 0x8000000000000000) (i64.const -1))))
             (func (export "nan_to_int") (drop (i32.trunc_f32_s (f32.const nan))))
             (func (export "big_to_int") (drop (i64.trunc_f64_u (f64.const 1e20))))
             (func (export "memory") (drop (i32.load (i32.const 65535))))
             (func (export "table") (drop (call_indirect (type $unary) (i32.const 0) (i32.const 7))))
             (func (export "null") (drop (call_indirect (type $unary) (i32.const 0) (i32.const 0))))
             (func (export "signature") (drop (call_indirect (type $unary) (i32.const 0) (i32.const 1))))
             (func (export "stack") (call $recurse))
             (func (export "host") (call $fail))
             (func (export "fuel") (loop $l (br $l)))
             (func (export "ok") (result i32) (i32.trunc_f32_s (f32.const -2147483648))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "fail", || -> tenon::Result<()> { Err(tenon::Error::msg("host failure")) }).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let expected = [
        ("unreachable", Trap::UnreachableCodeReached),
        ("div_by_zero", Trap::IntegerDivisionByZero),
        ("div_overflow", Trap::IntegerOverflow),
        ("nan_to_int", Trap::BadConversionToInteger),
        ("big_to_int", Trap::IntegerOverflow),
        ("memory", Trap::MemoryOutOfBounds),
        ("table", Trap::TableOutOfBounds),
        ("null", Trap::IndirectCallToNull),
        ("signature", Trap::BadSignature),
        ("stack", Trap::StackOverflow),
        ("fuel", Trap::OutOfFuel),
    ];
    for (name, trap) in expected {
        store.set_fuel(1_000_000).unwrap();
        let func = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
        let err = func.call(&mut store, ()).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&trap), "{name}: {err:#}");
        let backtrace = err.downcast_ref::<tenon::WasmBacktrace>().expect("a backtrace");
        assert!(!backtrace.frames().is_empty(), "{name}: empty backtrace");
    }
    store.set_fuel(1_000_000).unwrap();
    let host = instance.get_typed_func::<(), ()>(&mut store, "host").unwrap();
    assert_eq!(host.call(&mut store, ()).unwrap_err().root_cause().to_string(), "host failure");
    let ok = instance.get_typed_func::<(), i32>(&mut store, "ok").unwrap();
    assert_eq!(ok.call(&mut store, ()).unwrap(), i32::MIN);
}
