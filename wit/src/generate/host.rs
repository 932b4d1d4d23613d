//! The host side of a world's imports: `Host` traits (and `Host<Resource>` traits) and `add_to_linker`.

use super::features::{gate, link_options};
use super::{Generator, Mode, check_function, dealias, docs};
use crate::names::{snake, type_name};
use anyhow::{Result, bail};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, InterfaceId, Type, TypeDefKind, TypeId, TypeOwner, WorldKey};

impl<'a> Generator<'a> {
    /// The `Host` trait and `add_to_linker` of imported interface `id`, in its module.
    pub(super) fn host_interface(&mut self, key: &WorldKey, id: InterfaceId) -> Result<()> {
        let module = self.modules[&id].clone();
        // Mapped by `with`: the module re-exports the one given (as in Wasmtime).
        if let Some(alias) = self.with_interfaces.get(&id) {
            let root = Self::to_root(&module);
            self.items.entry(module).or_default().push(quote!(#[allow(unused_imports)] pub use #root #alias::*;));
            return Ok(());
        }
        let funcs: Vec<&Function> = self.resolve.interfaces[id].functions.values().collect();
        let (items, stubs) = self.host_items(&module, &quote!(Host), &format_ident!("add_to_linker"), Some(key), &funcs, Some(id))?;
        self.items.entry(module).or_default().extend(items);
        self.items.entry(Vec::new()).or_default().extend(stubs);
        Ok(())
    }

    /// The host side of some imports: a trait `trait_name` with a method per function of `funcs`, its impl
    /// for `&mut` of any implementor, and `add_fn` adding the functions to a linker (in the instance the
    /// world's import `key` names; or at the root, then as an associated function of the world's type). For an `interface`, each of its resource types gets a `Host<Resource>`
    /// trait of its constructor, methods, statics and `drop`, which `trait_name` extends, and each of its
    /// trappable error types a `convert_<e>` method. Second, with `Opts::stub`, `HostStub`'s impls of those
    /// traits, for the root module.
    pub(super) fn host_items(
        &self,
        module: &[String],
        trait_name: &TokenStream,
        add_fn: &Ident,
        key: Option<&WorldKey>,
        funcs: &[&Function],
        interface: Option<InterfaceId>,
    ) -> Result<(Vec<TokenStream>, Vec<TokenStream>)> {
        let resources: Vec<TypeId> = interface.map_or_else(Vec::new, |id| {
            let types = self.resolve.interfaces[id].types.values().copied();
            types.filter(|t| matches!(self.resolve.types[*t].kind, TypeDefKind::Resource)).collect()
        });
        let (krate, c) = (&self.krate, self.c());
        let mut items = Vec::new();
        let mut wraps = Vec::new();
        let mut supertraits = Vec::new();
        let mut extra_bounds: Vec<TokenStream> = Vec::new();
        let mut stubs = Vec::new();
        // Wasmtime's `<Trait>WithStore<T>` traits, of the functions marked `store` (given an `Access`): each
        // `(name, its store functions)`; the main one extends the resources' ones.
        let mut with_stores: Vec<(Ident, Vec<TokenStream>)> = Vec::new();
        let trait_with_store = format_ident!("{}WithStore", trait_name.to_string());
        for &resource in &resources {
            let wit_name = self.resource_name(resource);
            let resource_trait = format_ident!("Host{}", type_name(wit_name).to_string());
            let resource_with_store = format_ident!("{resource_trait}WithStore");
            // The resource's Rust type: the generated marker type, or what `with` maps it to.
            let name = self.named_path(module, resource)?;
            let owned: Vec<&Function> = funcs.iter().copied().filter(|f| owner_resource(f) == Some(resource)).collect();
            if let Some(clash) = owned.iter().find(|f| !matches!(f.kind, FunctionKind::Constructor(_)) && method_name(f) == "drop") {
                bail!(
                    "`{}`: a method or static named `drop` would clash with `{resource_trait}::drop`, the resource's \
                     destructor (Wasmtime's bindings clash too): rename it in the WIT",
                    clash.name
                );
            }
            let HostMethods { methods, store_methods, forwards, wraps: mut resource_wraps, mut bounds } =
                self.host_methods(module, &quote!(#resource_trait), &resource_with_store, key, &owned)?;
            extra_bounds.append(&mut bounds);
            with_stores.push((resource_with_store.clone(), store_methods));
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
            wraps.push(gate(&self.resolve.types[resource].stability, quote! {
                linker_instance.resource_host::<D, #name>(#wit_name, host_getter, |host, rep| #resource_trait::drop(host, rep))?;
            }));
            wraps.append(&mut resource_wraps);
            supertraits.push(quote!(#resource_trait));
            if self.opts.stub {
                let mut methods = self.host_methods(&[], &quote!(#resource_trait), &resource_with_store, key, &owned)?.methods;
                let root_name = self.named_path(&[], resource)?;
                methods.push(quote!(fn drop(&mut self, rep: #c::Resource<#root_name>) -> #krate::Result<()>;));
                stubs.push(stub_impl(module, &quote!(#resource_trait), &methods));
            }
        }
        let free: Vec<&Function> = funcs.iter().copied().filter(|f| owner_resource(f).is_none()).collect();
        let HostMethods { mut methods, store_methods, mut forwards, wraps: mut free_wraps, mut bounds } =
            self.host_methods(module, trait_name, &trait_with_store, key, &free)?;
        let resource_with_stores: Vec<Ident> = with_stores.iter().map(|(name, _)| name.clone()).collect();
        with_stores.push((trait_with_store.clone(), store_methods));
        extra_bounds.append(&mut bounds);
        extra_bounds.dedup_by(|a, b| a.to_string() == b.to_string());
        if let Some(id) = interface {
            let (converts, convert_forwards) = self.convert_methods(module, id)?;
            methods.extend(converts);
            forwards.extend(convert_forwards);
        }
        if self.opts.stub {
            let mut methods = self.host_methods(&[], trait_name, &trait_with_store, key, &free)?.methods;
            if let Some(id) = interface {
                methods.extend(self.convert_methods(&[], id)?.0);
            }
            stubs.push(stub_impl(module, trait_name, &methods));
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
        // `@unstable` gates: the interface's (or, for the world's own imports, the world's) `LinkOptions`.
        let (features, stability) = match interface {
            Some(id) => (self.interface_features(id), self.resolve.interfaces[id].stability.clone()),
            None => (self.world_features(), self.resolve.worlds[self.world].stability.clone()),
        };
        let options = match features.is_empty() {
            true => TokenStream::new(),
            false => quote!(options: &LinkOptions,),
        };
        let wraps = gate(&stability, quote!(#(#wraps)*));
        let options_arg = match features.is_empty() {
            true => TokenStream::new(),
            false => quote!(options,),
        };
        let bounds = quote! {
            where
                D: #trait_with_store<T>,
                for<'a> D::Data<'a>: #trait_name #(+ #extra_bounds)*,
                T: 'static #send,
        };
        let add = match key {
            // An imported interface: its instance in the linker, or an instance the caller has opened.
            Some(key) => {
                let name = self.resolve.name_world_key(key);
                quote! {
                    /// Adds these imports to `linker`, each calling the host trait that `host_getter` finds in
                    /// the store's data.
                    pub fn #add_fn<T, D>(linker: &mut #c::Linker<T>, #options host_getter: fn(&mut T) -> D::Data<'_>) -> #krate::Result<()>
                    #bounds
                    {
                        let mut instance = linker.instance(#name)?;
                        add_to_linker_instance::<T, D>(&mut instance, #options_arg host_getter)
                    }
                    /// Adds these imports to the linker instance `linker_instance`.
                    #[allow(clippy::all, unused_mut, unused_variables)]
                    pub fn add_to_linker_instance<T, D>(linker_instance: &mut #c::LinkerInstance<'_, T>, #options host_getter: fn(&mut T) -> D::Data<'_>) -> #krate::Result<()>
                    #bounds
                    {
                        #wraps
                        Ok(())
                    }
                }
            }
            // The world's own imports, added by an associated function of the world's type, as in Wasmtime.
            None => {
                let world = type_name(&self.resolve.worlds[self.world].name);
                quote! {
                    impl #world {
                        /// Adds these imports to `linker`, each calling the host trait that `host_getter` finds
                        /// in the store's data.
                        #[allow(clippy::all, unused_mut, unused_variables)]
                        pub fn #add_fn<T, D>(linker: &mut #c::Linker<T>, #options host_getter: fn(&mut T) -> D::Data<'_>) -> #krate::Result<()>
                        #bounds
                        {
                            let mut linker_instance = linker.root();
                            #wraps
                            Ok(())
                        }
                    }
                }
            }
        };
        if interface.is_some() {
            items.push(link_options(&features));
        }
        // A `WithStore` trait without `store` functions holds for every `HasData` (that has its supertraits);
        // one with them is implemented by the host's `HasData` type.
        for (name, store_methods) in &with_stores {
            let supertraits = match *name == trait_with_store {
                true => quote!(#(+ #resource_with_stores<T>)*),
                false => TokenStream::new(),
            };
            let blanket = match store_methods.is_empty() {
                true => quote!(impl<H: ?Sized, T: 'static> #name<T> for H where H: #c::HasData #supertraits {}),
                false => TokenStream::new(),
            };
            items.push(quote! {
                /// What `add_to_linker` asks of its `HasData` type: its functions marked `store`, given the
                /// store and the host data through an `Access`.
                #[allow(clippy::all)]
                pub trait #name<T: 'static>: #c::HasData #supertraits { #(#store_methods)* }
                #blanket
            });
        }
        items.push(quote! {
            /// What the host implements for these imports: a method per imported function.
            #[allow(clippy::all)]
            pub trait #trait_name #supertraits { #(#methods)* }
            #forwarding
            #add
        });
        Ok((items, stubs))
    }

    /// The host side of imported functions `funcs` (of the world's import `key`, or of the world itself),
    /// whose methods go in trait `trait_name`.
    pub(super) fn host_methods(
        &self,
        module: &[String],
        trait_name: &TokenStream,
        with_store: &Ident,
        key: Option<&WorldKey>,
        funcs: &[&Function],
    ) -> Result<HostMethods> {
        let (krate, c) = (&self.krate, self.c());
        let (mut methods, mut forwards, mut wraps, mut bounds) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut store_methods = Vec::new();
        for func in funcs {
            check_function(func)?;
            let method = snake(method_name(func));
            let wit = &func.name;
            let (flags, _) = self.opts.imports.flags(self.resolve, key, wit);
            let params = self.params(module, func, Mode::Owned)?;
            let (names, types): (Vec<_>, Vec<_>) = params.into_iter().unzip();
            let result = self.result(module, func)?;
            let error = self.trappable_error(module, func)?;
            // No `-> ()`: an implementation copying the signature then passes clippy's `unused_unit`.
            let ret = match (&error, flags.trappable) {
                (Some(error), _) => {
                    let rust_result = &error.rust_result;
                    quote!(-> #rust_result)
                }
                (None, true) => quote!(-> #krate::Result<#result>),
                (None, false) if func.result.is_none() => TokenStream::new(),
                (None, false) => quote!(-> #result),
            };
            let docs = docs(&func.docs);
            // `store`: an associated function of `<Trait>WithStore<T>`, given the store and the host data.
            let traced = flags.traced();
            let call = match flags.store {
                true => {
                    if error.is_some() {
                        bail!("`{wit}`: the `store` flag with a `trappable_error_type` is not supported yet");
                    }
                    store_methods.push(quote!(#docs fn #method(host: #c::Access<'_, T, Self>, #(#names: #types),*) #ret;));
                    quote! {
                        let access = #krate::AsContextMut::as_context_mut(&mut caller);
                        let host = #c::Access::<T, D>::new(access, host_getter);
                        let r = <D as #with_store<T>>::#method(host, #(#names),*);
                    }
                }
                false => {
                    methods.push(quote!(#docs fn #method(&mut self, #(#names: #types),*) #ret;));
                    forwards.push(quote!(fn #method(&mut self, #(#names: #types),*) #ret { #trait_name::#method(*self, #(#names),*) }));
                    quote! {
                        let host = &mut host_getter(caller.data_mut());
                        let r = #trait_name::#method(host, #(#names),*);
                    }
                }
            };
            let value = match (&error, flags.trappable) {
                (Some(error), _) => {
                    bounds.push(error.host.clone());
                    let convert = &error.convert;
                    quote!(match r { Ok(value) => Ok(value), Err(error) => Err(#convert(host, error)?) })
                }
                (None, true) => quote!(r?),
                (None, false) => quote!(r),
            };
            let results = match func.result {
                Some(_) => quote!((#value,)),
                None => value,
            };
            let result_tuple = match func.result {
                Some(_) => quote!((#result,)),
                None => quote!(()),
            };
            let (trace_call, trace_return) = match traced {
                true => self.import_tracing(key, func, &names, flags.verbose_tracing),
                false => (TokenStream::new(), TokenStream::new()),
            };
            // The usual function: a function pointer given the host, which compiles faster than a closure.
            if !flags.store && !traced {
                wraps.push(gate(&func.stability, quote! {
                    linker_instance.func_wrap_host::<D, _, _>(#wit, host_getter, |host, (#(#names,)*): (#(#types,)*)| -> #krate::Result<#result_tuple> {
                        let r = #trait_name::#method(host, #(#names),*);
                        Ok(#results)
                    })?;
                }));
                continue;
            }
            wraps.push(gate(&func.stability, quote! {
                linker_instance.func_wrap(#wit, move |mut caller: #krate::StoreContextMut<'_, T>, (#(#names,)*): (#(#types,)*)| -> #krate::Result<#result_tuple> {
                    #trace_call
                    #call
                    #trace_return
                    Ok(#results)
                })?;
            }));
        }
        Ok(HostMethods { methods, store_methods, forwards, wraps, bounds })
    }

    /// The tracing of a call to imported function `func`: a span entered, an event with the arguments
    /// `names` (those holding lists as `"..."` unless `verbose`), and one with the result `r`.
    fn import_tracing(&self, key: Option<&WorldKey>, func: &Function, names: &[Ident], verbose: bool) -> (TokenStream, TokenStream) {
        let krate = &self.krate;
        let tracing = quote!(#krate::component::__internal::tracing);
        let module = match key {
            Some(key) => self.resolve.name_world_key(key),
            None => self.resolve.worlds[self.world].name.clone(),
        };
        let wit = &func.name;
        let args = func.params.iter().zip(names).map(|(param, name)| match !verbose && self.holds_list(&param.ty) {
            true => quote!(#name = #tracing::field::debug("...")),
            false => quote!(#name = #tracing::field::debug(&#name)),
        });
        let result = match !verbose && func.result.as_ref().is_some_and(|ty| self.holds_list(ty)) {
            true => quote!(#tracing::field::debug("...")),
            false => quote!(#tracing::field::debug(&r)),
        };
        let call = quote! {
            let span = #tracing::span!(#tracing::Level::TRACE, "wit-bindgen import", module = #module, function = #wit);
            let _enter = span.enter();
            #tracing::event!(#tracing::Level::TRACE, #(#args,)* "call");
        };
        (call, quote!(#tracing::event!(#tracing::Level::TRACE, result = #result, "return");))
    }

    /// How function `func`'s error is mapped, if its result is `result<_, E>` with `E` a `trappable_error_type`.
    pub(super) fn trappable_error(&self, module: &[String], func: &Function) -> Result<Option<TrappableError>> {
        let Some(Type::Id(result)) = func.result else { return Ok(None) };
        let TypeDefKind::Result(r) = &self.resolve.types[dealias(self.resolve, result)].kind else { return Ok(None) };
        let Some(Type::Id(err)) = r.err else { return Ok(None) };
        let err = dealias(self.resolve, err);
        let Some(user) = self.user_error(module, err) else { return Ok(None) };
        let ok = r.ok.as_ref().map_or(Ok(quote!(())), |t| self.ty(module, t, Mode::Owned))?;
        let TypeOwner::Interface(owner) = self.resolve.types[err].owner else {
            bail!("`trappable_error_type` maps only error types of interfaces");
        };
        let owner_module = match self.with_interfaces.get(&owner) {
            Some(alias) => {
                let root = Self::to_root(module);
                quote!(#root #alias)
            }
            None => {
                let root = Self::to_root(module);
                let segments = self.modules[&owner].iter().map(|s| Ident::new(s, Span::call_site()));
                quote!(#root #(#segments)::*)
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
    pub(super) fn convert_methods(&self, module: &[String], id: InterfaceId) -> Result<(Vec<TokenStream>, Vec<TokenStream>)> {
        let krate = &self.krate;
        let (mut methods, mut forwards) = (Vec::new(), Vec::new());
        for ty in self.resolve.interfaces[id].types.values() {
            let Some(user) = self.user_error(module, *ty) else { continue };
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
    pub(super) fn resource_name(&self, id: TypeId) -> &'a str {
        self.resource_def(id).name.as_deref().unwrap_or("resource")
    }

    /// The definition of resource type `id`, through any aliases (`use`).
    pub(super) fn resource_def(&self, id: TypeId) -> &'a wit_parser::TypeDef {
        &self.resolve.types[dealias(self.resolve, id)]
    }
}

/// The host side of some imported functions: trait methods, their forwarding for `&mut T`, the linker
/// definitions calling them, and the further `Host` traits those need (for converting errors).
pub(super) struct HostMethods {
    methods: Vec<TokenStream>,
    /// The `store` functions, for the `<Trait>WithStore<T>` trait.
    store_methods: Vec<TokenStream>,
    forwards: Vec<TokenStream>,
    wraps: Vec<TokenStream>,
    bounds: Vec<TokenStream>,
}

/// How an imported function's error is mapped to a host error type (`trappable_error_type`).
pub(super) struct TrappableError {
    /// The trait method's return type: `Result<T, HostError>`.
    rust_result: TokenStream,
    /// The path of the `Host::convert_<e>` turning a host error back into the WIT error.
    convert: TokenStream,
    /// The path of that `Host` trait, which `add_to_linker` then needs too.
    host: TokenStream,
}

/// `HostStub`'s impl of trait `trait_name` of `module`, its methods declared by `decls` (written for the
/// root module) and each calling `todo!()`.
fn stub_impl(module: &[String], trait_name: &TokenStream, decls: &[TokenStream]) -> TokenStream {
    let segments = module.iter().map(|s| Ident::new(s, Span::call_site()));
    let methods = decls.iter().map(|decl| {
        let mut tokens: Vec<proc_macro2::TokenTree> = decl.clone().into_iter().collect();
        tokens.pop(); // the `;`
        quote!(#(#tokens)* { todo!() })
    });
    quote! {
        #[allow(unused_variables)]
        impl self #(::#segments)*::#trait_name for HostStub { #(#methods)* }
    }
}

/// The resource type a function belongs to (a constructor, method or static), if any.
pub(super) fn owner_resource(func: &Function) -> Option<TypeId> {
    match func.kind {
        FunctionKind::Method(id) | FunctionKind::Static(id) | FunctionKind::Constructor(id) => Some(id),
        _ => None,
    }
}

/// The Rust method name of `func`: `new` for a constructor, the part after `.` for a method or static.
pub(super) fn method_name(func: &Function) -> &str {
    match func.kind {
        FunctionKind::Constructor(_) => "new",
        FunctionKind::Method(_) | FunctionKind::Static(_) => func.name.rsplit_once('.').map_or(&func.name, |(_, name)| name),
        _ => &func.name,
    }
}
