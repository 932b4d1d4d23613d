//! Faults a hostile guest or a careless embedder could cause, each of which once crashed or aborted the
//! host process: each now ends in an error or a trap, and the host goes on. A case that could take the
//! process down runs in a child process (this test binary, re-run for that one case), so a regression fails
//! the test instead of killing the whole run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tenon::{Config, Engine, Instance, Linker, Module, ResourceLimiter, Store, Trap};

/// The environment variable that tells a re-run of this binary which case to run.
const CHILD_CASE: &str = "TENON_FAULT_CASE";

/// Runs `case` in a child process and checks that it exited normally, printing `done`: a crash, an abort, a
/// panic or a hang (the child is killed after two minutes) fails with the child's output.
fn in_child(case: &str, body: fn()) {
    if std::env::var(CHILD_CASE).as_deref() == Ok(case) {
        body();
        println!("done");
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([case, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_CASE, case)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("done"),
        "case `{case}` failed or hung ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// Runs `body` on a new thread with a stack of `stack` bytes and returns its result.
fn on_small_stack<R: Send + 'static>(stack: usize, body: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new().stack_size(stack).spawn(body).unwrap().join().unwrap()
}

/// A function whose frame holds `n` 64-bit values live across a call (read from mutable globals before the
/// call, which may change them, and summed after it), so its frame is about `8 * n` bytes.
fn wide_frame_module(n: usize) -> String {
    let mut wat = String::from("(module (func $leaf)\n");
    for i in 0..n {
        wat += &format!("(global $g{i} (mut i64) (i64.const 0))");
    }
    wat += "(func (export \"wide\") (param $p i64) (result i64)\n";
    for i in 0..n {
        wat += &format!("(local $l{i} i64)");
    }
    for i in 0..n {
        wat += &format!("(local.set $l{i} (global.get $g{i}))\n");
    }
    wat += "(call $leaf) (local.get $p)\n";
    for i in 0..n {
        wat += &format!("(i64.add (local.get $l{i}))\n");
    }
    wat + "))"
}

/// A frame larger than the stack a thread has left, on a thread with a small stack, must trap with "call
/// stack exhausted" with signal-based traps and with explicit checks: with explicit checks, the check in
/// the function body came after the prologue had allocated the frame, and a spill into it faulted below the
/// thread's stack, which killed the process.
fn wide_frames_on_small_stacks() {
    let wat = wide_frame_module(20_000);
    let mut wide = Vec::new();
    for signals in [false, true] {
        let engine = Engine::new(Config::new().signals_based_traps(signals)).unwrap();
        let module = Module::new(&engine, &wat).unwrap();
        wide.push((signals, engine, module));
    }
    for (signals, engine, module) in wide.clone() {
        let result = on_small_stack(128 << 10, move || {
            let mut store = Store::new(&engine, 7);
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let wide = instance.get_typed_func::<i64, i64>(&mut store, "wide").unwrap();
            let trap = wide.call(&mut store, 1).unwrap_err().downcast::<Trap>().unwrap();
            // The store is still usable.
            (trap, *store.data())
        });
        assert_eq!(result, (Trap::StackOverflow, 7), "signals_based_traps({signals})");
    }
    // Where the stack is large enough, the same function runs.
    for (_, engine, module) in wide {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let wide = instance.get_typed_func::<i64, i64>(&mut store, "wide").unwrap();
        assert_eq!(on_small_stack(4 << 20, move || wide.call(&mut store, 5).unwrap()), 5);
    }
}

#[test]
fn wide_frames_trap_on_small_stacks() {
    in_child("wide_frames_trap_on_small_stacks", wide_frames_on_small_stacks);
}

/// A table whose declared size would take 32 GiB of elements is an instantiation error, and growing a table
/// that far fails with -1; neither aborts the process ("memory allocation failed") as it once did.
fn huge_tables() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, "(module (table 4294967295 4294967295 funcref))").unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("table minimum size of 4294967295 elements exceeds table limits"), "{err:#}");
    let err = tenon::Table::new(
        &mut store,
        tenon::TableType::new(tenon::RefType::FUNCREF, u32::MAX, None),
        tenon::Ref::Func(None),
    )
    .unwrap_err();
    assert!(err.to_string().contains("exceeds table limits"), "{err:#}");

    let module = Module::new(
        &engine,
        r#"(module (table $t 1 funcref)
             (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance.get_typed_func::<u32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, u32::MAX - 1).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 100_000_000).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 10).unwrap(), 1);
}

