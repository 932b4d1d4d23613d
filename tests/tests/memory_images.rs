//! Memory images: a module whose data is large enough starts each instance's memory as a copy-on-write
//! mapping of its initial contents. Each instance sees the data as the segments place it (later ones over
//! earlier ones), its writes are its own, a reused memory reservation starts from the image again (never
//! from another instance's writes), and growing, moving and `memory.init` behave as with copied data.

use tenon::{Config, Engine, Instance, Module, Store};

/// 80 KiB of data at offset 0 (the byte at `i` is `i % 251`), then a segment at 40000 over part of it, and
/// one passive segment.
fn module(engine: &Engine) -> Module {
    let big: String = (0..80 * 1024).map(|i| format!("\\{:02x}", i % 251)).collect();
    let wat = format!(
        r#"(module
          (memory (export "memory") 3 10)
          (data (i32.const 0) "{big}")
          (data (i32.const 40000) "over")
          (data $passive "passive")
          (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
          (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
          (func (export "init") (param i32) (memory.init $passive (local.get 0) (i32.const 0) (i32.const 7)))
          (func (export "init-active") (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1))))"#
    );
    Module::new(engine, wat).unwrap()
}

/// The byte the data puts at `at`.
fn expected(at: usize) -> u8 {
    match at {
        40000..40004 => b"over"[at - 40000],
        0..81920 => (at % 251) as u8,
        _ => 0,
    }
}

fn check_fresh(store: &mut Store<()>, instance: Instance) {
    let memory = instance.get_memory(&mut *store, "memory").unwrap();
    let data = memory.data(&*store);
    assert_eq!(data.len(), 3 * 65536);
    for at in (0..data.len()).step_by(97).chain([0, 39999, 40000, 40003, 40004, 81919, 81920, 3 * 65536 - 1]) {
        assert_eq!(data[at], expected(at), "byte {at}");
    }
}

#[test]
fn instances_see_the_data_and_keep_their_writes() {
    for config in [Config::new(), Config::new().signals_based_traps(false).clone(), Config::new().memory_reservation(0).memory_reservation_for_growth(0).clone()] {
        let engine = Engine::new(&config).unwrap();
        let module = module(&engine);
        let mut store = Store::new(&engine, ());
        let first = Instance::new(&mut store, &module, &[]).unwrap();
        let second = Instance::new(&mut store, &module, &[]).unwrap();
        check_fresh(&mut store, first);
        let write = first.get_typed_func::<(i32, i32), ()>(&mut store, "store").unwrap();
        let load = |instance: Instance, store: &mut Store<()>, at: i32| {
            instance.get_typed_func::<i32, i32>(&mut *store, "load").unwrap().call(&mut *store, at).unwrap()
        };
        write.call(&mut store, (5, 0xee)).unwrap();
        write.call(&mut store, (100_000, 0xdd)).unwrap();
        assert_eq!(load(first, &mut store, 5), 0xee);
        assert_eq!(load(first, &mut store, 100_000), 0xdd);
        assert_eq!(load(second, &mut store, 5), expected(5) as i32, "another instance's write is not seen");
        check_fresh(&mut store, second);

        // Growing (and, with no reservation, moving) keeps the contents.
        let grow = first.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
        assert_eq!(grow.call(&mut store, 4).unwrap(), 3);
        assert_eq!(load(first, &mut store, 5), 0xee);
        assert_eq!(load(first, &mut store, 40001), b'v' as i32);
        assert_eq!(load(first, &mut store, 7 * 65536 - 1), 0);

        // Passive data is still there; active data is dropped after instantiation.
        let init = first.get_typed_func::<i32, ()>(&mut store, "init").unwrap();
        init.call(&mut store, 200_000).unwrap();
        assert_eq!(load(first, &mut store, 200_000), b'p' as i32);
        let init_active = first.get_typed_func::<(), ()>(&mut store, "init-active").unwrap();
        let err = init_active.call(&mut store, ()).unwrap_err();
        assert_eq!(err.downcast_ref::<tenon::Trap>(), Some(&tenon::Trap::MemoryOutOfBounds));

        // Stores dropped and made again reuse the memories' reservations: each new memory starts from the
        // image, not from what the last one wrote.
        drop(store);
        for _ in 0..3 {
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            check_fresh(&mut store, instance);
            let write = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store").unwrap();
            for at in (0..3 * 65536).step_by(4096) {
                write.call(&mut store, (at, 0x77)).unwrap();
            }
        }
        // A memory the host makes is zero, whatever memory the reservation held before.
        let mut store = Store::new(&engine, ());
        let memory = tenon::Memory::new(&mut store, tenon::MemoryType::new(3, None)).unwrap();
        assert!(memory.data(&store).iter().all(|&b| b == 0));
    }
}

