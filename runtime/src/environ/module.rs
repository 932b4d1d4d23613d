//! What a module declares, read from its sections: everything instantiation needs besides the code.

use super::FrameNames;
use super::types::{WasmFuncType, WasmGlobalType, WasmHeapType, WasmMemoryType, WasmRefType, WasmTableType, WasmValType};
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::sync::Arc;
use wasmparser::{ElementItems, ElementKind, ExternalKind, Operator, TypeRef};

/// One operation of a constant expression.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub enum ConstOp {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const` (bits).
    F32(u32),
    /// `f64.const` (bits).
    F64(u64),
    /// `ref.null`.
    RefNull,
    /// `ref.func`.
    RefFunc(u32),
    /// `global.get`.
    GlobalGet(u32),
    /// `i32.add`, `i32.sub`, `i32.mul` (extended constant expressions).
    I32Bin(BinOp),
    /// `i64.add`, `i64.sub`, `i64.mul`.
    I64Bin(BinOp),
}

/// An arithmetic operation allowed in constant expressions.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub enum BinOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication.
    Mul,
}

/// A constant expression: a short stack program.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct ConstExpr(pub Vec<ConstOp>);

impl ConstExpr {
    fn parse(expr: &wasmparser::ConstExpr<'_>) -> Result<Self> {
        let mut ops = Vec::new();
        let mut reader = expr.get_operators_reader();
        while !reader.eof() {
            let op = match reader.read()? {
                Operator::I32Const { value } => ConstOp::I32(value),
                Operator::I64Const { value } => ConstOp::I64(value),
                Operator::F32Const { value } => ConstOp::F32(value.bits()),
                Operator::F64Const { value } => ConstOp::F64(value.bits()),
                Operator::RefNull { .. } => ConstOp::RefNull,
                Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                Operator::I32Add => ConstOp::I32Bin(BinOp::Add),
                Operator::I32Sub => ConstOp::I32Bin(BinOp::Sub),
                Operator::I32Mul => ConstOp::I32Bin(BinOp::Mul),
                Operator::I64Add => ConstOp::I64Bin(BinOp::Add),
                Operator::I64Sub => ConstOp::I64Bin(BinOp::Sub),
                Operator::I64Mul => ConstOp::I64Bin(BinOp::Mul),
                Operator::End => continue,
                other => bail!("unsupported operator in constant expression: {other:?}"),
            };
            ops.push(op);
        }
        Ok(ConstExpr(ops))
    }
}

/// An import's declaration.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Item name.
    pub name: String,
    /// What is imported, with the index it takes in its index space.
    pub index: EntityIndex,
}

/// The type of an item a module imports or exports, as the module declares it.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityType {
    /// A function of the type with this index.
    Func(u32),
    /// A table.
    Table(WasmTableType),
    /// A memory.
    Memory(WasmMemoryType),
    /// A global.
    Global(WasmGlobalType),
    /// An exception tag whose type has this index.
    Tag(u32),
}

/// An item of one of the module's index spaces.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityIndex {
    /// A function.
    Func(u32),
    /// A table.
    Table(u32),
    /// A memory.
    Memory(u32),
    /// A global.
    Global(u32),
    /// An exception tag.
    Tag(u32),
}

/// A table: its type and, for defined tables, the initial element.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct TableDecl {
    /// The type.
    pub ty: WasmTableType,
    /// The initial value of every element (null if absent).
    pub init: Option<ConstExpr>,
}

/// A global: its type and, for defined globals, its initialiser.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct GlobalDecl {
    /// The type.
    pub ty: WasmGlobalType,
    /// The initialiser (empty for imported globals).
    pub init: ConstExpr,
}

/// Where an element segment goes.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub enum SegmentMode {
    /// Used by `table.init` / `memory.init`.
    Passive,
    /// Only declares functions for `ref.func`; dropped at instantiation.
    Declared,
    /// Copied into table or memory `index` at `offset` during instantiation.
    Active {
        /// The table or memory.
        index: u32,
        /// The start offset.
        offset: ConstExpr,
    },
}

/// An element segment.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct ElementSegment {
    /// Where it goes.
    pub mode: SegmentMode,
    /// The elements.
    pub items: Vec<ConstExpr>,
}

/// A data segment.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct DataSegment {
    /// Where it goes.
    pub mode: SegmentMode,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Everything a module declares apart from its function bodies.
