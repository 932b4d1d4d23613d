// The workloads, written once against the API Tenon shares with Wasmtime. `versus.rs` includes this file
// twice, with `rt` naming `tenon` and then `wasmtime`, so both runtimes run exactly the same code.

use std::hint::black_box;
use std::time::{Duration, Instant};
use tenon_bench_kernels as kernels;
use tenon_benches::harness::time;
use tenon_benches::{Runner, wasm};

/// The runtime's engine with its default configuration, as a user gets it.
pub fn engine() -> rt::Engine {
    rt::Engine::default()
}

/// Compiles `bytes` into a module once per iteration.
pub fn compile<'a>(engine: &'a rt::Engine, bytes: &'a [u8]) -> Runner<'a> {
    Box::new(move |iters| {
        time(iters, || {
            black_box(rt::Module::new(engine, bytes).unwrap());
        })
    })
}

/// Compiles [`wasm::CALLS`], instantiates it with its host `add`, and calls each export once, per iteration:
/// compilation with everything a first call needs (Tenon makes the host-to-wasm trampoline of a function
/// type when it is first needed, Wasmtime makes those of exported functions while compiling).
pub fn compile_and_call<'a>(engine: &'a rt::Engine, bytes: &'a [u8]) -> Runner<'a> {
    Box::new(move |iters| {
        time(iters, || {
            let module = rt::Module::new(engine, bytes).unwrap();
            let (mut store, instance) = calls_instance_of(engine, &module);
            let nop = instance.get_typed_func::<(), ()>(&mut store, "nop").unwrap();
            let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add").unwrap();
            let call_host = instance.get_typed_func::<i32, i32>(&mut store, "call_host").unwrap();
            nop.call(&mut store, ()).unwrap();
            assert_eq!(add.call(&mut store, (2, 3)).unwrap(), 5);
            assert_eq!(call_host.call(&mut store, 3).unwrap(), 6);
        })
    })
}

/// Compiles the guest program, instantiates it and calls `fib(1)`, per iteration: the large-module
/// counterpart of [`compile_and_call`].
pub fn compile_and_call_guest<'a>(engine: &'a rt::Engine, bytes: &'a [u8]) -> Runner<'a> {
    Box::new(move |iters| {
        time(iters, || {
            let module = rt::Module::new(engine, bytes).unwrap();
            let mut guest = Guest::new(engine, &module);
            let fib = guest.func::<i32, i32>("fib");
            assert_eq!(fib.call(&mut guest.store, 1).unwrap(), 1);
        })
    })
}

/// Loads the module artifact `artifact` (from `Module::serialize`) once per iteration.
pub fn deserialize<'a>(engine: &'a rt::Engine, artifact: &'a [u8]) -> Runner<'a> {
    Box::new(move |iters| {
        time(iters, || {
            // SAFETY: the artifact was made by this runtime in this process.
            black_box(unsafe { rt::Module::deserialize(engine, artifact) }.unwrap());
        })
    })
}

/// The guest module serialized to an artifact.
pub fn guest_artifact(engine: &rt::Engine, guest: &[u8]) -> Vec<u8> {
    rt::Module::new(engine, guest).unwrap().serialize().unwrap()
}

/// Compiles component `bytes` once per iteration.
pub fn compile_component<'a>(engine: &'a rt::Engine, bytes: &'a [u8]) -> Runner<'a> {
    Box::new(move |iters| {
        time(iters, || {
            black_box(rt::component::Component::new(engine, bytes).unwrap());
        })
    })
}

/// Component `bytes` serialized to an artifact.
pub fn component_artifact(engine: &rt::Engine, bytes: &[u8]) -> Vec<u8> {
    rt::component::Component::new(engine, bytes).unwrap().serialize().unwrap()
}

/// Loads the component artifact `artifact` once per iteration.
pub fn deserialize_component<'a>(engine: &'a rt::Engine, artifact: &'a [u8]) -> Runner<'a> {
    Box::new(move |iters| {
        time(iters, || {
            // SAFETY: as in `deserialize`.
            black_box(unsafe { rt::component::Component::deserialize(engine, artifact) }.unwrap());
        })
    })
}

