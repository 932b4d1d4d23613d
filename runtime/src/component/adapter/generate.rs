//! Generating an adapter's core module: the code that moves each value from one side to the other.

use super::{Direction, Helper, SideOptions, fail_code, flags_name, names};
use crate::Trap;
use crate::component::abi::layout::{discriminant_size, field_offsets};
use crate::component::abi::{FlatType, FlatTypes, MAX_BYTE_LENGTH, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, UTF16_TAG};
use crate::component::translate::StringEncoding;
use crate::component::type_table::{ComponentTypes, InterfaceType, TypeFuncIndex};
use crate::vm::ComponentFlags;
use wasm_encoder::{
    BlockType, CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType, ImportSection, Instruction as I,
    MemArg, MemArgTarget, MemoryType, TypeSection, ValType,
};

/// A generated adapter module.
#[derive(Debug)]
pub(crate) struct AdapterModule {
    /// The core module, in binary form.
    pub bytes: Vec<u8>,
    /// The handle types the `resource` helper moves, with their direction, by code.
    pub resources: Vec<(InterfaceType, Direction)>,
}

/// Generates the adapter through which a caller with options `caller` calls a function of type `ty`
/// lifted with options `callee`, entering the (nested) component instances `entering`.
pub(crate) fn generate(
    types: &ComponentTypes,
    ty: TypeFuncIndex,
    caller: SideOptions,
    callee: SideOptions,
    entering: &[usize],
) -> anyhow::Result<AdapterModule> {
    let func = types.func(ty);
    let mut param_flat = FlatTypes::new(MAX_FLAT_PARAMS);
    let params_flat = func.params.iter().all(|(_, ty)| param_flat.push_type(types, *ty));
    let result_flat = func.result.map(|ty| types.flat(ty, MAX_FLAT_RESULTS));
    let param_types: Vec<ValType> = if params_flat { param_flat.as_slice().iter().copied().map(core_type).collect() } else { vec![ValType::I32] };
    let (mut lowered_params, mut lowered_results, mut lifted_results) = (param_types.clone(), Vec::new(), Vec::new());
    match &result_flat {
        Some(Some(flat)) => {
            lowered_results.extend(flat.as_slice().iter().copied().map(core_type));
            lifted_results.extend(flat.as_slice().iter().copied().map(core_type));
        }
        Some(None) => {
            lowered_params.push(ValType::I32);
            lifted_results.push(ValType::I32);
        }
        None => {}
    }

    // Imports: the callee and the options' functions, then (once the code says which it uses) the helpers;
    // memories; the flags. One type per function, in the same order.
    let mut type_section = TypeSection::new();
    let mut imports = ImportSection::new();
    let mut num_funcs = 0;
    let mut import_func = |imports: &mut ImportSection, name: &str, params: &[ValType], results: &[ValType]| {
        type_section.ty().function(params.iter().copied(), results.iter().copied());
        imports.import("tenon", name, EntityType::Function(num_funcs));
        num_funcs += 1;
        num_funcs - 1
    };
    let callee_index = import_func(&mut imports, names::CALLEE, &param_types, &lifted_results);
    let realloc_sig = [ValType::I32; 4];
    let caller_realloc = caller.realloc.then(|| import_func(&mut imports, names::CALLER_REALLOC, &realloc_sig, &[ValType::I32]));
    let callee_realloc = callee.realloc.then(|| import_func(&mut imports, names::CALLEE_REALLOC, &realloc_sig, &[ValType::I32]));
    let post_return = callee.post_return.then(|| import_func(&mut imports, names::POST_RETURN, &lifted_results, &[]));
    let mut num_memories = 0;
    let mut import_memory = |name: &str| {
        let ty = MemoryType { minimum: 0, maximum: None, memory64: false, shared: false, page_size_log2: None };
        imports.import("tenon", name, EntityType::Memory(ty));
        num_memories += 1;
        num_memories - 1
    };
    let caller_memory = caller.memory.then(|| import_memory(names::CALLER_MEMORY));
    let callee_memory = callee.memory.then(|| import_memory(names::CALLEE_MEMORY));
    // The flags of every instance the adapter looks at, one mutable `i32` global each.
    let mut flags: Vec<usize> = vec![caller.instance, callee.instance];
    flags.extend(entering);
    flags.sort_unstable();
    flags.dedup();
    for instance in &flags {
        let ty = GlobalType { val_type: ValType::I32, mutable: true, shared: false };
        imports.import("tenon", &flags_name(*instance), EntityType::Global(ty));
    }
    let global = |instance: usize| flags.iter().position(|i| *i == instance).expect("imported above") as u32;
    let borrows = func.params.iter().any(|(_, ty)| has_borrow(types, *ty));

    let mut g = Gen {
        types,
        code: Vec::new(),
        locals: Vec::new(),
        free: Vec::new(),
        missing: None,
        num_params: lowered_params.len() as u32,
        sides: [
            Side { flags: global(caller.instance), memory: caller_memory, realloc: caller_realloc, encoding: caller.encoding },
            Side { flags: global(callee.instance), memory: callee_memory, realloc: callee_realloc, encoding: callee.encoding },
        ],
        resources: Vec::new(),
    };
    // Entering: the caller may leave, and none of the instances entered is running or locked down.
    g.code.extend([I::GlobalGet(g.sides[0].flags), I::I32Const(ComponentFlags::MAY_LEAVE), I::I32And, I::I32Eqz]);
    g.fail_if(Trap::CannotLeaveComponent);
    let entering: Vec<u32> = entering.iter().map(|i| global(*i)).collect();
    for &flags in &entering {
        g.code.extend([I::GlobalGet(flags), I::I32Const(ComponentFlags::ENTERED | ComponentFlags::POISONED), I::I32And]);
        g.fail_if(Trap::CannotEnterComponent);
        g.set_flag(flags, ComponentFlags::ENTERED, true);
    }
    if borrows {
        g.call(Helper::BeginCall.index());
    }

    // The arguments: flat, or in a record in each side's memory.
    let param_tys: Vec<InterfaceType> = func.params.iter().map(|(_, ty)| *ty).collect();
    let (src, dst) = if params_flat {
        let flat = param_flat.as_slice();
        let src = Place::Flat(flat.iter().enumerate().map(|(i, t)| Slot { local: i as u32, has: *t, want: *t }).collect());
        let dst = Place::Flat(flat.iter().map(|t| Slot { local: g.local(core_type(*t)), has: *t, want: *t }).collect());
        (src, dst)
    } else {
        let abi = func.params_abi;
        g.check_aligned(0, abi.align);
        let size = g.const_local(abi.size as i32);
        let memory = g.memory(caller_memory);
        g.check_bounds(memory, 0, size, Trap::MemoryOutOfBounds);
        let ptr = g.allocate(Direction::Params, abi.align, size, Trap::MemoryOutOfBounds);
        (g.memory_place(Direction::Params, false, 0), g.memory_place(Direction::Params, true, ptr))
    };
    g.tuple(&param_tys, &src, &dst, Direction::Params);
    match &dst {
        Place::Flat(slots) => slots.iter().for_each(|s| g.code.push(I::LocalGet(s.local))),
        Place::Memory { addr, .. } => g.code.push(I::LocalGet(*addr)),
    }
    g.call(callee_index);
    let core_result = lifted_results.first().map(|t| {
        let local = g.local(*t);
        g.code.push(I::LocalSet(local));
        local
    });
    // The callee must have dropped the handles lent to it before its result goes anywhere (the spec's
    // `task.return` checks before the caller sees the result).
    if borrows {
        g.call(Helper::EndCall.index());
    }

    // The result: flat, or through the callee's returned pointer into the caller's return pointer.
    let mut flat_result = None;
    if let (Some(result_ty), Some(core_result)) = (func.result, core_result) {
        match result_flat.flatten() {
            Some(flat) => {
                let t = flat.as_slice()[0];
                let dst_local = g.local(core_type(t));
                let src = Place::Flat(vec![Slot { local: core_result, has: t, want: t }]);
                let dst = Place::Flat(vec![Slot { local: dst_local, has: t, want: t }]);
                g.translate(result_ty, &src, &dst, Direction::Results);
                flat_result = Some(dst_local);
            }
            None => {
                let abi = types.abi(result_ty);
                let retptr = lowered_params.len() as u32 - 1;
                let size = g.const_local(abi.size as i32);
                for (ptr, memory) in [(core_result, callee_memory), (retptr, caller_memory)] {
                    g.check_aligned(ptr, abi.align);
                    let memory = g.memory(memory);
                    g.check_bounds(memory, ptr, size, Trap::MemoryOutOfBounds);
                }
                let src = g.memory_place(Direction::Results, false, core_result);
                let dst = g.memory_place(Direction::Results, true, retptr);
                g.translate(result_ty, &src, &dst, Direction::Results);
            }
        }
    }
    if let Some(post_return) = post_return {
        let callee_flags = g.sides[1].flags;
        g.set_flag(callee_flags, ComponentFlags::MAY_LEAVE, false);
        g.code.extend(core_result.map(I::LocalGet));
        g.call(post_return);
        g.set_flag(callee_flags, ComponentFlags::MAY_LEAVE, true);
    }
    for &flags in &entering {
        g.set_flag(flags, ComponentFlags::ENTERED, false);
    }
    g.code.extend(flat_result.map(I::LocalGet));
    g.code.push(I::End);

    // The helpers the code calls, imported after the other functions; their calls get their indices.
    let mut helper_index = [None; Helper::ALL.len()];
    for instruction in &mut g.code {
        if let I::Call(f) = instruction
            && let Some(helper) = Helper::of_placeholder(*f)
        {
            let index = *helper_index[helper as usize].get_or_insert_with(|| {
                let (params, results) = helper.arity();
                import_func(&mut imports, helper.name(), &vec![ValType::I32; params], &vec![ValType::I32; results])
            });
            *f = index;
        }
    }
    // The adapter's own type comes after the imports' (one type per function), and so does its index.
    type_section.ty().function(lowered_params.iter().copied(), lowered_results.iter().copied());
    let adapter_index = num_funcs;

    let mut body = Function::new_with_locals_types(g.locals.iter().copied());
    for instruction in &g.code {
        body.instruction(instruction);
    }
    let mut functions = FunctionSection::new();
    functions.function(adapter_index);
    let mut exports = ExportSection::new();
    exports.export(names::ADAPTER, ExportKind::Func, adapter_index);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut module = wasm_encoder::Module::new();
    module.section(&type_section).section(&imports).section(&functions).section(&exports).section(&code);
    if let Some(missing) = g.missing {
        anyhow::bail!("a call between components needs {missing} its canonical options do not give");
    }
    Ok(AdapterModule { bytes: module.finish(), resources: g.resources })
}