#[test]
fn huge_tables_are_errors() {
    in_child("huge_tables_are_errors", huge_tables);
}

/// A resource limiter that panics.
struct PanickingLimiter;

impl ResourceLimiter for PanickingLimiter {
    fn memory_growing(&mut self, current: usize, _desired: usize, _maximum: Option<usize>) -> tenon::Result<bool> {
        if current > 0 {
            panic!("the limiter panicked");
        }
        Ok(true)
    }
    fn table_growing(&mut self, current: usize, _desired: usize, _maximum: Option<usize>) -> tenon::Result<bool> {
        if current > 0 {
            panic!("the limiter panicked on a table");
        }
        Ok(true)
    }
}

/// A panic inside a builtin (here the store's resource limiter, called by `memory.grow`) reaches the caller
/// of the wasm function as a panic, like a panic in a host function does, instead of crossing compiled
/// frames that cannot unwind (which aborted the process); the store stays usable.
fn panics_in_builtins() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory 1) (table 1 funcref)
             (func (export "grow") (result i32) (memory.grow (i32.const 1)))
             (func (export "grow_table") (result i32) (table.grow (ref.null func) (i32.const 1)))
             (func (export "size") (result i32) (memory.size)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, PanickingLimiter);
    store.limiter(|limiter| limiter);
    let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
    for (name, message) in [("grow", "the limiter panicked"), ("grow_table", "the limiter panicked on a table")] {
        let func = instance.get_typed_func::<(), i32>(&mut store, name).unwrap();
        let payload = catch_unwind(AssertUnwindSafe(|| func.call(&mut store, ()))).unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&message));
    }
    let size = instance.get_typed_func::<(), i32>(&mut store, "size").unwrap();
    assert_eq!(size.call(&mut store, ()).unwrap(), 1);
}

#[test]
fn panics_in_builtins_reach_the_caller() {
    in_child("panics_in_builtins_reach_the_caller", panics_in_builtins);
}

/// Installs an alternate signal stack of `size` bytes on the current thread, with an inaccessible page
/// below it, as a host might.
fn install_small_alt_stack(size: usize) {
    let page = 4096;
    // SAFETY: a fresh anonymous mapping, of which the part above the first page is made the alternate signal
    // stack; it is never unmapped (the thread ends with the test process).
    unsafe {
        let mapping = libc::mmap(
            std::ptr::null_mut(),
            page + size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(mapping, libc::MAP_FAILED);
        assert_eq!(libc::mprotect(mapping, page, libc::PROT_NONE), 0);
        let stack = libc::stack_t { ss_sp: mapping.cast::<u8>().add(page).cast(), ss_flags: 0, ss_size: size };
        assert_eq!(libc::sigaltstack(&stack, std::ptr::null_mut()), 0);
    }
}

/// A thread whose alternate signal stack is too small for the trap handler (a host installed a tiny one)
/// gets a large enough one on its first call into wasm, so a trap is a trap, not a crash in the handler.
fn small_alt_stacks() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (memory 1) (func (export "oob") (drop (i32.load (i32.const 70000)))))"#)
        .unwrap();
    let trap = on_small_stack(1 << 20, move || {
        install_small_alt_stack(4096);
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let oob = instance.get_typed_func::<(), ()>(&mut store, "oob").unwrap();
        let first = oob.call(&mut store, ()).unwrap_err().downcast::<Trap>().unwrap();
        let second = oob.call(&mut store, ()).unwrap_err().downcast::<Trap>().unwrap();
        (first, second)
    });
    assert_eq!(trap, (Trap::MemoryOutOfBounds, Trap::MemoryOutOfBounds));
}

