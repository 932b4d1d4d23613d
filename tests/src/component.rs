//! Pieces of component text the component tests share.

/// A core module instance `$libc` with a memory and a bump allocator as `realloc`: allocations start at
/// 4096 (below is free for the tests' own data), reallocation copies, the memory grows as needed, and the
/// exported global `calls` counts the calls.
pub const LIBC: &str = r#"
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 4096))
    (global $calls (export "calls") (mut i32) (i32.const 0))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $ptr i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (local.set $ptr (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $ptr) (local.get $size)))
      (block $fits
        (br_if $fits (i32.le_u (global.get $next) (i32.mul (memory.size) (i32.const 65536))))
        (drop (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
                                                (i32.const 16)) (i32.const 1)))))
      (if (local.get $old)
        (then (memory.copy (local.get $ptr) (local.get $old)
                (select (local.get $old_size) (local.get $size) (i32.lt_u (local.get $old_size) (local.get $size))))))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))
"#;

/// Canonical options using [`LIBC`]'s memory and `realloc`.
pub const OPTIONS: &str = r#"(memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))"#;