/// Instantiates the guest module, compiled (`artifact` is `None`) or loaded from its artifact, in a new store
/// once per iteration.
pub fn instantiate_guest<'a>(engine: &'a rt::Engine, guest: &[u8], artifact: Option<&[u8]>) -> Runner<'a> {
    let module = match artifact {
        // SAFETY: as in `deserialize`.
        Some(artifact) => unsafe { rt::Module::deserialize(engine, artifact) }.unwrap(),
        None => rt::Module::new(engine, guest).unwrap(),
    };
    Box::new(move |iters| {
        time(iters, || {
            let mut store = rt::Store::new(engine, ());
            black_box(rt::Instance::new(&mut store, &module, &[]).unwrap());
        })
    })
}

/// Creates a store and instantiates `bytes` in it once per iteration (the store's drop included).
pub fn instantiate<'a>(engine: &'a rt::Engine, bytes: &[u8]) -> Runner<'a> {
    let module = rt::Module::new(engine, bytes).unwrap();
    Box::new(move |iters| {
        time(iters, || {
            let mut store = rt::Store::new(engine, ());
            black_box(rt::Instance::new(&mut store, &module, &[]).unwrap());
        })
    })
}

/// Creates a store and instantiates `bytes` in it from an `InstancePre` made once (the store's drop
/// included): the fast path for many short-lived instances.
pub fn instantiate_pre<'a>(engine: &'a rt::Engine, bytes: &[u8]) -> Runner<'a> {
    let module = rt::Module::new(engine, bytes).unwrap();
    let pre = rt::Linker::<()>::new(engine).instantiate_pre(&module).unwrap();
    Box::new(move |iters| {
        time(iters, || {
            let mut store = rt::Store::new(engine, ());
            black_box(pre.instantiate(&mut store).unwrap());
        })
    })
}

/// An instance of [`wasm::CALLS`] whose import is a host `add`.
fn calls_instance(engine: &rt::Engine) -> (rt::Store<()>, rt::Instance) {
    let module = rt::Module::new(engine, wat::parse_str(wasm::CALLS).unwrap()).unwrap();
    calls_instance_of(engine, &module)
}

/// A new store with an instance of `module` (compiled from [`wasm::CALLS`]) importing a host `add`.
fn calls_instance_of(engine: &rt::Engine, module: &rt::Module) -> (rt::Store<()>, rt::Instance) {
    let mut store = rt::Store::new(engine, ());
    let add = rt::Func::wrap(&mut store, |a: i32, b: i32| a.wrapping_add(b));
    let instance = rt::Instance::new(&mut store, module, &[add.into()]).unwrap();
    (store, instance)
}

/// Host → wasm: `TypedFunc<(), ()>::call` of an empty export.
pub fn typed_call_nop(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = calls_instance(engine);
    let nop = instance.get_typed_func::<(), ()>(&mut store, "nop").unwrap();
    Box::new(move |iters| time(iters, || nop.call(&mut store, ()).unwrap()))
}

/// Host → wasm: `TypedFunc<(i32, i32), i32>::call` of `add`.
pub fn typed_call_add(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = calls_instance(engine);
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add").unwrap();
    Box::new(move |iters| {
        time(iters, || {
            assert_eq!(add.call(&mut store, (black_box(1), black_box(2))).unwrap(), 3);
        })
    })
}

/// Host → wasm: `Func::call` of the empty export, with `Val` slices.
pub fn dynamic_call_nop(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = calls_instance(engine);
    let nop = instance.get_func(&mut store, "nop").unwrap();
    Box::new(move |iters| time(iters, || nop.call(&mut store, &[], &mut []).unwrap()))
}

/// Host → wasm: `Func::call` of `add` with `Val` arguments and result.
pub fn dynamic_call_add(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = calls_instance(engine);
    let add = instance.get_func(&mut store, "add").unwrap();
    let mut results = [rt::Val::I32(0)];
    Box::new(move |iters| {
        time(iters, || {
            let args = [rt::Val::I32(black_box(1)), rt::Val::I32(black_box(2))];
            add.call(&mut store, &args, &mut results).unwrap();
            assert_eq!(results[0].i32(), Some(3));
        })
    })
}

