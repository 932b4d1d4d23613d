//! The generator: walks a world's imports and exports and writes modules of Rust items, one per interface
//! (`ns::pkg::iface` for imports, `exports::ns::pkg::iface` for exports), and the world's items at the root.

mod exports;
mod features;
mod host;
mod ownership;
mod types;

use crate::{Opts, lookup};
use crate::names::snake;
use anyhow::{Result, bail};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::{BTreeMap, HashMap, HashSet};
use wit_parser::{
    Docs, Function, FunctionKind, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId, WorldItem, WorldKey,
};

/// Bindings being generated for one world.
pub struct Generator<'a> {
    resolve: &'a Resolve,
    world: WorldId,
    opts: &'a Opts,
    /// `tenon`'s path.
    krate: TokenStream,
    /// Where each interface's items go (module names from the root).
    modules: HashMap<InterfaceId, Vec<String>>,
    /// Imported interfaces the `with` option maps to existing Rust modules (by the alias at the root naming
    /// each): their modules only re-export those.
    with_interfaces: HashMap<InterfaceId, TokenStream>,
    /// Types the `with` option maps to existing Rust types (by the alias at the root naming each): their
    /// interfaces' modules re-export those under the WIT names.
    with_types: HashMap<TypeId, TokenStream>,
    /// Error types `trappable_error_type` maps to the host's error types (by the alias at the root naming
    /// each): imported functions returning `result<_, E>` return the host's type instead, converted back by
    /// the defining interface's `Host::convert_<e>` (or trapping).
    trappable_errors: HashMap<TypeId, (Ident, TokenStream)>,
    /// The types that are the error of a function's `result<_, E>`: they implement `Display` and `Error`.
    error_types: HashSet<TypeId>,
    /// How the world's functions use each named type (for `ownership: Borrowing`).
    uses: HashMap<TypeId, ownership::Uses>,
    /// The items of each module.
    items: BTreeMap<Vec<String>, Vec<TokenStream>>,
}

/// How a value is passed: owned (host functions' parameters, all results), or borrowed where that saves a
/// copy (the parameters of calls into the guest: `&str`, `&[T]`, `&Record`, with elided lifetimes), or
/// borrowed for `'a` (the fields of a type's borrowing definition, with `ownership: Borrowing`).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Owned,
    Borrowed,
    BorrowedForA,
}

