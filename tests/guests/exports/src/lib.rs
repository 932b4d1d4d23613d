//! The `exports` guest: implements the `exports` world of `../wit`, whose functions echo or transform their
//! inputs so that the tests can check exact values for every WIT type.

// Some functions take many parameters on purpose (more than 16 flat values go through memory).
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    world: "exports",
    path: "../wit",
});

use exports::tenon::guest::values::{self, Color, Perms, Person, Point, Shape, Stats, Wide};
use std::sync::atomic::{AtomicU32, Ordering};

/// The component: the world's exports are implemented on it.
struct Component;

/// The calls of `bump` so far.
static BUMPS: AtomicU32 = AtomicU32::new(0);

impl Guest for Component {
    fn add(a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    fn reverse(s: String) -> String {
        s.chars().rev().collect()
    }

    fn echo_bool(x: bool) -> bool {
        x
    }

    fn echo_s8(x: i8) -> i8 {
        x
    }

    fn echo_u8(x: u8) -> u8 {
        x
    }

    fn echo_s16(x: i16) -> i16 {
        x
    }

    fn echo_u16(x: u16) -> u16 {
        x
    }

    fn echo_s32(x: i32) -> i32 {
        x
    }

    fn echo_u32(x: u32) -> u32 {
        x
    }

    fn echo_s64(x: i64) -> i64 {
        x
    }

    fn echo_u64(x: u64) -> u64 {
        x
    }

    fn echo_f32(x: f32) -> f32 {
        x
    }

    fn echo_f64(x: f64) -> f64 {
        x
    }

    fn echo_char(x: char) -> char {
        x
    }

    fn echo_string(x: String) -> String {
        x
    }

    fn echo_bytes(x: Vec<u8>) -> Vec<u8> {
        x
    }

    fn echo_strings(x: Vec<String>) -> Vec<String> {
        x
    }

    fn echo_option(x: Option<u32>) -> Option<u32> {
        x
    }

    fn echo_option_string(x: Option<String>) -> Option<String> {
        x
    }

    fn echo_result(x: Result<u32, String>) -> Result<u32, String> {
        x
    }

    fn echo_tuple(x: (u8, String, f64)) -> (u8, String, f64) {
        x
    }

    fn describe_scalars(a: bool, b: i8, c: u16, d: i32, e: u64, f: f32, g: f64, h: char, i: i16, j: u8) -> String {
        format!("{a} {b} {c} {d} {e} {f} {g} {h} {i} {j}")
    }

    fn lengths(xs: Vec<String>) -> (Vec<u32>, u64) {
        let lengths: Vec<u32> = xs.iter().map(|s| s.len() as u32).collect();
        let total = lengths.iter().map(|&n| u64::from(n)).sum();
        (lengths, total)
    }

    fn divmod(a: u32, b: u32) -> Result<(u32, u32), String> {
        match b {
            0 => Err(format!("cannot divide {a} by zero")),
            _ => Ok((a / b, a % b)),
        }
    }

    fn check_even(x: u32) -> Result<(), ()> {
        if x.is_multiple_of(2) { Ok(()) } else { Err(()) }
    }

    fn double_bytes(x: Vec<u8>) -> (u32, Vec<u8>) {
        (x.len() as u32, x.iter().map(|b| b.wrapping_mul(2)).collect())
    }

    fn parse(s: String) -> Result<u32, ()> {
        s.parse().map_err(|_| ())
    }

    fn validate_name(name: String) -> Result<(), String> {
        if name.is_empty() {
            Err("empty name".to_string())
        } else if let Some(c) = name.chars().find(|c| !c.is_ascii_alphabetic()) {
            Err(format!("bad character {c:?} in {name:?}"))
        } else {
            Ok(())
        }
    }

    fn split(s: String, sep: char) -> Option<Vec<String>> {
        s.contains(sep).then(|| s.split(sep).map(str::to_string).collect())
    }

    fn bump() -> u32 {
        BUMPS.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn nothing() {}

    fn sum17(
        a0: u8,
        a1: i8,
        a2: u16,
        a3: i16,
        a4: u32,
        a5: i32,
        a6: u64,
        a7: i64,
        a8: f32,
        a9: f64,
        a10: u32,
        a11: u32,
        a12: u32,
        a13: u32,
        a14: u32,
        a15: u32,
        a16: u32,
    ) -> f64 {
        let ints = [f64::from(a0), f64::from(a1), f64::from(a2), f64::from(a3), f64::from(a4), f64::from(a5)];
        let wide = [a6 as f64, a7 as f64, f64::from(a8), a9];
        let rest = [a10, a11, a12, a13, a14, a15, a16].map(f64::from);
        ints.iter().chain(&wide).chain(&rest).sum()
    }

    fn join9(
        a: String,
        b: String,
        c: String,
        d: String,
        e: String,
        f: String,
        g: String,
        h: String,
        i: String,
    ) -> String {
        [a, b, c, d, e, f, g, h, i].join("-")
    }

    fn divide(a: u32, b: u32) -> (u32, u32, bool, String) {
        let (q, r) = (a.checked_div(b).unwrap_or(0), a.checked_rem(b).unwrap_or(a));
        (q, r, b != 0 && r == 0, format!("{a} = {q} * {b} + {r}"))
    }

    fn boom(msg: String) {
        panic!("boom: {msg}");
    }
}

impl values::Guest for Component {
    fn echo_point(p: Point) -> Point {
        p
    }

    fn translate(p: Point, dx: i32, dy: i32) -> Point {
        Point { x: p.x.wrapping_add(dx), y: p.y.wrapping_add(dy) }
    }

    fn manhattan(a: (i32, i32), b: (i32, i32)) -> u32 {
        a.0.abs_diff(b.0) + a.1.abs_diff(b.1)
    }

    fn echo_person(p: Person) -> Person {
        p
    }

    fn birthday(mut p: Person) -> Person {
        p.age = p.age.saturating_add(1);
        p.tags.push("older".to_string());
        p
    }

    fn echo_people(people: Vec<Person>) -> Vec<Person> {
        people
    }

    fn oldest(people: Vec<Person>) -> Option<Person> {
        // `max_by_key` keeps the last of equals: go backwards to keep the first.
        people.into_iter().rev().max_by_key(|p| p.age)
    }

    fn echo_shape(s: Shape) -> Shape {
        s
    }

    fn area(s: Shape) -> f32 {
        match s {
            Shape::Circle(r) => std::f32::consts::PI * r * r,
            Shape::Rect(p) => (p.x as f32 * p.y as f32).abs(),
            Shape::Label(_) | Shape::Empty => 0.0,
        }
    }

    fn echo_color(c: Color) -> Color {
        c
    }

    fn next_color(c: Color) -> Color {
        match c {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Yellow,
            Color::Yellow => Color::Red,
        }
    }

    fn echo_perms(p: Perms) -> Perms {
        p
    }

    fn invert_perms(p: Perms) -> Perms {
        p.complement()
    }

    fn echo_wide(w: Wide) -> Wide {
        w
    }

    fn stats_of(xs: Vec<f64>) -> Stats {
        if xs.is_empty() {
            return Stats { count: 0, min: 0.0, max: 0.0, mean: 0.0 };
        }
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        Stats { count: xs.len() as u32, min, max, mean }
    }

    fn echo_nested(x: Result<Vec<Option<Point>>, Shape>) -> Result<Vec<Option<Point>>, Shape> {
        x
    }
}

export!(Component);
