//! Tenon against Wasmtime, workload by workload: `cargo bench -p tenon-benches [-- FILTER]`.

use std::cell::LazyCell;
use std::hint::black_box;
use tenon_bench_kernels as kernels;
use tenon_benches::harness::time;
use tenon_benches::{Bench, Report, Runner, Suite, wasm};

mod on_tenon {
    use tenon as rt;
    include!("versus/workloads.rs");
    include!("versus/component_workloads.rs");
}

mod on_wasmtime {
    use wasmtime as rt;
    include!("versus/workloads.rs");
    include!("versus/component_workloads.rs");
}

/// Native runs of the compute kernels: the floor both runtimes are measured against.
mod native {
    use super::*;

    pub fn fib() -> Runner<'static> {
        Box::new(|iters| {
            time(iters, || {
                assert_eq!(kernels::fib(black_box(wasm::FIB_N)), 832040)
            })
        })
    }

    pub fn sha256() -> Runner<'static> {
        let input = wasm::sha256_input();
        Box::new(move |iters| {
            time(iters, || {
                black_box(kernels::sha256(black_box(&input)));
            })
        })
    }

    pub fn matmul() -> Runner<'static> {
        let (a, b) = wasm::matmul_inputs();
        let mut c = vec![0.0; a.len()];
        Box::new(move |iters| {
            time(iters, || {
                kernels::matmul(black_box(&a), black_box(&b), &mut c, wasm::MATMUL_N);
                black_box(&c);
            })
        })
    }

    pub fn quicksort() -> Runner<'static> {
        let mut values = vec![0i32; wasm::SORT_LEN];
        let mut seed = 1;
        Box::new(move |iters| {
            time(iters, || {
                seed += 1;
                kernels::fill_random(&mut values, seed);
                kernels::quicksort(black_box(&mut values));
                assert!(kernels::is_sorted(&values));
            })
        })
    }
}

/// Wasmtime with its pooling instance allocator (default pool sizes except the number of memories and
/// tables, kept small so the reservation fits any machine): its fastest instantiation path.
fn wasmtime_pooling_engine() -> wasmtime::Engine {
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.total_memories(100)
        .total_tables(100)
        .total_core_instances(100);
    let mut config = wasmtime::Config::new();
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    wasmtime::Engine::new(&config).expect("Wasmtime's pooling allocator")
}