#[test]
fn small_alt_stacks_are_replaced() {
    in_child("small_alt_stacks_are_replaced", small_alt_stacks);
}

/// Configurations whose memory layout overflows the address space are refused by `Engine::new` rather
/// than wrapped around.
#[test]
fn overflowing_configurations_are_refused() {
    type Case = (&'static str, fn(&mut Config));
    let cases: [Case; 4] = [
        ("reservation", |c| {
            c.memory_reservation(u64::MAX);
        }),
        ("guard", |c| {
            c.memory_guard_size(u64::MAX - 4095);
        }),
        ("reservation plus guards", |c| {
            c.memory_reservation(1 << 63).memory_guard_size(1 << 63);
        }),
        ("unaligned reservation", |c| {
            c.memory_reservation((1 << 32) + 1);
        }),
    ];
    for (name, configure) in cases {
        let mut config = Config::new();
        configure(&mut config);
        let err = Engine::new(&config).unwrap_err();
        assert!(err.to_string().starts_with("invalid configuration"), "{name}: {err:#}");
    }
    // A small reservation without a guard before it is fine.
    let mut config = Config::new();
    config.memory_reservation(1 << 20).memory_guard_size(1 << 16).guard_before_linear_memory(false);
    Engine::new(&config).unwrap();
}

/// The address space the process uses now, in bytes (`VmSize` of `/proc/self/status`).
fn address_space_in_use() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// When the system refuses memory (here: the address space is limited to what the process already uses),
/// compiling a module, placing a host function in a store and instantiating are errors, not panics.
fn out_of_address_space() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (import "host" "f" (func (param f64 i32 f32 i64 f64 f64 i32 i32 f32))))"#)
        .unwrap();
    let mut linker: Linker<()> = Linker::new(&engine);
    linker.func_wrap("host", "f", |_: f64, _: i32, _: f32, _: i64, _: f64, _: f64, _: i32, _: i32, _: f32| {}).unwrap();
    let mut store = Store::new(&engine, ());
    let exporter = Module::new(&engine, r#"(module (func (export "g") (param f32 f64 i64 f32 f64 i32 i64)))"#).unwrap();
    let instance = Instance::new(&mut store, &exporter, &[]).unwrap();
    // Keep the allocator supplied from memory the process already has: every allocation from the heap (none
    // mapped apart), 64 MiB of it allocated and freed, and none of it given back.
    // SAFETY: tuning glibc's allocator before the allocations below; no allocation is in flight.
    unsafe {
        assert_eq!(libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30), 1);
        assert_eq!(libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30), 1);
    }
    drop((0..64).map(|_| vec![1u8; 1 << 20]).collect::<Vec<_>>());
    let rlimit = libc::rlimit { rlim_cur: address_space_in_use(), rlim_max: libc::RLIM_INFINITY };
    // SAFETY: setting this process's own limit with a valid struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlimit) }, 0);
    // A handle to the exported function (whose signature is new) needs its trampolines, in code memory:
    // refused, so there is no handle (this was a panic).
    assert!(instance.get_func(&mut store, "g").is_none());
    // The host function's trampolines (a new signature too): refused.
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(format!("{err:#}").contains("failed to map"), "{err:#}");
    // So do a new module's functions, and a memory its reservation.
    let err = Module::new(&engine, "(module (func (export \"f\") (result i32) (i32.const 1)))").unwrap_err();
    assert!(format!("{err:#}").contains("failed to map"), "{err:#}");
    let err = tenon::Memory::new(&mut store, tenon::MemoryType::new(1, None)).unwrap_err();
    assert!(format!("{err:#}").contains("failed to map"), "{err:#}");
}

#[test]
fn refused_memory_is_an_error() {
    in_child("refused_memory_is_an_error", out_of_address_space);
}
