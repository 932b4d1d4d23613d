//! Compilation: validate a module with wasmparser, translate each function to CLIF and compile it with
//! Cranelift for the host. The result is machine code and metadata (`environ` types); linking it into an
//! image and running it is for other layers. This layer depends on `environ/` only.

mod translate;
pub mod trampolines;

use crate::environ::{CompiledFunction, FuncKey, ModuleInfo, Trap, TrapSite, VMOffsets, WasmFuncType, WasmValType};
use anyhow::{Context as _, Result, anyhow, bail};
use cranelift_codegen::ir::{self, AbiParam, ArgumentPurpose, TrapCode, types};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use rayon::prelude::*;
use wasmparser::{FuncToValidate, FunctionBody, Parser, Payload, Validator, ValidatorResources, WasmFeatures};

/// Code-generation settings that follow from the engine's configuration.
#[derive(Clone, Debug)]
pub struct Tunables {
    /// The proposals modules may use.
    pub features: WasmFeatures,
    /// Whether functions are compiled on several threads.
    pub parallel: bool,
    /// Whether out-of-bounds memory accesses may be caught by the guard region instead of explicit checks.
    pub signals_based_traps: bool,
    /// Bytes past 4 GiB (the largest 32-bit index) that are guaranteed inaccessible: accesses whose static
    /// offset plus size fit need no bounds check. Zero when memories are not reserved 4 GiB plus guard.
    pub guard_size: u64,
    /// Address space reserved per memory: with [`memory_may_move`](Self::memory_may_move), a memory whose
    /// largest size exceeds it may move when it grows (see `WasmMemoryType::may_move`).
    pub memory_reservation: u64,
    /// Whether memories may move when they grow past their reservation.
    pub memory_may_move: bool,
    /// Whether code counts fuel.
    pub consume_fuel: bool,
    /// Whether code checks the epoch deadline.
    pub epoch_interruption: bool,
}

/// Trap codes of the traps Cranelift has no reserved code for.
pub mod trap_codes {
    use cranelift_codegen::ir::TrapCode;
    /// `unreachable`.
    pub const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);
    /// A table index out of bounds.
    pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(2);
    /// `call_indirect` of a null element.
    pub const INDIRECT_CALL_TO_NULL: TrapCode = TrapCode::unwrap_user(3);
    /// `call_indirect` signature mismatch.
    pub const BAD_SIGNATURE: TrapCode = TrapCode::unwrap_user(4);
    /// A host function failed (the exit trampoline's failure path).
    pub const HOST_CALL_FAILED: TrapCode = TrapCode::unwrap_user(5);
    /// A null reference was dereferenced (`call_ref`, `ref.as_non_null`).
    pub const NULL_REFERENCE: TrapCode = TrapCode::unwrap_user(6);
    /// The store's fuel ran out.
    pub const OUT_OF_FUEL: TrapCode = TrapCode::unwrap_user(7);
    /// The epoch deadline passed.
    pub const INTERRUPT: TrapCode = TrapCode::unwrap_user(8);
}

/// What the trap with code `code` means.
pub fn trap_site(code: TrapCode) -> Result<TrapSite> {
    Ok(TrapSite::Trap(match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        trap_codes::UNREACHABLE => Trap::UnreachableCodeReached,
        trap_codes::TABLE_OUT_OF_BOUNDS => Trap::TableOutOfBounds,
        trap_codes::INDIRECT_CALL_TO_NULL => Trap::IndirectCallToNull,
        trap_codes::BAD_SIGNATURE => Trap::BadSignature,
        trap_codes::NULL_REFERENCE => Trap::NullReference,
        trap_codes::OUT_OF_FUEL => Trap::OutOfFuel,
        trap_codes::INTERRUPT => Trap::Interrupt,
        trap_codes::HOST_CALL_FAILED => return Ok(TrapSite::HostCallFailed),
        other => bail!("unexpected trap code {other} in compiled code"),
    }))
}

