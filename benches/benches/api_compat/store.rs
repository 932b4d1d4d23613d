// Host code with a `store` function, written once against `rt::component` (Tenon's or Wasmtime 48's):
// included by `bindings.rs` (api-compat, both runtimes) and by Tenon's `tests/tests/component_bindgen.rs`.

/// A world whose import `a:store/i.f` is marked `store`, and a component calling it.
pub mod store {
    use super::rt;
    use rt::component::{Component, Linker};
    use rt::{Engine, Store};

    mod store_world {
        super::rt::component::bindgen!({
            inline: "
                package a:store;
                interface i {
                    f: func(x: u32) -> u32;
                    g: func() -> u32;
                }
                world w {
                    import i;
                    export run: func(x: u32) -> u32;
                }
            ",
            imports: { "a:store/i.f": store },
        });
    }

    /// The host data of the `store` check: how many calls it saw.
    #[derive(Default)]
    pub struct Counted {
        calls: u32,
    }

    /// The `HasData` type of the `store` check, implementing the `store` functions.
    pub struct CountedData;

    impl rt::component::HasData for CountedData {
        type Data<'a> = &'a mut Counted;
    }

    impl<T: 'static> store_world::a::store::i::HostWithStore<T> for CountedData {
        fn f(mut host: rt::component::Access<'_, T, Self>, x: u32) -> u32 {
            host.get().calls += 1;
            let calls = host.get().calls;
            let _store: rt::StoreContextMut<'_, T> = rt::AsContextMut::as_context_mut(&mut host);
            x + calls
        }
    }

    impl store_world::a::store::i::Host for &mut Counted {
        fn g(&mut self) -> u32 {
            self.calls
        }
    }

    /// A `store` function called from a component (run on both runtimes); the number of checks.
    pub fn store_functions() -> rt::Result<usize> {
        let engine = Engine::default();
        let component = Component::new(
            &engine,
            r#"(component
                (import "a:store/i" (instance $i
                    (export "f" (func (param "x" u32) (result u32)))
                    (export "g" (func (result u32)))))
                (alias export $i "f" (func $f))
                (core func $f-core (canon lower (func $f)))
                (core module $m
                    (import "" "f" (func $f (param i32) (result i32)))
                    (func (export "run") (param i32) (result i32) local.get 0 call $f))
                (core instance $inst (instantiate $m (with "" (instance (export "f" (func $f-core))))))
                (func (export "run") (param "x" u32) (result u32) (canon lift (core func $inst "run"))))"#,
        )?;
        let mut linker: Linker<Counted> = Linker::new(&engine);
        store_world::W::add_to_linker::<Counted, CountedData>(&mut linker, |counted| counted)?;
        let mut store = Store::new(&engine, Counted::default());
        let world = store_world::W::instantiate(&mut store, &component, &linker)?;
        assert_eq!(world.call_run(&mut store, 10)?, 11);
        assert_eq!(world.call_run(&mut store, 10)?, 12);
        assert_eq!(store.data().calls, 2);
        Ok(3)
    }
}