/// Wasm → host: one guest call running [`wasm::HOST_CALLS_PER_LOOP`] calls of the host `add`.
pub fn host_calls(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = calls_instance(engine);
    let call_host = instance.get_typed_func::<i32, i32>(&mut store, "call_host").unwrap();
    let n = wasm::HOST_CALLS_PER_LOOP as i32;
    let expected = wasm::host_calls_result(wasm::HOST_CALLS_PER_LOOP);
    Box::new(move |iters| {
        time(iters, || {
            assert_eq!(call_host.call(&mut store, black_box(n)).unwrap(), expected);
        })
    })
}

/// An instance of the guest program with its memory.
pub struct Guest {
    store: rt::Store<()>,
    instance: rt::Instance,
    memory: rt::Memory,
}

impl Guest {
    /// Instantiates the compiled guest program.
    pub fn new(engine: &rt::Engine, module: &rt::Module) -> Guest {
        let mut store = rt::Store::new(engine, ());
        let instance = rt::Instance::new(&mut store, module, &[]).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Guest { store, instance, memory }
    }

    fn func<P: rt::WasmParams, R: rt::WasmResults>(&mut self, name: &str) -> rt::TypedFunc<P, R> {
        self.instance.get_typed_func::<P, R>(&mut self.store, name).unwrap()
    }

    /// Allocates `bytes` in the guest, writes them there, and returns their address.
    fn put(&mut self, bytes: &[u8]) -> i32 {
        let ptr = self.alloc(bytes.len());
        self.memory.write(&mut self.store, ptr as usize, bytes).unwrap();
        ptr
    }

    fn alloc(&mut self, len: usize) -> i32 {
        let alloc = self.func::<i32, i32>("alloc");
        alloc.call(&mut self.store, len as i32).unwrap()
    }

    fn read(&self, ptr: i32, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        self.memory.read(&self.store, ptr as usize, &mut out).unwrap();
        out
    }

    /// fib([`wasm::FIB_N`]), checked against the native result.
    pub fn fib(mut self) -> Runner<'static> {
        let fib = self.func::<i32, i32>("fib");
        let expected = kernels::fib(wasm::FIB_N) as i32;
        Box::new(move |iters| {
            time(iters, || assert_eq!(fib.call(&mut self.store, black_box(wasm::FIB_N as i32)).unwrap(), expected))
        })
    }

    /// SHA-256 of [`wasm::SHA256_LEN`] bytes, the digest checked against the native one.
    pub fn sha256(mut self) -> Runner<'static> {
        let input = wasm::sha256_input();
        let data = self.put(&input);
        let out = self.alloc(32);
        let sha256 = self.func::<(i32, i32, i32), ()>("sha256");
        sha256.call(&mut self.store, (data, input.len() as i32, out)).unwrap();
        assert_eq!(self.read(out, 32), kernels::sha256(&input), "the guest's digest differs from the native one");
        let len = input.len() as i32;
        Box::new(move |iters| time(iters, || sha256.call(&mut self.store, (data, len, out)).unwrap()))
    }

    /// A [`wasm::MATMUL_N`]-square f64 matrix product, checked against the native product.
    pub fn matmul(mut self) -> Runner<'static> {
        let n = wasm::MATMUL_N;
        let (a, b) = wasm::matmul_inputs();
        let to_bytes = |m: &[f64]| m.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let (pa, pb) = (self.put(&to_bytes(&a)), self.put(&to_bytes(&b)));
        let pc = self.alloc(n * n * 8);
        let matmul = self.func::<(i32, i32, i32, i32), ()>("matmul");
        matmul.call(&mut self.store, (pa, pb, pc, n as i32)).unwrap();
        let mut expected = vec![0.0; n * n];
        kernels::matmul(&a, &b, &mut expected, n);
        assert!(self.read(pc, n * n * 8) == to_bytes(&expected), "the guest's product differs from the native one");
        Box::new(move |iters| time(iters, || matmul.call(&mut self.store, (pa, pb, pc, n as i32)).unwrap()))
    }

    /// Fills [`wasm::SORT_LEN`] i32s pseudo-randomly and quicksorts them; the guest checks the order.
    pub fn quicksort(mut self) -> Runner<'static> {
        let values = self.alloc(wasm::SORT_LEN * 4);
        let quicksort = self.func::<(i32, i32, i32), i32>("quicksort");
        let mut seed = 1;
        Box::new(move |iters| {
            time(iters, || {
                seed += 1;
                assert_eq!(quicksort.call(&mut self.store, (values, wasm::SORT_LEN as i32, seed)).unwrap(), 1);
            })
        })
    }

    /// Parses the JSON document of [`wasm::emails_json`] and counts the e-mail addresses in it with a regex
    /// (compiled on each call, as the guest does), the count checked against the generator's.
    pub fn count_emails(mut self) -> Runner<'static> {
        let (json, expected) = wasm::emails_json();
        let text = self.put(json.as_bytes());
        let len = json.len() as i32;
        let count_emails = self.func::<(i32, i32), i32>("count_emails");
        Box::new(move |iters| {
            time(iters, || assert_eq!(count_emails.call(&mut self.store, (text, len)).unwrap(), expected))
        })
    }
}

