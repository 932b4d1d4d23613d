//! The generator: walks a world's imports and exports and writes modules of Rust items, one per interface
//! (`ns::pkg::iface` for imports, `exports::ns::pkg::iface` for exports), and the world's items at the root.

use crate::Opts;
use crate::names::{shouty, snake, type_name};
use anyhow::{Result, bail};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::{BTreeMap, HashMap};
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
    /// Imported interfaces the `with` option maps to existing Rust modules: nothing is generated for them.
    with_interfaces: HashMap<InterfaceId, TokenStream>,
    /// Types the `with` option maps to existing Rust types.
    with_types: HashMap<TypeId, TokenStream>,
    /// Error types `trappable_error_type` maps to the host's error types: imported functions returning
    /// `result<_, E>` return the host's type instead, converted back by the defining interface's
    /// `Host::convert_<e>` (or trapping).
    trappable_errors: HashMap<TypeId, TokenStream>,
    /// The items of each module.
    items: BTreeMap<Vec<String>, Vec<TokenStream>>,
}

/// How a value is passed: owned (host functions' parameters, all results), or borrowed where that saves a
/// copy (the parameters of calls into the guest: `&str`, `&[T]`, `&Record`).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Owned,
    Borrowed,
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
        let (not_types, trappable_errors) = resolve_with(resolve, world, &opts.trappable_error_types, "trappable_error_type")?;
        let trappable_errors = trappable_errors.into_iter().map(|(id, path)| (dealias(resolve, id), path)).collect();
        if !not_types.is_empty() {
            bail!("`trappable_error_type` maps error types (`ns:pkg/iface/type`), not interfaces or packages");
        }
        Ok(Generator { resolve, world, opts, krate, modules, with_interfaces, with_types, trappable_errors, items: BTreeMap::new() })
    }

    /// Generates everything.
    pub fn generate(mut self) -> Result<TokenStream> {
        let w = &self.resolve.worlds[self.world];
        let import_names: Vec<String> = w
            .imports
            .iter()
            .flat_map(|(key, item)| match item {
                WorldItem::Interface { id, .. } => {
                    let instance = self.resolve.name_world_key(key);
                    let functions = self.resolve.interfaces[*id].functions.keys();
                    functions.flat_map(|f| [format!("{instance}#{f}"), format!("{}#{f}", unversioned(&instance))]).collect()
                }
                WorldItem::Function(f) => vec![f.name.clone()],
                WorldItem::Type { .. } => Vec::new(),
            })
            .collect();
        if let Some(name) = self.opts.trappable.iter().find(|n| !import_names.contains(n)) {
            bail!("`imports`: `{name}` names no imported function (write `ns:pkg/iface#function`, or a root function's name)");
        }
        let mut interface_types: Vec<InterfaceId> = self.modules.keys().copied().collect();
        interface_types.sort_by_key(|id| self.modules[id].clone());
        for id in interface_types {
            self.interface_types(id)?;
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
        Ok(nest(&self.items))
    }

    /// The path of `tenon::component`.
    fn c(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::component)
    }

    /// Defines the types of interface `id` in its module.
    fn interface_types(&mut self, id: InterfaceId) -> Result<()> {
        if self.with_interfaces.contains_key(&id) {
            return Ok(());
        }
        let module = self.modules[&id].clone();
        let mut items = Vec::new();
        let exported_only = module.first().is_some_and(|m| m == "exports");
        for (name, ty) in &self.resolve.interfaces[id].types {
            if exported_only && matches!(self.resolve.types[*ty].kind, TypeDefKind::Resource) {
                bail!("the component exports the resource `{name}`: exported resources are not supported by the bindings yet");
            }
            if !self.with_types.contains_key(ty) {
                items.extend(self.type_def(&module, *ty)?);
            }
        }
        self.items.entry(module).or_default().extend(items);
        Ok(())
    }

    /// The item defining named type `id`, written in module `module`: a struct, an enum, flags or an alias
    /// (`None` for a resource, which needs nothing yet).
    fn type_def(&self, module: &[String], id: TypeId) -> Result<Option<TokenStream>> {
        let def = &self.resolve.types[id];
        let wit_name = def.name.as_deref().unwrap_or("anonymous");
        let name = type_name(wit_name);
        let type_docs = docs(&def.docs);
        let c = self.c();
        let krate_attr = self.krate_attr();
        let derives = self.derives();
        Ok(Some(match &def.kind {
            TypeDefKind::Record(record) => {
                let clone = self.clone_derive(id);
                let fields = record
                    .fields
                    .iter()
                    .map(|f| {
                        let (ident, wit, ty, docs) = (snake(&f.name), &f.name, self.ty(module, &f.ty, Mode::Owned)?, docs(&f.docs));
                        Ok(quote!(#docs #[component(name = #wit)] pub #ident: #ty))
                    })
                    .collect::<Result<Vec<_>>>()?;
                quote! {
                    #type_docs
                    #[derive(#c::ComponentType, #c::Lift, #c::Lower, #clone Debug #(, #derives)*)]
                    #[component(record)] #krate_attr
                    pub struct #name { #(#fields,)* }
                }
            }
            TypeDefKind::Variant(variant) => {
                let clone = self.clone_derive(id);
                let cases = variant
                    .cases
                    .iter()
                    .map(|case| {
                        let (ident, wit, docs) = (type_name(&case.name), &case.name, docs(&case.docs));
                        Ok(match &case.ty {
                            Some(ty) => {
                                let ty = self.ty(module, ty, Mode::Owned)?;
                                quote!(#docs #[component(name = #wit)] #ident(#ty))
                            }
                            None => quote!(#docs #[component(name = #wit)] #ident),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                quote! {
                    #type_docs
                    #[derive(#c::ComponentType, #c::Lift, #c::Lower, #clone Debug #(, #derives)*)]
                    #[component(variant)] #krate_attr
                    pub enum #name { #(#cases,)* }
                }
            }
            TypeDefKind::Enum(e) => {
                let cases = e.cases.iter().map(|case| {
                    let (ident, wit, docs) = (type_name(&case.name), &case.name, docs(&case.docs));
                    quote!(#docs #[component(name = #wit)] #ident)
                });
                // Enums derive these themselves: additional derives add only the others.
                let derives = self.derives_except(&["Clone", "Copy", "Debug", "PartialEq", "Eq", "Hash"]);
                quote! {
                    #type_docs
                    #[derive(#c::ComponentType, #c::Lift, #c::Lower, Clone, Copy, Debug, PartialEq, Eq, Hash #(, #derives)*)]
                    #[component(enum)] #krate_attr
                    pub enum #name { #(#cases,)* }
                }
            }
            TypeDefKind::Flags(flags) => {
                let members = flags.flags.iter().map(|flag| {
                    let (ident, wit, docs) = (shouty(&flag.name), &flag.name, docs(&flag.docs));
                    quote!(#docs #[component(name = #wit)] const #ident;)
                });
                quote! {
                    #c::flags! { #type_docs #krate_attr #name { #(#members)* } }
                }
            }
            TypeDefKind::Resource => {
                let doc = format!(" The host resource `{wit_name}`: its handles are `Resource<{name}>`.");
                quote!(#type_docs #[doc = #doc] pub enum #name {})
            }
            _ => {
                let ty = self.anonymous(module, id, Mode::Owned)?;
                quote!(#type_docs pub type #name = #ty;)
            }
        }))
    }

    /// `Clone,` for a type that can be cloned: one holding no resource handle (handles are not `Clone`).
    fn clone_derive(&self, id: TypeId) -> TokenStream {
        match self.holds_handle(&Type::Id(id)) {
            true => TokenStream::new(),
            false => quote!(Clone,),
        }
    }

    /// Whether a value of type `ty` holds a resource handle.
    fn holds_handle(&self, ty: &Type) -> bool {
        let Type::Id(id) = ty else { return false };
        match &self.resolve.types[*id].kind {
            TypeDefKind::Handle(_) | TypeDefKind::Resource => true,
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.holds_handle(&f.ty)),
            TypeDefKind::Variant(v) => v.cases.iter().any(|c| c.ty.as_ref().is_some_and(|t| self.holds_handle(t))),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| self.holds_handle(t)),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) | TypeDefKind::FixedLengthList(t, _) => self.holds_handle(t),
            TypeDefKind::Result(r) => [&r.ok, &r.err].iter().any(|t| t.as_ref().is_some_and(|t| self.holds_handle(t))),
            TypeDefKind::Map(k, v) => self.holds_handle(k) || self.holds_handle(v),
            _ => false,
        }
    }

    /// `#[component(tenon_crate = ...)]` when `tenon` has another path.
    fn krate_attr(&self) -> TokenStream {
        match self.opts.krate.as_str() {
            "::tenon" | "tenon" => TokenStream::new(),
            _ => {
                let krate = &self.krate;
                quote!(#[component(tenon_crate = #krate)])
            }
        }
    }

    /// The additional derives asked for (records and variants derive `Clone` and `Debug` themselves).
    fn derives(&self) -> Vec<TokenStream> {
        self.derives_except(&["Clone", "Debug"])
    }

    /// The additional derives asked for, but for those named (by their last path segment) in `own`.
    fn derives_except(&self, own: &[&str]) -> Vec<TokenStream> {
        self.opts
            .additional_derives
            .iter()
            .filter(|d| !own.contains(&d.rsplit("::").next().unwrap_or(d).trim()))
            .filter_map(|d| d.parse().ok())
            .collect()
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
            Type::String if mode == Mode::Borrowed => quote!(&str),
            Type::String => quote!(String),
            Type::ErrorContext => bail!("`error-context` is not supported by the bindings yet"),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                match &def.name {
                    Some(_) => {
                        let path = self.named_path(module, *id)?;
                        match mode {
                            Mode::Borrowed if !self.is_copy(ty) => quote!(&#path),
                            _ => path,
                        }
                    }
                    None => self.anonymous(module, *id, mode)?,
                }
            }
        })
    }

    /// The Rust type of anonymous type `id` (a list, option, result, tuple or map, or an alias).
    fn anonymous(&self, module: &[String], id: TypeId, mode: Mode) -> Result<TokenStream> {
        let def = &self.resolve.types[id];
        let owned = |ty: &Type| self.ty(module, ty, Mode::Owned);
        Ok(match &def.kind {
            TypeDefKind::List(element) => {
                let element = owned(element)?;
                match mode {
                    Mode::Borrowed => quote!(&[#element]),
                    Mode::Owned => quote!(Vec<#element>),
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
            TypeDefKind::Map(key, value) => {
                let (key, value) = (owned(key)?, owned(value)?);
                quote!(std::collections::HashMap<#key, #value>)
            }
            TypeDefKind::Type(ty) => self.ty(module, ty, mode)?,
            TypeDefKind::FixedLengthList(..) => bail!("fixed-length lists are not supported by the bindings yet"),
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => {
                bail!("`future` and `stream` are not supported yet: async functions and types need concurrency support")
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

    /// Whether `ty` is `Copy` in Rust (then it is passed by value even when borrowing).
    fn is_copy(&self, ty: &Type) -> bool {
        match ty {
            Type::String | Type::ErrorContext => false,
            Type::Id(id) => match &self.resolve.types[*id].kind {
                TypeDefKind::Enum(_) | TypeDefKind::Flags(_) => true,
                TypeDefKind::Type(ty) | TypeDefKind::Option(ty) => self.is_copy(ty),
                TypeDefKind::Tuple(t) => t.types.iter().all(|ty| self.is_copy(ty)),
                _ => false,
            },
            _ => true,
        }
    }

    /// The path of named type `id` from module `from`.
    fn named_path(&self, from: &[String], id: TypeId) -> Result<TokenStream> {
        let def = &self.resolve.types[id];
        let name = type_name(def.name.as_deref().unwrap_or("anonymous"));
        if let Some(path) = self.with_types.get(&id) {
            return Ok(path.clone());
        }
        if let TypeOwner::Interface(interface) = def.owner
            && let Some(path) = self.with_interfaces.get(&interface)
        {
            return Ok(quote!(#path::#name));
        }
        let target: Vec<String> = match def.owner {
            TypeOwner::Interface(interface) => match self.modules.get(&interface) {
                Some(module) => module.clone(),
                None => bail!("type `{}` belongs to an interface this world does not use", def.name.as_deref().unwrap_or("?")),
            },
            TypeOwner::World(_) | TypeOwner::None => Vec::new(),
        };
        // Relative paths: `self::` at the root, so that a module named like a crate (`tenon`) is not
        // mistaken for it.
        let up = match from.is_empty() {
            true => vec![quote!(self::)],
            false => from.iter().map(|_| quote!(super::)).collect(),
        };
        let segments = target.iter().map(|s| Ident::new(s, Span::call_site()));
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

    /// The `Host` trait and `add_to_linker` of imported interface `id`, in its module.
    fn host_interface(&mut self, key: &WorldKey, id: InterfaceId) -> Result<()> {
        if self.with_interfaces.contains_key(&id) {
            return Ok(());
        }
        let module = self.modules[&id].clone();
        let name = self.resolve.name_world_key(key);
        let funcs: Vec<&Function> = self.resolve.interfaces[id].functions.values().collect();
        let items = self.host_items(&module, &quote!(Host), &format_ident!("add_to_linker"), Some(&name), &funcs, Some(id))?;
        self.items.entry(module).or_default().extend(items);
        Ok(())
    }

    /// The host side of some imports: a trait `trait_name` with a method per function of `funcs`, its impl
    /// for `&mut` of any implementor, and `add_fn` adding the functions to a linker (in the instance
    /// `instance`, or at the root). For an `interface`, each of its resource types gets a `Host<Resource>`
    /// trait of its constructor, methods, statics and `drop`, which `trait_name` extends, and each of its
    /// trappable error types a `convert_<e>` method.
    fn host_items(
        &self,
        module: &[String],
        trait_name: &TokenStream,
        add_fn: &Ident,
        instance: Option<&str>,
        funcs: &[&Function],
        interface: Option<InterfaceId>,
    ) -> Result<Vec<TokenStream>> {
        let resources: Vec<TypeId> = interface.map_or_else(Vec::new, |id| {
            let types = self.resolve.interfaces[id].types.values().copied();
            types.filter(|t| matches!(self.resolve.types[*t].kind, TypeDefKind::Resource)).collect()
        });
        let (krate, c) = (&self.krate, self.c());
        let mut items = Vec::new();
        let mut wraps = Vec::new();
        let mut supertraits = Vec::new();
        let mut extra_bounds: Vec<TokenStream> = Vec::new();
        for &resource in &resources {
            let wit_name = self.resource_name(resource);
            let resource_trait = format_ident!("Host{}", type_name(wit_name).to_string());
            // The resource's Rust type: the generated marker type, or what `with` maps it to.
            let name = self.named_path(module, resource)?;
            let owned: Vec<&Function> = funcs.iter().copied().filter(|f| owner_resource(f) == Some(resource)).collect();
            let HostMethods { methods, forwards, wraps: mut resource_wraps, mut bounds } =
                self.host_methods(module, &quote!(#resource_trait), instance, &owned)?;
            extra_bounds.append(&mut bounds);
            let drop_doc = format!("Drops the host resource `{wit_name}` whose owned handle `rep` the guest gave up.");
            items.push(quote! {
                /// What the host implements for the resource: its constructor, methods and statics, and `drop`.
                #[allow(clippy::all)]
                pub trait #resource_trait {
                    #(#methods)*
                    #[doc = #drop_doc]
                    fn drop(&mut self, rep: #c::Resource<#name>) -> #krate::Result<()>;
                }
            });
            if !self.opts.skip_mut_forwarding_impls {
                items.push(quote! {
                    #[allow(clippy::all)]
                    impl<_T: #resource_trait + ?Sized> #resource_trait for &mut _T {
                        #(#forwards)*
                        fn drop(&mut self, rep: #c::Resource<#name>) -> #krate::Result<()> { #resource_trait::drop(*self, rep) }
                    }
                });
            }
            wraps.push(quote! {
                linker_instance.resource(#wit_name, #c::ResourceType::host::<#name>(), move |mut store: #krate::StoreContextMut<'_, T>, rep: u32| -> #krate::Result<()> {
                    let host = &mut host_getter(store.data_mut());
                    #resource_trait::drop(host, #c::Resource::new_own(rep))
                })?;
            });
            wraps.append(&mut resource_wraps);
            supertraits.push(quote!(#resource_trait));
        }
        let free: Vec<&Function> = funcs.iter().copied().filter(|f| owner_resource(f).is_none()).collect();
        let HostMethods { mut methods, mut forwards, wraps: mut free_wraps, mut bounds } = self.host_methods(module, trait_name, instance, &free)?;
        extra_bounds.append(&mut bounds);
        extra_bounds.dedup_by(|a, b| a.to_string() == b.to_string());
        if let Some(id) = interface {
            let (converts, convert_forwards) = self.convert_methods(module, id)?;
            methods.extend(converts);
            forwards.extend(convert_forwards);
        }
        wraps.append(&mut free_wraps);
        let supertraits = match supertraits.is_empty() {
            true => TokenStream::new(),
            false => quote!(: #(#supertraits)+*),
        };
        let forwarding = match self.opts.skip_mut_forwarding_impls {
            true => TokenStream::new(),
            false => quote! {
                #[allow(clippy::all)]
                impl<_T: #trait_name + ?Sized> #trait_name for &mut _T { #(#forwards)* }
            },
        };
        let send = match self.opts.require_store_data_send {
            true => quote!(+ Send),
            false => TokenStream::new(),
        };
        let open = match instance {
            Some(name) => quote!(let mut linker_instance = linker.instance(#name)?;),
            None => quote!(let mut linker_instance = linker.root();),
        };
        items.push(quote! {
            /// What the host implements for these imports: a method per imported function.
            #[allow(clippy::all)]
            pub trait #trait_name #supertraits { #(#methods)* }
            #forwarding
            /// Adds these imports to `linker`, each calling the host trait that `host_getter` finds in the
            /// store's data.
            #[allow(clippy::all, unused_mut, unused_variables)]
            pub fn #add_fn<T, D>(linker: &mut #c::Linker<T>, host_getter: fn(&mut T) -> D::Data<'_>) -> #krate::Result<()>
            where
                D: #c::HasData,
                for<'a> D::Data<'a>: #trait_name #(+ #extra_bounds)*,
                T: 'static #send,
            {
                #open
                #(#wraps)*
                Ok(())
            }
        });
        Ok(items)
    }

    /// The host side of imported functions `funcs`, whose methods go in trait `trait_name`.
    fn host_methods(
        &self,
        module: &[String],
        trait_name: &TokenStream,
        instance: Option<&str>,
        funcs: &[&Function],
    ) -> Result<HostMethods> {
        let krate = &self.krate;
        let (mut methods, mut forwards, mut wraps, mut bounds) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for func in funcs {
            check_function(func)?;
            let method = snake(method_name(func));
            let wit = &func.name;
            let full_name = match instance {
                Some(instance) => format!("{instance}#{wit}"),
                None => wit.clone(),
            };
            let trappable = self.opts.trappable_imports
                || self.opts.trappable.contains(&full_name)
                || instance.is_some_and(|i| self.opts.trappable.contains(&format!("{}#{wit}", unversioned(i))));
            let params = self.params(module, func, Mode::Owned)?;
            let (names, types): (Vec<_>, Vec<_>) = params.into_iter().unzip();
            let result = self.result(module, func)?;
            let error = self.trappable_error(module, func)?;
            let ret = match (&error, trappable) {
                (Some(error), _) => error.rust_result.clone(),
                (None, true) => quote!(#krate::Result<#result>),
                (None, false) => result.clone(),
            };
            let docs = docs(&func.docs);
            methods.push(quote!(#docs fn #method(&mut self, #(#names: #types),*) -> #ret;));
            forwards.push(quote!(fn #method(&mut self, #(#names: #types),*) -> #ret { #trait_name::#method(*self, #(#names),*) }));
            let call = quote!(#trait_name::#method(host, #(#names),*));
            let value = match (&error, trappable) {
                (Some(error), _) => {
                    bounds.push(error.host.clone());
                    let convert = &error.convert;
                    quote!(match #call { Ok(value) => Ok(value), Err(error) => Err(#convert(host, error)?) })
                }
                (None, true) => quote!(#call?),
                (None, false) => call,
            };
            let results = match func.result {
                Some(_) => quote!((#value,)),
                None => quote!({ #value; }),
            };
            let result_tuple = match func.result {
                Some(_) => quote!((#result,)),
                None => quote!(()),
            };
            wraps.push(quote! {
                linker_instance.func_wrap(#wit, move |mut caller: #krate::StoreContextMut<'_, T>, (#(#names,)*): (#(#types,)*)| -> #krate::Result<#result_tuple> {
                    let host = &mut host_getter(caller.data_mut());
                    Ok(#results)
                })?;
            });
        }
        Ok(HostMethods { methods, forwards, wraps, bounds })
    }

    /// How function `func`'s error is mapped, if its result is `result<_, E>` with `E` a `trappable_error_type`.
    fn trappable_error(&self, module: &[String], func: &Function) -> Result<Option<TrappableError>> {
        let Some(Type::Id(result)) = func.result else { return Ok(None) };
        let TypeDefKind::Result(r) = &self.resolve.types[dealias(self.resolve, result)].kind else { return Ok(None) };
        let Some(Type::Id(err)) = r.err else { return Ok(None) };
        let err = dealias(self.resolve, err);
        let Some(user) = self.trappable_errors.get(&err) else { return Ok(None) };
        let ok = r.ok.as_ref().map_or(Ok(quote!(())), |t| self.ty(module, t, Mode::Owned))?;
        let TypeOwner::Interface(owner) = self.resolve.types[err].owner else {
            bail!("`trappable_error_type` maps only error types of interfaces");
        };
        let owner_module = match self.with_interfaces.get(&owner) {
            Some(path) => path.clone(),
            None => {
                let supers = module.iter().map(|_| quote!(super::));
                let segments = self.modules[&owner].iter().map(|s| Ident::new(s, Span::call_site()));
                quote!(#(#supers)* #(#segments)::*)
            }
        };
        let convert = format_ident!("convert_{}", snake(self.resolve.types[err].name.as_deref().unwrap_or("error")).to_string());
        Ok(Some(TrappableError {
            rust_result: quote!(Result<#ok, #user>),
            convert: quote!(#owner_module::Host::#convert),
            host: quote!(#owner_module::Host),
        }))
    }

    /// The `convert_<e>` methods of interface `id`'s `Host` trait, for its trappable error types.
    fn convert_methods(&self, module: &[String], id: InterfaceId) -> Result<(Vec<TokenStream>, Vec<TokenStream>)> {
        let krate = &self.krate;
        let (mut methods, mut forwards) = (Vec::new(), Vec::new());
        for ty in self.resolve.interfaces[id].types.values() {
            let Some(user) = self.trappable_errors.get(ty) else { continue };
            let wit = self.resolve.types[*ty].name.as_deref().unwrap_or("error");
            let convert = format_ident!("convert_{}", snake(wit).to_string());
            let wit_type = self.named_path(module, *ty)?;
            let doc = format!("Turns the host's error into the WIT error `{wit}` (or a trap, by returning `Err`).");
            methods.push(quote!(#[doc = #doc] fn #convert(&mut self, error: #user) -> #krate::Result<#wit_type>;));
            forwards.push(quote!(fn #convert(&mut self, error: #user) -> #krate::Result<#wit_type> { Host::#convert(*self, error) }));
        }
        Ok((methods, forwards))
    }

    /// The WIT name of resource type `id`.
    fn resource_name(&self, id: TypeId) -> &'a str {
        self.resource_def(id).name.as_deref().unwrap_or("resource")
    }

    /// The definition of resource type `id`, through any aliases (`use`).
    fn resource_def(&self, mut id: TypeId) -> &'a wit_parser::TypeDef {
        while let TypeDefKind::Type(Type::Id(next)) = self.resolve.types[id].kind {
            id = next;
        }
        &self.resolve.types[id]
    }

    /// An exported function's field type, lookup and call method in a `Guest` (or the world).
    fn export_func(&self, module: &[String], func: &Function, instance: Option<&Ident>) -> Result<ExportFunc> {
        check_function(func)?;
        if owner_resource(func).is_some() {
            bail!("`{}` belongs to a resource the component exports: exported resources are not supported by the bindings yet", func.name);
        }
        let c = self.c();
        let krate = &self.krate;
        let field = format_ident!("func_{}", snake(&func.name).to_string().trim_end_matches('_'));
        let wit = &func.name;
        let owned: Vec<TokenStream> = func.params.iter().map(|p| self.ty(module, &p.ty, Mode::Owned)).collect::<Result<_>>()?;
        let borrowed = self.params(module, func, Mode::Borrowed)?;
        let result = self.result(module, func)?;
        let result_tuple = match func.result {
            Some(_) => quote!((#result,)),
            None => quote!(()),
        };
        let (names, types): (Vec<_>, Vec<_>) = borrowed.into_iter().unzip();
        let method = format_ident!("call_{}", snake(&func.name).to_string().trim_end_matches('_'));
        let docs = docs(&func.docs);
        let unpack = match func.result {
            Some(_) => quote!(let (result,) = callee?; Ok(result)),
            None => quote!(callee?; Ok(())),
        };
        let parent = match instance {
            Some(instance) => quote!(Some(&#instance)),
            None => quote!(None),
        };
        Ok(ExportFunc {
            field: quote!(#field: #c::TypedFunc<(#(#owned,)*), #result_tuple>),
            index_field: quote!(#field: #c::ComponentExportIndex),
            find: quote! {
                let #field = component.get_export_index(#parent, #wit)
                    .ok_or_else(|| #krate::format_err!("no exported function `{}`", #wit))?;
            },
            load: quote!(let #field = instance.get_typed_func(&mut store, &self.#field)?;),
            name: field.clone(),
            method: quote! {
                #docs
                pub fn #method<S: #krate::AsContextMut>(&self, mut store: S, #(#names: #types),*) -> #krate::Result<#result> {
                    let callee = self.#field.__call_as::<(#(#types,)*)>(store.as_context_mut(), (#(#names,)*));
                    #unpack
                }
            },
        })
    }

    /// The `Guest` of exported interface `id`, its indices, and the world's accessor for it.
    fn guest_interface(&mut self, key: &WorldKey, id: InterfaceId) -> Result<(TokenStream, Ident)> {
        let module = self.modules[&id].clone();
        let c = self.c();
        let krate = &self.krate;
        let name = self.resolve.name_world_key(key);
        let instance = format_ident!("instance");
        let funcs: Vec<ExportFunc> = self.resolve.interfaces[id]
            .functions
            .values()
            .map(|func| self.export_func(&module, func, Some(&instance)))
            .collect::<Result<_>>()?;
        let (fields, index_fields, finds, loads, names, methods) = split(&funcs);
        let docs = docs(&self.resolve.interfaces[id].docs);
        self.items.entry(module.clone()).or_default().push(quote! {
            #docs
            /// The exported interface's functions, typed.
            pub struct Guest { #(#fields,)* }
            /// Where the exported interface's functions are, found once per component.
            #[derive(Clone)]
            pub struct GuestIndices { #(#index_fields,)* }
            impl GuestIndices {
                /// Finds the interface's functions in the component `instance_pre` instantiates.
                pub fn new<_T: 'static>(instance_pre: &#c::InstancePre<_T>) -> #krate::Result<GuestIndices> {
                    let component = instance_pre.component();
                    let instance = component.get_export_index(None, #name)
                        .ok_or_else(|| #krate::format_err!("no exported instance `{}`", #name))?;
                    #(#finds)*
                    Ok(GuestIndices { #(#names,)* })
                }
                /// The typed functions of `instance`, checked against their types.
                pub fn load(&self, mut store: impl #krate::AsContextMut, instance: &#c::Instance) -> #krate::Result<Guest> {
                    let mut store = store.as_context_mut();
                    #(#loads)*
                    Ok(Guest { #(#names,)* })
                }
            }
            impl Guest { #(#methods)* }
        });
        let accessor = snake(name.replace([':', '/', '.'], "-").split('@').next().unwrap_or_default());
        let supers: Vec<Ident> = module.iter().map(|s| Ident::new(s, Span::call_site())).collect();
        Ok((quote!(#(#supers)::*), accessor))
    }

    /// The world's struct, `<World>Pre`, `<World>Indices`, root-level imports and exports.
    fn world(&mut self, imported: &[InterfaceId]) -> Result<Vec<TokenStream>> {
        let (c, krate) = (self.c(), self.krate.clone());
        let w = &self.resolve.worlds[self.world];
        let world = type_name(&w.name);
        let pre = format_ident!("{world}Pre");
        let indices = format_ident!("{world}Indices");
        let imports_trait = format_ident!("{world}Imports");
        let mut items = Vec::new();

        // Root-level imported functions: a `<World>Imports` trait.
        let root_imports: Vec<&Function> = w.imports.values().filter_map(|item| match item {
            WorldItem::Function(f) => Some(f),
            _ => None,
        }).collect();
        let module_path = |id: &InterfaceId| match self.with_interfaces.get(id) {
            Some(path) => path.clone(),
            None => {
                let segments = self.modules[id].iter().map(|s| Ident::new(s, Span::call_site()));
                quote!(#(#segments)::*)
            }
        };
        let mut host_bounds: Vec<TokenStream> = imported.iter().map(|id| {
            let path = module_path(id);
            quote!(#path::Host)
        }).collect();
        let mut add_calls: Vec<TokenStream> = imported.iter().map(|id| {
            let path = module_path(id);
            quote!(#path::add_to_linker::<T, D>(linker, host_getter)?;)
        }).collect();
        if !root_imports.is_empty() {
            items.extend(self.host_items(&[], &quote!(#imports_trait), &format_ident!("add_to_linker_imports"), None, &root_imports, None)?);
            host_bounds.push(quote!(#imports_trait));
            add_calls.push(quote!(add_to_linker_imports::<T, D>(linker, host_getter)?;));
        }

        // Exports: interfaces and root functions.
        let exports: Vec<(WorldKey, WorldItem)> = w.exports.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut fields = Vec::new();
        let mut index_fields = Vec::new();
        let mut finds = Vec::new();
        let mut loads = Vec::new();
        let mut names = Vec::new();
        let mut methods = Vec::new();
        for (key, item) in &exports {
            match item {
                WorldItem::Interface { id, .. } => {
                    let (module, accessor) = self.guest_interface(key, *id)?;
                    let field = format_ident!("interface_{accessor}");
                    fields.push(quote!(#field: #module::Guest));
                    index_fields.push(quote!(#field: #module::GuestIndices));
                    finds.push(quote!(let #field = #module::GuestIndices::new(instance_pre)?;));
                    loads.push(quote!(let #field = self.#field.load(&mut store, instance)?;));
                    names.push(quote!(#field));
                    methods.push(quote! {
                        /// The functions of the exported interface.
                        pub fn #accessor(&self) -> &#module::Guest { &self.#field }
                    });
                }
                WorldItem::Function(func) => {
                    let f = self.export_func(&[], func, None)?;
                    fields.push(f.field);
                    index_fields.push(f.index_field);
                    finds.push(f.find);
                    loads.push(f.load);
                    let name = f.name;
                    names.push(quote!(#name));
                    methods.push(f.method);
                }
                WorldItem::Type { .. } => {}
            }
        }
        let send = match self.opts.require_store_data_send {
            true => quote!(+ Send),
            false => TokenStream::new(),
        };
        let add_to_linker = match host_bounds.is_empty() {
            true => TokenStream::new(),
            false => quote! {
                /// Adds every import of the world to `linker`, each calling the host traits that
                /// `host_getter` finds in the store's data.
                pub fn add_to_linker<T, D>(linker: &mut #c::Linker<T>, host_getter: fn(&mut T) -> D::Data<'_>) -> #krate::Result<()>
                where
                    D: #c::HasData,
                    for<'a> D::Data<'a>: #(#host_bounds)+*,
                    T: 'static #send,
                {
                    #(#add_calls)*
                    Ok(())
                }
            },
        };
        let docs = docs(&w.docs);
        items.push(quote! {
            #docs
            /// An instance of the world, with its exports typed.
            pub struct #world { #(#fields,)* }

            /// Where the world's exports are in a component, found once.
            #[derive(Clone)]
            pub struct #indices { #(#index_fields,)* }

            /// A component prepared to instantiate as the world, its exports found once.
            pub struct #pre<T: 'static> {
                instance_pre: #c::InstancePre<T>,
                indices: #indices,
            }

            impl<T: 'static> Clone for #pre<T> {
                fn clone(&self) -> Self { #pre { instance_pre: self.instance_pre.clone(), indices: self.indices.clone() } }
            }

            impl<T: 'static> #pre<T> {
                /// Finds the world's exports in the component `instance_pre` instantiates.
                pub fn new(instance_pre: #c::InstancePre<T>) -> #krate::Result<Self> {
                    let indices = #indices::new(&instance_pre)?;
                    Ok(#pre { instance_pre, indices })
                }
                /// The prepared instance.
                pub fn instance_pre(&self) -> &#c::InstancePre<T> { &self.instance_pre }
                /// Instantiates the component in `store` and loads its exports.
                pub fn instantiate(&self, mut store: impl #krate::AsContextMut<Data = T>) -> #krate::Result<#world> {
                    let mut store = store.as_context_mut();
                    let instance = self.instance_pre.instantiate(&mut store)?;
                    self.indices.load(&mut store, &instance)
                }
            }

            impl #indices {
                /// Finds the world's exports in the component `instance_pre` instantiates.
                #[allow(unused_variables)]
                pub fn new<_T: 'static>(instance_pre: &#c::InstancePre<_T>) -> #krate::Result<Self> {
                    let component = instance_pre.component();
                    #(#finds)*
                    Ok(#indices { #(#names,)* })
                }
                /// The world's exports in `instance`, checked against their types.
                #[allow(unused_mut, unused_variables)]
                pub fn load(&self, mut store: impl #krate::AsContextMut, instance: &#c::Instance) -> #krate::Result<#world> {
                    let mut store = store.as_context_mut();
                    #(#loads)*
                    Ok(#world { #(#names,)* })
                }
            }

            #[allow(clippy::all)]
            impl #world {
                /// Instantiates `component` with `linker`'s definitions in `store`, and loads its exports.
                pub fn instantiate<T: 'static>(store: impl #krate::AsContextMut<Data = T>, component: &#c::Component, linker: &#c::Linker<T>) -> #krate::Result<#world> {
                    #pre::new(linker.instantiate_pre(component)?)?.instantiate(store)
                }
                #add_to_linker
                #(#methods)*
            }
        });
        Ok(items)
    }
}

/// The imported interfaces and types `with` names (`"ns:pkg/iface"`, `"ns:pkg"` for all of a package's,
/// `"ns:pkg/iface/type"`, each with or without the version), with their Rust paths; an entry that names
/// nothing the world imports is an error.
#[allow(clippy::type_complexity)]
fn resolve_with(
    resolve: &Resolve,
    world: WorldId,
    with: &[(String, String)],
    option: &str,
) -> Result<(HashMap<InterfaceId, TokenStream>, HashMap<TypeId, TokenStream>)> {
    let (mut interfaces, mut types) = (HashMap::new(), HashMap::new());
    let imported: Vec<InterfaceId> = resolve.worlds[world]
        .imports
        .values()
        .filter_map(|item| match item {
            WorldItem::Interface { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    for (key, path) in with {
        let rust: TokenStream = path.parse().map_err(|_| anyhow::anyhow!("`{option}`: `{path}` is not a Rust path"))?;
        let mut used = false;
        for &id in &imported {
            let interface = &resolve.interfaces[id];
            let (Some(package), Some(name)) = (interface.package, &interface.name) else { continue };
            let package = &resolve.packages[package].name;
            let bare = format!("{}:{}", package.namespace, package.name);
            let version = package.version.as_ref().map(|v| format!("@{v}"));
            // `ns:pkg/iface` and `ns:pkg/iface@1.0.0`; `ns:pkg` and `ns:pkg@1.0.0`.
            let names: Vec<String> = [Some(String::new()), version.clone()].iter().flatten().map(|v| format!("{bare}/{name}{v}")).collect();
            let packages: Vec<String> = [Some(String::new()), version].iter().flatten().map(|v| format!("{bare}{v}")).collect();
            if names.contains(key) {
                interfaces.insert(id, rust.clone());
                used = true;
            } else if packages.contains(key) {
                let module = snake(name);
                interfaces.insert(id, quote!(#rust::#module));
                used = true;
            } else if let Some((iface, ty)) = key.rsplit_once('/')
                && names.iter().any(|n| n == iface)
                && let Some(&type_id) = interface.types.get(ty)
            {
                types.insert(type_id, rust.clone());
                used = true;
            }
        }
        if !used {
            bail!("`{option}`: `{key}` names no interface, package or type this world imports");
        }
    }
    Ok((interfaces, types))
}

/// The host side of some imported functions: trait methods, their forwarding for `&mut T`, the linker
/// definitions calling them, and the further `Host` traits those need (for converting errors).
struct HostMethods {
    methods: Vec<TokenStream>,
    forwards: Vec<TokenStream>,
    wraps: Vec<TokenStream>,
    bounds: Vec<TokenStream>,
}

/// How an imported function's error is mapped to a host error type (`trappable_error_type`).
struct TrappableError {
    /// The trait method's return type: `Result<T, HostError>`.
    rust_result: TokenStream,
    /// The path of the `Host::convert_<e>` turning a host error back into the WIT error.
    convert: TokenStream,
    /// The path of that `Host` trait, which `add_to_linker` then needs too.
    host: TokenStream,
}

/// Type `id`, or what it is an alias of (through `use` and `type x = y`).
fn dealias(resolve: &Resolve, mut id: TypeId) -> TypeId {
    while let TypeDefKind::Type(Type::Id(next)) = resolve.types[id].kind {
        id = next;
    }
    id
}

/// The pieces of one exported function's bindings.
struct ExportFunc {
    field: TokenStream,
    index_field: TokenStream,
    find: TokenStream,
    load: TokenStream,
    name: Ident,
    method: TokenStream,
}

/// The pieces of `funcs`, each kind together.
#[allow(clippy::type_complexity)]
fn split(funcs: &[ExportFunc]) -> (Vec<&TokenStream>, Vec<&TokenStream>, Vec<&TokenStream>, Vec<&TokenStream>, Vec<&Ident>, Vec<&TokenStream>) {
    (
        funcs.iter().map(|f| &f.field).collect(),
        funcs.iter().map(|f| &f.index_field).collect(),
        funcs.iter().map(|f| &f.find).collect(),
        funcs.iter().map(|f| &f.load).collect(),
        funcs.iter().map(|f| &f.name).collect(),
        funcs.iter().map(|f| &f.method).collect(),
    )
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

/// The resource type a function belongs to (a constructor, method or static), if any.
fn owner_resource(func: &Function) -> Option<TypeId> {
    match func.kind {
        FunctionKind::Method(id) | FunctionKind::Static(id) | FunctionKind::Constructor(id) => Some(id),
        _ => None,
    }
}

/// The Rust method name of `func`: `new` for a constructor, the part after `.` for a method or static.
fn method_name(func: &Function) -> &str {
    match func.kind {
        FunctionKind::Constructor(_) => "new",
        FunctionKind::Method(_) | FunctionKind::Static(_) => func.name.rsplit_once('.').map_or(&func.name, |(_, name)| name),
        _ => &func.name,
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

/// An interface name without its version: `ns:pkg/iface@1.0.0` → `ns:pkg/iface`.
fn unversioned(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// `#[doc = ...]` for WIT documentation.
fn docs(docs: &Docs) -> TokenStream {
    match &docs.contents {
        Some(text) => {
            let lines = text.lines().map(|line| format!(" {line}"));
            quote!(#(#[doc = #lines])*)
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
