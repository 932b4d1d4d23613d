;; A component importing a host resource type `counter`: it makes counters through the host, reads them
;; through borrows, drops them, and hands them out. Used by tests/tests/component_resources.rs and by
;; api-compat (benches/benches/api_compat/components.rs).
(component
  (import "counter" (type $c (sub resource)))
  (import "new-counter" (func $new (param "start" u32) (result (own $c))))
  (import "get" (func $get (param "self" (borrow $c)) (result u32)))
  (core func $new-core (canon lower (func $new)))
  (core func $get-core (canon lower (func $get)))
  (core func $drop (canon resource.drop $c))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "get" (func $get (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    ;; Makes a counter, reads it through a borrow, drops it; the value read.
    (func (export "roundtrip") (param i32) (result i32)
      (local $h i32) (local $v i32)
      (local.set $h (call $new (local.get 0)))
      (local.set $v (call $get (local.get $h)))
      (call $drop (local.get $h))
      (local.get $v))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    ;; Reads a lent counter, then drops the borrow, as the callee of a borrow must.
    (func (export "peek") (param i32) (result i32)
      (local $v i32)
      (local.set $v (call $get (local.get 0)))
      (call $drop (local.get 0))
      (local.get $v))
    ;; Reads a lent counter and keeps the borrow: a trap when the call returns.
    (func (export "peek-and-keep") (param i32) (result i32) (call $get (local.get 0)))
    (func (export "consume") (param i32) (call $drop (local.get 0)))
    (func (export "drop-twice") (param i32) (call $drop (local.get 0)) (call $drop (local.get 0)))
    (func (export "get-42") (result i32) (call $get (i32.const 42)))
    (func (export "get-0") (result i32) (call $get (i32.const 0))))
  (core instance $i (instantiate $m
    (with "" (instance (export "new" (func $new-core)) (export "get" (func $get-core)) (export "drop" (func $drop))))))
  (func (export "roundtrip") (param "start" u32) (result u32) (canon lift (core func $i "roundtrip")))
  (func (export "make") (param "start" u32) (result (own $c)) (canon lift (core func $i "make")))
  (func (export "peek") (param "c" (borrow $c)) (result u32) (canon lift (core func $i "peek")))
  (func (export "peek-and-keep") (param "c" (borrow $c)) (result u32) (canon lift (core func $i "peek-and-keep")))
  (func (export "consume") (param "c" (own $c)) (canon lift (core func $i "consume")))
  (func (export "drop-twice") (param "c" (own $c)) (canon lift (core func $i "drop-twice")))
  (func (export "get-42") (result u32) (canon lift (core func $i "get-42")))
  (func (export "get-0") (result u32) (canon lift (core func $i "get-0"))))