/// One side of an adapter, as its code sees it.
#[derive(Clone, Copy, Debug)]
struct Side {
    /// Its instance's flags global.
    flags: u32,
    memory: Option<u32>,
    realloc: Option<u32>,
    encoding: StringEncoding,
}

/// One flat value of a place: a local of type `has` holding a value of type `want` (narrower inside a
/// variant, whose payloads share joined types).
#[derive(Clone, Copy, Debug)]
struct Slot {
    local: u32,
    has: FlatType,
    want: FlatType,
}

/// Where a value is: in flat locals, or in a memory at a local's address plus an offset.
#[derive(Clone, Debug)]
enum Place {
    Flat(Vec<Slot>),
    Memory { memory: u32, addr: u32, offset: u32 },
}

/// How a number of one type is read and written.
#[derive(Clone, Copy, Debug)]
struct Scalar {
    flat: FlatType,
    /// Bytes in memory: 1, 2, 4 or 8.
    size: u32,
    /// Whether a narrow value sign-extends.
    signed: bool,
}

impl Scalar {
    const fn new(flat: FlatType, size: u32, signed: bool) -> Self {
        Scalar { flat, size, signed }
    }
    const U8: Scalar = Scalar::new(FlatType::I32, 1, false);
    const I32: Scalar = Scalar::new(FlatType::I32, 4, false);