/// Data spread thinly over a large memory (64 KiB at its start, one byte at its end) is copied, not made an
/// image as large as the memory; an image of data that starts far into the memory covers only its pages.
#[test]
fn sparse_and_offset_data() {
    let engine = Engine::default();
    let block: String = (0..64 * 1024).map(|i| format!("\\{:02x}", i % 7)).collect();
    for (pages, starts) in [(1024u32, vec![0u32, 1024 * 65536 - 1]), (40, vec![1 << 20]), (40, vec![(1 << 20) + 12345, 5])] {
        let segments: String = starts
            .iter()
            .map(|&at| if at == 1024 * 65536 - 1 || at == 5 { format!("(data (i32.const {at}) \"x\")") } else { format!("(data (i32.const {at}) \"{block}\")") })
            .collect();
        let wat = format!(r#"(module (memory (export "memory") {pages}) {segments})"#);
        let module = Module::new(&engine, wat).unwrap();
        for _ in 0..2 {
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let memory = instance.get_memory(&mut store, "memory").unwrap();
            let data = memory.data(&store);
            for &at in &starts {
                let at = at as usize;
                if at == 1024 * 65536 - 1 || at == 5 {
                    assert_eq!(data[at], b'x');
                } else {
                    assert!((0..64 * 1024).step_by(11).all(|i| data[at + i] == (i % 7) as u8), "block at {at}");
                    assert!(at == 0 || data[at - 1] == 0);
                    assert_eq!(data[at + 64 * 1024], 0);
                }
            }
            // Written pages are private to the instance.
            memory.data_mut(&mut store)[starts[0] as usize] = 0xab;
        }
    }
}

/// Instantiation that fails in its element segments never wrote the data (segments run in order): a function
/// it already placed in an imported table sees zeroes, with an image as with copying.
#[test]
fn a_failed_instantiation_wrote_no_data() {
    let engine = Engine::default();
    let block: String = (0..80 * 1024).map(|_| "\\07".to_string()).collect();
    let wat = format!(
        r#"(module
          (import "t" "table" (table 1 funcref))
          (memory 2)
          (data (i32.const 0) "{block}")
          (func $peek (result i32) (i32.load8_u (i32.const 100)))
          (elem (i32.const 0) $peek)
          (elem (i32.const 5) $peek))"#
    );
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let table = tenon::Table::new(&mut store, tenon::TableType::new(tenon::RefType::FUNCREF, 1, None), tenon::Ref::Func(None)).unwrap();
    let err = Instance::new(&mut store, &module, &[table.into()]).unwrap_err();
    assert_eq!(err.downcast_ref::<tenon::Trap>(), Some(&tenon::Trap::TableOutOfBounds), "{err:#}");
    let peek = table.get(&mut store, 0).unwrap();
    let peek = peek.unwrap_func().expect("the first segment placed the function").typed::<(), i32>(&store).unwrap();
    assert_eq!(peek.call(&mut store, ()).unwrap(), 0, "the data segment did not run");
}

/// Small memories are cleared in place when released and their reservations reused: a new memory never
/// holds what an earlier one wrote, whether made by a module or by the host, of the same size or another.
#[test]
fn reused_small_memories_start_zeroed() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (memory (export "memory") 1) (data (i32.const 10) "seed"))"#).unwrap();
    for round in 0..20 {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let data = memory.data_mut(&mut store);
        assert_eq!(&data[10..14], b"seed", "round {round}");
        assert!(data[..10].iter().chain(&data[14..]).all(|&b| b == 0), "round {round}: a byte left by an earlier memory");
        data.fill(0xa5);
        let host = tenon::Memory::new(&mut store, tenon::MemoryType::new(1, None)).unwrap();
        assert!(host.data(&store).iter().all(|&b| b == 0), "round {round}: the host's memory");
        host.data_mut(&mut store).fill(0x5a);
    }
}
