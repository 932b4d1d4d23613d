//! Translation of one function body from wasm operators to CLIF.
//!
//! The translator keeps wasm's operand stack as a stack of CLIF values and its control stack as frames
//! whose merge points are CLIF blocks with parameters; locals are frontend variables. Code after an
//! unconditional branch is validated but not translated.

use super::{Tunables, clif_type, trap_codes, trap_site, wasm_signature};
use crate::environ::builtins::GROW_ERROR;
use crate::environ::{Builtin, BuiltinType, FuncKey, ModuleInfo, VMOffsets, WasmValType, offsets};
use anyhow::{Result, bail};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, ExtFuncData, ExternalName, FuncRef, InstBuilder, JumpTableData, MemFlagsData,
    SigRef, Signature, TrapCode, UserExternalName, Value, types,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::HashMap;
use wasmparser::{BlockType, FuncValidator, FunctionBody, Operator, ValidatorResources};

/// What a control frame is.
#[derive(Clone, Copy, Debug)]
enum FrameKind {
    Block,
    Loop { header: ir::Block },
    /// An `if`; `else_block` is the block of the false arm while it has not been started.
    If { else_block: Option<ir::Block> },
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    kind: FrameKind,
    /// Where control goes after `end`; its parameters are the frame's results.
    next: ir::Block,
    num_params: usize,
    num_results: usize,
    /// Operand stack height below the frame's parameters.
    height: usize,
}

impl Frame {
    /// The block a branch to this frame jumps to, and how many values it takes.
    fn branch_target(&self) -> (ir::Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.num_params),
            _ => (self.next, self.num_results),
        }
    }
}

struct Translator<'a, 'f> {
    module: &'a ModuleInfo,
    offsets: &'a VMOffsets,
    tunables: &'a Tunables,
    call_conv: CallConv,
    builder: FunctionBuilder<'f>,
    vmctx: Value,
    stack: Vec<Value>,
    control: Vec<Frame>,
    locals: Vec<Variable>,
    reachable: bool,
    /// Blocks opened inside unreachable code, whose `end` must be skipped.
    unreachable_depth: u32,
    signatures: HashMap<u32, SigRef>,
    direct_callees: HashMap<u32, FuncRef>,
    builtin_signatures: HashMap<Builtin, SigRef>,
    /// The store's `VMStoreContext`.
    store_ctx: Value,
    /// Fuel consumed so far, kept in a variable between calls (with `Config::consume_fuel`).
    fuel: Option<Variable>,
    /// Cost of the operators translated since `fuel` was last updated.
    fuel_pending: i64,
}

fn args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}

/// Flags for loads of the engine's own data: aligned and never trapping.
fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Flags for loads of data that never changes while an instance lives (its context's fields, including
/// the cached bases of memories that never move; the type-id and builtin tables; the store context's epoch-counter
/// pointer): such loads may be merged and hoisted out of loops, and never trap.
fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Translates function `index` of `module` into `func`.
#[allow(clippy::too_many_arguments)]
pub fn translate_function(
    module: &ModuleInfo,
    offsets: &VMOffsets,
    tunables: &Tunables,
    isa: &dyn TargetIsa,
    index: u32,
    body: &FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
    func: &mut ir::Function,
    builder_ctx: &mut cranelift_frontend::FunctionBuilderContext,
) -> Result<()> {
    let ty = module.func_type(index);
    let call_conv = CallConv::Tail;
    func.signature = wasm_signature(ty, call_conv)?;
    let (namespace, key_index) = FuncKey::Wasm { module: 0, index }.to_parts();
    func.name = ir::UserFuncName::user(namespace, key_index);

    let vmctx_gv = func.create_global_value(ir::GlobalValueData::VMContext);
    let store_flags = func.dfg.mem_flags.insert_unchecked(readonly());
    let store_gv = func.create_global_value(ir::GlobalValueData::Load {
        base: vmctx_gv,
        offset: (VMOffsets::STORE as i32).into(),
        global_type: types::I64,
        flags: store_flags,
    });
    let limit_flags = func.dfg.mem_flags.insert_unchecked(trusted());
    let stack_limit = func.create_global_value(ir::GlobalValueData::Load {
        base: store_gv,
        offset: (offsets::store::STACK_LIMIT as i32).into(),
        global_type: types::I64,
        flags: limit_flags,
    });
    if tunables.signals_based_traps {
        // Cranelift checks it in the prologue, with a trapping instruction.
        func.stack_limit = Some(stack_limit);
    }

    let mut builder = FunctionBuilder::new(func, builder_ctx);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let vmctx = builder.block_params(entry)[0];
    let store_ctx = builder.ins().load(types::I64, readonly(), vmctx, VMOffsets::STORE as i32);

    let mut t = Translator {
        module,
        offsets,
        tunables,
        call_conv,
        builder,
        vmctx,
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        reachable: true,
        unreachable_depth: 0,
        signatures: HashMap::new(),
        direct_callees: HashMap::new(),
        builtin_signatures: HashMap::new(),
        store_ctx,
        fuel: None,
        // Every call costs one unit, even of an empty function (as in Wasmtime).
        fuel_pending: 1,
    };
    if tunables.consume_fuel {
        let fuel = t.builder.declare_var(types::I64);
        let consumed = t.builder.ins().load(types::I64, trusted(), store_ctx, offsets::store::FUEL_CONSUMED as i32);
        t.builder.def_var(fuel, consumed);
        t.fuel = Some(fuel);
    }

    // Parameters, then declared locals (zero-initialised).
    let params: Vec<Value> = t.builder.block_params(entry)[2..].to_vec();
    for (value, &ty) in params.iter().zip(ty.params.iter()) {
        let var = t.builder.declare_var(clif_type(ty)?);
        t.builder.def_var(var, *value);
        t.locals.push(var);
    }
    let mut locals = body.get_locals_reader()?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, wasm_ty) = locals.read()?;
        validator.define_locals(offset, count, wasm_ty)?;
        let ty = module.val_type(wasm_ty)?;
        let clif = clif_type(ty)?;
        for _ in 0..count {
            let var = t.builder.declare_var(clif);
            let zero = t.zero(ty)?;
            t.builder.def_var(var, zero);
            t.locals.push(var);
        }
    }

    // The function body is the outermost block; its end returns.
    let exit = t.builder.create_block();
    for &r in ty.results.iter() {
        t.builder.append_block_param(exit, clif_type(r)?);
    }
    t.control.push(Frame {
        kind: FrameKind::Block,
        next: exit,
        num_params: 0,
        num_results: ty.results.len(),
        height: 0,
    });

    t.check_stack();
    t.check_interrupts();

    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset()?;
        validator.op(offset, &op)?;
        if t.reachable {
            t.consume_fuel(&op);
            t.operator(&op)?;
        } else {
            t.unreachable_operator(&op)?;
        }
    }
    reader.finish()?;
    t.builder.seal_all_blocks();
    t.builder.finalize(isa.frontend_config());
    Ok(())
}

