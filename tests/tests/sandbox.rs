//! Execution control: fuel, epochs, resource limits and stack limits stop hostile guests with a clean trap
//! or refusal, and the store stays usable afterwards.

use std::time::Duration;
use tenon::{Config, Engine, Instance, Linker, Module, Store, Trap};

const LOOP_AND_RECURSION: &str = r#"
    (module
      (func (export "spin") (loop $l (br $l)))
      (func $recurse (export "recurse") (call $recurse))
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
"#;

fn instance<T: 'static>(engine: &Engine, store: &mut Store<T>, wat: &str) -> Instance {
    let module = Module::new(engine, wat).unwrap();
    Linker::new(engine).instantiate(store, &module).unwrap()
}

fn trap_of(result: tenon::Result<()>) -> Trap {
    let err = result.expect_err("the call should trap");
    *err.downcast_ref::<Trap>().unwrap_or_else(|| panic!("not a trap: {err:#}"))
}

#[test]
fn fuel_stops_loops_and_recursion() {
    let _watchdog = Watchdog::new(Duration::from_secs(60), "fuel_stops_loops_and_recursion");
    let engine = Engine::new(Config::new().consume_fuel(true)).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = instance(&engine, &mut store, LOOP_AND_RECURSION);
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
    let recurse = instance.get_typed_func::<(), ()>(&mut store, "recurse").unwrap();
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add").unwrap();

    // A store starts without fuel, as in Wasmtime.
    assert_eq!(store.get_fuel().unwrap(), 0);
    assert_eq!(trap_of(add.call(&mut store, (1, 2)).map(drop)), Trap::OutOfFuel);

    store.set_fuel(10_000).unwrap();
    assert_eq!(trap_of(spin.call(&mut store, ())), Trap::OutOfFuel);
    assert_eq!(store.get_fuel().unwrap(), 0);

    store.set_fuel(1_000).unwrap();
    assert_eq!(trap_of(recurse.call(&mut store, ())), Trap::OutOfFuel);

    // The call, and three instructions (two `local.get`s and an `i32.add`; `end` is free).
    store.set_fuel(100).unwrap();
    assert_eq!(add.call(&mut store, (20, 22)).unwrap(), 42);
    assert_eq!(store.get_fuel().unwrap(), 96);
}