/// What the table is measured on: CPU model, core count, kernel.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim())
        })
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cores} cores, Linux {}", kernel.trim())
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters workloads by name.
    let mut suite = Suite::new(std::env::args().skip(1).find(|a| !a.starts_with('-')));
    println!(
        "Tenon {} vs Wasmtime 48 on {}",
        env!("CARGO_PKG_VERSION"),
        machine()
    );
    println!("medians per operation; ratio = Tenon / Wasmtime (below 1.00: Tenon is faster)\n");
    println!("{}", Report::header());

    let (t, w) = (on_tenon::engine(), on_wasmtime::engine());
    let small = wat::parse_str(wasm::CALLS).unwrap();
    let guest = wasm::guest();
    let instantiate = wat::parse_str(wasm::instantiate_module()).unwrap();
    let t_guest = LazyCell::new(|| tenon::Module::new(&t, &guest).unwrap());
    let w_guest = LazyCell::new(|| wasmtime::Module::new(&w, &guest).unwrap());

    // Tenon compiles a function type's host-to-wasm trampoline on first use, Wasmtime compiles those of the
    // exported functions with the module: the "compile" rows favour Tenon by that much, the "compile + first
    // calls" rows include it.
    suite.run("compile small module (no trampolines)", || Bench {
        bytes_per_iter: Some(small.len() as u64),
        samples: 21,
        ..Bench::new(
            on_tenon::compile(&t, &small),
            on_wasmtime::compile(&w, &small),
        )
    });
    suite.run("compile small + instantiate + calls", || Bench {
        samples: 21,
        ..Bench::new(
            on_tenon::compile_and_call(&t, &small),
            on_wasmtime::compile_and_call(&w, &small),
        )
    });
    suite.run("compile guest (no trampolines)", || Bench {
        bytes_per_iter: Some(guest.len() as u64),
        samples: 7,
        ..Bench::new(
            on_tenon::compile(&t, &guest),
            on_wasmtime::compile(&w, &guest),
        )
    });
    suite.run("compile guest + instantiate + call", || Bench {
        samples: 7,
        ..Bench::new(
            on_tenon::compile_and_call_guest(&t, &guest),
            on_wasmtime::compile_and_call_guest(&w, &guest),
        )
    });
    // Ahead-of-time artifacts: loading instead of compiling, and what loaded code costs to instantiate.
    // (Made when a row first needs them, so that a filter that skips these rows skips compiling them.)
    let t_guest_artifact = LazyCell::new(|| on_tenon::guest_artifact(&t, &guest));
    let w_guest_artifact = LazyCell::new(|| on_wasmtime::guest_artifact(&w, &guest));
    suite.run("load the guest from an artifact", || Bench {
        bytes_per_iter: Some(t_guest_artifact.len() as u64),
        ..Bench::new(on_tenon::deserialize(&t, &t_guest_artifact), on_wasmtime::deserialize(&w, &w_guest_artifact))
    });
    let guest_component = wasm::guest_component(&guest);
    suite.run("compile the guest as a component", || Bench {
        samples: 7,
        ..Bench::new(on_tenon::compile_component(&t, &guest_component), on_wasmtime::compile_component(&w, &guest_component))
    });
    let t_component = LazyCell::new(|| on_tenon::component_artifact(&t, &guest_component));
    let w_component = LazyCell::new(|| on_wasmtime::component_artifact(&w, &guest_component));
    suite.run("load the guest component from an artifact", || {
        Bench::new(on_tenon::deserialize_component(&t, &t_component), on_wasmtime::deserialize_component(&w, &w_component))
    });
    suite.run("instantiate the guest, compiled", || {
        Bench::new(on_tenon::instantiate_guest(&t, &guest, None), on_wasmtime::instantiate_guest(&w, &guest, None))
    });
    suite.run("instantiate the guest, loaded from an artifact", || {
        Bench::new(
            on_tenon::instantiate_guest(&t, &guest, Some(&t_guest_artifact)),
            on_wasmtime::instantiate_guest(&w, &guest, Some(&w_guest_artifact)),
        )
    });
    suite.run("instantiate (300 funcs)", || {
        Bench::new(
            on_tenon::instantiate(&t, &instantiate),
            on_wasmtime::instantiate(&w, &instantiate),
        )
    });
    suite.run("instantiate from InstancePre", || {
        Bench::new(
            on_tenon::instantiate_pre(&t, &instantiate),
            on_wasmtime::instantiate_pre(&w, &instantiate),
        )
    });
    let w_pooling = LazyCell::new(wasmtime_pooling_engine);
    suite.run("instantiate vs Wasmtime pooling", || {
        Bench::new(
            on_tenon::instantiate(&t, &instantiate),
            on_wasmtime::instantiate(&w_pooling, &instantiate),
        )
    });
    suite.run("InstancePre vs Wasmtime pooling", || {
        Bench::new(
            on_tenon::instantiate_pre(&t, &instantiate),
            on_wasmtime::instantiate_pre(&w_pooling, &instantiate),
        )
    });
    suite.run("call host->wasm typed nop", || {
        Bench::new(
            on_tenon::typed_call_nop(&t),
            on_wasmtime::typed_call_nop(&w),
        )
    });
    suite.run("call host->wasm typed add", || {
        Bench::new(
            on_tenon::typed_call_add(&t),
            on_wasmtime::typed_call_add(&w),
        )
    });
    suite.run("call host->wasm Val nop", || {
        Bench::new(
            on_tenon::dynamic_call_nop(&t),
            on_wasmtime::dynamic_call_nop(&w),
        )
    });
    suite.run("call host->wasm Val add", || {
        Bench::new(
            on_tenon::dynamic_call_add(&t),
            on_wasmtime::dynamic_call_add(&w),
        )
    });
    suite.run("call wasm->host add", || Bench {
        units_per_iter: wasm::HOST_CALLS_PER_LOOP,
        ..Bench::new(on_tenon::host_calls(&t), on_wasmtime::host_calls(&w))
    });
    suite.run("compute fib(30)", || Bench {
        native: Some(native::fib()),
        ..Bench::new(
            on_tenon::Guest::new(&t, &t_guest).fib(),
            on_wasmtime::Guest::new(&w, &w_guest).fib(),
        )
    });
    suite.run("compute sha256 1 MiB", || Bench {
        native: Some(native::sha256()),
        ..Bench::new(
            on_tenon::Guest::new(&t, &t_guest).sha256(),
            on_wasmtime::Guest::new(&w, &w_guest).sha256(),
        )
    });
    suite.run("compute matmul 200x200 f64", || Bench {
        native: Some(native::matmul()),
        ..Bench::new(
            on_tenon::Guest::new(&t, &t_guest).matmul(),
            on_wasmtime::Guest::new(&w, &w_guest).matmul(),
        )
    });
    suite.run("compute quicksort 1M i32", || Bench {
        native: Some(native::quicksort()),
        samples: 11,
        ..Bench::new(
            on_tenon::Guest::new(&t, &t_guest).quicksort(),
            on_wasmtime::Guest::new(&w, &w_guest).quicksort(),
        )
    });
    suite.run("compute JSON parse + regex 1 MB", || {
        Bench::new(
            on_tenon::Guest::new(&t, &t_guest).count_emails(),
            on_wasmtime::Guest::new(&w, &w_guest).count_emails(),
        )
    });
    suite.run("memory.grow 1 page", || {
        Bench::new(on_tenon::memory_grow(&t), on_wasmtime::memory_grow(&w))
    });
    suite.run("memory.copy 1 MiB", || {
        Bench::new(
            on_tenon::memory_bulk(&t, "copy"),
            on_wasmtime::memory_bulk(&w, "copy"),
        )
    });
    suite.run("memory.fill 1 MiB", || {
        Bench::new(
            on_tenon::memory_bulk(&t, "fill"),
            on_wasmtime::memory_bulk(&w, "fill"),
        )
    });

    // Wasmtime 48 supports concurrent (async) components by default, which its calls pay for; each component
    // row but the 1 MiB copies is also run against Wasmtime without it ("Wasmtime sync").
    let w_sync = LazyCell::new(|| {
        let mut config = wasmtime::Config::new();
        config.concurrency_support(false);
        wasmtime::Engine::new(&config).expect("Wasmtime without concurrency support")
    });
    for (engine, suffix) in [(&w, ""), (&*w_sync, ", Wasmtime sync")] {
        suite.run(&format!("component typed nop{suffix}"), || {
            Bench::new(on_tenon::component_typed_nop(&t), on_wasmtime::component_typed_nop(engine))
        });
        suite.run(&format!("component typed add(u32, u32){suffix}"), || {
            Bench::new(on_tenon::component_typed_add(&t), on_wasmtime::component_typed_add(engine))
        });
        suite.run(&format!("component Val add(u32, u32){suffix}"), || {
            Bench::new(on_tenon::component_val_add(&t), on_wasmtime::component_val_add(engine))
        });
        suite.run(&format!("component guest->host add{suffix}"), || Bench {
            units_per_iter: wasm::COMPONENT_HOST_CALLS,
            ..Bench::new(on_tenon::component_host_calls(&t), on_wasmtime::component_host_calls(engine))
        });
        suite.run(&format!("component echo string 16 B{suffix}"), || {
            Bench::new(on_tenon::component_echo_string(&t, 16), on_wasmtime::component_echo_string(engine, 16))
        });
        suite.run(&format!("component echo record{suffix}"), || {
            Bench::new(on_tenon::component_echo_record(&t), on_wasmtime::component_echo_record(engine))
        });
        let n = wasm::ADAPTER_CALLS as u32;
        let sum = (1..=n).sum::<u32>();
        suite.run(&format!("component->component add{suffix}"), || Bench {
            units_per_iter: wasm::ADAPTER_CALLS,
            ..Bench::new(
                on_tenon::component_adapter_calls(&t, "add-loop", sum),
                on_wasmtime::component_adapter_calls(engine, "add-loop", sum),
            )
        });
        suite.run(&format!("component->component echo string 16 B{suffix}"), || Bench {
            units_per_iter: wasm::ADAPTER_CALLS,
            ..Bench::new(
                on_tenon::component_adapter_calls(&t, "echo-loop", 16 * n),
                on_wasmtime::component_adapter_calls(engine, "echo-loop", 16 * n),
            )
        });
        suite.run(&format!("component instantiate (InstancePre){suffix}"), || {
            Bench::new(on_tenon::component_instantiate(&t), on_wasmtime::component_instantiate(engine))
        });
        suite.run(&format!("component instantiate, 2 adapters{suffix}"), || {
            Bench::new(on_tenon::component_instantiate_adapters(&t), on_wasmtime::component_instantiate_adapters(engine))
        });
    }
    suite.run("component echo string 1 MiB", || {
        Bench::new(on_tenon::component_echo_string(&t, 1 << 20), on_wasmtime::component_echo_string(&w, 1 << 20))
    });
    suite.run("component echo list<u8> 1 MiB", || {
        Bench::new(on_tenon::component_echo_bytes(&t, 1 << 20), on_wasmtime::component_echo_bytes(&w, 1 << 20))
    });

    suite.finish();
}
