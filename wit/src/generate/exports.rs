//! The guest side of a world's exports: `Guest`/`GuestIndices` per interface, and the world's `<World>`,
//! `<World>Pre` and `<World>Indices`.

use super::features::{gate, link_options, link_options_from_world};
use super::host::{method_name, owner_resource};
use super::{Generator, Mode, check_function, docs};
use crate::names::{snake, type_name};
use anyhow::Result;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, Handle, InterfaceId, TypeDefKind, TypeId, WorldItem, WorldKey};

impl<'a> Generator<'a> {
    /// An exported function's field type, lookup and call method in a `Guest` (or the world), for the
    /// world's export `key` (or the world's own function).
    pub(super) fn export_func(&self, module: &[String], func: &Function, key: Option<&WorldKey>, instance: Option<&Ident>) -> Result<ExportFunc> {
        check_function(func)?;
        let c = self.c();
        let krate = &self.krate;
        // A function of a resource the guest defines goes on `Guest<Resource>` as `call_constructor`,
        // `call_<method>` or `call_<static>`, as in Wasmtime; its field in `Guest` names the resource too.
        let resource = owner_resource(func);
        let public = match func.kind {
            FunctionKind::Constructor(_) => "constructor".to_string(),
            _ => snake(method_name(func)).to_string().trim_end_matches('_').to_string(),
        };
        let field = match resource {
            Some(resource) => format_ident!("func_{}_{public}", snake(self.resolve.types[resource].name.as_deref().unwrap_or("resource"))),
            None => format_ident!("func_{public}"),
        };
        let accessor = format_ident!("func_{public}");
        let receiver = match resource {
            Some(_) => quote!(self.funcs),
            None => quote!(self),
        };
        let wit = &func.name;
        let owned: Vec<TokenStream> = func.params.iter().map(|p| self.ty(module, &p.ty, Mode::Owned)).collect::<Result<_>>()?;
        let borrowed = self.params(module, func, Mode::Borrowed)?;
        let result = self.result(module, func)?;
        let result_tuple = match func.result {
            Some(_) => quote!((#result,)),
            None => quote!(()),
        };
        let (names, types): (Vec<_>, Vec<_>) = borrowed.into_iter().unzip();
        let method = format_ident!("call_{public}");
        let docs = docs(&func.docs);
        let unpack = match func.result {
            Some(_) => quote!(let (result,) = callee?; Ok(result)),
            None => quote!(callee?; Ok(())),
        };
        let trace = match self.opts.exports.flags(self.resolve, key, wit).0.traced() {
            true => {
                let tracing = quote!(#krate::component::__internal::tracing);
                let module = key.map_or_else(|| "default".to_string(), |key| self.resolve.name_world_key(key));
                quote! {
                    let span = #tracing::span!(#tracing::Level::TRACE, "wit-bindgen export", module = #module, function = #wit);
                    let _enter = span.enter();
                }
            }
            false => TokenStream::new(),
        };
        let parent = match instance {
            Some(instance) => quote!(Some(&#instance)),
            None => quote!(None),
        };
        let typed = match resource {
            Some(resource) => self.typed_resource_call(func, resource, &public, &method, &names, &types, &result),
            None => None,
        };
        Ok(ExportFunc {
            typed,
            field: quote!(#field: #c::TypedFunc<(#(#owned,)*), #result_tuple>),
            index_field: quote!(#field: #c::ComponentExportIndex),
            find: quote! {
                let #field = component.get_export_index(#parent, #wit)
                    .ok_or_else(|| #krate::format_err!("no exported function `{}`", #wit))?;
            },
            load: quote!(let #field = instance.get_typed_func(&mut store, &self.#field)?;),
            name: field.clone(),
            resource,
            method: quote! {
                #docs
                pub fn #method<S: #krate::AsContextMut>(&self, mut store: S, #(#names: #types),*) -> #krate::Result<#result> {
                    #trace
                    let callee = #receiver.#field.__call_as::<(#(#types,)*)>(store.as_context_mut(), (#(#names,)*));
                    #unpack
                }
                /// The exported function itself, typed (with the parameter types of the call method).
                pub fn #accessor(&self) -> #c::TypedFunc<(#(#types,)*), #result_tuple> {
                    #receiver.#field.__with_params()
                }
            },
        })
    }

    /// The typed form of a guest resource's function `func` (whose call method `call` takes `names` of
    /// `types` and returns `result`), on the resource's handle for a method and on `Guest<Resource>` for a
    /// constructor (`new`) or static: handles of the resource become the typed handle (`&Handle` lent,
    /// `Handle` given, a returned own wrapped). None where its name would clash with the handle's own.
    #[allow(clippy::too_many_arguments)]
    fn typed_resource_call(
        &self,
        func: &Function,
        resource: TypeId,
        public: &str,
        call: &Ident,
        names: &[Ident],
        types: &[TokenStream],
        result: &TokenStream,
    ) -> Option<Typed> {
        let (c, krate) = (self.c(), &self.krate);
        let wit = self.resolve.types[resource].name.as_deref().unwrap_or("resource");
        let (guest, handle) = (format_ident!("Guest{}", type_name(wit)), format_ident!("{}Handle", type_name(wit)));
        // Whether `ty` is an own (`Some(true)`) or borrow (`Some(false)`) of this resource.
        let this = |ty: &wit_parser::Type| match ty {
            wit_parser::Type::Id(id) => match self.resolve.types[*id].kind {
                TypeDefKind::Handle(Handle::Own(r)) if r == resource => Some(true),
                TypeDefKind::Handle(Handle::Borrow(r)) if r == resource => Some(false),
                _ => None,
            },
            _ => None,
        };
        let on_handle = matches!(func.kind, FunctionKind::Method(_));
        let name = match func.kind {
            FunctionKind::Constructor(_) => format_ident!("new"),
            _ => format_ident!("{public}"),
        };
        let reserved: &[&str] = match on_handle {
            true => &["resource", "into_resource", "drop"],
            false => &["handle"],
        };
        if reserved.contains(&name.to_string().as_str()) {
            return None;
        }
        let (mut params, mut prepare) = (Vec::new(), Vec::new());
        for (i, ((param, name), ty)) in func.params.iter().zip(names).zip(types).enumerate() {
            match this(&param.ty) {
                _ if on_handle && i == 0 => prepare.push(quote!(let #name = self.resource.resource(store.as_context())?;)),
                Some(true) => {
                    params.push(quote!(#name: #handle));
                    prepare.push(quote!(let #name = #name.into_resource(store.as_context())?;));
                }
                Some(false) => {
                    params.push(quote!(#name: &#handle));
                    prepare.push(quote!(let #name = #name.resource(store.as_context())?;));
                }
                None => params.push(quote!(#name: #ty)),
            }
        }
        let funcs = match on_handle {
            true => quote!(&self.funcs),
            false => quote!(self.funcs),
        };
        let (ret, wrap) = match func.result.as_ref().and_then(this) {
            Some(true) => (quote!(#handle), quote!(#handle { resource: #c::GuestResource::new(&mut store, r)?, funcs: self.funcs.clone() })),
            _ => (result.clone(), quote!(r)),
        };
        let doc = format!(" `{}`, with typed handles (see [`{handle}`]).", func.name);
        Some(Typed {
            on_handle,
            tokens: quote! {
                #[doc = #doc]
                pub fn #name<S: #krate::AsContextMut>(&self, mut store: S, #(#params),*) -> #krate::Result<#ret> {
                    #(#prepare)*
                    let r = #guest { funcs: #funcs }.#call(store.as_context_mut(), #(#names),*)?;
                    Ok(#wrap)
                }
            },
        })
    }

    /// The `Guest` of exported interface `id`, its indices, and the world's accessor for it.
    pub(super) fn guest_interface(&mut self, key: &WorldKey, id: InterfaceId) -> Result<(TokenStream, Ident)> {
        let module = self.modules[&id].clone();
        let c = self.c();
        let krate = &self.krate;
        let name = self.resolve.name_world_key(key);
        let instance = format_ident!("instance");
        let funcs: Vec<ExportFunc> = self.resolve.interfaces[id]
            .functions
            .values()
            .map(|func| self.export_func(&module, func, Some(key), Some(&instance)))
            .collect::<Result<_>>()?;
        let (_, index_fields, finds, loads, names, _) = split(&funcs);
        let plain: Vec<&ExportFunc> = funcs.iter().filter(|f| f.resource.is_none()).collect();
        let (fields, plain_names, methods) = (plain.iter().map(|f| &f.field), plain.iter().map(|f| &f.name), plain.iter().map(|f| &f.method));
        // Each resource's functions on a `Guest<Resource>` that `Guest::<resource>()` gives, as in Wasmtime,
        // and on its typed handle `<Resource>Handle`.
        let mut resources: Vec<TypeId> = funcs.iter().filter_map(|f| f.resource).collect();
        resources.dedup();
        let mut resource_fields = Vec::new();
        let mut resource_inits = Vec::new();
        let mut resource_items = Vec::new();
        for &resource in &resources {
            let wit = self.resolve.types[resource].name.as_deref().unwrap_or("resource");
            let (guest, accessor) = (format_ident!("Guest{}", type_name(wit)), snake(wit));
            let (funcs_type, funcs_field) = (format_ident!("Guest{}Funcs", type_name(wit)), format_ident!("{accessor}_funcs"));
            let handle = format_ident!("{}Handle", type_name(wit));
            let own: Vec<&ExportFunc> = funcs.iter().filter(|f| f.resource == Some(resource)).collect();
            let (fields, names, methods) = (own.iter().map(|f| &f.field), own.iter().map(|f| &f.name), own.iter().map(|f| &f.method));
            let typed_guest = own.iter().filter_map(|f| f.typed.as_ref()).filter(|t| !t.on_handle).map(|t| &t.tokens);
            let typed_handle = own.iter().filter_map(|f| f.typed.as_ref()).filter(|t| t.on_handle).map(|t| &t.tokens);
            resource_fields.push(quote!(#funcs_field: std::sync::Arc<#funcs_type>));
            resource_inits.push(quote!(#funcs_field: std::sync::Arc::new(#funcs_type { #(#names,)* })));
            let doc = format!(" The functions of the guest resource `{wit}`: its constructor, methods and statics.");
            let handle_doc = format!(
                " An owned handle to the guest resource `{wit}`, with its methods. Dropping it drops the guest's object: at the \
                 store's next call into a component, or at once with [`drop`](Self::drop)."
            );
            resource_items.push(quote! {
                #[derive(Clone)]
                struct #funcs_type { #(#fields,)* }
                #[doc = #doc]
                pub struct #guest<'a> { funcs: &'a std::sync::Arc<#funcs_type> }
                impl Guest {
                    #[doc = #doc]
                    pub fn #accessor(&self) -> #guest<'_> { #guest { funcs: &self.#funcs_field } }
                }
                impl #guest<'_> {
                    #(#methods)*
                    #(#typed_guest)*
                    /// Takes ownership of `resource`, an owned handle of this resource given in `store`.
                    pub fn handle(&self, store: impl #krate::AsContextMut, resource: #c::ResourceAny) -> #krate::Result<#handle> {
                        Ok(#handle { resource: #c::GuestResource::new(store, resource)?, funcs: self.funcs.clone() })
                    }
                }
                #[doc = #handle_doc]
                pub struct #handle { resource: #c::GuestResource, funcs: std::sync::Arc<#funcs_type> }
                impl #handle {
                    /// The handle, to pass to a function of the bindings in `store` (lent, or given with
                    /// [`into_resource`](Self::into_resource)).
                    pub fn resource(&self, store: impl #krate::AsContext) -> #krate::Result<#c::ResourceAny> {
                        self.resource.resource(store)
                    }
                    /// Gives up ownership without dropping the guest's object.
                    pub fn into_resource(self, store: impl #krate::AsContext) -> #krate::Result<#c::ResourceAny> {
                        self.resource.into_resource(store)
                    }
                    /// Drops the guest's object now: its destructor runs.
                    pub fn drop(self, store: impl #krate::AsContextMut) -> #krate::Result<()> {
                        self.resource.drop(store)
                    }
                    #(#typed_handle)*
                }
                impl core::fmt::Debug for #handle {
                    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        f.debug_tuple(stringify!(#handle)).field(&self.resource).finish()
                    }
                }
            });
        }
        let docs = docs(&self.resolve.interfaces[id].docs);
        self.items.entry(module.clone()).or_default().push(quote! {
            #docs
            /// The exported interface's functions, typed.
            #[derive(Clone)]
            pub struct Guest { #(#fields,)* #(#resource_fields,)* }
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
                    Ok(Guest { #(#plain_names,)* #(#resource_inits,)* })
                }
            }
            impl Guest { #(#methods)* }
            #(#resource_items)*
        });
        let accessor = snake(name.replace([':', '/', '.'], "-").split('@').next().unwrap_or_default());
        let supers: Vec<Ident> = module.iter().map(|s| Ident::new(s, Span::call_site())).collect();
        Ok((quote!(#(#supers)::*), accessor))
    }

    /// The world's struct, `<World>Pre`, `<World>Indices`, root-level imports and exports.
    pub(super) fn world(&mut self, imported: &[InterfaceId]) -> Result<Vec<TokenStream>> {
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
        let mut with_store_bounds: Vec<TokenStream> = imported.iter().map(|id| {
            let path = module_path(id);
            quote!(#path::HostWithStore<T>)
        }).collect();
        // `@unstable` gates: the world's `LinkOptions`, converted to each interface's that has gated items.
        let world_features = self.world_features();
        let mut add_calls: Vec<TokenStream> = Vec::new();
        if !world_features.is_empty() {
            items.push(link_options(&world_features));
        }
        for (item, id) in w.imports.values().filter_map(|item| match item {
            WorldItem::Interface { id, .. } if imported.contains(id) => Some((item, *id)),
            _ => None,
        }) {
            let path = module_path(&id);
            let features = self.interface_features(id);
            let options = match features.is_empty() {
                true => TokenStream::new(),
                false => quote!(&options.into(),),
            };
            items.push(link_options_from_world(&path, &features));
            let WorldItem::Interface { stability, .. } = item else { continue };
            add_calls.push(gate(stability, quote!(#path::add_to_linker::<T, D>(linker, #options host_getter)?;)));
        }
        let world_options = match world_features.is_empty() {
            true => (TokenStream::new(), TokenStream::new()),
            false => (quote!(options: &LinkOptions,), quote!(options,)),
        };
        if !root_imports.is_empty() {
            let (host, stubs) = self.host_items(&[], &quote!(#imports_trait), &format_ident!("add_to_linker_imports"), None, &root_imports, None)?;
            items.extend(host);
            items.extend(stubs);
            host_bounds.push(quote!(#imports_trait));
            let imports_with_store = format_ident!("{imports_trait}WithStore");
            with_store_bounds.push(quote!(#imports_with_store<T>));
            let options = &world_options.1;
            add_calls.push(quote!(Self::add_to_linker_imports::<T, D>(linker, #options host_getter)?;));
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
                    let f = self.export_func(&[], func, None, None)?;
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
        let world_options_param = &world_options.0;
        let add_to_linker = match host_bounds.is_empty() {
            true => TokenStream::new(),
            false => quote! {
                /// Adds every import of the world to `linker`, each calling the host traits that
                /// `host_getter` finds in the store's data.
                pub fn add_to_linker<T, D>(linker: &mut #c::Linker<T>, #world_options_param host_getter: fn(&mut T) -> D::Data<'_>) -> #krate::Result<()>
                where
                    D: #c::HasData #(+ #with_store_bounds)*,
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
                /// The engine of the component.
                pub fn engine(&self) -> &#krate::Engine { self.instance_pre.engine() }
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
                /// The world's exports in `instance` (made without these bindings), checked against their types.
                pub fn new(mut store: impl #krate::AsContextMut, instance: &#c::Instance) -> #krate::Result<#world> {
                    let indices = #indices::new(&instance.instance_pre(&store))?;
                    indices.load(&mut store, instance)
                }
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

/// The pieces of one exported function's bindings.
pub(super) struct ExportFunc {
    field: TokenStream,
    index_field: TokenStream,
    find: TokenStream,
    load: TokenStream,
    name: Ident,
    /// The resource whose constructor, method or static the function is.
    resource: Option<TypeId>,
    /// The resource function's form over typed handles.
    typed: Option<Typed>,
    method: TokenStream,
}

/// A guest resource's function over its typed handle.
pub(super) struct Typed {
    /// Whether it is a method of the handle (else of `Guest<Resource>`).
    on_handle: bool,
    tokens: TokenStream,
}

/// The pieces of `funcs`, each kind together.
#[allow(clippy::type_complexity)]
pub(super) fn split(funcs: &[ExportFunc]) -> (Vec<&TokenStream>, Vec<&TokenStream>, Vec<&TokenStream>, Vec<&TokenStream>, Vec<&Ident>, Vec<&TokenStream>) {
    (
        funcs.iter().map(|f| &f.field).collect(),
        funcs.iter().map(|f| &f.index_field).collect(),
        funcs.iter().map(|f| &f.find).collect(),
        funcs.iter().map(|f| &f.load).collect(),
        funcs.iter().map(|f| &f.name).collect(),
        funcs.iter().map(|f| &f.method).collect(),
    )
}