/// Bulk instructions cost one unit of fuel per byte or element on top of their own, charged before they
/// run (as in Wasmtime 48): one huge `memory.fill` cannot outrun the fuel, and is not done when the fuel
/// does not cover it. An epoch deadline reached before a bulk instruction stops it the same way.
#[test]
fn bulk_instructions_cost_fuel_by_size_and_check_epochs() {
    let wat = r#"(module
      (import "host" "tick" (func $tick))
      (memory (export "memory") 16)
      (table 10 funcref)
      (data $d "0123456789")
      (func (export "fill") (param $len i32) (memory.fill (i32.const 0) (i32.const 0x61) (local.get $len)))
      (func (export "copy") (param $len i32) (memory.copy (i32.const 0x80000) (i32.const 0) (local.get $len)))
      (func (export "init") (param $len i32) (memory.init $d (i32.const 0) (i32.const 0) (local.get $len)))
      (func (export "table_grow") (param $n i32) (result i32) (table.grow 0 (ref.null func) (local.get $n)))
      (func (export "table_fill") (param $n i32) (table.fill 0 (i32.const 0) (ref.null func) (local.get $n)))
      (func (export "tick_then_fill") (call $tick) (memory.fill (i32.const 0) (i32.const 0x62) (i32.const 100))))"#;
    let engine = Engine::new(Config::new().consume_fuel(true).epoch_interruption(true)).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(1_000_000);
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "tick", |caller: tenon::Caller<'_, ()>| caller.engine().increment_epoch()).unwrap();
    let instance = linker.instantiate(&mut store, &Module::new(&engine, wat).unwrap()).unwrap();
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let func = |store: &mut Store<()>, name| instance.get_typed_func::<i32, ()>(store, name).unwrap();
    let (fill, copy, init, table_fill) =
        (func(&mut store, "fill"), func(&mut store, "copy"), func(&mut store, "init"), func(&mut store, "table_fill"));
    let table_grow = instance.get_typed_func::<i32, i32>(&mut store, "table_grow").unwrap();

    // Not enough for a 64 KiB fill: it traps before writing anything.
    store.set_fuel(1_000).unwrap();
    assert_eq!(trap_of(fill.call(&mut store, 65536)), Trap::OutOfFuel);
    assert_eq!(memory.data(&store)[0], 0);
    // The call and four instructions, plus one unit per byte or element of work.
    let cost = |store: &mut Store<()>, run: &mut dyn FnMut(&mut Store<()>)| {
        store.set_fuel(100_000).unwrap();
        run(store);
        100_000 - store.get_fuel().unwrap()
    };
    assert_eq!(cost(&mut store, &mut |s| fill.call(s, 1000).unwrap()), 5 + 1000);
    assert_eq!(memory.data(&store)[999], 0x61);
    assert_eq!(cost(&mut store, &mut |s| copy.call(s, 5000).unwrap()), 5 + 5000);
    assert_eq!(cost(&mut store, &mut |s| init.call(s, 10).unwrap()), 5 + 10);
    assert_eq!(cost(&mut store, &mut |s| table_fill.call(s, 7).unwrap()), 5 + 7);
    assert_eq!(cost(&mut store, &mut |s| assert_eq!(table_grow.call(s, 5).unwrap(), 10)), 4 + 5);
    // Asking for four billion elements costs four billion units, even though the growth would fail.
    store.set_fuel(1_000_000).unwrap();
    assert_eq!(trap_of(table_grow.call(&mut store, -1).map(drop)), Trap::OutOfFuel);

    // The epoch passes the deadline inside the host call: the fill after it does not run.
    store.set_fuel(1_000_000).unwrap();
    store.set_epoch_deadline(1);
    let tick_then_fill = instance.get_typed_func::<(), ()>(&mut store, "tick_then_fill").unwrap();
    assert_eq!(trap_of(tick_then_fill.call(&mut store, ())), Trap::Interrupt);
    assert_eq!(memory.data(&store)[0], b'0', "the fill ran after the deadline"); // as `init` left it
}

#[test]
fn fuel_needs_configuration() {
    let mut store = Store::new(&Engine::default(), ());
    assert!(store.set_fuel(1).is_err());
    assert!(store.get_fuel().is_err());
}

#[test]
fn host_functions_see_and_refill_fuel() {
    let engine = Engine::new(Config::new().consume_fuel(true)).unwrap();
    let mut store = Store::new(&engine, Vec::<u64>::new());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "refill", |mut caller: tenon::Caller<'_, Vec<u64>>| {
            let left = caller.get_fuel().unwrap();
            caller.data_mut().push(left);
            caller.set_fuel(1_000).unwrap();
        })
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "refill" (func $refill))
             (func (export "run") (param i32)
               (loop $l
                 (call $refill)
                 (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<i32, ()>(&mut store, "run").unwrap();
    store.set_fuel(50).unwrap();
    // 50 iterations of about 8 instructions each only finish because the host refills the store.
    run.call(&mut store, 50).unwrap();
    assert_eq!(store.data().len(), 50);
    assert!(store.data()[1..].iter().all(|&left| left < 1_000 && left > 980), "{:?}", store.data());
}

/// Aborts the test process with `what` if it is still alive after `limit` (when dropped, it stops watching):
/// a broken interrupt then fails the run instead of hanging it.
struct Watchdog(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Watchdog {
    fn new(limit: Duration, what: &'static str) -> Self {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watching = done.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while start.elapsed() < limit {
                if watching.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            eprintln!("{what}: still running after {limit:?}; aborting");
            std::process::abort();
        });
        Watchdog(done)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn epochs_stop_loops_and_recursion() {
    let _watchdog = Watchdog::new(Duration::from_secs(60), "epochs_stop_loops_and_recursion");
    let engine = Engine::new(Config::new().epoch_interruption(true)).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = instance(&engine, &mut store, LOOP_AND_RECURSION);
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
    let recurse = instance.get_typed_func::<(), ()>(&mut store, "recurse").unwrap();
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add").unwrap();

    // The deadline starts at the current epoch: nothing runs until one is set.
    assert_eq!(trap_of(add.call(&mut store, (1, 2)).map(drop)), Trap::Interrupt);
    store.set_epoch_deadline(1);
    assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 3);

    // Another thread advances the epoch while the loop runs.
    let ticker = engine.clone();
    let timer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        ticker.increment_epoch();
    });
    assert_eq!(trap_of(spin.call(&mut store, ())), Trap::Interrupt);
    timer.join().unwrap();

    // Recursion is checked at every function entry.
    engine.increment_epoch();
    assert_eq!(trap_of(recurse.call(&mut store, ())), Trap::Interrupt);

    store.set_epoch_deadline(1);
    assert_eq!(add.call(&mut store, (2, 2)).unwrap(), 4);
}

