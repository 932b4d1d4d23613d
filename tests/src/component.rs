//! Pieces of component text the component tests share.

/// A core module instance `$libc` with a memory and a bump allocator as `realloc`: allocations start at
/// 4096 (below is free for the tests' own data), reallocation copies, the memory grows as needed, the
/// exported global `calls` counts the calls, and `reset` (a `post-return`) frees everything.
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
      (local.get $ptr))
    (func (export "reset") (param i32) (global.set $next (i32.const 4096))))
  (core instance $libc (instantiate $libc))
"#;

/// Canonical options using [`LIBC`]'s memory and `realloc`.
pub const OPTIONS: &str = r#"(memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))"#;

/// A component exporting `echo: func(x: $t) -> $t` implemented by calling the imported `host-echo` of the
/// same type with the same core arguments, so a value crosses the boundary four times: host → guest (flat),
/// guest → host (lifted from the flat arguments), host → guest (the result, lowered into memory or flat)
/// and back (lifted again). `types` declares `$t`; `params` are its core parameter types, `result` its core
/// result type if it fits in one, `None` if results go through memory; `options` are extra canonical
/// options (a string encoding, say).
pub fn echo_component(types: &str, params: &[&str], result: Option<&str>, options: &str) -> String {
    let locals: String = (0..params.len()).map(|i| format!("(local.get {i})")).collect();
    let core_params = params.join(" ");
    let (import_sig, export_sig, body) = match result {
        Some(r) => (format!("(param {core_params}) (result {r})"), format!("(param {core_params}) (result {r})"), format!("(call $host {locals})")),
        None => (
            format!("(param {core_params} i32)"),
            format!("(param {core_params}) (result i32)"),
            format!("(call $host {locals} (i32.const 64)) (i32.const 64)"),
        ),
    };
    let options = format!("{OPTIONS} {options}");
    format!(
        r#"(component
          {types}
          (import "host-echo" (func $host (param "x" $t) (result $t)))
          {LIBC}
          (core func $host-lowered (canon lower (func $host) {options}))
          (core module $m
            (import "libc" "memory" (memory 1))
            (import "" "host" (func $host {import_sig}))
            (func (export "echo") {export_sig} {body}))
          (core instance $i (instantiate $m (with "libc" (instance $libc))
                                            (with "" (instance (export "host" (func $host-lowered))))))
          (func (export "echo") (param "x" $t) (result $t) (canon lift (core func $i "echo") {options})))"#
    )
}
