//! The benchmarks' wasm modules: small hand-written ones, a generated one for instantiation, and the guest.

/// Calls in both directions: exports to call from the host, and a loop calling the imported host `add`.
pub const CALLS: &str = r#"
(module
  (import "host" "add" (func $host_add (param i32 i32) (result i32)))
  (func (export "nop"))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  ;; Calls the host's add `n` times, threading the result through so no call is dead.
  (func (export "call_host") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $host_add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
"#;

/// Host calls per `call_host` invocation in the wasm → host benchmark.
pub const HOST_CALLS_PER_LOOP: u64 = 1_000_000;

/// What `call_host(n)` returns: the wrapping i32 sum of `n, n-1, ..., 1`.
pub fn host_calls_result(n: u64) -> i32 {
    (n * (n + 1) / 2) as i32
}

/// Memory instructions: `grow` grows by one page `n` times (trapping if a grow fails); `copy` and `fill` move one MiB `n` times.
pub const MEMORY: &str = r#"
(module
  (memory (export "memory") 33 65536)
  (func (export "grow") (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))
  (func (export "copy") (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (memory.copy (i32.const 0x100000) (i32.const 0) (i32.const 0x100000))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))
  (func (export "fill") (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (memory.fill (i32.const 0) (local.get $n) (i32.const 0x100000))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))))
"#;

/// Pages the memory module starts with; `grow` must stay below its maximum of 65536.
pub const MEMORY_INITIAL_PAGES: u64 = 33;

/// Functions in the instantiation benchmark's module.
pub const INSTANTIATE_FUNCS: usize = 300;

/// A module with a memory and a data segment, a table filled by an element segment, globals, and
/// [`INSTANTIATE_FUNCS`] small functions, all exported: what instantiation has to set up for a typical program.
pub fn instantiate_module() -> String {
    let mut wat = String::from("(module\n  (memory (export \"memory\") 1)\n");
    wat += "  (data (i32.const 16) \"instantiation benchmark data\")\n";
    wat += &format!("  (table (export \"table\") {INSTANTIATE_FUNCS} funcref)\n");
    wat += "  (global $counter (export \"counter\") (mut i32) (i32.const 0))\n";
    wat += "  (global $base (export \"base\") i32 (i32.const 1024))\n";
    for i in 0..INSTANTIATE_FUNCS {
        wat += &format!(
            "  (func $f{i} (export \"f{i}\") (param i32) (result i32)\n    \
             (global.set $counter (i32.add (global.get $counter) (i32.const 1)))\n    \
             (i32.store (i32.add (global.get $base) (i32.const {offset})) (local.get 0))\n    \
             (i32.add (local.get 0) (i32.const {i})))\n",
            offset = (i % 256) * 4
        );
    }
    wat += "  (elem (i32.const 0) func";
    for i in 0..INSTANTIATE_FUNCS {
        wat += &format!(" $f{i}");
    }
    wat += "))\n";
    wat
}

/// The guest program (benches/guest, built for wasm32-unknown-unknown by the build script): the compute
/// kernels and a regex/JSON/Markdown/TOML/Rust-parsing workload, a few megabytes of real Rust code.
pub fn guest() -> Vec<u8> {
    let path = env!("TENON_BENCH_GUEST");
    std::fs::read(path).unwrap_or_else(|e| panic!("reading the guest module {path}: {e}"))
}

/// Bytes to hash in the sha256 benchmark.
pub const SHA256_LEN: usize = 1 << 20;
/// Rows (and columns) of the matrices in the matmul benchmark.
pub const MATMUL_N: usize = 200;
/// Values to sort in the quicksort benchmark.
pub const SORT_LEN: usize = 1_000_000;
/// The argument of the fib benchmark.
pub const FIB_N: u32 = 30;

/// The sha256 benchmark's input: a deterministic byte pattern.
pub fn sha256_input() -> Vec<u8> {
    (0..SHA256_LEN).map(|i| (i * 31 % 251) as u8).collect()
}

/// The matmul benchmark's two input matrices.
pub fn matmul_inputs() -> (Vec<f64>, Vec<f64>) {
    let n = MATMUL_N;
    let a = (0..n * n).map(|i| (i % 17) as f64 * 0.25 - 1.0).collect();
    let b = (0..n * n).map(|i| (i % 13) as f64 * 0.5 + 0.125).collect();
    (a, b)
}

/// Records in the JSON document of the `count_emails` benchmark.
pub const EMAIL_RECORDS: usize = 4000;

/// The `count_emails` benchmark's input: a JSON array of [`EMAIL_RECORDS`] people with nested contact
/// details, about 1 MB, and how many of its string values are e-mail addresses. A deterministic mix of
/// valid addresses (some with non-ASCII letters) and near misses (no `@`, no dot in the domain, a one-letter
/// top-level domain, a space).
pub fn emails_json() -> (String, i32) {
    let mut json = String::from("[");
    let mut expected = 0;
    let mut state = 0x2545_f491_u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for i in 0..EMAIL_RECORDS {
        let user = [
            "ana",
            "bo",
            "chloé",
            "dmitri",
            "eun.ji",
            "fatima_k",
            "günter",
            "hiro+news",
        ][next() as usize % 8];
        let domain =
            ["example.com", "mail.example.org", "société.fr", "uni-x.edu"][next() as usize % 4];
        let (email, valid) = match next() % 6 {
            0 => (format!("{user}{i}.example.com"), false),
            1 => (format!("{user}{i}@localhost"), false),
            2 => (format!("{user}{i}@{domain}.x"), false),
            3 => (format!("{user} {i}@{domain}"), false),
            _ => (format!("{user}{i}@{domain}"), true),
        };
        let (backup, backup_valid) = if next() % 3 == 0 {
            (format!("backup{i}@{domain}"), true)
        } else {
            (String::from("none"), false)
        };
        expected += valid as i32 + backup_valid as i32;
        if i > 0 {
            json.push(',');
        }
        json += &format!(
            r#"{{"id":{i},"name":"{user} {i}","active":{},"score":{}.{},"contact":{{"email":"{email}","phones":["+1-555-{:04}"],"backup":"{backup}"}},"tags":["t{}","t{}"],"notes":"lorem ipsum dolor sit amet, consectetur adipiscing elit @ {i}"}}"#,
            next() % 2 == 0,
            next() % 1000,
            next() % 100,
            next() % 10000,
            next() % 50,
            next() % 50,
        );
    }
    json.push(']');
    (json, expected)
}

/// The guest program as a component: its module, instantiated (it imports nothing).
pub fn guest_component(guest: &[u8]) -> Vec<u8> {
    use wasm_encoder::{ComponentSectionId, InstanceSection, RawSection};
    let mut component = wasm_encoder::Component::new();
    component.section(&RawSection { id: ComponentSectionId::CoreModule as u8, data: guest });
    let mut instances = InstanceSection::new();
    instances.instantiate::<[(&str, wasm_encoder::ModuleArg); 0], &str>(0, []);
    component.section(&instances);
    component.finish()
}

/// Host calls per `host-loop` call in the component guest-to-host benchmark.
pub const COMPONENT_HOST_CALLS: u64 = 100_000;

/// The component of the component benchmarks: `nop`, `add`, `echo-string`, `echo-bytes`, `echo-record` (a
/// `tuple<u32, string, f64>`), and `host-loop(n)` calling the imported `host-add` `n` times. Its allocator
/// (the tests' bump allocator) is reset by `post-return`, so echoes of large values reuse the same memory.
pub fn component() -> String {
    let libc = tenon_tests::component::LIBC;
    let options = r#"(memory (core memory $libc "memory")) (realloc (core func $libc "realloc")) (post-return (core func $libc "reset"))"#;
    format!(
        r#"(component
  (import "host-add" (func $host-add (param "a" u32) (param "b" u32) (result u32)))
  {libc}
  (core func $host-add-lowered (canon lower (func $host-add)))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "" "host-add" (func $host-add (param i32 i32) (result i32)))
    (func (export "nop"))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    ;; Strings and lists: the pair (pointer, length) goes back at 16.
    (func (export "echo-pair") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))
    ;; tuple<u32, string, f64>: u32 at 0, string at 4, f64 at 16 of the record at 32.
    (func (export "echo-record") (param i32 i32 i32 f64) (result i32)
      (i32.store (i32.const 32) (local.get 0))
      (i32.store (i32.const 36) (local.get 1))
      (i32.store (i32.const 40) (local.get 2))
      (f64.store (i32.const 48) (local.get 3))
      (i32.const 32))
    (func (export "host-loop") (param $n i32) (result i32)
      (local $acc i32)
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $acc (call $host-add (local.get $acc) (local.get $n)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
      (local.get $acc)))
  (core instance $i (instantiate $m (with "libc" (instance $libc))
                                    (with "" (instance (export "host-add" (func $host-add-lowered))))))
  (func (export "nop") (canon lift (core func $i "nop")))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "echo-string") (param "s" string) (result string) (canon lift (core func $i "echo-pair") {options}))
  (func (export "echo-bytes") (param "b" (list u8)) (result (list u8)) (canon lift (core func $i "echo-pair") {options}))
  (func (export "echo-record") (param "r" (tuple u32 string f64)) (result (tuple u32 string f64))
    (canon lift (core func $i "echo-record") {options}))
  (func (export "host-loop") (param "n" u32) (result u32) (canon lift (core func $i "host-loop"))))"#
    )
}