struct Limited {
    limits: tenon::StoreLimits,
}

fn limited_store(engine: &Engine, limits: tenon::StoreLimitsBuilder) -> Store<Limited> {
    let mut store = Store::new(engine, Limited { limits: limits.build() });
    store.limiter(|state| &mut state.limits);
    store
}

const GROWER: &str = r#"
    (module
      (memory (export "memory") 1)
      (table $t (export "table") 1 funcref)
      (func (export "grow_memory") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "grow_table") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0))))
"#;

#[test]
fn limits_make_growth_fail() {
    let engine = Engine::default();
    let limits = tenon::StoreLimitsBuilder::new().memory_size(3 * 65536).table_elements(5);
    let mut store = limited_store(&engine, limits);
    let instance = instance(&engine, &mut store, GROWER);
    let grow_memory = instance.get_typed_func::<i32, i32>(&mut store, "grow_memory").unwrap();
    let grow_table = instance.get_typed_func::<i32, i32>(&mut store, "grow_table").unwrap();

    assert_eq!(grow_memory.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow_memory.call(&mut store, 1).unwrap(), -1, "a fourth page exceeds the limit");
    assert_eq!(grow_memory.call(&mut store, 0).unwrap(), 3);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert!(memory.grow(&mut store, 1).is_err(), "host-side growth obeys the limiter too");
    assert_eq!(memory.size(&store), 3);

    assert_eq!(grow_table.call(&mut store, 4).unwrap(), 1);
    assert_eq!(grow_table.call(&mut store, 1).unwrap(), -1);
    let table = instance.get_table(&mut store, "table").unwrap();
    assert_eq!(table.size(&store), 5);
}

#[test]
fn limits_can_trap_on_growth() {
    let engine = Engine::default();
    let limits = tenon::StoreLimitsBuilder::new().memory_size(2 * 65536).trap_on_grow_failure(true);
    let mut store = limited_store(&engine, limits);
    let instance = instance(&engine, &mut store, GROWER);
    let grow_memory = instance.get_typed_func::<i32, i32>(&mut store, "grow_memory").unwrap();
    let err = grow_memory.call(&mut store, 5).unwrap_err();
    assert!(format!("{err:#}").contains("forcing trap when growing memory"), "{err:#}");
    // The store is still usable.
    assert_eq!(grow_memory.call(&mut store, 1).unwrap(), 1);
}