#[derive(serde::Serialize, serde::Deserialize, Debug, Default)]
pub struct ModuleInfo {
    /// The function types of the type section (in an artifact's types section, not with the rest).
    #[serde(skip)]
    pub types: Vec<WasmFuncType>,
    /// The type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    /// How many functions are imported.
    pub num_imported_funcs: u32,
    /// Every table, imported ones first.
    pub tables: Vec<TableDecl>,
    /// How many tables are imported.
    pub num_imported_tables: u32,
    /// Every memory, imported ones first.
    pub memories: Vec<WasmMemoryType>,
    /// How many memories are imported.
    pub num_imported_memories: u32,
    /// Every global, imported ones first.
    pub globals: Vec<GlobalDecl>,
    /// How many globals are imported.
    pub num_imported_globals: u32,
    /// The type index of every exception tag, imported ones first.
    pub tags: Vec<u32>,
    /// How many tags are imported.
    pub num_imported_tags: u32,
    /// The imports in order.
    pub imports: Vec<Import>,
    /// The exports in order.
    pub exports: Vec<(String, EntityIndex)>,
    /// Exports by name.
    #[serde(with = "crate::artifact::sorted_map")]
    pub export_map: HashMap<String, EntityIndex>,
    /// The start function.
    pub start: Option<u32>,
    /// The element segments.
    pub elements: Vec<ElementSegment>,
    /// The data segments.
    pub data: Vec<DataSegment>,
    /// Names from the name section.
    pub names: Arc<FrameNames>,
}

impl ModuleInfo {
    /// The type of function `index`.
    pub fn func_type(&self, index: u32) -> &WasmFuncType {
        &self.types[self.funcs[index as usize] as usize]
    }

    /// Checks that every index the declarations hold is in range: true of a module's own (validation sees
    /// to it); an artifact's metadata is checked with this before anything uses it.
    pub fn check_indices(&self) -> Result<()> {
        let ok = |holds: bool, what: &str| if holds { Ok(()) } else { bail!("the artifact is corrupt: {what}") };
        let (types, funcs, globals) = (self.types.len() as u32, self.funcs.len() as u32, self.globals.len() as u32);
        // A function type may refer to earlier ones only; other types to any.
        let refers_below = |ty: &WasmValType, limit: u32| match ty {
            WasmValType::Ref(WasmRefType { heap_type: WasmHeapType::ConcreteFunc(t), .. }) => *t < limit,
            _ => true,
        };
        for (i, ty) in self.types.iter().enumerate() {
            ok(ty.params.iter().chain(&ty.results).all(|v| refers_below(v, i as u32)), "a function type refers to a later one")?;
        }
        let value_types = self.tables.iter().map(|t| WasmValType::Ref(t.ty.element)).chain(self.globals.iter().map(|g| g.ty.content));
        ok(value_types.clone().all(|v| refers_below(&v, types)), "a table or global of an unknown type")?;
        ok(self.funcs.iter().chain(&self.tags).all(|t| *t < types), "a function or tag of an unknown type")?;
        let imported = [
            (self.num_imported_funcs, self.funcs.len()),
            (self.num_imported_tables, self.tables.len()),
            (self.num_imported_memories, self.memories.len()),
            (self.num_imported_globals, self.globals.len()),
            (self.num_imported_tags, self.tags.len()),
        ];
        ok(imported.iter().all(|(n, len)| *n as usize <= *len), "more imported items than items")?;
        let exists = |index: &EntityIndex| match *index {
            EntityIndex::Func(i) => i < funcs,
            EntityIndex::Table(i) => (i as usize) < self.tables.len(),
            EntityIndex::Memory(i) => (i as usize) < self.memories.len(),
            EntityIndex::Global(i) => i < globals,
            EntityIndex::Tag(i) => (i as usize) < self.tags.len(),
        };
        ok(self.imports.iter().map(|i| &i.index).chain(self.exports.iter().map(|(_, e)| e)).chain(self.export_map.values()).all(exists), "an unknown item imported or exported")?;
        ok(self.start.is_none_or(|f| f < funcs), "an unknown start function")?;
        let expr_ok = |e: &ConstExpr| {
            e.0.iter().all(|op| match op {
                ConstOp::GlobalGet(g) => *g < globals,
                ConstOp::RefFunc(f) => *f < funcs,
                _ => true,
            })
        };
        let mode_ok = |mode: &SegmentMode, count: usize| match mode {
            SegmentMode::Active { index, offset } => (*index as usize) < count && expr_ok(offset),
            _ => true,
        };
        let inits = self.globals.iter().map(|g| &g.init).chain(self.tables.iter().filter_map(|t| t.init.as_ref()));
        ok(inits.clone().all(expr_ok), "an initializer refers to an unknown item")?;
        let elements_ok = self.elements.iter().all(|e| mode_ok(&e.mode, self.tables.len()) && e.items.iter().all(expr_ok));
        ok(elements_ok && self.data.iter().all(|d| mode_ok(&d.mode, self.memories.len())), "a segment refers to an unknown item")
    }

