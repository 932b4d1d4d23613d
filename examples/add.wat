;; A component for `tenon run`: `add(1, 2)` prints 3, `greet("you")` prints "Hello, you!", and the exported
;; interface `example:demo/math` has `mul`: `tenon run examples/add.wat --invoke 'example:demo/math.mul(6, 7)'`.
(component
  (core module $m
    (memory (export "memory") 1)
    (data (i32.const 16) "Hello, ")
    (global $next (mut i32) (i32.const 1024))
    ;; A bump allocator: strings passed in are never freed in this example.
    (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr (global.get $next))
      (global.set $next (i32.add (global.get $next) (local.get 3)))
      (local.get $ptr))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1)))
    ;; "Hello, " + name + "!", returned through the pair at 0.
    (func (export "greet") (param $name i32) (param $len i32) (result i32)
      (local $out i32)
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.add (local.get $len) (i32.const 8))))
      (memory.copy (local.get $out) (i32.const 16) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $name) (local.get $len))
      (i32.store8 (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 7))) (i32.const 33))
      (i32.store (i32.const 0) (local.get $out))
      (i32.store (i32.const 4) (i32.add (local.get $len) (i32.const 8)))
      (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "greet") (param "name" string) (result string)
    (canon lift (core func $i "greet") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func $mul (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "mul")))
  (instance $math (export "mul" (func $mul)))
  (export "example:demo/math" (instance $math)))