/// Calls per loop in the component-to-component benchmarks.
pub const ADAPTER_CALLS: u64 = 10_000;

/// Two sibling component instances, one calling the other through fused adapters: the caller's `add-loop(n)`
/// calls the callee's `add(a, b)` `n` times, and `echo-loop(n)` passes it a 16-byte string to echo back `n`
/// times (each side's bump allocator reset by its own code: the callee's by `post-return`).
pub fn adapter_component() -> String {
    let libc = tenon_tests::component::LIBC;
    let options = r#"(memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))"#;
    format!(
        r#"(component
  (component $callee
    {libc}
    (core module $m
      (import "libc" "memory" (memory 1))
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
      (func (export "echo-pair") (param i32 i32) (result i32)
        (i32.store (i32.const 16) (local.get 0))
        (i32.store (i32.const 20) (local.get 1))
        (i32.const 16)))
    (core instance $i (instantiate $m (with "libc" (instance $libc))))
    (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
    (func (export "echo-string") (param "s" string) (result string)
      (canon lift (core func $i "echo-pair") {options} (post-return (core func $libc "reset")))))
  (component $caller
    (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
    (import "echo-string" (func $echo (param "s" string) (result string)))
    {libc}
    (core func $add (canon lower (func $add)))
    (core func $echo (canon lower (func $echo) {options}))
    (core module $caller
      (import "libc" "memory" (memory 1))
      (import "libc" "reset" (func $reset (param i32)))
      (import "" "add" (func $add (param i32 i32) (result i32)))
      (import "" "echo" (func $echo (param i32 i32 i32)))
      (data (i32.const 64) "tenon tenon tenon")
      (func (export "add-loop") (param $n i32) (result i32)
        (local $acc i32)
        (block $done
          (loop $next
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $acc (call $add (local.get $acc) (local.get $n)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $next)))
        (local.get $acc))
      (func (export "echo-loop") (param $n i32) (result i32)
        (local $bytes i32)
        (block $done
          (loop $next
            (br_if $done (i32.eqz (local.get $n)))
            (call $echo (i32.const 64) (i32.const 16) (i32.const 32))
            (local.set $bytes (i32.add (local.get $bytes) (i32.load (i32.const 36))))
            (call $reset (i32.const 0))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $next)))
        (local.get $bytes)))
    (core instance $c (instantiate $caller (with "libc" (instance $libc))
      (with "" (instance (export "add" (func $add)) (export "echo" (func $echo))))))
    (func (export "add-loop") (param "n" u32) (result u32) (canon lift (core func $c "add-loop")))
    (func (export "echo-loop") (param "n" u32) (result u32) (canon lift (core func $c "echo-loop"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller (with "add" (func $callee "add")) (with "echo-string" (func $callee "echo-string"))))
  (export "add-loop" (func $caller "add-loop"))
  (export "echo-loop" (func $caller "echo-loop")))"#
    )
}