    /// The type of an entity.
    pub fn entity_type(&self, index: EntityIndex) -> EntityType {
        match index {
            EntityIndex::Func(i) => EntityType::Func(self.funcs[i as usize]),
            EntityIndex::Table(i) => EntityType::Table(self.tables[i as usize].ty),
            EntityIndex::Memory(i) => EntityType::Memory(self.memories[i as usize]),
            EntityIndex::Global(i) => EntityType::Global(self.globals[i as usize].ty),
            EntityIndex::Tag(i) => EntityType::Tag(self.tags[i as usize]),
        }
    }

    /// Records what one section (other than code) declares.
    pub fn add_section(&mut self, payload: &wasmparser::Payload<'_>) -> Result<()> {
        use wasmparser::Payload;
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader.clone() {
                    let group = group?;
                    if group.is_explicit_rec_group() {
                        bail!("recursive type groups (GC proposal) are not supported yet");
                    }
                    for sub in group.into_types() {
                        if !sub.is_final || !sub.supertype_idxs.is_empty() {
                            bail!("type subtyping (GC proposal) is not supported yet");
                        }
                        match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                let ty = self.func_type_of(f)?;
                                self.types.push(ty);
                            }
                            _ => bail!("struct and array types (GC proposal) are not supported yet"),
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    let import = import?;
                    let index = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            self.funcs.push(t);
                            self.num_imported_funcs += 1;
                            EntityIndex::Func(self.funcs.len() as u32 - 1)
                        }
                        TypeRef::Table(t) => {
                            self.tables.push(TableDecl { ty: self.table_type(&t)?, init: None });
                            self.num_imported_tables += 1;
                            EntityIndex::Table(self.tables.len() as u32 - 1)
                        }
                        TypeRef::Memory(m) => {
                            self.memories.push(memory_type(&m)?);
                            self.num_imported_memories += 1;
                            EntityIndex::Memory(self.memories.len() as u32 - 1)
                        }
                        TypeRef::Global(g) => {
                            self.globals.push(GlobalDecl { ty: self.global_type(&g)?, init: ConstExpr::default() });
                            self.num_imported_globals += 1;
                            EntityIndex::Global(self.globals.len() as u32 - 1)
                        }
                        TypeRef::Tag(t) => {
                            self.tags.push(t.func_type_idx);
                            self.num_imported_tags += 1;
                            EntityIndex::Tag(self.tags.len() as u32 - 1)
                        }
                    };
                    self.imports.push(Import { module: import.module.into(), name: import.name.into(), index });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader.clone() {
                    self.funcs.push(ty?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader.clone() {
                    let table = table?;
                    let init = match &table.init {
                        wasmparser::TableInit::RefNull => None,
                        wasmparser::TableInit::Expr(e) => Some(ConstExpr::parse(e)?),
                    };
                    self.tables.push(TableDecl { ty: self.table_type(&table.ty)?, init });
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader.clone() {
                    self.memories.push(memory_type(&memory?)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader.clone() {
                    let global = global?;
                    let init = ConstExpr::parse(&global.init_expr)?;
                    self.globals.push(GlobalDecl { ty: self.global_type(&global.ty)?, init });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader.clone() {
                    let export = export?;
                    let index = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => EntityIndex::Func(export.index),
                        ExternalKind::Table => EntityIndex::Table(export.index),
                        ExternalKind::Memory => EntityIndex::Memory(export.index),
                        ExternalKind::Global => EntityIndex::Global(export.index),
                        ExternalKind::Tag => EntityIndex::Tag(export.index),
                    };
                    self.exports.push((export.name.to_string(), index));
                    self.export_map.insert(export.name.to_string(), index);
                }
            }
            Payload::TagSection(reader) => {
                for tag in reader.clone() {
                    self.tags.push(tag?.func_type_idx);
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(*func),
            Payload::ElementSection(reader) => {
                for element in reader.clone() {
                    self.elements.push(self.element_segment(element?)?);
                }
            }
            Payload::DataSection(reader) => {
                for data in reader.clone() {
                    let data = data?;
                    let mode = match data.kind {
                        wasmparser::DataKind::Passive => SegmentMode::Passive,
                        wasmparser::DataKind::Active { memory_index, offset_expr } => {
                            SegmentMode::Active { index: memory_index, offset: ConstExpr::parse(&offset_expr)? }
                        }
                    };
                    self.data.push(DataSegment { mode, bytes: data.data.to_vec() });
                }
            }
            Payload::CustomSection(section) => {
                if let wasmparser::KnownCustom::Name(reader) = section.as_known() {
                    // A malformed name section is ignored, as the spec requires of custom sections.
                    let _ = self.read_names(reader);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn read_names(&mut self, reader: wasmparser::NameSectionReader<'_>) -> Result<()> {
        let mut names = FrameNames::default();
        for name in reader {
            match name? {
                wasmparser::Name::Module { name, .. } => names.module = Some(name.to_string()),
                wasmparser::Name::Function(map) => {
                    for naming in map {
                        let naming = naming?;
                        names.functions.insert(naming.index, naming.name.to_string());
                    }
                }
                _ => {}
            }
        }
        self.names = Arc::new(names);
        Ok(())
    }
}

/// Conversions of wasmparser's types.
impl ModuleInfo {
    /// A value type.
    pub fn val_type(&self, ty: wasmparser::ValType) -> Result<WasmValType> {
        Ok(match ty {
            wasmparser::ValType::I32 => WasmValType::I32,
            wasmparser::ValType::I64 => WasmValType::I64,
            wasmparser::ValType::F32 => WasmValType::F32,
            wasmparser::ValType::F64 => WasmValType::F64,
            wasmparser::ValType::V128 => WasmValType::V128,
            wasmparser::ValType::Ref(r) => WasmValType::Ref(self.ref_type(r)?),
        })
    }

    /// A reference type. A concrete type must be one declared before (recursive types need the GC
    /// proposal's type groups).
    pub fn ref_type(&self, r: wasmparser::RefType) -> Result<WasmRefType> {
        use wasmparser::{AbstractHeapType, HeapType as H, UnpackedIndex};
        let heap_type = match r.heap_type() {
            H::Abstract { shared: false, ty: AbstractHeapType::Func } => WasmHeapType::Func,
            H::Abstract { shared: false, ty: AbstractHeapType::Extern } => WasmHeapType::Extern,
            H::Concrete(UnpackedIndex::Module(index)) if (index as usize) < self.types.len() => {
                WasmHeapType::ConcreteFunc(index)
            }
            H::Concrete(UnpackedIndex::Module(_)) => bail!("recursive function types are not supported yet"),
            _ => bail!("reference type `{r}` is not supported yet"),
        };
        Ok(WasmRefType { nullable: r.is_nullable(), heap_type })
    }

    fn func_type_of(&self, f: &wasmparser::FuncType) -> Result<WasmFuncType> {
        let params = f.params().iter().map(|&t| self.val_type(t)).collect::<Result<_>>()?;
        let results = f.results().iter().map(|&t| self.val_type(t)).collect::<Result<_>>()?;
        Ok(WasmFuncType { params, results })
    }

    fn table_type(&self, t: &wasmparser::TableType) -> Result<WasmTableType> {
        if t.table64 {
            bail!("64-bit tables are not supported yet");
        }
        Ok(WasmTableType { element: self.ref_type(t.element_type)?, minimum: t.initial, maximum: t.maximum })
    }

    fn global_type(&self, g: &wasmparser::GlobalType) -> Result<WasmGlobalType> {
        Ok(WasmGlobalType { content: self.val_type(g.content_type)?, mutable: g.mutable })
    }

    fn element_segment(&self, element: wasmparser::Element<'_>) -> Result<ElementSegment> {
        let mode = match element.kind {
            ElementKind::Passive => SegmentMode::Passive,
            ElementKind::Declared => SegmentMode::Declared,
            ElementKind::Active { table_index, offset_expr } => {
                SegmentMode::Active { index: table_index.unwrap_or(0), offset: ConstExpr::parse(&offset_expr)? }
            }
        };
        let items = match element.items {
            ElementItems::Functions(reader) => {
                reader.into_iter().map(|f| Ok(ConstExpr(vec![ConstOp::RefFunc(f?)]))).collect::<Result<_>>()?
            }
            ElementItems::Expressions(ty, reader) => {
                self.ref_type(ty)?;
                reader.into_iter().map(|e| ConstExpr::parse(&e?)).collect::<Result<_>>()?
            }
        };
        Ok(ElementSegment { mode, items })
    }
}

fn memory_type(m: &wasmparser::MemoryType) -> Result<WasmMemoryType> {
    if m.memory64 {
        bail!("64-bit memories are not supported yet");
    }
    if m.shared {
        bail!("shared memories are not supported yet");
    }
    if m.page_size_log2.is_some() {
        bail!("custom page sizes are not supported yet");
    }
    Ok(WasmMemoryType { minimum: m.initial, maximum: m.maximum })
}