    /// The scalar of a discriminant of `cases` cases, or of flags.
    fn unsigned(size: u32) -> Scalar {
        Scalar::new(FlatType::I32, size, false)
    }
}

/// The adapter's code being generated.
struct Gen<'a> {
    types: &'a ComponentTypes,
    code: Vec<I<'static>>,
    /// The types of the locals after the parameters.
    locals: Vec<ValType>,
    /// Locals released for reuse, with their types.
    free: Vec<(ValType, u32)>,
    /// What the code needed and the canonical options lack (validation makes this impossible; it is an
    /// error rather than code on the wrong memory).
    missing: Option<&'static str>,
    num_params: u32,
    /// The caller, then the callee.
    sides: [Side; 2],
    resources: Vec<(InterfaceType, Direction)>,
}

impl Gen<'_> {
    /// The memory `index` names, or (`None`) a note that the options lack it.
    fn memory(&mut self, index: Option<u32>) -> u32 {
        index.unwrap_or_else(|| {
            self.missing = Some("a memory");
            0
        })
    }

    /// A local of type `ty` for the code that follows: a released one, or a new one. Its value is whatever
    /// it was: code writes a local before reading it (new ones are zero: the flat destination of the
    /// arguments relies on that, and its locals are never released).
    fn local(&mut self, ty: ValType) -> u32 {
        if let Some(i) = self.free.iter().rposition(|(t, _)| *t == ty) {
            return self.free.swap_remove(i).1;
        }
        self.locals.push(ty);
        self.num_params + self.locals.len() as u32 - 1
    }

    /// Gives `locals` back for later code to use (after their last use: a wasm function has a limit of
    /// locals, and a large record would otherwise pass it).
    fn release(&mut self, locals: &[u32]) {
        for &local in locals {
            let ty = self.locals[(local - self.num_params) as usize];
            self.free.push((ty, local));
        }
    }

    /// A new `i32` local holding `value`.
    fn const_local(&mut self, value: i32) -> u32 {
        let local = self.local(ValType::I32);
        self.code.extend([I::I32Const(value), I::LocalSet(local)]);
        local
    }

    fn call(&mut self, func: u32) {
        self.code.push(I::Call(func));
    }

    /// The side values come from and the side they go to.
    fn sides_of(&self, dir: Direction) -> (Side, Side) {
        match dir {
            Direction::Params => (self.sides[0], self.sides[1]),
            Direction::Results => (self.sides[1], self.sides[0]),
        }
    }

    /// The place at address `addr` in the memory of the side values come from (`to`: go to).
    fn memory_place(&mut self, dir: Direction, to: bool, addr: u32) -> Place {
        let (from, dest) = self.sides_of(dir);
        let side = if to { dest } else { from };
        Place::Memory { memory: self.memory(side.memory), addr, offset: 0 }
    }

    /// Sets or clears flag `bit` in the flags global `flags`.
    fn set_flag(&mut self, flags: u32, bit: i32, on: bool) {
        self.code.push(I::GlobalGet(flags));
        self.code.extend(if on { [I::I32Const(bit), I::I32Or] } else { [I::I32Const(!bit), I::I32And] });
        self.code.push(I::GlobalSet(flags));
    }

    /// Traps with `trap` if the `i32` on the stack is not zero.
    fn fail_if(&mut self, trap: Trap) {
        self.code.extend([
            I::If(BlockType::Empty),
            I::I32Const(fail_code(trap)),
            I::Call(Helper::Fail.index()),
            I::Unreachable,
            I::End,
        ]);
    }

    /// Traps unless local `ptr` is a multiple of `align`.
    fn check_aligned(&mut self, ptr: u32, align: u32) {
        if align > 1 {
            self.code.extend([I::LocalGet(ptr), I::I32Const(align as i32 - 1), I::I32And]);
            self.fail_if(Trap::UnalignedPointer);
        }
    }

    /// Traps with `trap` unless `len` bytes at `ptr` (both `i32` locals) lie inside `memory`.
    fn check_bounds(&mut self, memory: u32, ptr: u32, len: u32, trap: Trap) {
        self.code.extend([
            I::LocalGet(ptr),
            I::I64ExtendI32U,
            I::LocalGet(len),
            I::I64ExtendI32U,
            I::I64Add,
            I::MemorySize(memory),
            I::I64ExtendI32U,
            I::I64Const(16),
            I::I64Shl,
            I::I64GtU,
        ]);
        self.fail_if(trap);
    }

    /// Allocates `size` bytes (a local) aligned to `align` with `realloc` of the side values go to, with
    /// that side not allowed to leave meanwhile; a local with the address, checked (else `trap`).
    fn allocate(&mut self, dir: Direction, align: u32, size: u32, trap: Trap) -> u32 {
        let (_, to) = self.sides_of(dir);
        // Validation requires a `realloc` wherever values are allocated.
        let realloc = to.realloc.unwrap_or_else(|| {
            self.missing = Some("a `realloc`");
            0
        });
        let ptr = self.local(ValType::I32);
        self.set_flag(to.flags, ComponentFlags::MAY_LEAVE, false);
        self.code.extend([I::I32Const(0), I::I32Const(0), I::I32Const(align as i32), I::LocalGet(size), I::Call(realloc)]);
        self.code.push(I::LocalSet(ptr));
        self.set_flag(to.flags, ComponentFlags::MAY_LEAVE, true);
        self.check_aligned(ptr, align);
        let memory = self.memory(to.memory);
        self.check_bounds(memory, ptr, size, trap);
        ptr
    }

    /// Reads the number `scalar` at `part` of `src` (its first slot, or `offset` bytes in) into a new local.
    fn read(&mut self, src: &Place, slot: usize, offset: u32, scalar: Scalar) -> u32 {
        match src {
            Place::Flat(slots) => {
                let s = slots[slot];
                self.code.push(I::LocalGet(s.local));
                self.unjoin(s.has, s.want);
            }
            Place::Memory { memory, addr, offset: base } => {
                let arg = MemArg { offset: (*base + offset) as u64, align: scalar.size.trailing_zeros(), target: MemArgTarget::Memory(*memory), ordering: None };
                self.code.push(I::LocalGet(*addr));
                self.code.push(match (scalar.flat, scalar.size, scalar.signed) {
                    (FlatType::I32, 1, false) => I::I32Load8U(arg),
                    (FlatType::I32, 1, true) => I::I32Load8S(arg),
                    (FlatType::I32, 2, false) => I::I32Load16U(arg),
                    (FlatType::I32, 2, true) => I::I32Load16S(arg),
                    (FlatType::I32, _, _) => I::I32Load(arg),
                    (FlatType::I64, _, _) => I::I64Load(arg),
                    (FlatType::F32, _, _) => I::F32Load(arg),
                    (FlatType::F64, _, _) => I::F64Load(arg),
                });
            }
        }
        let local = self.local(core_type(scalar.flat));
        self.code.push(I::LocalSet(local));
        local
    }

    /// Writes local `value`, the number `scalar`, at `part` of `dst` (like [`read`](Self::read)).
    fn write(&mut self, dst: &Place, slot: usize, offset: u32, scalar: Scalar, value: u32) {
        match dst {
            Place::Flat(slots) => {
                let s = slots[slot];
                self.code.push(I::LocalGet(value));
                self.join(s.want, s.has);
                self.code.push(I::LocalSet(s.local));
            }
            Place::Memory { memory, addr, offset: base } => {
                let arg = MemArg { offset: (*base + offset) as u64, align: scalar.size.trailing_zeros(), target: MemArgTarget::Memory(*memory), ordering: None };
                self.code.extend([I::LocalGet(*addr), I::LocalGet(value)]);
                self.code.push(match (scalar.flat, scalar.size) {
                    (FlatType::I32, 1) => I::I32Store8(arg),
                    (FlatType::I32, 2) => I::I32Store16(arg),
                    (FlatType::I32, _) => I::I32Store(arg),
                    (FlatType::I64, _) => I::I64Store(arg),
                    (FlatType::F32, _) => I::F32Store(arg),
                    (FlatType::F64, _) => I::F64Store(arg),
                });
            }
        }
    }

    /// Converts the value on the stack, carried as `has`, to the `want` it is.
    fn unjoin(&mut self, has: FlatType, want: FlatType) {
        use FlatType as F;
        match (has, want) {
            (a, b) if a == b => {}
            (F::I32, F::F32) => self.code.push(I::F32ReinterpretI32),
            (F::I64, F::I32) => self.code.push(I::I32WrapI64),
            (F::I64, F::F32) => self.code.extend([I::I32WrapI64, I::F32ReinterpretI32]),
            (F::I64, F::F64) => self.code.push(I::F64ReinterpretI64),
            _ => unreachable!("a flat value carried in a type it does not join into"),
        }
    }

    /// Converts the value on the stack, a `want`, to the `has` that carries it.
    fn join(&mut self, want: FlatType, has: FlatType) {
        use FlatType as F;
        match (want, has) {
            (a, b) if a == b => {}
            (F::F32, F::I32) => self.code.push(I::I32ReinterpretF32),
            (F::I32, F::I64) => self.code.push(I::I64ExtendI32U),
            (F::F32, F::I64) => self.code.extend([I::I32ReinterpretF32, I::I64ExtendI32U]),
            (F::F64, F::I64) => self.code.push(I::I64ReinterpretF64),
            _ => unreachable!("a flat value carried in a type it does not join into"),
        }
    }

    /// The places of the fields `tys` of a record at `place`.
    fn fields(&self, place: &Place, tys: &[InterfaceType]) -> Vec<Place> {
        match place {
            Place::Flat(slots) => {
                let mut next = 0;
                tys.iter()
                    .map(|ty| {
                        let n = self.flat_count(*ty);
                        next += n;
                        Place::Flat(slots[next - n..next].to_vec())
                    })
                    .collect()
            }
            Place::Memory { memory, addr, offset } => field_offsets(self.types, tys.iter().copied())
                .map(|(_, at)| Place::Memory { memory: *memory, addr: *addr, offset: offset + at })
                .collect(),
        }
    }

    /// How many flat values `ty` takes (inside a flat place, it fits).
    fn flat_count(&self, ty: InterfaceType) -> usize {
        self.types.flat(ty, MAX_FLAT_PARAMS).map_or(0, |f| f.as_slice().len())
    }

    /// Copies a tuple of values of types `tys` from `src` to `dst`.
    fn tuple(&mut self, tys: &[InterfaceType], src: &Place, dst: &Place, dir: Direction) {
        let (srcs, dsts) = (self.fields(src, tys), self.fields(dst, tys));
        for ((ty, src), dst) in tys.iter().zip(&srcs).zip(&dsts) {
            self.translate(*ty, src, dst, dir);
        }
    }

    /// Copies a value of type `ty` from `src` (on the side `dir` comes from) to `dst`, checking it.
    fn translate(&mut self, ty: InterfaceType, src: &Place, dst: &Place, dir: Direction) {
        use InterfaceType as T;
        let types = self.types;
        match ty {
            T::Bool => {
                let v = self.read(src, 0, 0, Scalar::U8);
                // Any non-zero value is true; what goes on is 1.
                self.code.extend([I::LocalGet(v), I::I32Const(0), I::I32Ne, I::LocalSet(v)]);
                self.write(dst, 0, 0, Scalar::U8, v);
                self.release(&[v]);
            }
            T::U8 | T::S8 | T::U16 | T::S16 => {
                let (size, signed) = match ty {
                    T::U8 => (1, false),
                    T::S8 => (1, true),
                    T::U16 => (2, false),
                    _ => (2, true),
                };
                let scalar = Scalar::new(FlatType::I32, size, signed);
                let v = self.read(src, 0, 0, scalar);
                // A flat value keeps only its low bits, as the type's.
                if let Place::Flat(_) = src {
                    self.code.push(I::LocalGet(v));
                    self.code.push(match (size, signed) {
                        (1, false) => I::I32Const(0xff),
                        (2, false) => I::I32Const(0xffff),
                        _ => I::Nop,
                    });
                    self.code.push(match (size, signed) {
                        (1, true) => I::I32Extend8S,
                        (2, true) => I::I32Extend16S,
                        _ => I::I32And,
                    });
                    self.code.push(I::LocalSet(v));
                }
                self.write(dst, 0, 0, scalar, v);
                self.release(&[v]);
            }
            T::S32 | T::U32 => self.copy_scalar(src, dst, Scalar::I32),
            T::S64 | T::U64 => self.copy_scalar(src, dst, Scalar::new(FlatType::I64, 8, false)),
            T::Float32 => self.copy_scalar(src, dst, Scalar::new(FlatType::F32, 4, false)),
            T::Float64 => self.copy_scalar(src, dst, Scalar::new(FlatType::F64, 8, false)),
            T::Char => {
                let v = self.read(src, 0, 0, Scalar::I32);
                // A surrogate (0xD800..0xE000) or beyond 0x10FFFF traps.
                self.code.extend([
                    I::LocalGet(v),
                    I::I32Const(0xD800),
                    I::I32Sub,
                    I::I32Const(0x800),
                    I::I32LtU,
                    I::LocalGet(v),
                    I::I32Const(0x11_0000),
                    I::I32GeU,
                    I::I32Or,
                ]);
                self.fail_if(Trap::InvalidChar);
                self.write(dst, 0, 0, Scalar::I32, v);
                self.release(&[v]);
            }
            T::String => self.string(src, dst, dir),
            T::List(i) => self.list(types.list(i).element, src, dst, dir),
            T::Map(i) => self.list(types.map(i).entry, src, dst, dir),
            T::FixedList(i) => {
                let list = types.fixed_list(i);
                self.fixed_list(list.element, list.len, src, dst, dir);
            }
            T::Record(i) => {
                let tys: Vec<_> = types.record(i).fields.iter().map(|(_, ty)| *ty).collect();
                self.tuple(&tys, src, dst, dir);
            }
            T::Tuple(i) => self.tuple(&types.tuple(i).types.clone(), src, dst, dir),
            T::Variant(i) => {
                let cases: Vec<_> = types.variant(i).cases.iter().map(|(_, ty)| *ty).collect();
                self.variant(ty, &cases, src, dst, dir);
            }
            T::Enum(i) => self.variant(ty, &vec![None; types.enum_(i).names.len()], src, dst, dir),
            T::Option(i) => self.variant(ty, &[None, Some(types.option(i).ty)], src, dst, dir),
            T::Result(i) => {
                let result = types.result(i);
                self.variant(ty, &[result.ok, result.err], src, dst, dir);
            }
            T::Flags(i) => {
                let count = types.flags(i).names.len();
                let scalar = Scalar::unsigned(types.abi(ty).size.max(1));
                let v = self.read(src, 0, 0, scalar);
                // Bits beyond the flags are dropped.
                if count < 32 {
                    self.code.extend([I::LocalGet(v), I::I32Const(((1u64 << count) - 1) as i32), I::I32And, I::LocalSet(v)]);
                }
                self.write(dst, 0, 0, scalar, v);
                self.release(&[v]);
            }
            T::Own(_) | T::Borrow(_) => {
                let v = self.read(src, 0, 0, Scalar::I32);
                self.resources.push((ty, dir));
                let code = self.resources.len() as i32 - 1;
                self.code.extend([I::I32Const(code), I::LocalGet(v), I::Call(Helper::Resource.index()), I::LocalSet(v)]);
                self.write(dst, 0, 0, Scalar::I32, v);
                self.release(&[v]);
            }
        }
    }

    /// Copies a number that needs no checking.
    fn copy_scalar(&mut self, src: &Place, dst: &Place, scalar: Scalar) {
        let v = self.read(src, 0, 0, scalar);
        self.write(dst, 0, 0, scalar, v);
        self.release(&[v]);
    }

    /// Copies a variant (or enum, option, result) with these cases' payload types.
    fn variant(&mut self, ty: InterfaceType, cases: &[Option<InterfaceType>], src: &Place, dst: &Place, dir: Direction) {
        let abi = self.types.abi(ty);
        let disc = Scalar::unsigned(discriminant_size(cases.len()));
        let d = self.read(src, 0, 0, disc);
        self.code.extend([I::LocalGet(d), I::I32Const(cases.len() as i32), I::I32GeU]);
        self.fail_if(Trap::InvalidDiscriminant);
        self.write(dst, 0, 0, disc, d);
        let payload_offset = abi.payload_offset(cases.len());
        for (n, ty) in cases.iter().enumerate() {
            let Some(ty) = *ty else { continue };
            let src = self.payload(src, ty, payload_offset);
            let dst = self.payload(dst, ty, payload_offset);
            self.code.extend([I::LocalGet(d), I::I32Const(n as i32), I::I32Eq, I::If(BlockType::Empty)]);
            self.translate(ty, &src, &dst, dir);
            self.code.push(I::End);
        }
        self.release(&[d]);
    }

    /// Where a variant's payload of type `ty` is: after the discriminant, as the payload's own types.
    fn payload(&self, place: &Place, ty: InterfaceType, offset: u32) -> Place {
        match place {
            Place::Flat(slots) => {
                let flat = self.types.flat(ty, MAX_FLAT_PARAMS).expect("a payload of a flat variant is flat");
                Place::Flat(slots[1..].iter().zip(flat.as_slice()).map(|(s, want)| Slot { want: *want, ..*s }).collect())
            }
            Place::Memory { memory, addr, offset: base } => Place::Memory { memory: *memory, addr: *addr, offset: base + offset },
        }
    }

    /// Reads a pointer and a length from `src` into two locals.
    fn read_pair(&mut self, src: &Place) -> (u32, u32) {
        (self.read(src, 0, 0, Scalar::I32), self.read(src, 1, 4, Scalar::I32))
    }

    /// Writes a pointer and a length to `dst`.
    fn write_pair(&mut self, dst: &Place, ptr: u32, len: u32) {
        self.write(dst, 0, 0, Scalar::I32, ptr);
        self.write(dst, 1, 4, Scalar::I32, len);
    }

    /// Copies a string: between equal encodings, checked (by the `validate` helper, unless it is ASCII or
    /// Latin-1) and copied here; otherwise through the `transcode` helper, which checks, converts and
    /// writes it. A `latin1+utf16` string in UTF-16 goes through `transcode` too: storing it narrows it to
    /// Latin-1 where it fits, as the spec's `store_string` does.
    fn string(&mut self, src: &Place, dst: &Place, dir: Direction) {
        let (from, to) = self.sides_of(dir);
        let (ptr, len) = self.read_pair(src);
        match (from.encoding, to.encoding) {
            (a, b) if a != b => self.transcode(dir, ptr, len),
            (StringEncoding::Utf8, _) => self.copy_string(dir, ptr, len, 1),
            (StringEncoding::Utf16, _) => self.copy_string(dir, ptr, len, 2),
            (StringEncoding::CompactUtf16, _) => {
                self.code.extend([I::LocalGet(len), I::I32Const(UTF16_TAG as i32), I::I32And, I::If(BlockType::Empty)]);
                self.transcode(dir, ptr, len);
                self.code.push(I::Else);
                self.copy_string(dir, ptr, len, 1);
                self.code.push(I::End);
            }
        }
        self.write_pair(dst, ptr, len);
        self.release(&[ptr, len]);
    }

    /// Replaces the string at locals `ptr` and `len` with its copy on the other side, by the `transcode`
    /// helper.
    fn transcode(&mut self, dir: Direction, ptr: u32, len: u32) {
        self.code.extend([I::I32Const(dir.code()), I::LocalGet(ptr), I::LocalGet(len), I::Call(Helper::Transcode.index())]);
        self.code.extend([I::LocalSet(len), I::LocalSet(ptr)]);
    }

    /// Replaces the string at local `ptr`, of `len` code units of `unit` bytes (UTF-8, UTF-16 or Latin-1),
    /// with its copy on the other side (same encoding), checked.
    fn copy_string(&mut self, dir: Direction, ptr: u32, len: u32, unit: u32) {
        let (from, to) = self.sides_of(dir);
        let bytes = self.local(ValType::I64);
        self.code.extend([I::LocalGet(len), I::I64ExtendI32U, I::I64Const(unit.trailing_zeros() as i64), I::I64Shl, I::LocalSet(bytes)]);
        let size = self.checked_length(bytes, Trap::StringOutOfBounds);
        let align = if from.encoding == StringEncoding::Utf8 { 1 } else { 2 };
        self.check_aligned(ptr, align);
        let (from_memory, to_memory) = (self.memory(from.memory), self.memory(to.memory));
        self.check_bounds(from_memory, ptr, size, Trap::StringOutOfBounds);
        // UTF-8 and UTF-16 must be valid (Latin-1 always is): the `validate` helper checks, but UTF-8 that
        // is all ASCII is checked here.
        let validate = [I::I32Const(dir.code()), I::LocalGet(ptr), I::LocalGet(len), I::Call(Helper::Validate.index())];
        match from.encoding {
            StringEncoding::Utf8 => {
                self.if_not_ascii(from_memory, ptr, size);
                self.code.extend(validate);
                self.code.push(I::End);
            }
            StringEncoding::Utf16 => self.code.extend(validate),
            StringEncoding::CompactUtf16 => {}
        }
        let new = self.allocate(dir, align, size, Trap::StringOutOfBounds);
        self.code.extend([I::LocalGet(new), I::LocalGet(ptr), I::LocalGet(size), I::MemoryCopy { src_mem: from_memory, dst_mem: to_memory }]);
        self.code.extend([I::LocalGet(new), I::LocalSet(ptr)]);
        self.release(&[bytes, size, new]);
    }

    /// Opens an `if` block entered when the `size` bytes at `ptr` in `memory` (in bounds) are not all ASCII:
    /// eight at a time, then one at a time, their bits or-ed together.
    fn if_not_ascii(&mut self, memory: u32, ptr: u32, size: u32) {
        let (at, end, bits) = (self.local(ValType::I32), self.local(ValType::I32), self.local(ValType::I64));
        let arg = |align| MemArg { offset: 0, align, target: MemArgTarget::Memory(memory), ordering: None };
        self.code.extend([I::LocalGet(ptr), I::LocalSet(at), I::LocalGet(ptr), I::LocalGet(size), I::I32Add, I::LocalSet(end)]);
        self.code.extend([I::I64Const(0), I::LocalSet(bits)]);
        for (width, load) in [(8, I::I64Load(arg(0))), (1, I::I64Load8U(arg(0)))] {
            // While `at + width <= end` (no overflow: both lie in a 32-bit memory).
            self.code.extend([I::Block(BlockType::Empty), I::Loop(BlockType::Empty)]);
            self.code.extend([I::LocalGet(at), I::I64ExtendI32U, I::I64Const(width), I::I64Add, I::LocalGet(end), I::I64ExtendI32U]);
            self.code.extend([I::I64GtU, I::BrIf(1), I::LocalGet(bits), I::LocalGet(at), load, I::I64Or, I::LocalSet(bits)]);
            self.code.extend([I::LocalGet(at), I::I32Const(width as i32), I::I32Add, I::LocalSet(at), I::Br(0), I::End, I::End]);
        }
        self.code.extend([I::LocalGet(bits), I::I64Const(0x8080_8080_8080_8080u64 as i64), I::I64And, I::I64Const(0), I::I64Ne]);
        self.code.push(I::If(BlockType::Empty));
        self.release(&[at, end, bits]);
    }

    /// Traps with `trap` if the 64-bit byte length in local `bytes` is too long; the length as an `i32`
    /// local.
    fn checked_length(&mut self, bytes: u32, trap: Trap) -> u32 {
        self.code.extend([I::LocalGet(bytes), I::I64Const(MAX_BYTE_LENGTH as i64), I::I64GtU]);
        self.fail_if(trap);
        let size = self.local(ValType::I32);
        self.code.extend([I::LocalGet(bytes), I::I32WrapI64, I::LocalSet(size)]);
        size
    }

    /// Copies a list of `element`s (a map is a list of its entries).
    fn list(&mut self, element: InterfaceType, src: &Place, dst: &Place, dir: Direction) {
        let (from, to) = self.sides_of(dir);
        let (from_memory, to_memory) = (self.memory(from.memory), self.memory(to.memory));
        let abi = self.types.abi(element);
        let (ptr, len) = self.read_pair(src);
        let bytes = self.local(ValType::I64);
        self.code.extend([I::LocalGet(len), I::I64ExtendI32U, I::I64Const(abi.size as i64), I::I64Mul, I::LocalSet(bytes)]);
        let size = self.checked_length(bytes, Trap::ListOutOfBounds);
        self.check_aligned(ptr, abi.align);
        self.check_bounds(from_memory, ptr, size, Trap::ListOutOfBounds);
        let new = self.allocate(dir, abi.align, size, Trap::ListOutOfBounds);
        self.elements(element, (from_memory, ptr), (to_memory, new), len, size, dir);
        self.write_pair(dst, new, len);
        self.release(&[ptr, len, bytes, size, new]);
    }

    /// Copies `count` (a local) elements of type `element`, `size` (a local) bytes in all, from the address in
    /// local `from.1` of memory `from.0` to that of `to`: with `memory.copy` when they are plain, otherwise
    /// element by element, two cursors moving one element's size at a time.
    fn elements(&mut self, element: InterfaceType, from: (u32, u32), to: (u32, u32), count: u32, size: u32, dir: Direction) {
        if self.plain(element) {
            let copy = I::MemoryCopy { src_mem: from.0, dst_mem: to.0 };
            self.code.extend([I::LocalGet(to.1), I::LocalGet(from.1), I::LocalGet(size), copy]);
            return;
        }
        let stride = self.types.abi(element).size as i32;
        let (at, to_at, left) = (self.local(ValType::I32), self.local(ValType::I32), self.local(ValType::I32));
        self.code.extend([I::LocalGet(from.1), I::LocalSet(at), I::LocalGet(to.1), I::LocalSet(to_at), I::LocalGet(count), I::LocalSet(left)]);
        self.code.extend([I::Block(BlockType::Empty), I::Loop(BlockType::Empty), I::LocalGet(left), I::I32Eqz, I::BrIf(1)]);
        let src = Place::Memory { memory: from.0, addr: at, offset: 0 };
        let dst = Place::Memory { memory: to.0, addr: to_at, offset: 0 };
        self.translate(element, &src, &dst, dir);
        for cursor in [at, to_at] {
            self.code.extend([I::LocalGet(cursor), I::I32Const(stride), I::I32Add, I::LocalSet(cursor)]);
        }
        self.code.extend([I::LocalGet(left), I::I32Const(1), I::I32Sub, I::LocalSet(left), I::Br(0), I::End, I::End]);
        self.release(&[at, to_at, left]);
    }

    /// Copies a fixed-length list: flat, element by element (at most [`MAX_FLAT_PARAMS`] values); in memory,
    /// as [`elements`](Self::elements) copies a list's.
    fn fixed_list(&mut self, element: InterfaceType, len: u32, src: &Place, dst: &Place, dir: Direction) {
        let (Place::Memory { memory: from_memory, addr: from, offset: from_offset }, Place::Memory { memory: to_memory, addr: to, offset: to_offset }) =
            (src, dst)
        else {
            return self.tuple(&vec![element; len as usize], src, dst, dir);
        };
        let base = |g: &mut Self, addr: u32, offset: u32| {
            let local = g.local(ValType::I32);
            g.code.extend([I::LocalGet(addr), I::I32Const(offset as i32), I::I32Add, I::LocalSet(local)]);
            local
        };
        let (at, to_at) = (base(self, *from, *from_offset), base(self, *to, *to_offset));
        let count = self.const_local(len as i32);
        let size = self.const_local((self.types.abi(element).size * len) as i32);
        self.elements(element, (*from_memory, at), (*to_memory, to_at), count, size, dir);
        self.release(&[at, to_at, count, size]);
    }

    /// Whether values of `ty` in memory are copied as they are: numbers, and records of numbers.
    fn plain(&self, ty: InterfaceType) -> bool {
        use InterfaceType as T;
        match ty {
            T::U8 | T::S8 | T::U16 | T::S16 | T::U32 | T::S32 | T::U64 | T::S64 | T::Float32 | T::Float64 => true,
            T::Record(i) => self.types.record(i).fields.iter().all(|(_, ty)| self.plain(*ty)),
            T::Tuple(i) => self.types.tuple(i).types.iter().all(|ty| self.plain(*ty)),
            T::FixedList(i) => self.plain(self.types.fixed_list(i).element),
            _ => false,
        }
    }
}

