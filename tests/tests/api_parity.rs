//! The parts of the API that follow Wasmtime 48 and were added or reshaped for it: `InstancePre`,
//! references as `Rooted<ExternRef>` / `Ref` / `Option<Func>`, function types made with an engine, value
//! type predicates, declared memory and table types, and module names.

use tenon::{
    Caller, Engine, ExternRef, Func, FuncType, HeapType, Instance, Linker, Memory, MemoryType, Module, Ref, RefType,
    Rooted, Store, Table, TableType, Val, ValType,
};

#[test]
fn instance_pre_checks_once_and_instantiates_many_times() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "add" (func $add (param i32 i32) (result i32)))
             (import "env" "memory" (memory 1))
             (func (export "run") (param i32) (result i32) (call $add (local.get 0) (i32.load (i32.const 0)))))"#,
    )
    .unwrap();
    let mut linker: Linker<u32> = Linker::new(&engine);
    linker
        .func_wrap("host", "add", |mut caller: Caller<'_, u32>, a: i32, b: i32| {
            *caller.data_mut() += 1;
            a + b
        })
        .unwrap();

    // An import that is not defined, or of the wrong type, is found without any store.
    let err = linker.instantiate_pre(&module).unwrap_err();
    assert_eq!(err.to_string(), "unknown import: `env::memory` has not been defined");
    let mut definer = Store::new(&engine, 0);
    let small = Memory::new(&mut definer, MemoryType::new(0, None)).unwrap();
    let mut wrong = linker.clone();
    wrong.define(&definer, "env", "memory", small).unwrap();
    let err = wrong.instantiate_pre(&module).unwrap_err();
    assert!(err.to_string().starts_with("incompatible import type for `env::memory`"), "{err}");

    // Host functions are placed in each store; an item of a store only instantiates in that store.
    let memory = Memory::new(&mut definer, MemoryType::new(1, None)).unwrap();
    memory.data_mut(&mut definer)[0] = 40;
    linker.define(&definer, "env", "memory", memory).unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    assert_eq!(pre.module().imports().len(), 2);
    for _ in 0..3 {
        let instance = pre.instantiate(&mut definer).unwrap();
        let run = instance.get_typed_func::<i32, i32>(&mut definer, "run").unwrap();
        assert_eq!(run.call(&mut definer, 2).unwrap(), 42);
    }
    assert_eq!(*definer.data(), 3);
    let mut other = Store::new(&engine, 0);
    let err = pre.clone().instantiate(&mut other).unwrap_err();
    assert!(err.to_string().contains("cross-`Store`"), "{err}");
}