#[test]
fn limits_refuse_instantiation() {
    let engine = Engine::default();
    let module = Module::new(&engine, GROWER).unwrap();
    let linker = Linker::new(&engine);

    let mut store = limited_store(&engine, tenon::StoreLimitsBuilder::new().instances(2));
    linker.instantiate(&mut store, &module).unwrap();
    linker.instantiate(&mut store, &module).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(format!("{err:#}").contains("instance count too high"), "{err:#}");

    let mut store = limited_store(&engine, tenon::StoreLimitsBuilder::new().memories(1));
    linker.instantiate(&mut store, &module).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(format!("{err:#}").contains("memory count too high"), "{err:#}");

    let mut store = limited_store(&engine, tenon::StoreLimitsBuilder::new().tables(0));
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(format!("{err:#}").contains("table count too high"), "{err:#}");

    let mut store = limited_store(&engine, tenon::StoreLimitsBuilder::new().memory_size(65535));
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(format!("{err:#}").contains("exceeds memory limits"), "{err:#}");

    let mut store = limited_store(&engine, tenon::StoreLimitsBuilder::new().table_elements(0));
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(format!("{err:#}").contains("exceeds table limits"), "{err:#}");
}

/// A limiter that records what it is asked.
#[derive(Default)]
struct Recorder {
    asked: Vec<(usize, usize)>,
}

impl tenon::ResourceLimiter for Recorder {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> tenon::Result<bool> {
        self.asked.push((current, desired));
        Ok(desired <= 2 * 65536)
    }
    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> tenon::Result<bool> {
        Ok(true)
    }
}

#[test]
fn custom_limiter_sees_every_request() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, Recorder::default());
    store.limiter(|r| r);
    let instance = instance(&engine, &mut store, GROWER);
    let grow_memory = instance.get_typed_func::<i32, i32>(&mut store, "grow_memory").unwrap();
    assert_eq!(grow_memory.call(&mut store, 1).unwrap(), 1);
    assert_eq!(grow_memory.call(&mut store, 1).unwrap(), -1);
    assert_eq!(store.data().asked, [(0, 65536), (65536, 2 * 65536), (2 * 65536, 3 * 65536)]);
}