impl Mode {
    /// The lifetime of a borrow in this mode (none when owned).
    fn lifetime(self) -> TokenStream {
        match self {
            Mode::Owned => TokenStream::new(),
            Mode::Borrowed => quote!('_),
            Mode::BorrowedForA => quote!('a),
        }
    }

    /// `&` with this mode's lifetime, where one must be written (`&'a`).
    fn reference(self) -> TokenStream {
        match self {
            Mode::BorrowedForA => quote!(&'a),
            _ => quote!(&),
        }
    }
}

impl<'a> Generator<'a> {
    /// A generator for `world` of `resolve`.
    pub fn new(resolve: &'a Resolve, world: WorldId, opts: &'a Opts) -> Result<Self> {
        let krate: TokenStream = opts.krate.parse().map_err(|_| anyhow::anyhow!("invalid crate path `{}`", opts.krate))?;
        let mut modules = HashMap::new();
        let w = &resolve.worlds[world];
        for (key, item) in &w.imports {
            if let WorldItem::Interface { id, .. } = item {
                modules.insert(*id, interface_module(resolve, key, *id));
            }
        }
        for (key, item) in &w.exports {
            if let WorldItem::Interface { id, .. } = item {
                modules.entry(*id).or_insert_with(|| {
                    let mut path = vec!["exports".to_string()];
                    path.extend(interface_module(resolve, key, *id));
                    path
                });
            }
        }
        let (with_interfaces, with_types) = resolve_with(resolve, world, &opts.with, "with")?;
        // `with` paths are relative to the macro's module, as in Wasmtime: each is named by an alias at the
        // root of the generated code, which the generated modules reach through `super::`.
        let mut with_paths: Vec<String> = with_interfaces.values().chain(with_types.values()).map(|path| path.to_string()).collect();
        with_paths.sort();
        with_paths.dedup();
        let with_alias = |path: &TokenStream| {
            let index = with_paths.binary_search(&path.to_string()).unwrap_or(0);
            let alias = format_ident!("__with_name{index}");
            quote!(#alias)
        };
        let with_interfaces = with_interfaces.iter().map(|(id, path)| (*id, with_alias(path))).collect();
        let with_types = with_types.iter().map(|(id, path)| (*id, with_alias(path))).collect();
        let (not_types, trappable_errors) = resolve_with(resolve, world, &opts.trappable_error_types, "trappable_error_type")?;
        if !not_types.is_empty() {
            bail!("`trappable_error_type` maps error types (`ns:pkg/iface.type`), not interfaces or packages");
        }
        // The host's error types, named by aliases at the root so that paths given relative to the macro's
        // module work from every generated module (as in Wasmtime).
        let mut user_paths: Vec<String> = trappable_errors.values().map(|path| path.to_string()).collect();
        user_paths.sort();
        user_paths.dedup();
        let alias = |path: &TokenStream| format_ident!("_TrappableError{}", user_paths.binary_search(&path.to_string()).unwrap_or(0));
        let mut items: BTreeMap<Vec<String>, Vec<TokenStream>> = BTreeMap::new();
        for (i, path) in with_paths.iter().enumerate() {
            let (alias, path): (Ident, TokenStream) = (format_ident!("__with_name{i}"), path.parse().map_err(|_| anyhow::anyhow!("`{path}` is not a Rust path"))?);
            items.entry(Vec::new()).or_default().push(quote!(#[doc(hidden)] pub use #path as #alias;));
        }
        for (i, path) in user_paths.iter().enumerate() {
            let (name, path): (Ident, TokenStream) = (format_ident!("_TrappableError{i}"), path.parse().map_err(|_| anyhow::anyhow!("`{path}` is not a Rust path"))?);
            items.entry(Vec::new()).or_default().push(quote!(type #name = #path;));
        }
        let trappable_errors = trappable_errors.into_iter().map(|(id, path)| (dealias(resolve, id), (alias(&path), path))).collect();
        let error_types = error_types(resolve, world);
        let uses = ownership::type_uses(resolve, world);
        Ok(Generator { resolve, world, opts, krate, modules, with_interfaces, with_types, trappable_errors, error_types, uses, items })
    }

    /// Errors for `imports` and `exports` entries that apply to no function of the world.
    fn check_function_rules(&self) -> Result<()> {
        let w = &self.resolve.worlds[self.world];
        for (option, config, items) in [("imports", &self.opts.imports, &w.imports), ("exports", &self.opts.exports, &w.exports)] {
            let mut used = vec![false; config.rules.len()];
            for (key, item) in items {
                let functions: Vec<(Option<&WorldKey>, String)> = match item {
                    WorldItem::Interface { id, .. } => {
                        let interface = &self.resolve.interfaces[*id];
                        let drops = interface.types.iter().filter(|(_, t)| matches!(self.resolve.types[**t].kind, TypeDefKind::Resource));
                        let names = interface.functions.keys().cloned().chain(drops.map(|(name, _)| format!("[drop]{name}")));
                        names.map(|name| (Some(key), name)).collect()
                    }
                    WorldItem::Function(f) => vec![(None, f.name.clone())],
                    WorldItem::Type { .. } => Vec::new(),
                };
                for (key, name) in functions {
                    if let (_, Some(index)) = config.flags(self.resolve, key, &name) {
                        used[index] = true;
                    }
                }
            }
            if let Some(index) = used.iter().position(|used| !used) {
                let direction = &option[..option.len() - 1];
                bail!(
                    "`{option}`: `{}` names no {direction}ed function (write `ns:pkg/iface.function`, an interface, package or namespace, or a root function's name)",
                    config.rules[index].0
                );
            }
        }
        Ok(())
    }

    /// Generates everything.
    pub fn generate(mut self) -> Result<TokenStream> {
        let w = &self.resolve.worlds[self.world];
        self.check_function_rules()?;
        let mut interface_types: Vec<InterfaceId> = self.modules.keys().copied().collect();
        interface_types.sort_by_key(|id| self.modules[id].clone());
        for id in interface_types {
            self.interface_types(id)?;
        }
        if self.opts.interfaces.is_some() {
            return self.interfaces_only();
        }
        for (_, item) in w.imports.iter().chain(&w.exports) {
            if let WorldItem::Type { id, .. } = item {
                let item = self.type_def(&[], *id)?;
                self.items.entry(Vec::new()).or_default().extend(item);
            }
        }
        let mut imported = Vec::new();
        for (key, item) in &w.imports {
            if let WorldItem::Interface { id, .. } = item {
                self.host_interface(key, *id)?;
                imported.push(*id);
            }
        }
        let world_items = self.world(&imported)?;
        self.items.entry(Vec::new()).or_default().extend(world_items);
        if self.opts.stub {
            self.items.entry(Vec::new()).or_default().push(quote! {
                /// A host whose every method is `todo!()`: copy it into the host's crate and fill it in.
                pub struct HostStub;
            });
        }
        Ok(nest(&self.items))
    }

    /// What `Opts::interfaces` asks for: the host side of the imported interfaces and the `Guest` of the
    /// exported ones, without the world's own items.
    fn interfaces_only(mut self) -> Result<TokenStream> {
        let w = &self.resolve.worlds[self.world];
        for (key, item) in &w.imports {
            if let WorldItem::Interface { id, .. } = item {
                self.host_interface(key, *id)?;
            }
        }
        for (key, item) in &w.exports {
            if let WorldItem::Interface { id, .. } = item {
                self.guest_interface(key, *id)?;
            }
        }
        Ok(nest(&self.items))
    }

    /// The path of `tenon::component`.
    fn c(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::component)
    }

    /// The Rust type of `ty`, written in module `module`, passed as `mode` says.
    fn ty(&self, module: &[String], ty: &Type, mode: Mode) -> Result<TokenStream> {
        Ok(match ty {
            Type::Bool => quote!(bool),
            Type::U8 => quote!(u8),
            Type::U16 => quote!(u16),
            Type::U32 => quote!(u32),
            Type::U64 => quote!(u64),
            Type::S8 => quote!(i8),
            Type::S16 => quote!(i16),
            Type::S32 => quote!(i32),
            Type::S64 => quote!(i64),
            Type::F32 => quote!(f32),
            Type::F64 => quote!(f64),
            Type::Char => quote!(char),
            Type::String if mode == Mode::Owned => quote!(String),
            Type::String => {
                let reference = mode.reference();
                quote!(#reference str)
            }
            Type::ErrorContext => bail!("`error-context` is not supported by the bindings yet"),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                match &def.name {
                    // Owned: the owning definition, or the borrowing one for `'static` when that is all there
                    // is (the typed export behind a call method). Borrowed: the borrowing definition, or a
                    // reference to the owning one when it holds strings or lists.
                    Some(_) => match mode {
                        Mode::Owned if self.owns(*id) => self.named_path_as(module, *id, self.owned_name(*id))?,
                        Mode::Owned => {
                            let path = self.named_path_as(module, *id, self.borrowed_name(*id))?;
                            quote!(#path<'static>)
                        }
                        _ if self.borrows(*id) => {
                            let (path, lifetime) = (self.named_path_as(module, *id, self.borrowed_name(*id))?, mode.lifetime());
                            quote!(#path<#lifetime>)
                        }
                        _ => {
                            let path = self.named_path_as(module, *id, self.owned_name(*id))?;
                            match self.has_list(ty) {
                                true => {
                                    let reference = mode.reference();
                                    quote!(#reference #path)
                                }
                                false => path,
                            }
                        }
                    },
                    None => self.anonymous(module, *id, mode)?,
                }
            }
        })
    }

    /// The Rust type of anonymous type `id` (a list, option, result, tuple or map, or an alias).
    fn anonymous(&self, module: &[String], id: TypeId, mode: Mode) -> Result<TokenStream> {
        let def = &self.resolve.types[id];
        // A borrowed list's elements are owned, unless types borrow (`ownership: Borrowing`).
        let element_mode = match self.opts.ownership {
            crate::Ownership::Owning => Mode::Owned,
            crate::Ownership::Borrowing { .. } => mode,
        };
        Ok(match &def.kind {
            TypeDefKind::List(element) => {
                let element = self.ty(module, element, element_mode)?;
                match mode {
                    Mode::Owned => quote!(Vec<#element>),
                    _ => {
                        let reference = mode.reference();
                        quote!(#reference [#element])
                    }
                }
            }
            TypeDefKind::Option(ty) => {
                let ty = self.ty(module, ty, mode)?;
                quote!(Option<#ty>)
            }
            TypeDefKind::Result(result) => {
                let ok = result.ok.as_ref().map_or(Ok(quote!(())), |ty| self.ty(module, ty, mode))?;
                let err = result.err.as_ref().map_or(Ok(quote!(())), |ty| self.ty(module, ty, mode))?;
                quote!(Result<#ok, #err>)
            }
            TypeDefKind::Tuple(tuple) => {
                let types = tuple.types.iter().map(|ty| self.ty(module, ty, mode)).collect::<Result<Vec<_>>>()?;
                quote!((#(#types,)*))
            }
            // Borrowed as Wasmtime borrows it: keys and values (`HashMap<&str, &V>`).
            TypeDefKind::Map(key, value) => {
                let (key, value) = (self.ty(module, key, mode)?, self.ty(module, value, mode)?);
                quote!(std::collections::HashMap<#key, #value>)
            }
            TypeDefKind::Type(ty) => self.ty(module, ty, mode)?,
            TypeDefKind::FixedLengthList(..) => bail!("fixed-length lists are not supported by the bindings yet"),
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => {
                bail!("`future` and `stream` are not supported yet: async functions and types need concurrency support")
            }
            // A handle to a resource the guest defines is a `ResourceAny`, as in Wasmtime.
            TypeDefKind::Handle(wit_parser::Handle::Own(resource) | wit_parser::Handle::Borrow(resource)) if self.guest_resource(*resource) => {
                let c = self.c();
                quote!(#c::ResourceAny)
            }
            TypeDefKind::Handle(wit_parser::Handle::Own(resource) | wit_parser::Handle::Borrow(resource)) => {
                let c = self.c();
                let path = self.named_path(module, *resource)?;
                quote!(#c::Resource<#path>)
            }
            TypeDefKind::Resource => bail!("a resource type the bindings cannot name"),
            _ => bail!("a type the bindings cannot name"),
        })
    }

    /// The host's error type that `trappable_error_type` maps WIT error type `id` to, written in `module`:
    /// as given at the root, through its alias there from elsewhere.
    fn user_error(&self, module: &[String], id: TypeId) -> Option<TokenStream> {
        let (alias, path) = self.trappable_errors.get(&id)?;
        Some(match module.is_empty() {
            true => path.clone(),
            false => {
                let root = Self::to_root(module);
                quote!(#root #alias)
            }
        })
    }

    /// The path from module `module` to the root of the generated code (`self::` at the root itself).
    fn to_root(module: &[String]) -> TokenStream {
        match module.is_empty() {
            true => quote!(self::),
            false => {
                let supers = module.iter().map(|_| quote!(super::));
                quote!(#(#supers)*)
            }
        }
    }

    /// Whether resource `id` is one the guest defines: a resource of an exported interface.
    fn guest_resource(&self, id: TypeId) -> bool {
        match self.resolve.types[id].owner {
            TypeOwner::Interface(interface) => self.modules.get(&interface).and_then(|m| m.first()).is_some_and(|m| m == "exports"),
            TypeOwner::World(_) | TypeOwner::None => false,
        }
    }

    /// The path of named type `id` (its owning definition) from module `from`.
    fn named_path(&self, from: &[String], id: TypeId) -> Result<TokenStream> {
        self.named_path_as(from, id, self.owned_name(id))
    }

    /// The path from module `from` of named type `id`'s definition called `name`.
    fn named_path_as(&self, from: &[String], id: TypeId, name: Ident) -> Result<TokenStream> {
        let def = &self.resolve.types[id];
        if let Some(alias) = self.with_types.get(&id) {
            let root = Self::to_root(from);
            return Ok(quote!(#root #alias));
        }
        if let TypeOwner::Interface(interface) = def.owner
            && let Some(alias) = self.with_interfaces.get(&interface)
        {
            let root = Self::to_root(from);
            return Ok(quote!(#root #alias::#name));
        }
        let target: Vec<String> = match def.owner {
            TypeOwner::Interface(interface) => match self.modules.get(&interface) {
                Some(module) => module.clone(),
                None => bail!("type `{}` belongs to an interface this world does not use", def.name.as_deref().unwrap_or("?")),
            },
            TypeOwner::World(_) | TypeOwner::None => Vec::new(),
        };
        // Relative paths from the modules both share: `super::` up to there, or `self::` when that is
        // `from` itself, so that a module named like a crate (`tenon`) is not mistaken for it.
        let shared = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
        if shared == from.len() && shared == target.len() {
            return Ok(quote!(#name));
        }
        let up = match shared == from.len() {
            true => vec![quote!(self::)],
            false => from[shared..].iter().map(|_| quote!(super::)).collect(),
        };
        let segments = target[shared..].iter().map(|s| Ident::new(s, Span::call_site()));
        Ok(quote!(#(#up)* #(#segments::)* #name))
    }

    /// The Rust parameters (`name: Type`) of function `func`, written in `module`, passed as `mode` says.
    fn params(&self, module: &[String], func: &Function, mode: Mode) -> Result<Vec<(Ident, TokenStream)>> {
        func.params.iter().map(|p| Ok((snake(&p.name), self.ty(module, &p.ty, mode)?))).collect()
    }

    /// The Rust result type of function `func` (`()` if it has none).
    fn result(&self, module: &[String], func: &Function) -> Result<TokenStream> {
        func.result.as_ref().map_or(Ok(quote!(())), |ty| self.ty(module, ty, Mode::Owned))
    }
}

/// The imported interfaces and types `with` names, with their Rust paths. Names are looked up as
/// [`lookup::keys`] spells them, the most specific first: a type's own name maps the type; an interface's,
/// package's or namespace's maps each imported interface under it (`"wasi:io": crate::io` maps
/// `wasi:io/streams` to `crate::io::streams`). An entry that names nothing the world imports is an error.
#[allow(clippy::type_complexity)]
fn resolve_with(
    resolve: &Resolve,
    world: WorldId,
    with: &[(String, String)],
    option: &str,
) -> Result<(HashMap<InterfaceId, TokenStream>, HashMap<TypeId, TokenStream>)> {
    if with.is_empty() {
        return Ok((HashMap::new(), HashMap::new()));
    }
    let (mut interfaces, mut types) = (HashMap::new(), HashMap::new());
    let mut used = vec![false; with.len()];
    let mut find = |key: &lookup::Key| {
        let index = with.iter().position(|(name, _)| *name == key.name)?;
        used[index] = true;
        Some(lookup::project(&with[index].1, &key.projection))
    };
    for (key, item) in &resolve.worlds[world].imports {
        let WorldItem::Interface { id, .. } = item else { continue };
        if let Some(path) = lookup::keys(resolve, key, None).iter().find_map(&mut find) {
            interfaces.insert(*id, path);
        }
        for (name, &type_id) in &resolve.interfaces[*id].types {
            let own_names: Vec<lookup::Key> = lookup::keys(resolve, key, Some(name)).into_iter().filter(|k| k.projection.is_empty()).collect();
            if let Some(path) = own_names.iter().find_map(&mut find) {
                types.insert(type_id, path);
            }
        }
    }
    if let Some(index) = used.iter().position(|used| !used) {
        bail!("`{option}`: `{}` names no interface, package or type this world imports", with[index].0);
    }
    let parse = |path: String| path.parse::<TokenStream>().map_err(|_| anyhow::anyhow!("`{option}`: `{path}` is not a Rust path"));
    let interfaces = interfaces.into_iter().map(|(id, path)| Ok((id, parse(path)?))).collect::<Result<_>>()?;
    let types = types.into_iter().map(|(id, path)| Ok((id, parse(path)?))).collect::<Result<_>>()?;
    Ok((interfaces, types))
}

/// The types that are `E` in a `result<_, E>` some function of `world` returns (through aliases).
fn error_types(resolve: &Resolve, world: WorldId) -> HashSet<TypeId> {
    let w = &resolve.worlds[world];
    let functions = w.imports.values().chain(w.exports.values()).flat_map(|item| match item {
        WorldItem::Interface { id, .. } => resolve.interfaces[*id].functions.values().collect(),
        WorldItem::Function(f) => vec![f],
        WorldItem::Type { .. } => Vec::new(),
    });
    functions
        .filter_map(|f| match f.result {
            Some(Type::Id(result)) => match &resolve.types[dealias(resolve, result)].kind {
                TypeDefKind::Result(wit_parser::Result_ { err: Some(Type::Id(err)), .. }) => Some(dealias(resolve, *err)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Type `id`, or what it is an alias of (through `use` and `type x = y`).
fn dealias(resolve: &Resolve, mut id: TypeId) -> TypeId {
    while let TypeDefKind::Type(Type::Id(next)) = resolve.types[id].kind {
        id = next;
    }
    id
}

/// Refuses what the bindings cannot express yet.
fn check_function(func: &Function) -> Result<()> {
    match func.kind {
        FunctionKind::Freestanding => Ok(()),
        FunctionKind::AsyncFreestanding | FunctionKind::AsyncMethod(_) | FunctionKind::AsyncStatic(_) => {
            bail!("`{}` is an async function: async host functions are not supported yet", func.name)
        }
        FunctionKind::Method(_) | FunctionKind::Static(_) | FunctionKind::Constructor(_) => Ok(()),
        _ => bail!("`{}` is a getter or setter: they are not supported by the bindings yet", func.name),
    }
}

/// The module of an imported interface: `ns::pkg::iface`, or the import's own name for an interface
/// declared inline in the world.
fn interface_module(resolve: &Resolve, key: &WorldKey, id: InterfaceId) -> Vec<String> {
    let interface = &resolve.interfaces[id];
    match (interface.package, &interface.name) {
        (Some(package), Some(name)) => {
            let package = &resolve.packages[package].name;
            [&package.namespace, &package.name, name].iter().map(|s| snake(s).to_string()).collect()
        }
        _ => vec![snake(&resolve.name_world_key(key)).to_string()],
    }
}

/// `#[doc = ...]` for WIT documentation.
fn docs(docs: &Docs) -> TokenStream {
    match &docs.contents {
        // One attribute for all the lines: fewer tokens for the compiler than one per line.
        Some(text) => {
            let text: Vec<String> = text.lines().map(|line| format!(" {line}")).collect();
            let text = text.join("\n");
            quote!(#[doc = #text])
        }
        None => TokenStream::new(),
    }
}

/// The items of every module, nested: `a::b` inside `a`.
fn nest(items: &BTreeMap<Vec<String>, Vec<TokenStream>>) -> TokenStream {
    fn level(items: &BTreeMap<Vec<String>, Vec<TokenStream>>, prefix: &[String]) -> TokenStream {
        let own = items.get(prefix).cloned().unwrap_or_default();
        let mut children: Vec<&String> = items
            .keys()
            .filter(|k| k.len() > prefix.len() && k.starts_with(prefix))
            .map(|k| &k[prefix.len()])
            .collect();
        children.dedup();
        let children = children.into_iter().map(|child| {
            let mut path = prefix.to_vec();
            path.push(child.clone());
            let inner = level(items, &path);
            let name = Ident::new(child, Span::call_site());
            quote! {
                #[allow(clippy::all, unused_imports, dead_code)]
                pub mod #name { #inner }
            }
        });
        quote!(#(#own)* #(#children)*)
    }
    level(items, &[])
}