#[test]
fn references_as_wasmtime_spells_them() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
             (type $t (func (result i32)))
             (import "host" "pass" (func $pass (param externref funcref) (result funcref externref)))
             (import "host" "non_null" (func $non_null (param (ref extern)) (result (ref func))))
             (func $f (export "f") (type $t) (i32.const 9))
             (elem declare func $f)
             (func (export "pass") (param externref funcref) (result funcref externref)
               (call $pass (local.get 0) (local.get 1)))
             (func (export "non_null") (param externref) (result funcref)
               (call $non_null (ref.as_non_null (local.get 0)))))"#,
    )
    .unwrap();
    let mut linker: Linker<()> = Linker::new(&engine);
    linker
        .func_wrap("host", "pass", |e: Option<Rooted<ExternRef>>, f: Option<Func>| (f, e))
        .unwrap()
        .func_wrap("host", "non_null", |mut caller: Caller<'_, ()>, e: Rooted<ExternRef>| -> tenon::Result<Func> {
            let value = *e.data(&caller)?.unwrap().downcast_ref::<u32>().unwrap();
            Ok(Func::wrap(&mut caller, move || value as i32))
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    let hello = ExternRef::new(&mut store, String::from("hello")).unwrap();

    let pass = instance
        .get_typed_func::<(Option<Rooted<ExternRef>>, Option<Func>), (Option<Func>, Option<Rooted<ExternRef>>)>(
            &mut store, "pass",
        )
        .unwrap();
    let (back_f, back_e) = pass.call(&mut store, (Some(hello), Some(f))).unwrap();
    assert_eq!(back_f, Some(f));
    let back_e = back_e.unwrap();
    assert!(Rooted::ref_eq(&store, &back_e, &hello).unwrap());
    assert_eq!(back_e.data(&store).unwrap().unwrap().downcast_ref::<String>().unwrap(), "hello");
    *back_e.data_mut(&mut store).unwrap().unwrap().downcast_mut::<String>().unwrap() += ", world";
    assert_eq!(hello.data(&store).unwrap().unwrap().downcast_ref::<String>().unwrap(), "hello, world");
    assert_eq!(pass.call(&mut store, (None, None)).unwrap(), (None, None));

    // The same through `Val`.
    let untyped = instance.get_func(&mut store, "pass").unwrap();
    let mut results = [Val::null_func_ref(), Val::null_extern_ref()];
    untyped.call(&mut store, &[Val::from(hello), Val::from(f)], &mut results).unwrap();
    assert_eq!(results, [Val::FuncRef(Some(f)), Val::ExternRef(Some(hello))]);
    assert_eq!(results[0].ty(&store).unwrap(), ValType::Ref(RefType::new(false, HeapType::ConcreteFunc(f.ty(&store)))));
    assert_eq!(results[1].ty(&store).unwrap(), ValType::Ref(RefType::new(false, HeapType::Extern)));
    assert!(results[1].matches_ty(&store, &ValType::EXTERNREF).unwrap());
    assert!(!results[1].matches_ty(&store, &ValType::FUNCREF).unwrap());
    assert_eq!(Ref::from(f).ty(&store).unwrap().heap_type(), &HeapType::ConcreteFunc(f.ty(&store)));
    assert!(Ref::Func(None).is_null() && Ref::null(&HeapType::Extern).is_extern());

    // Non-nullable references: `Rooted<ExternRef>` in, `Func` out; a null traps before the host sees it.
    let seven = ExternRef::new(&mut store, 7u32).unwrap();
    let non_null = instance.get_typed_func::<Option<Rooted<ExternRef>>, Option<Func>>(&mut store, "non_null").unwrap();
    let made = non_null.call(&mut store, Some(seven)).unwrap().unwrap();
    assert_eq!(made.typed::<(), i32>(&store).unwrap().call(&mut store, ()).unwrap(), 7);
    let err = non_null.call(&mut store, None).unwrap_err();
    assert_eq!(err.downcast_ref::<tenon::Trap>(), Some(&tenon::Trap::NullReference));
}

#[test]
fn types_and_signatures_as_wasmtime_spells_them() {
    let engine = Engine::default();
    let ty = FuncType::new(&engine, [ValType::I32, ValType::FUNCREF], [ValType::EXTERNREF]);
    assert_eq!(ty.params().collect::<Vec<_>>(), [ValType::I32, ValType::FUNCREF]);
    assert_eq!(ty.param(1), Some(ValType::FUNCREF));
    assert_eq!(ty.result(0), Some(ValType::EXTERNREF));
    assert_eq!(ty.result(1), None);
    assert!(FuncType::eq(&ty, &FuncType::new(&engine, [ValType::I32, ValType::FUNCREF], [ValType::EXTERNREF])));
    assert!(ValType::FUNCREF.is_funcref() && !ValType::FUNCREF.is_externref() && ValType::EXTERNREF.is_externref());
    assert!(ValType::I32.is_i32() && ValType::F64.is_f64() && ValType::I64.is_num() && ValType::FUNCREF.is_ref());
    let concrete = ValType::Ref(RefType::new(false, HeapType::ConcreteFunc(ty.clone())));
    assert!(concrete.matches(&ValType::FUNCREF) && !ValType::FUNCREF.matches(&concrete));
    assert!(!concrete.is_funcref());
    assert_eq!(concrete.unwrap_ref().heap_type().unwrap_concrete_func(), &ty);
    assert_eq!(Val::default_for_ty(&ValType::FUNCREF), Some(Val::FuncRef(None)));
    assert_eq!(Val::default_for_ty(&concrete), None);

    // Memories and tables report their types as declared, whatever their current size.
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(5))).unwrap();
    memory.grow(&mut store, 2).unwrap();
    assert_eq!((memory.ty(&store), memory.size(&store)), (MemoryType::new(1, Some(5)), 3));
    let table = Table::new(&mut store, TableType::new(RefType::FUNCREF, 2, None), Ref::Func(None)).unwrap();
    table.grow(&mut store, 3, Ref::Func(None)).unwrap();
    assert_eq!((table.ty(&store).minimum(), table.size(&store)), (2, 5));

    // A module's name comes from its name section.
    let named = Module::new(&engine, "(module $calculator (func $add))").unwrap();
    assert_eq!(named.name(), Some("calculator"));
    assert_eq!(Module::new(&engine, "(module)").unwrap().name(), None);
    let instance = Instance::new(&mut store, &named, &[]).unwrap();
    assert_eq!(instance.module(&store).name(), Some("calculator"));
}