/// The CLIF signature of a wasm function: `(callee_vmctx, caller_vmctx, params...) -> results`.
pub fn wasm_signature(ty: &WasmFuncType, call_conv: CallConv) -> Result<ir::Signature> {
    let mut sig = ir::Signature::new(call_conv);
    sig.params.push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    for &p in ty.params.iter() {
        sig.params.push(AbiParam::new(clif_type(p)?));
    }
    for &r in ty.results.iter() {
        sig.returns.push(AbiParam::new(clif_type(r)?));
    }
    Ok(sig)
}

/// The CLIF type of a wasm value type.
pub fn clif_type(ty: WasmValType) -> Result<ir::Type> {
    Ok(match ty {
        WasmValType::I32 => types::I32,
        WasmValType::I64 => types::I64,
        WasmValType::F32 => types::F32,
        WasmValType::F64 => types::F64,
        WasmValType::Ref(_) => types::I64,
        WasmValType::V128 => bail!("SIMD (v128) is not supported yet"),
    })
}

/// The ISA Tenon compiles for: the host, with the settings compiled code relies on, optimizing at
/// `opt_level` (`none`, `speed` or `speed_and_size`).
pub fn host_isa(opt_level: &str) -> Result<OwnedTargetIsa> {
    use cranelift_codegen::settings::{self, Configurable};
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| anyhow!("cranelift setting {k}: {e}"));
    set(&mut flags, "opt_level", opt_level)?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    // Frames larger than a page touch each page on the way down, so that no frame can step over a guard
    // page whatever the stack limit says.
    set(&mut flags, "enable_probestack", "true")?;
    set(&mut flags, "probestack_strategy", "inline")?;
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    set(&mut flags, "unwind_info", "false")?;
    set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
    let builder = cranelift_native::builder().map_err(|e| anyhow!("host is not supported by Cranelift: {e}"))?;
    builder.finish(settings::Flags::new(flags)).context("failed to configure Cranelift for the host")
}

/// A validated and compiled module.
pub struct CompiledModule {
    /// What the module declares.
    pub info: ModuleInfo,
    /// The machine code of its defined functions, in index order.
    pub functions: Vec<(FuncKey, CompiledFunction)>,
}

/// Validates and compiles a module binary.
pub fn compile_module(isa: &dyn TargetIsa, tunables: &Tunables, bytes: &[u8]) -> Result<CompiledModule> {
    let mut validator = Validator::new_with_features(tunables.features);
    let mut info = ModuleInfo::default();
    let mut bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(explain_validation)?;
        if let wasmparser::ValidPayload::Func(func, body) = validator.payload(&payload).map_err(explain_validation)? {
            bodies.push((func, body));
        }
        match &payload {
            Payload::Version { encoding: wasmparser::Encoding::Component, .. } => {
                bail!("expected a core module, found a component")
            }
            Payload::CodeSectionEntry(_) => {}
            other => info.add_section(other)?,
        }
    }
    let offsets = VMOffsets::for_module(&info);
    // Each worker reuses its compiler state from function to function, keeping its allocations.
    let compile = |compiler: &mut FunctionCompiler, (func, body): (FuncToValidate<ValidatorResources>, FunctionBody<'_>)| {
        let index = func.index;
        // A panic in the compiler (a Cranelift bug a module happens to trigger) is an error for this module,
        // not a panic in the embedder; the worker's state is then started afresh.
        let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            compiler.compile(isa, &info, &offsets, tunables, func, &body)
        }))
        .unwrap_or_else(|_| {
            *compiler = FunctionCompiler::default();
            Err(anyhow!("the compiler panicked"))
        })
        .map_err(|e| match e.downcast::<wasmparser::BinaryReaderError>() {
            Ok(e) => explain_validation(e),
            Err(e) => e,
        })
        .with_context(|| format!("failed to compile wasm function {index}"))?;
        Ok((FuncKey::Wasm { module: 0, index }, compiled))
    };
    let functions: Vec<(FuncKey, CompiledFunction)> = if tunables.parallel {
        bodies.into_par_iter().map_init(FunctionCompiler::default, compile).collect::<Result<_>>()?
    } else {
        let mut compiler = FunctionCompiler::default();
        bodies.into_iter().map(|b| compile(&mut compiler, b)).collect::<Result<_>>()?
    };
    Ok(CompiledModule { info, functions })
}

