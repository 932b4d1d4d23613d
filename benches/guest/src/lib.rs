//! The guest side of the benchmarks: C-ABI exports over the shared kernels, and a regex + JSON workload that
//! makes this a real, multi-megabyte program for the compile benchmark.

use tenon_bench_kernels as kernels;

/// Allocates `len` bytes (8-aligned) that the host fills; never freed (the benchmarks allocate once).
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let words = vec![0u64; len.div_ceil(8)];
    Box::leak(words.into_boxed_slice()).as_mut_ptr().cast()
}

/// The `n`th Fibonacci number, recursively.
#[unsafe(no_mangle)]
pub extern "C" fn fib(n: u32) -> u32 {
    kernels::fib(n)
}

/// Writes the SHA-256 digest of `len` bytes at `data` to the 32 bytes at `out`.
///
/// # Safety
/// `data` must point to `len` readable bytes and `out` to 32 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sha256(data: *const u8, len: usize, out: *mut u8) {
    // SAFETY: the caller passes buffers it obtained from `alloc` with these lengths.
    let (data, out) = unsafe { (std::slice::from_raw_parts(data, len), &mut *out.cast::<[u8; 32]>()) };
    *out = kernels::sha256(data);
}

/// `c = a * b` for row-major `n`×`n` f64 matrices.
///
/// # Safety
/// Each pointer must point to `n * n` f64s, and `c` must not overlap `a` or `b`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn matmul(a: *const f64, b: *const f64, c: *mut f64, n: usize) {
    // SAFETY: the caller passes three distinct `alloc` buffers of n*n f64s.
    let (a, b, c) = unsafe {
        (
            std::slice::from_raw_parts(a, n * n),
            std::slice::from_raw_parts(b, n * n),
            std::slice::from_raw_parts_mut(c, n * n),
        )
    };
    kernels::matmul(a, b, c, n);
}

/// Fills `len` i32s at `values` from `seed`, quicksorts them, and returns 1 if the result is sorted.
///
/// # Safety
/// `values` must point to `len` writable i32s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn quicksort(values: *mut i32, len: usize, seed: u32) -> u32 {
    // SAFETY: the caller passes an `alloc` buffer of `len` i32s.
    let values = unsafe { std::slice::from_raw_parts_mut(values, len) };
    kernels::fill_random(values, seed);
    kernels::quicksort(values);
    kernels::is_sorted(values) as u32
}

/// Parses `len` bytes of JSON at `text` and counts the string values that look like e-mail addresses;
/// returns -1 when the text is not JSON.
///
/// # Safety
/// `text` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn count_emails(text: *const u8, len: usize) -> i32 {
    // SAFETY: the caller passes an `alloc` buffer of `len` bytes.
    let text = unsafe { std::slice::from_raw_parts(text, len) };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(text) else { return -1 };
    let email = regex::Regex::new(r"^[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}$").unwrap();
    let mut count = 0;
    let mut stack = vec![&value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) if email.is_match(s) => count += 1,
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(fields) => stack.extend(fields.values()),
            _ => {}
        }
    }
    count
}

/// Renders `len` bytes of Markdown at `text` to HTML and returns the HTML's length in bytes.
///
/// # Safety
/// `text` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn markdown_to_html(text: *const u8, len: usize) -> usize {
    // SAFETY: the caller passes an `alloc` buffer of `len` bytes.
    let text = unsafe { std::slice::from_raw_parts(text, len) };
    let Ok(text) = std::str::from_utf8(text) else { return 0 };
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::all()));
    html.len()
}

/// Parses `len` bytes of TOML at `text` and returns its number of top-level keys, or -1 when it is not TOML.
///
/// # Safety
/// `text` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn toml_keys(text: *const u8, len: usize) -> i32 {
    // SAFETY: the caller passes an `alloc` buffer of `len` bytes.
    let text = unsafe { std::slice::from_raw_parts(text, len) };
    let Ok(text) = std::str::from_utf8(text) else { return -1 };
    match text.parse::<toml::Table>() {
        Ok(table) => table.len() as i32,
        Err(_) => -1,
    }
}

/// Parses `len` bytes of Rust source at `text` and returns how many functions it defines, or -1 when it does
/// not parse.
///
/// # Safety
/// `text` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rust_fn_count(text: *const u8, len: usize) -> i32 {
    struct FnCounter(i32);
    impl<'ast> syn::visit::Visit<'ast> for FnCounter {
        fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
            self.0 += 1;
            syn::visit::visit_item_fn(self, item);
        }
        fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
            self.0 += 1;
            syn::visit::visit_impl_item_fn(self, item);
        }
    }
    // SAFETY: the caller passes an `alloc` buffer of `len` bytes.
    let text = unsafe { std::slice::from_raw_parts(text, len) };
    let Ok(text) = std::str::from_utf8(text) else { return -1 };
    let Ok(file) = syn::parse_file(text) else { return -1 };
    let mut counter = FnCounter(0);
    syn::visit::Visit::visit_file(&mut counter, &file);
    counter.0
}