/// The core value type of a flat type.
fn core_type(ty: FlatType) -> ValType {
    match ty {
        FlatType::I32 => ValType::I32,
        FlatType::I64 => ValType::I64,
        FlatType::F32 => ValType::F32,
        FlatType::F64 => ValType::F64,
    }
}

/// Whether values of `ty` hold a `borrow` handle.
fn has_borrow(types: &ComponentTypes, ty: InterfaceType) -> bool {
    use InterfaceType as T;
    let any = |tys: &mut dyn Iterator<Item = InterfaceType>| {
        let mut found = false;
        for ty in tys {
            found |= has_borrow(types, ty);
        }
        found
    };
    match ty {
        T::Borrow(_) => true,
        T::List(i) => has_borrow(types, types.list(i).element),
        T::FixedList(i) => has_borrow(types, types.fixed_list(i).element),
        T::Map(i) => has_borrow(types, types.map(i).entry),
        T::Record(i) => any(&mut types.record(i).fields.iter().map(|(_, ty)| *ty)),
        T::Tuple(i) => any(&mut types.tuple(i).types.iter().copied()),
        T::Variant(i) => any(&mut types.variant(i).cases.iter().filter_map(|(_, ty)| *ty)),
        T::Option(i) => has_borrow(types, types.option(i).ty),
        T::Result(i) => any(&mut [types.result(i).ok, types.result(i).err].into_iter().flatten()),
        _ => false,
    }
}