fn explain_validation(e: wasmparser::BinaryReaderError) -> anyhow::Error {
    let message = e.message();
    if message.contains("SIMD support is not enabled") {
        anyhow!("SIMD (v128) is not supported yet (at offset {:#x})", e.offset())
    } else {
        anyhow::Error::new(e)
    }
}

/// The state of compiling one function at a time, kept between functions so its buffers are reused.
struct FunctionCompiler {
    context: Context,
    builder: cranelift_frontend::FunctionBuilderContext,
    validation: wasmparser::FuncValidatorAllocations,
}

impl Default for FunctionCompiler {
    fn default() -> Self {
        FunctionCompiler {
            context: Context::new(),
            builder: cranelift_frontend::FunctionBuilderContext::new(),
            validation: Default::default(),
        }
    }
}

impl FunctionCompiler {
    /// Validates, translates and compiles one function body.
    fn compile(
        &mut self,
        isa: &dyn TargetIsa,
        info: &ModuleInfo,
        offsets: &VMOffsets,
        tunables: &Tunables,
        func: FuncToValidate<ValidatorResources>,
        body: &FunctionBody<'_>,
    ) -> Result<CompiledFunction> {
        let index = func.index;
        let mut validator = func.into_validator(std::mem::take(&mut self.validation));
        self.context.clear();
        let translated = translate::translate_function(
            info,
            offsets,
            tunables,
            isa,
            index,
            body,
            &mut validator,
            &mut self.context.func,
            &mut self.builder,
        );
        if translated.is_err() {
            // A translation that stopped early leaves the builder mid-function.
            self.builder = cranelift_frontend::FunctionBuilderContext::new();
        }
        translated?;
        self.validation = validator.into_allocations();
        finish(isa, &mut self.context)
    }
}

/// Compiles the function in `context` and extracts its code, calls and traps.
pub fn finish(isa: &dyn TargetIsa, context: &mut Context) -> Result<CompiledFunction> {
    let mut ctrl = cranelift_codegen::control::ControlPlane::default();
    let callees: Vec<(u32, u32)> =
        context.func.params.user_named_funcs().values().map(|n| (n.namespace, n.index)).collect();
    let compiled = context
        .compile(isa, &mut ctrl)
        .map_err(|e| anyhow!("Cranelift failed to compile: {:?}", e.inner))?;
    let buffer = &compiled.buffer;
    let mut calls = Vec::new();
    for reloc in buffer.relocs() {
        let FinalizedRelocTarget::ExternalName(ir::ExternalName::User(name)) = &reloc.target else {
            bail!("unexpected relocation {:?} in compiled code", reloc.kind);
        };
        if reloc.kind != cranelift_codegen::binemit::Reloc::X86CallPCRel4 {
            bail!("unexpected relocation kind {:?}", reloc.kind);
        }
        let (namespace, index) = callees[name.as_u32() as usize];
        let callee = FuncKey::from_parts(namespace, index)
            .ok_or_else(|| anyhow!("call to an unknown function ({namespace}, {index})"))?;
        calls.push((reloc.offset, callee, reloc.addend));
    }
    let traps = buffer.traps().iter().map(|t| Ok((t.offset, trap_site(t.code)?))).collect::<Result<_>>()?;
    // Below the caller's stack pointer: the return address and saved frame pointer, then everything down to
    // the stack pointer after the prologue.
    let frame_size = buffer.frame_layout().map_or(0, |layout| layout.frame_to_fp_offset) + 16;
    Ok(CompiledFunction { code: buffer.data().to_vec(), alignment: compiled.buffer.alignment, calls, traps, frame_size })
}