/// An instance of [`wasm::MEMORY`] and one of its exports taking a count.
fn memory_func(
    engine: &rt::Engine,
    module: &rt::Module,
    name: &str,
) -> (rt::Store<()>, rt::Instance, rt::TypedFunc<i32, ()>) {
    let mut store = rt::Store::new(engine, ());
    let instance = rt::Instance::new(&mut store, module, &[]).unwrap();
    let func = instance.get_typed_func::<i32, ()>(&mut store, name).unwrap();
    (store, instance, func)
}

/// `memory.grow` by one page, repeated inside wasm, which traps if a grow fails; a fresh instance (not timed)
/// whenever the memory nears its maximum, and its size checked (not timed) after each run.
pub fn memory_grow(engine: &rt::Engine) -> Runner<'_> {
    let module = rt::Module::new(engine, wat::parse_str(wasm::MEMORY).unwrap()).unwrap();
    let room = 65536 - wasm::MEMORY_INITIAL_PAGES - 1;
    Box::new(move |iters| {
        let mut timed = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let chunk = left.min(room);
            let (mut store, instance, grow) = memory_func(engine, &module, "grow");
            let start = Instant::now();
            grow.call(&mut store, chunk as i32).unwrap();
            timed += start.elapsed();
            let memory = instance.get_memory(&mut store, "memory").unwrap();
            assert_eq!(memory.size(&store), wasm::MEMORY_INITIAL_PAGES + chunk);
            left -= chunk;
        }
        timed
    })
}

/// `memory.copy` or `memory.fill` (as `name` says) of one MiB, repeated inside wasm. Before each run (not
/// timed) the source holds a byte pattern and the destination zeros; after it, the destination is checked.
pub fn memory_bulk<'a>(engine: &'a rt::Engine, name: &str) -> Runner<'a> {
    let module = rt::Module::new(engine, wat::parse_str(wasm::MEMORY).unwrap()).unwrap();
    let (mut store, instance, func) = memory_func(engine, &module, name);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let copy = name == "copy";
    let mib = 1 << 20;
    let pattern: Vec<u8> = (0..mib).map(|i| (i * 7 % 253) as u8).collect();
    let zeros = vec![0u8; mib];
    Box::new(move |iters| {
        let destination = if copy { mib } else { 0 };
        if copy {
            memory.write(&mut store, 0, &pattern).unwrap();
        }
        memory.write(&mut store, destination, &zeros).unwrap();
        let start = Instant::now();
        func.call(&mut store, i32::try_from(iters).unwrap()).unwrap();
        let elapsed = start.elapsed();
        let written = &memory.data(&store)[destination..destination + mib];
        if copy {
            assert!(written == &pattern[..], "memory.copy left the wrong bytes");
        } else {
            // The last fill (count 1) writes byte 1.
            assert!(written.iter().all(|&b| b == 1), "memory.fill left the wrong bytes");
        }
        elapsed
    })
}
