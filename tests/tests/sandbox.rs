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

    // Three instructions (two `local.get`s and an `i32.add`; `end` is free).
    store.set_fuel(100).unwrap();
    assert_eq!(add.call(&mut store, (20, 22)).unwrap(), 42);
    assert_eq!(store.get_fuel().unwrap(), 97);
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
