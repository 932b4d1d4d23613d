//! Trampolines between the host's calling convention and wasm's, one pair per function type.
//!
//! - The entry trampoline is called by the host as `extern "sysv64" fn(callee_vmctx, func_ptr, args,
//!   results)`: it loads the arguments from the `[ValRaw]` array `args`, calls the wasm function (with no
//!   caller context), and stores its results into the `[ValRaw]` array `results` (which may be `args`).
//! - The exit trampoline has the wasm signature, with a host function's context as its `vmctx`: it spills the
//!   arguments to a `[ValRaw]` array on its stack, calls the context's shim, raises a trap if the shim
//!   reports failure, and returns the results the shim wrote into the array.

use super::{clif_type, finish, trap_codes, trap_site, wasm_signature};
use crate::environ::{Builtin, CompiledFunction, FuncKey, WasmFuncType, offsets};
use anyhow::Result;
use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, AbiParam, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, types};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// Size of one `ValRaw`.
const VAL_SIZE: u32 = 16;

/// Compiles the entry and exit trampolines of `ty` (as [`FuncKey::EntryTrampoline`] and
/// [`FuncKey::ExitTrampoline`]); without `signals_based_traps`, a failed host call raises its trap through
/// the `raise_trap` builtin instead of a trapping instruction.
pub fn compile(isa: &dyn TargetIsa, ty: &WasmFuncType, signals_based_traps: bool) -> Result<[(FuncKey, CompiledFunction); 2]> {
    let mut context = Context::new();
    let mut builder_ctx = FunctionBuilderContext::new();
    build_entry(isa, ty, &mut context.func, &mut builder_ctx)?;
    let entry = finish(isa, &mut context)?;
    context.clear();
    build_exit(isa, ty, signals_based_traps, &mut context.func, &mut builder_ctx)?;
    let exit = finish(isa, &mut context)?;
    Ok([(FuncKey::EntryTrampoline, entry), (FuncKey::ExitTrampoline, exit)])
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

fn build_entry(isa: &dyn TargetIsa, ty: &WasmFuncType, func: &mut ir::Function, ctx: &mut FunctionBuilderContext) -> Result<()> {
    let mut sig = ir::Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 4]);
    func.signature = sig;
    let wasm_sig = wasm_signature(ty, CallConv::Tail)?;
    let mut b = FunctionBuilder::new(func, ctx);
    let wasm_sig = b.import_signature(wasm_sig);
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    let &[callee_vmctx, func_ptr, arg_values, result_values] = b.block_params(block) else { unreachable!() };
    let no_caller = b.ins().iconst(types::I64, 0);
    let mut args = vec![callee_vmctx, no_caller];
    for (i, &p) in ty.params.iter().enumerate() {
        args.push(b.ins().load(clif_type(p)?, flags(), arg_values, (i as u32 * VAL_SIZE) as i32));
    }
    let call = b.ins().call_indirect(wasm_sig, func_ptr, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        b.ins().store(flags(), r, result_values, (i as u32 * VAL_SIZE) as i32);
    }
    b.ins().return_(&[]);
    b.finalize(isa.frontend_config());
    Ok(())
}

fn build_exit(
    isa: &dyn TargetIsa,
    ty: &WasmFuncType,
    signals_based_traps: bool,
    func: &mut ir::Function,
    ctx: &mut FunctionBuilderContext,
) -> Result<()> {
    func.signature = wasm_signature(ty, CallConv::Tail)?;
    let mut shim_sig = ir::Signature::new(CallConv::SystemV);
    shim_sig.params.extend([AbiParam::new(types::I64); 4]);
    shim_sig.returns.push(AbiParam::new(types::I8));
    let slots = ty.params.len().max(ty.results.len()).max(1) as u32;
    let mut b = FunctionBuilder::new(func, ctx);
    let shim_sig = b.import_signature(shim_sig);
    let slot = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, slots * VAL_SIZE, 4));
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    let params = b.block_params(block).to_vec();
    let (host_ctx, caller_vmctx) = (params[0], params[1]);
    for (i, &p) in params[2..].iter().enumerate() {
        b.ins().stack_store(types::I64, p, slot, (i as u32 * VAL_SIZE) as i32);
    }
    let values = b.ins().stack_addr(types::I64, slot, 0);
    let len = b.ins().iconst(types::I64, i64::from(slots));
    let shim = b.ins().load(types::I64, flags().with_readonly(), host_ctx, offsets::host_func::SHIM as i32);
    let call = b.ins().call_indirect(shim_sig, shim, &[host_ctx, caller_vmctx, values, len]);
    let ok = b.inst_results(call)[0];
    if signals_based_traps {
        b.ins().trapz(ok, trap_codes::HOST_CALL_FAILED);
    } else {
        // The host function's context holds the builtin table, which holds `raise_trap`: no absolute address
        // in the code.
        let failed = b.create_block();
        let resume = b.create_block();
        b.set_cold_block(failed);
        b.ins().brif(ok, resume, &[], failed, &[]);
        b.switch_to_block(failed);
        b.seal_block(failed);
        let mut raise_sig = ir::Signature::new(CallConv::SystemV);
        raise_sig.params.extend([AbiParam::new(types::I64), AbiParam::new(types::I32)]);
        let raise_sig = b.import_signature(raise_sig);
        let builtins =
            b.ins().load(types::I64, flags().with_readonly(), host_ctx, offsets::host_func::BUILTINS as i32);
        let raise = b.ins().load(types::I64, flags().with_readonly(), builtins, Builtin::RaiseTrap.offset() as i32);
        let site = trap_site(trap_codes::HOST_CALL_FAILED)?;
        let code = b.ins().iconst(types::I32, i64::from(site.code()));
        b.ins().call_indirect(raise_sig, raise, &[caller_vmctx, code]);
        b.ins().trap(trap_codes::HOST_CALL_FAILED);
        b.switch_to_block(resume);
        b.seal_block(resume);
    }
    let mut results = Vec::new();
    for (i, &r) in ty.results.iter().enumerate() {
        results.push(b.ins().stack_load(types::I64, clif_type(r)?, slot, (i as u32 * VAL_SIZE) as i32));
    }
    b.ins().return_(&results);
    b.finalize(isa.frontend_config());
    Ok(())
}