#[test]
fn recursion_traps_on_a_thread_with_a_small_stack() {
    let engine = Engine::default();
    for stack_size in [128 << 10, 256 << 10, 1 << 20] {
        let engine = engine.clone();
        std::thread::Builder::new()
            .stack_size(stack_size)
            .spawn(move || {
                let mut store = Store::new(&engine, ());
                let instance = instance(&engine, &mut store, LOOP_AND_RECURSION);
                let recurse = instance.get_typed_func::<(), ()>(&mut store, "recurse").unwrap();
                assert_eq!(trap_of(recurse.call(&mut store, ())), Trap::StackOverflow);
                let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add").unwrap();
                assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 3);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}

#[test]
fn recursion_traps_on_a_thread_not_started_by_rust() {
    extern "C" fn run(_: *mut std::ffi::c_void) -> *mut std::ffi::c_void {
        let engine = Engine::default();
        let mut store = Store::new(&engine, ());
        let instance = instance(&engine, &mut store, LOOP_AND_RECURSION);
        let recurse = instance.get_typed_func::<(), ()>(&mut store, "recurse").unwrap();
        let ok = trap_of(recurse.call(&mut store, ())) == Trap::StackOverflow;
        ok as usize as *mut std::ffi::c_void
    }
    // A plain pthread (no alternate signal stack from Rust's runtime) with a 256 KiB stack.
    // SAFETY: the attributes and thread handle are valid locals; `run` matches the start routine signature.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        assert_eq!(libc::pthread_attr_init(&mut attr), 0);
        assert_eq!(libc::pthread_attr_setstacksize(&mut attr, 256 << 10), 0);
        let mut thread: libc::pthread_t = 0;
        assert_eq!(libc::pthread_create(&mut thread, &attr, run, std::ptr::null_mut()), 0);
        let mut result: *mut std::ffi::c_void = std::ptr::null_mut();
        assert_eq!(libc::pthread_join(thread, &mut result), 0);
        libc::pthread_attr_destroy(&mut attr);
        assert_eq!(result as usize, 1, "the recursion should end in a stack-overflow trap");
    }
}

/// A module with a memory of `pages` initial pages and exports to load, store and grow.
fn memory_probe(pages: u32) -> String {
    format!(
        r#"(module
          (memory (export "memory") {pages})
          (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
          (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#
    )
}

/// Memories come from reservations that dropped memories leave behind: a new memory must never see an old
/// one's contents, nor have more pages accessible than its own size.
#[test]
fn reused_memory_reservations_start_zeroed_and_sized() {
    let probe = memory_probe(1);
    for config in [Config::new(), Config::new().signals_based_traps(false).clone()] {
        let engine = Engine::new(&config).unwrap();
        // Dirty a memory grown to several pages, then drop it with its store.
        {
            let mut store = Store::new(&engine, ());
            let instance = instance(&engine, &mut store, &probe);
            let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
            let write = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store").unwrap();
            assert_eq!(grow.call(&mut store, 3).unwrap(), 1);
            for page in 0..4 {
                write.call(&mut store, (page * 65536 + 100, 0x5a5a_5a5a)).unwrap();
            }
        }
        for _ in 0..3 {
            let mut store = Store::new(&engine, ());
            let instance = instance(&engine, &mut store, &probe);
            let read = instance.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
            assert_eq!(read.call(&mut store, 100).unwrap(), 0, "a new memory sees old contents");
            // One page only: the old memory's second page is out of bounds again.
            let err = read.call(&mut store, 65536 + 100).unwrap_err();
            assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
            let write = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store").unwrap();
            write.call(&mut store, (100, 7)).unwrap();
        }
    }
}

/// Pooled reservations of memories larger than what a pool keeps open, of memories whose initial size is
/// larger, and of small reservations: every new memory reads zero and traps at its own end.
#[test]
fn reused_memory_reservations_of_every_shape_start_zeroed() {
    let (big, small) = (memory_probe(40), memory_probe(1));
    let configs =
        [Config::new(), Config::new().signals_based_traps(false).clone(), Config::new().memory_reservation(16 << 20).clone()];
    for config in configs {
        let engine = Engine::new(&config).unwrap();
        for (first, second) in [(&big, &small), (&small, &big), (&big, &big)] {
            {
                let mut store = Store::new(&engine, ());
                let instance = instance(&engine, &mut store, first);
                let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
                let write = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store").unwrap();
                let pages = grow.call(&mut store, 8).unwrap();
                for page in 0..pages + 8 {
                    write.call(&mut store, (page * 65536 + 64, 0x1234_5678)).unwrap();
                }
            }
            let mut store = Store::new(&engine, ());
            let instance = instance(&engine, &mut store, second);
            let read = instance.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
            let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
            let pages = grow.call(&mut store, 0).unwrap();
            let err = read.call(&mut store, pages * 65536 + 64).unwrap_err();
            assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds), "page {pages} is open");
            assert_eq!(grow.call(&mut store, 48).unwrap(), pages);
            for page in 0..pages + 48 {
                assert_eq!(read.call(&mut store, page * 65536 + 64).unwrap(), 0, "page {page} kept old contents");
            }
        }
    }
}

/// A memory of one page that the exports read, write and grow; `grow_and_touch(n)` grows by one page and
/// writes the new page's number at its start `n` times in one call, returning the sum of what it reads back.
const GROWING_MEMORY: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "grow_and_touch") (param $n i32) (result i32)
    (local $at i32) (local $sum i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $at (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
      (i32.store (local.get $at) (i32.div_u (local.get $at) (i32.const 65536)))
      (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $at))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $sum)))"#;