impl Translator<'_, '_> {
    fn zero(&mut self, ty: WasmValType) -> Result<Value> {
        let ins = self.builder.ins();
        Ok(match ty {
            WasmValType::I32 => ins.iconst(types::I32, 0),
            WasmValType::I64 | WasmValType::Ref(_) => ins.iconst(types::I64, 0),
            WasmValType::F32 => ins.f32const(Ieee32::with_bits(0)),
            WasmValType::F64 => ins.f64const(Ieee64::with_bits(0)),
            WasmValType::V128 => bail!("SIMD (v128) is not supported yet"),
        })
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated operand stack")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn block_arity(&self, ty: BlockType) -> Result<(Vec<ir::Type>, Vec<ir::Type>)> {
        Ok(match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![clif_type(self.module.val_type(t)?)?]),
            BlockType::FuncType(i) => {
                let ft = &self.module.types[i as usize];
                let params = ft.params.iter().map(|&t| clif_type(t)).collect::<Result<_>>()?;
                let results = ft.results.iter().map(|&t| clif_type(t)).collect::<Result<_>>()?;
                (params, results)
            }
        })
    }

    fn block_with_params(&mut self, tys: &[ir::Type]) -> ir::Block {
        let block = self.builder.create_block();
        for &ty in tys {
            self.builder.append_block_param(block, ty);
        }
        block
    }

    /// Switches to `block`, whose parameters replace the operand stack above `height`.
    fn enter_block(&mut self, block: ir::Block, height: usize) {
        self.builder.switch_to_block(block);
        self.stack.truncate(height);
        let params = self.builder.block_params(block).to_vec();
        self.stack.extend(params);
    }

    fn jump(&mut self, block: ir::Block, values: &[Value]) {
        self.builder.ins().jump(block, &args(values));
    }

    /// Branches to the frame `depth` levels out, with the values it takes from the top of the stack.
    fn branch(&mut self, depth: u32) {
        let frame = self.control[self.control.len() - 1 - depth as usize];
        let (target, arity) = frame.branch_target();
        let values = self.peekn(arity).to_vec();
        self.jump(target, &values);
    }

    /// Branches to the frame `depth` levels out when `cond` is non-zero (`when_set`) or zero (otherwise),
    /// passing the values the target takes from the top of the stack; continues in a new block.
    fn branch_if(&mut self, cond: Value, depth: u32, when_set: bool) {
        let frame = self.control[self.control.len() - 1 - depth as usize];
        let (target, arity) = frame.branch_target();
        let values = args(self.peekn(arity));
        let fallthrough = self.builder.create_block();
        if when_set {
            self.builder.ins().brif(cond, target, &values, fallthrough, &[]);
        } else {
            self.builder.ins().brif(cond, fallthrough, &[], target, &values);
        }
        self.builder.switch_to_block(fallthrough);
    }

    fn unreachable_operator(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => self.unreachable_depth += 1,
            Operator::Else if self.unreachable_depth == 0 => {
                let frame = self.control.last_mut().expect("validated control stack");
                if let FrameKind::If { else_block: Some(else_block) } = frame.kind {
                    frame.kind = FrameKind::If { else_block: None };
                    let height = frame.height;
                    self.enter_block(else_block, height);
                    self.reachable = true;
                }
            }
            Operator::End if self.unreachable_depth > 0 => self.unreachable_depth -= 1,
            Operator::End => self.end_frame(),
            _ => {}
        }
        Ok(())
    }

    /// `end` of the innermost frame.
    fn end_frame(&mut self) {
        let frame = self.control.pop().expect("validated control stack");
        if self.reachable {
            let values = self.peekn(frame.num_results).to_vec();
            self.jump(frame.next, &values);
        }
        if let FrameKind::If { else_block: Some(else_block) } = frame.kind {
            // An `if` without `else`: the false arm passes the parameters through.
            self.builder.switch_to_block(else_block);
            let params = self.builder.block_params(else_block).to_vec();
            self.jump(frame.next, &params);
        }
        // The continuation is reachable if anything branches to it; an unused block is simply empty, and
        // Cranelift removes it.
        self.enter_block(frame.next, frame.height);
        self.reachable = true;
        if self.control.is_empty() {
            let results = self.stack.clone();
            self.return_(&results);
        }
    }

    /// Without signals-based traps, checks the stack limit at function entry (with them, Cranelift's prologue
    /// does). The frame is allocated by then; the limit keeps a reserve below it for that.
    fn check_stack(&mut self) {
        if self.tunables.signals_based_traps {
            return;
        }
        let sp = self.builder.ins().get_stack_pointer(types::I64);
        let store_ctx = self.store_ctx;
        let limit = self.load_ptr(store_ctx, offsets::store::STACK_LIMIT, trusted());
        let exhausted = self.builder.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(exhausted, TrapCode::STACK_OVERFLOW);
    }

    /// Traps with `code`, ending the block.
    fn trap(&mut self, code: TrapCode) {
        if !self.tunables.signals_based_traps {
            let site = trap_site(code).expect("the translator only raises traps it knows");
            let code_value = self.i32const(site.code());
            self.call_builtin(Builtin::RaiseTrap, &[code_value]);
        }
        // Never reached after `raise_trap`, which does not return.
        self.builder.ins().trap(code);
    }

    /// Traps with `code` if `cond` is non-zero. Without signals-based traps, the trap is a call to the
    /// `raise_trap` builtin in a cold block instead of a trapping instruction.
    fn trap_if(&mut self, cond: Value, code: TrapCode) {
        if self.tunables.signals_based_traps {
            self.builder.ins().trapnz(cond, code);
            return;
        }
        let trap = self.builder.create_block();
        let resume = self.builder.create_block();
        self.builder.set_cold_block(trap);
        self.builder.ins().brif(cond, trap, &[], resume, &[]);
        self.builder.switch_to_block(trap);
        self.trap(code);
        self.builder.switch_to_block(resume);
    }

    /// Traps with `code` if `cond` is zero.
    fn trap_unless(&mut self, cond: Value, code: TrapCode) {
        if self.tunables.signals_based_traps {
            self.builder.ins().trapz(cond, code);
            return;
        }
        let zero = self.builder.ins().icmp_imm_s(IntCC::Equal, cond, 0);
        self.trap_if(zero, code);
    }

    /// Without signals-based traps, checks an integer division's operands (on top of the stack) so that the
    /// instruction itself never traps: a zero divisor, and for `signed_overflow` also `MIN / -1`.
    fn guard_division(&mut self, signed_overflow: bool) {
        if self.tunables.signals_based_traps {
            return;
        }
        let (x, y) = (self.stack[self.stack.len() - 2], self.stack[self.stack.len() - 1]);
        let zero = self.builder.ins().icmp_imm_s(IntCC::Equal, y, 0);
        self.trap_if(zero, TrapCode::INTEGER_DIVISION_BY_ZERO);
        if signed_overflow {
            let ty = self.builder.func.dfg.value_type(y);
            let min = if ty == types::I32 { i64::from(i32::MIN) } else { i64::MIN };
            let minus_one = self.builder.ins().icmp_imm_s(IntCC::Equal, y, -1);
            let is_min = self.builder.ins().icmp_imm_s(IntCC::Equal, x, min);
            let overflow = self.builder.ins().band(minus_one, is_min);
            self.trap_if(overflow, TrapCode::INTEGER_OVERFLOW);
        }
    }

    /// A trapping float-to-integer conversion. Without signals-based traps, NaN and out-of-range inputs are
    /// caught before the conversion instruction, which then never traps.
    fn trunc(&mut self, to: ir::Type, signed: bool) {
        if !self.tunables.signals_based_traps {
            let x = self.stack[self.stack.len() - 1];
            let from = self.builder.func.dfg.value_type(x);
            let nan = self.builder.ins().fcmp(FloatCC::Unordered, x, x);
            self.trap_if(nan, TrapCode::BAD_CONVERSION_TO_INTEGER);
            // Valid inputs lie strictly between these bounds (truncation happens towards zero).
            let bits = to.bits() as i32;
            let upper = if signed { 2f64.powi(bits - 1) } else { 2f64.powi(bits) };
            let lower = match (signed, from == types::F32) {
                (false, _) => -1.0,
                // The next float below -2^(bits-1): one unit in the last place (of the binade above 2^(bits-1))
                // lower; f32 has 23 fraction bits, f64 52.
                (true, true) => -(2f64.powi(bits - 1)) - 2f64.powi(bits - 1 - 23),
                (true, false) if bits == 32 => -(2f64.powi(31)) - 1.0,
                (true, false) => -(2f64.powi(63)) - 2f64.powi(63 - 52),
            };
            let (lower, upper) = if from == types::F32 {
                (self.builder.ins().f32const(lower as f32), self.builder.ins().f32const(upper as f32))
            } else {
                (self.builder.ins().f64const(lower), self.builder.ins().f64const(upper))
            };
            let too_low = self.builder.ins().fcmp(FloatCC::LessThanOrEqual, x, lower);
            let too_high = self.builder.ins().fcmp(FloatCC::GreaterThanOrEqual, x, upper);
            let out_of_range = self.builder.ins().bor(too_low, too_high);
            self.trap_if(out_of_range, TrapCode::INTEGER_OVERFLOW);
        }
        if signed {
            self.unop(|b, a| b.ins().fcvt_to_sint(to, a));
        } else {
            self.unop(|b, a| b.ins().fcvt_to_uint(to, a));
        }
    }

    /// Returns `values` from the function.
    fn return_(&mut self, values: &[Value]) {
        self.save_fuel();
        self.builder.ins().return_(values);
        self.reachable = false;
    }

    /// Charges `op`'s cost: one unit, except for `nop`, `drop`, block structure, `unreachable` and `return`,
    /// which are free (Wasmtime 48's default costs, with one unit per function entered). The charge is applied to the fuel variable at every
    /// point where control leaves straight-line code.
    fn consume_fuel(&mut self, op: &Operator<'_>) {
        use Operator as O;
        let Some(fuel) = self.fuel else { return };
        let free = matches!(
            op,
            O::Nop | O::Drop | O::Block { .. } | O::Loop { .. } | O::End | O::Else | O::Unreachable | O::Return
        );
        if !free {
            self.fuel_pending += 1;
        }
        let leaves_block = matches!(
            op,
            O::Block { .. }
                | O::Loop { .. }
                | O::If { .. }
                | O::Else
                | O::End
                | O::Br { .. }
                | O::BrIf { .. }
                | O::BrTable { .. }
                | O::BrOnNull { .. }
                | O::BrOnNonNull { .. }
                | O::Return
                | O::Unreachable
                | O::Call { .. }
                | O::CallIndirect { .. }
                | O::CallRef { .. }
        );
        if leaves_block && self.fuel_pending != 0 {
            let consumed = self.builder.use_var(fuel);
            let consumed = self.builder.ins().iadd_imm_s(consumed, self.fuel_pending);
            self.builder.def_var(fuel, consumed);
            self.fuel_pending = 0;
        }
    }

    /// Before a bulk memory or table instruction: charges one unit of fuel per byte or element it is about
    /// to process (`units`), then checks for interrupts as at a loop header, so that neither fuel nor an epoch
    /// deadline can be outrun by one huge instruction (Wasmtime 48 charges the same).
    fn charge_bulk(&mut self, units: Value) {
        if let Some(fuel) = self.fuel {
            let units = self.builder.ins().uextend(types::I64, units);
            let consumed = self.builder.use_var(fuel);
            let consumed = self.builder.ins().iadd(consumed, units);
            let consumed = self.builder.ins().iadd_imm_s(consumed, std::mem::take(&mut self.fuel_pending));
            self.builder.def_var(fuel, consumed);
        }
        self.check_interrupts();
    }

    /// Writes the fuel variable back to the store, before calls (which may read or set it) and returns.
    fn save_fuel(&mut self) {
        if let Some(fuel) = self.fuel {
            let consumed = self.builder.use_var(fuel);
            let store_ctx = self.store_ctx;
            self.builder.ins().store(trusted(), consumed, store_ctx, offsets::store::FUEL_CONSUMED as i32);
        }
    }

    /// Reads the store's fuel after a call.
    fn reload_fuel(&mut self) {
        if let Some(fuel) = self.fuel {
            let store_ctx = self.store_ctx;
            let consumed =
                self.builder.ins().load(types::I64, trusted(), store_ctx, offsets::store::FUEL_CONSUMED as i32);
            self.builder.def_var(fuel, consumed);
        }
    }

    /// At function entry, loop headers and bulk instructions: traps if no fuel is left or the epoch deadline has
    /// been reached.
    fn check_interrupts(&mut self) {
        if let Some(fuel) = self.fuel {
            let consumed = self.builder.use_var(fuel);
            let spent = self.builder.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, consumed, 0);
            let out_of_fuel = self.builder.create_block();
            let resume = self.builder.create_block();
            self.builder.set_cold_block(out_of_fuel);
            self.builder.ins().brif(spent, out_of_fuel, &[], resume, &[]);
            self.builder.switch_to_block(out_of_fuel);
            self.save_fuel();
            self.trap(trap_codes::OUT_OF_FUEL);
            self.builder.switch_to_block(resume);
        }
        if self.tunables.epoch_interruption {
            let store_ctx = self.store_ctx;
            let counter = self.load_ptr(store_ctx, offsets::store::EPOCH_COUNTER, readonly());
            // An atomic load: another thread advances the counter, so no load of it may be reused.
            let epoch = self.builder.ins().atomic_load(types::I64, trusted(), counter);
            let deadline = self.load_ptr(store_ctx, offsets::store::EPOCH_DEADLINE, trusted());
            let reached = self.builder.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
            self.trap_if(reached, trap_codes::INTERRUPT);
        }
    }

    fn load_ptr(&mut self, base: Value, offset: u32, flags: MemFlagsData) -> Value {
        self.builder.ins().load(types::I64, flags, base, offset as i32)
    }

    fn vmctx_ptr(&mut self, offset: u32) -> Value {
        let vmctx = self.vmctx;
        self.load_ptr(vmctx, offset, readonly())
    }

    fn signature(&mut self, type_index: u32) -> Result<SigRef> {
        if let Some(&sig) = self.signatures.get(&type_index) {
            return Ok(sig);
        }
        let sig = wasm_signature(&self.module.types[type_index as usize], self.call_conv)?;
        let sig = self.builder.import_signature(sig);
        self.signatures.insert(type_index, sig);
        Ok(sig)
    }

    fn call_args(&mut self, callee_vmctx: Value, num_params: usize) -> Vec<Value> {
        let mut args = Vec::with_capacity(num_params + 2);
        args.push(callee_vmctx);
        args.push(self.vmctx);
        let start = self.stack.len() - num_params;
        args.extend(self.stack.drain(start..));
        args
    }

    fn push_results(&mut self, inst: ir::Inst) {
        let results = self.builder.inst_results(inst).to_vec();
        self.stack.extend(results);
    }

    fn call(&mut self, func_index: u32) -> Result<()> {
        let type_index = self.module.funcs[func_index as usize];
        let num_params = self.module.types[type_index as usize].params.len();
        let inst = if func_index < self.module.num_imported_funcs {
            let sig = self.signature(type_index)?;
            let funcref = self.offsets.funcref(func_index);
            let vmctx = self.vmctx;
            let code = self.load_ptr(vmctx, funcref + offsets::funcref::FUNC_PTR, readonly());
            let callee_vmctx = self.load_ptr(vmctx, funcref + offsets::funcref::VMCTX, readonly());
            let args = self.call_args(callee_vmctx, num_params);
            self.save_fuel();
            self.builder.ins().call_indirect(sig, code, &args)
        } else {
            let callee = match self.direct_callees.get(&func_index) {
                Some(&f) => f,
                None => {
                    let signature = self.signature(type_index)?;
                    let (namespace, index) = FuncKey::Wasm { module: 0, index: func_index }.to_parts();
                    let name = self.builder.func.declare_imported_user_function(UserExternalName::new(namespace, index));
                    let f = self.builder.import_function(ExtFuncData {
                        name: ExternalName::user(name),
                        signature,
                        colocated: true,
                        patchable: false,
                    });
                    self.direct_callees.insert(func_index, f);
                    f
                }
            };
            let vmctx = self.vmctx;
            let args = self.call_args(vmctx, num_params);
            self.save_fuel();
            self.builder.ins().call(callee, &args)
        };
        self.reload_fuel();
        self.push_results(inst);
        Ok(())
    }

    /// Bounds-checks `index` against table `table` and returns the element's address.
    fn table_element_addr(&mut self, table: u32, index: Value, trap: TrapCode) -> Value {
        let def = self.vmctx_ptr(self.offsets.table(table));
        let index = self.builder.ins().uextend(types::I64, index);
        let len = self.load_ptr(def, offsets::table::LENGTH, trusted());
        let oob = self.builder.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trap_if(oob, trap);
        let base = self.load_ptr(def, offsets::table::BASE, trusted());
        let scaled = self.builder.ins().ishl_imm_u(index, 3);
        self.builder.ins().iadd(base, scaled)
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) -> Result<()> {
        let index = self.pop();
        let addr = self.table_element_addr(table, index, trap_codes::TABLE_OUT_OF_BOUNDS);
        let funcref = self.load_ptr(addr, 0, trusted());
        self.trap_unless(funcref, trap_codes::INDIRECT_CALL_TO_NULL);
        let actual = self.builder.ins().load(types::I32, trusted(), funcref, offsets::funcref::TYPE_ID as i32);
        let type_ids = self.vmctx_ptr(VMOffsets::TYPE_IDS);
        let expected = self.builder.ins().load(types::I32, readonly(), type_ids, (type_index * 4) as i32);
        let mismatch = self.builder.ins().icmp(IntCC::NotEqual, actual, expected);
        self.trap_if(mismatch, trap_codes::BAD_SIGNATURE);
        self.call_funcref(funcref, type_index)
    }

    /// Calls the non-null `funcref` (a `*const VMFuncRef`), known to have type `type_index`.
    fn call_funcref(&mut self, funcref: Value, type_index: u32) -> Result<()> {
        let code = self.load_ptr(funcref, offsets::funcref::FUNC_PTR, trusted());
        let callee_vmctx = self.load_ptr(funcref, offsets::funcref::VMCTX, trusted());
        let sig = self.signature(type_index)?;
        let num_params = self.module.types[type_index as usize].params.len();
        let args = self.call_args(callee_vmctx, num_params);
        self.save_fuel();
        let inst = self.builder.ins().call_indirect(sig, code, &args);
        self.reload_fuel();
        self.push_results(inst);
        Ok(())
    }

    fn call_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Option<Value> {
        let sig = match self.builtin_signatures.get(&builtin) {
            Some(&s) => s,
            None => {
                let clif = |t: BuiltinType| match t {
                    BuiltinType::I32 => types::I32,
                    BuiltinType::I64 => types::I64,
                };
                let mut sig = Signature::new(CallConv::SystemV);
                sig.params.push(AbiParam::new(types::I64));
                sig.params.extend(builtin.params().iter().map(|&t| AbiParam::new(clif(t))));
                sig.returns.extend(builtin.result().map(|t| AbiParam::new(clif(t))));
                let s = self.builder.import_signature(sig);
                self.builtin_signatures.insert(builtin, s);
                s
            }
        };
        let table = self.vmctx_ptr(VMOffsets::BUILTINS);
        let code = self.load_ptr(table, builtin.offset(), readonly());
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let inst = self.builder.ins().call_indirect(sig, code, &all);
        self.builder.inst_results(inst).first().copied()
    }

    /// Calls a builtin that returns 0 on failure, trapping with `trap` if it does.
    fn call_checked_builtin(&mut self, builtin: Builtin, args: &[Value], trap: TrapCode) {
        let ok = self.call_builtin(builtin, args).expect("checked builtins return a status");
        self.trap_unless(ok, trap);
    }

    /// Calls `memory.grow` or `table.grow`'s builtin: traps if the resource limiter failed, and returns the
    /// old size or -1 as an `i32`.
    fn call_grow_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Value {
        let result = self.call_builtin(builtin, args).expect("grow builtins return a size");
        let failed = self.builder.ins().icmp_imm_s(IntCC::Equal, result, GROW_ERROR);
        self.trap_if(failed, trap_codes::HOST_CALL_FAILED);
        self.builder.ins().ireduce(types::I32, result)
    }

    fn i32const(&mut self, v: u32) -> Value {
        self.builder.ins().iconst(types::I32, i64::from(v))
    }

    /// The address of an access of `size` bytes at `index + offset` in memory `memory`, bounds-checked
    /// explicitly unless the guard region covers it.
    fn memory_addr(&mut self, memarg: &wasmparser::MemArg, size: u64) -> (Value, i32) {
        let index = self.pop();
        let memory = match memarg.target {
            wasmparser::MemArgTarget::Memory(m) => m,
            wasmparser::MemArgTarget::Array(_) => unreachable!("GC arrays are rejected by validation"),
        };
        let ty = self.module.memories[memory as usize];
        let base = if ty.may_move(self.tunables.memory_reservation, self.tunables.memory_may_move) {
            // Growing (in any call) may move it: read the base from the definition, not a cached copy.
            let def = self.vmctx_ptr(self.offsets.memory(memory));
            self.load_ptr(def, offsets::memory::BASE, trusted())
        } else {
            self.vmctx_ptr(self.offsets.memory_base(memory))
        };
        let index = self.builder.ins().uextend(types::I64, index);
        let end = memarg.offset + size;
        if !self.tunables.signals_based_traps || end > self.tunables.guard_size {
            let def = self.vmctx_ptr(self.offsets.memory(memory));
            let len = self.load_ptr(def, offsets::memory::LENGTH, trusted());
            let limit = self.builder.ins().iadd_imm_s(index, end as i64);
            let oob = self.builder.ins().icmp(IntCC::UnsignedGreaterThan, limit, len);
            self.trap_if(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        }
        let addr = self.builder.ins().iadd(base, index);
        match i32::try_from(memarg.offset) {
            Ok(offset) => (addr, offset),
            Err(_) => (self.builder.ins().iadd_imm_s(addr, memarg.offset as i64), 0),
        }
    }

    fn load(&mut self, memarg: &wasmparser::MemArg, ty: ir::Type, size: u64, extend: Option<bool>) {
        let (addr, offset) = self.memory_addr(memarg, size);
        let flags = MemFlagsData::new().with_endianness(ir::Endianness::Little);
        let ins = self.builder.ins();
        let v = match (size, extend) {
            (1, Some(true)) => ins.sload8(ty, flags, addr, offset),
            (1, _) => ins.uload8(ty, flags, addr, offset),
            (2, Some(true)) => ins.sload16(ty, flags, addr, offset),
            (2, _) => ins.uload16(ty, flags, addr, offset),
            (4, Some(true)) if ty == types::I64 => ins.sload32(flags, addr, offset),
            (4, Some(false)) if ty == types::I64 => ins.uload32(flags, addr, offset),
            _ => ins.load(ty, flags, addr, offset),
        };
        self.push(v);
    }

    fn store(&mut self, memarg: &wasmparser::MemArg, size: u64) {
        let value = self.pop();
        let (addr, offset) = self.memory_addr(memarg, size);
        let flags = MemFlagsData::new().with_endianness(ir::Endianness::Little);
        let value_bits = self.builder.func.dfg.value_type(value).bits() as u64;
        let ins = self.builder.ins();
        match size {
            1 => ins.istore8(flags, value, addr, offset),
            2 => ins.istore16(flags, value, addr, offset),
            4 if value_bits == 64 => ins.istore32(flags, value, addr, offset),
            _ => ins.store(flags, value, addr, offset),
        };
    }

    /// The address of global `index`'s value: in this instance's context if the module defines it, behind a
    /// pointer if it is imported.
    fn global_addr(&mut self, index: u32) -> Value {
        if index < self.module.num_imported_globals {
            self.vmctx_ptr(self.offsets.global(index))
        } else {
            let vmctx = self.vmctx;
            self.builder.ins().iadd_imm_s(vmctx, i64::from(self.offsets.defined_global(index)))
        }
    }

    fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) {
        let a = self.pop();
        let v = f(&mut self.builder, a);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(&mut self.builder, a, b);
        self.push(v);
    }

    fn icmp(&mut self, cc: IntCC) {
        let (a, b) = self.pop2();
        let c = self.builder.ins().icmp(cc, a, b);
        let v = self.builder.ins().uextend(types::I32, c);
        self.push(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let c = self.builder.ins().fcmp(cc, a, b);
        let v = self.builder.ins().uextend(types::I32, c);
        self.push(v);
    }

    fn eqz(&mut self) {
        let a = self.pop();
        let c = self.builder.ins().icmp_imm_s(IntCC::Equal, a, 0);
        let v = self.builder.ins().uextend(types::I32, c);
        self.push(v);
    }

    /// Sign-extends the low `from` bits of the top value within its own type.
    fn extend_within(&mut self, from: ir::Type, to: ir::Type) {
        self.unop(|b, a| {
            let narrow = b.ins().ireduce(from, a);
            b.ins().sextend(to, narrow)
        });
    }

    fn operator(&mut self, op: &Operator<'_>) -> Result<()> {
        use Operator as O;
        match *op {
            O::Unreachable => {
                self.trap(trap_codes::UNREACHABLE);
                self.reachable = false;
            }
            O::Nop => {}
            O::Block { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                let next = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: FrameKind::Block,
                    next,
                    num_params: params.len(),
                    num_results: results.len(),
                    height,
                });
            }
            O::Loop { blockty } => {
                let (params, results) = self.block_arity(blockty)?;
                let header = self.block_with_params(&params);
                let next = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                let values = self.peekn(params.len()).to_vec();
                self.jump(header, &values);
                self.enter_block(header, height);
                self.check_interrupts();
                self.control.push(Frame {
                    kind: FrameKind::Loop { header },
                    next,
                    num_params: params.len(),
                    num_results: results.len(),
                    height,
                });
            }
            O::If { blockty } => {
                let cond = self.pop();
                let (params, results) = self.block_arity(blockty)?;
                let then_block = self.block_with_params(&params);
                let else_block = self.block_with_params(&params);
                let next = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                let values = args(self.peekn(params.len()));
                self.builder.ins().brif(cond, then_block, &values, else_block, &values);
                self.enter_block(then_block, height);
                self.control.push(Frame {
                    kind: FrameKind::If { else_block: Some(else_block) },
                    next,
                    num_params: params.len(),
                    num_results: results.len(),
                    height,
                });
            }
            O::Else => {
                let frame = *self.control.last().expect("validated control stack");
                let values = self.peekn(frame.num_results).to_vec();
                self.jump(frame.next, &values);
                if let FrameKind::If { else_block: Some(else_block) } = frame.kind {
                    self.control.last_mut().unwrap().kind = FrameKind::If { else_block: None };
                    self.enter_block(else_block, frame.height);
                }
            }
            O::End => self.end_frame(),
            O::Br { relative_depth } => {
                self.branch(relative_depth);
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                self.branch_if(cond, relative_depth, true);
            }
            O::BrTable { ref targets } => {
                let index = self.pop();
                let depths = targets.targets().collect::<Result<Vec<u32>, _>>()?;
                let default = targets.default();
                // Jump tables carry no arguments: a target that takes values gets an edge block that
                // passes them, filled in after the `br_table`.
                let mut edges: HashMap<u32, ir::Block> = HashMap::new();
                let mut pending: Vec<(ir::Block, ir::Block, usize)> = Vec::new();
                let mut block_for = |t: &mut Self, depth: u32| -> ir::Block {
                    if let Some(&b) = edges.get(&depth) {
                        return b;
                    }
                    let frame = t.control[t.control.len() - 1 - depth as usize];
                    let (target, arity) = frame.branch_target();
                    let block = if arity == 0 {
                        target
                    } else {
                        let edge = t.builder.create_block();
                        pending.push((edge, target, arity));
                        edge
                    };
                    edges.insert(depth, block);
                    block
                };
                let default_block = block_for(self, default);
                let table_blocks: Vec<ir::Block> = depths.iter().map(|&d| block_for(self, d)).collect();
                let dfg = &mut self.builder.func.dfg;
                let default_call = dfg.block_call(default_block, &[]);
                let calls: Vec<_> = table_blocks.iter().map(|&b| dfg.block_call(b, &[])).collect();
                let jt = self.builder.create_jump_table(JumpTableData::new(default_call, &calls));
                self.builder.ins().br_table(index, jt);
                for (edge, target, arity) in pending {
                    self.builder.switch_to_block(edge);
                    let values = self.peekn(arity).to_vec();
                    self.jump(target, &values);
                }
                self.reachable = false;
            }
            O::Return => {
                let n = self.control[0].num_results;
                let values = self.peekn(n).to_vec();
                self.return_(&values);
            }
            O::Call { function_index } => self.call(function_index)?,
            O::CallIndirect { type_index, table_index } => self.call_indirect(type_index, table_index)?,
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let (a, b, cond) = self.pop3();
                let v = self.builder.ins().select(cond, a, b);
                self.push(v);
            }
            O::TypedSelectMulti { .. } => bail!("multi-value select is not supported"),
            O::LocalGet { local_index } => {
                let v = self.builder.use_var(self.locals[local_index as usize]);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.builder.def_var(self.locals[local_index as usize], v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated operand stack");
                self.builder.def_var(self.locals[local_index as usize], v);
            }
            O::GlobalGet { global_index } => {
                let ty = clif_type(self.module.globals[global_index as usize].ty.content)?;
                let addr = self.global_addr(global_index);
                let v = self.builder.ins().load(ty, trusted(), addr, 0);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let addr = self.global_addr(global_index);
                self.builder.ins().store(trusted(), v, addr, 0);
            }

            // Memory.
            O::I32Load { ref memarg } => self.load(memarg, types::I32, 4, None),
            O::I64Load { ref memarg } => self.load(memarg, types::I64, 8, None),
            O::F32Load { ref memarg } => self.load(memarg, types::F32, 4, None),
            O::F64Load { ref memarg } => self.load(memarg, types::F64, 8, None),
            O::I32Load8S { ref memarg } => self.load(memarg, types::I32, 1, Some(true)),
            O::I32Load8U { ref memarg } => self.load(memarg, types::I32, 1, Some(false)),
            O::I32Load16S { ref memarg } => self.load(memarg, types::I32, 2, Some(true)),
            O::I32Load16U { ref memarg } => self.load(memarg, types::I32, 2, Some(false)),
            O::I64Load8S { ref memarg } => self.load(memarg, types::I64, 1, Some(true)),
            O::I64Load8U { ref memarg } => self.load(memarg, types::I64, 1, Some(false)),
            O::I64Load16S { ref memarg } => self.load(memarg, types::I64, 2, Some(true)),
            O::I64Load16U { ref memarg } => self.load(memarg, types::I64, 2, Some(false)),
            O::I64Load32S { ref memarg } => self.load(memarg, types::I64, 4, Some(true)),
            O::I64Load32U { ref memarg } => self.load(memarg, types::I64, 4, Some(false)),
            O::I32Store { ref memarg } | O::F32Store { ref memarg } => self.store(memarg, 4),
            O::I64Store { ref memarg } | O::F64Store { ref memarg } => self.store(memarg, 8),
            O::I32Store8 { ref memarg } | O::I64Store8 { ref memarg } => self.store(memarg, 1),
            O::I32Store16 { ref memarg } | O::I64Store16 { ref memarg } => self.store(memarg, 2),
            O::I64Store32 { ref memarg } => self.store(memarg, 4),
            O::MemorySize { mem } => {
                let def = self.vmctx_ptr(self.offsets.memory(mem));
                let len = self.load_ptr(def, offsets::memory::LENGTH, trusted());
                let pages = self.builder.ins().ushr_imm_u(len, 16);
                let v = self.builder.ins().ireduce(types::I32, pages);
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let mem = self.i32const(mem);
                let v = self.call_grow_builtin(Builtin::MemoryGrow, &[mem, delta]);
                self.push(v);
            }
            O::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                self.charge_bulk(len);
                let mem = self.i32const(mem);
                self.call_checked_builtin(Builtin::MemoryFill, &[mem, dst, val, len], TrapCode::HEAP_OUT_OF_BOUNDS);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                self.charge_bulk(len);
                let dst_mem = self.i32const(dst_mem);
                let src_mem = self.i32const(src_mem);
                self.call_checked_builtin(
                    Builtin::MemoryCopy,
                    &[dst_mem, src_mem, dst, src, len],
                    TrapCode::HEAP_OUT_OF_BOUNDS,
                );
            }
            O::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                self.charge_bulk(len);
                let mem = self.i32const(mem);
                let data = self.i32const(data_index);
                self.call_checked_builtin(
                    Builtin::MemoryInit,
                    &[mem, data, dst, src, len],
                    TrapCode::HEAP_OUT_OF_BOUNDS,
                );
            }
            O::DataDrop { data_index } => {
                let data = self.i32const(data_index);
                self.call_builtin(Builtin::DataDrop, &[data]);
            }

            // Tables and references.
            O::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_element_addr(table, index, trap_codes::TABLE_OUT_OF_BOUNDS);
                let v = self.load_ptr(addr, 0, trusted());
                self.push(v);
            }
            O::TableSet { table } => {
                let (index, value) = self.pop2();
                let addr = self.table_element_addr(table, index, trap_codes::TABLE_OUT_OF_BOUNDS);
                self.builder.ins().store(trusted(), value, addr, 0);
            }
            O::TableSize { table } => {
                let def = self.vmctx_ptr(self.offsets.table(table));
                let len = self.load_ptr(def, offsets::table::LENGTH, trusted());
                let v = self.builder.ins().ireduce(types::I32, len);
                self.push(v);
            }
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                self.charge_bulk(delta);
                let table = self.i32const(table);
                let v = self.call_grow_builtin(Builtin::TableGrow, &[table, init, delta]);
                self.push(v);
            }
            O::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                self.charge_bulk(len);
                let table = self.i32const(table);
                self.call_checked_builtin(
                    Builtin::TableFill,
                    &[table, dst, val, len],
                    trap_codes::TABLE_OUT_OF_BOUNDS,
                );
            }
            O::TableCopy { dst_table, src_table } => {
                let (dst, src, len) = self.pop3();
                self.charge_bulk(len);
                let dst_table = self.i32const(dst_table);
                let src_table = self.i32const(src_table);
                self.call_checked_builtin(
                    Builtin::TableCopy,
                    &[dst_table, src_table, dst, src, len],
                    trap_codes::TABLE_OUT_OF_BOUNDS,
                );
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                self.charge_bulk(len);
                let table = self.i32const(table);
                let elem = self.i32const(elem_index);
                self.call_checked_builtin(
                    Builtin::TableInit,
                    &[table, elem, dst, src, len],
                    trap_codes::TABLE_OUT_OF_BOUNDS,
                );
            }
            O::ElemDrop { elem_index } => {
                let elem = self.i32const(elem_index);
                self.call_builtin(Builtin::ElemDrop, &[elem]);
            }
            O::RefNull { .. } => {
                let v = self.builder.ins().iconst(types::I64, 0);
                self.push(v);
            }
            O::RefIsNull => self.eqz(),
            O::RefAsNonNull => {
                let v = *self.stack.last().expect("validated operand stack");
                self.trap_unless(v, trap_codes::NULL_REFERENCE);
            }
            O::BrOnNull { relative_depth } => {
                let reference = self.pop();
                self.branch_if(reference, relative_depth, false);
                self.push(reference);
            }
            O::BrOnNonNull { relative_depth } => {
                let reference = *self.stack.last().expect("validated operand stack");
                self.branch_if(reference, relative_depth, true);
                self.pop();
            }
            O::CallRef { type_index } => {
                let funcref = self.pop();
                self.trap_unless(funcref, trap_codes::NULL_REFERENCE);
                self.call_funcref(funcref, type_index)?;
            }
            O::RefFunc { function_index } => {
                let vmctx = self.vmctx;
                let v = self.builder.ins().iadd_imm_s(vmctx, self.offsets.funcref(function_index) as i64);
                self.push(v);
            }

            // Constants.
            O::I32Const { value } => {
                let v = self.i32const(value as u32);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.builder.ins().iconst(types::I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.builder.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.builder.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // Integer comparisons.
            O::I32Eqz | O::I64Eqz => self.eqz(),
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),

            // Float comparisons.
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            // Integer arithmetic.
            O::I32Clz | O::I64Clz => self.unop(|b, a| b.ins().clz(a)),
            O::I32Ctz | O::I64Ctz => self.unop(|b, a| b.ins().ctz(a)),
            O::I32Popcnt | O::I64Popcnt => self.unop(|b, a| b.ins().popcnt(a)),
            O::I32Add | O::I64Add => self.binop(|b, x, y| b.ins().iadd(x, y)),
            O::I32Sub | O::I64Sub => self.binop(|b, x, y| b.ins().isub(x, y)),
            O::I32Mul | O::I64Mul => self.binop(|b, x, y| b.ins().imul(x, y)),
            O::I32DivS | O::I64DivS => {
                self.guard_division(true);
                self.binop(|b, x, y| b.ins().sdiv(x, y))
            }
            O::I32DivU | O::I64DivU => {
                self.guard_division(false);
                self.binop(|b, x, y| b.ins().udiv(x, y))
            }
            O::I32RemS | O::I64RemS => {
                self.guard_division(false);
                self.binop(|b, x, y| b.ins().srem(x, y))
            }
            O::I32RemU | O::I64RemU => {
                self.guard_division(false);
                self.binop(|b, x, y| b.ins().urem(x, y))
            }
            O::I32And | O::I64And => self.binop(|b, x, y| b.ins().band(x, y)),
            O::I32Or | O::I64Or => self.binop(|b, x, y| b.ins().bor(x, y)),
            O::I32Xor | O::I64Xor => self.binop(|b, x, y| b.ins().bxor(x, y)),
            O::I32Shl | O::I64Shl => self.binop(|b, x, y| b.ins().ishl(x, y)),
            O::I32ShrS | O::I64ShrS => self.binop(|b, x, y| b.ins().sshr(x, y)),
            O::I32ShrU | O::I64ShrU => self.binop(|b, x, y| b.ins().ushr(x, y)),
            O::I32Rotl | O::I64Rotl => self.binop(|b, x, y| b.ins().rotl(x, y)),
            O::I32Rotr | O::I64Rotr => self.binop(|b, x, y| b.ins().rotr(x, y)),

            // Float arithmetic.
            O::F32Abs | O::F64Abs => self.unop(|b, a| b.ins().fabs(a)),
            O::F32Neg | O::F64Neg => self.unop(|b, a| b.ins().fneg(a)),
            O::F32Ceil | O::F64Ceil => self.unop(|b, a| b.ins().ceil(a)),
            O::F32Floor | O::F64Floor => self.unop(|b, a| b.ins().floor(a)),
            O::F32Trunc | O::F64Trunc => self.unop(|b, a| b.ins().trunc(a)),
            O::F32Nearest | O::F64Nearest => self.unop(|b, a| b.ins().nearest(a)),
            O::F32Sqrt | O::F64Sqrt => self.unop(|b, a| b.ins().sqrt(a)),
            O::F32Add | O::F64Add => self.binop(|b, x, y| b.ins().fadd(x, y)),
            O::F32Sub | O::F64Sub => self.binop(|b, x, y| b.ins().fsub(x, y)),
            O::F32Mul | O::F64Mul => self.binop(|b, x, y| b.ins().fmul(x, y)),
            O::F32Div | O::F64Div => self.binop(|b, x, y| b.ins().fdiv(x, y)),
            O::F32Min | O::F64Min => self.binop(|b, x, y| b.ins().fmin(x, y)),
            O::F32Max | O::F64Max => self.binop(|b, x, y| b.ins().fmax(x, y)),
            O::F32Copysign | O::F64Copysign => self.binop(|b, x, y| b.ins().fcopysign(x, y)),

            // Conversions.
            O::I32WrapI64 => self.unop(|b, a| b.ins().ireduce(types::I32, a)),
            O::I64ExtendI32S => self.unop(|b, a| b.ins().sextend(types::I64, a)),
            O::I64ExtendI32U => self.unop(|b, a| b.ins().uextend(types::I64, a)),
            O::I32Extend8S => self.extend_within(types::I8, types::I32),
            O::I32Extend16S => self.extend_within(types::I16, types::I32),
            O::I64Extend8S => self.extend_within(types::I8, types::I64),
            O::I64Extend16S => self.extend_within(types::I16, types::I64),
            O::I64Extend32S => self.extend_within(types::I32, types::I64),
            O::I32TruncF32S | O::I32TruncF64S => self.trunc(types::I32, true),
            O::I32TruncF32U | O::I32TruncF64U => self.trunc(types::I32, false),
            O::I64TruncF32S | O::I64TruncF64S => self.trunc(types::I64, true),
            O::I64TruncF32U | O::I64TruncF64U => self.trunc(types::I64, false),
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I32, a))
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I32, a))
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unop(|b, a| b.ins().fcvt_to_sint_sat(types::I64, a))
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unop(|b, a| b.ins().fcvt_to_uint_sat(types::I64, a))
            }
            O::F32ConvertI32S | O::F32ConvertI64S => self.unop(|b, a| b.ins().fcvt_from_sint(types::F32, a)),
            O::F32ConvertI32U | O::F32ConvertI64U => self.unop(|b, a| b.ins().fcvt_from_uint(types::F32, a)),
            O::F64ConvertI32S | O::F64ConvertI64S => self.unop(|b, a| b.ins().fcvt_from_sint(types::F64, a)),
            O::F64ConvertI32U | O::F64ConvertI64U => self.unop(|b, a| b.ins().fcvt_from_uint(types::F64, a)),
            O::F32DemoteF64 => self.unop(|b, a| b.ins().fdemote(types::F32, a)),
            O::F64PromoteF32 => self.unop(|b, a| b.ins().fpromote(types::F64, a)),
            O::I32ReinterpretF32 => self.unop(|b, a| b.ins().bitcast(types::I32, MemFlagsData::new(), a)),
            O::I64ReinterpretF64 => self.unop(|b, a| b.ins().bitcast(types::I64, MemFlagsData::new(), a)),
            O::F32ReinterpretI32 => self.unop(|b, a| b.ins().bitcast(types::F32, MemFlagsData::new(), a)),
            O::F64ReinterpretI64 => self.unop(|b, a| b.ins().bitcast(types::F64, MemFlagsData::new(), a)),

            O::Throw { .. } | O::ThrowRef | O::TryTable { .. } => {
                bail!("exception handling (`throw`, `try_table`) is not supported yet")
            }
            ref other => {
                let name = format!("{other:?}");
                let name = name.split([' ', '{']).next().unwrap_or_default().to_string();
                if name.starts_with("V128") || name.contains("x16") || name.contains("x8") || name.contains("x4") || name.contains("x2") {
                    bail!("SIMD (v128) is not supported yet: `{name}`");
                }
                bail!("the `{name}` instruction is not supported yet");
            }
        }
        Ok(())
    }
}