/// As in Wasmtime, a memory whose largest size does not fit in `memory_reservation` is allocated at its
/// size (plus `memory_reservation_for_growth`) and moves when it outgrows that: its contents survive, code
/// uses the new base (in the function that grew it too, and in another instance importing the memory),
/// and bounds stay exact.
#[test]
fn memories_that_outgrow_their_reservation_move() {
    let importer = r#"(module
      (import "probe" "memory" (memory 1))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let moving = |signals: bool| {
        let mut config = Config::new();
        config.memory_reservation(0).memory_reservation_for_growth(0).memory_guard_size(0).signals_based_traps(signals);
        config
    };
    let mut small_reservation = Config::new();
    small_reservation.memory_reservation(1 << 20).memory_reservation_for_growth(1 << 20);
    for config in [moving(true), moving(false), small_reservation] {
        let engine = Engine::new(&config).unwrap();
        let mut store = Store::new(&engine, ());
        let probe = instance(&engine, &mut store, GROWING_MEMORY);
        let memory = probe.get_memory(&mut store, "memory").unwrap();
        let mut linker = Linker::new(&engine);
        linker.define(&store, "probe", "memory", memory).unwrap();
        let other = linker.instantiate(&mut store, &Module::new(&engine, importer).unwrap()).unwrap();
        let write = probe.get_typed_func::<(i32, i32), ()>(&mut store, "store").unwrap();
        let load = probe.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
        let touch = probe.get_typed_func::<i32, i32>(&mut store, "grow_and_touch").unwrap();
        let other_load = other.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
        let other_grow = other.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();

        write.call(&mut store, (100, 0x1234_5678)).unwrap();
        let base = memory.data_ptr(&store) as usize;
        assert_eq!(touch.call(&mut store, 40).unwrap(), (1..=40).sum::<i32>());
        assert_eq!(memory.size(&store), 41);
        assert_ne!(memory.data_ptr(&store) as usize, base, "41 pages do not fit where 1 was");
        assert_eq!(load.call(&mut store, 100).unwrap(), 0x1234_5678);
        assert_eq!(other_load.call(&mut store, 100).unwrap(), 0x1234_5678);
        assert_eq!(other_load.call(&mut store, 40 * 65536).unwrap(), 40);
        // Grown by the importer, used by the exporter.
        assert_eq!(other_grow.call(&mut store, 10).unwrap(), 41);
        write.call(&mut store, (50 * 65536, 7)).unwrap();
        assert_eq!(load.call(&mut store, 50 * 65536).unwrap(), 7);
        assert_eq!(memory.data(&store)[50 * 65536], 7);
        let end = 51 * 65536;
        assert_eq!(load.call(&mut store, end - 4).unwrap(), 0);
        for (who, f) in [("exporter", load), ("importer", other_load)] {
            let err = f.call(&mut store, end - 2).unwrap_err();
            assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds), "{who}: {err:#}");
        }
        // A host-side grow moves it too.
        memory.grow(&mut store, 100).unwrap();
        assert_eq!(other_load.call(&mut store, 50 * 65536).unwrap(), 7);
    }
}

/// With `memory_may_move(false)` the reservation is a hard limit: growth past it fails, and a memory whose
/// minimum does not fit fails to instantiate. Memories of no pages need no address space at all.
#[test]
fn memories_that_may_not_move_stay_within_their_reservation() {
    let mut config = Config::new();
    config.memory_reservation(1 << 20).memory_may_move(false);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let probe = instance(&engine, &mut store, &memory_probe(1));
    let grow = probe.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 15).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    let module = Module::new(&engine, memory_probe(17)).unwrap();
    let err = Linker::new(&engine).instantiate(&mut store, &module).unwrap_err();
    assert!(err.to_string().contains("exceeds memory limits"), "{err:#}");

    let mut config = Config::new();
    config.memory_reservation(0).memory_guard_size(0);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let empty = instance(&engine, &mut store, r#"(module (memory (export "m") 0 0))"#);
    assert_eq!(empty.get_memory(&mut store, "m").unwrap().size(&store), 0);
    let probe = instance(&engine, &mut store, &memory_probe(0));
    let grow = probe.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 0);
}
