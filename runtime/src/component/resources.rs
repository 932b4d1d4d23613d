//! Resources as the host sees them: [`Resource<T>`], a handle to a host resource of Rust type `T`, owned or
//! borrowed, named by its `rep` (the host's own number for it, e.g. its key in a
//! [`ResourceTable`](super::ResourceTable)); [`ResourceAny`], a handle of a type known at run time; and
//! [`ResourceType`], a resource type's identity.

use super::linker::ResourceDtor;
use crate::AsContextMut;
use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;

/// The identity of a resource type: a host type (`ResourceType::host::<T>()`), or a type a component's type
/// names before it is instantiated.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceType(Kind);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Host { id: TypeId, name: &'static str },
    /// A host type told apart by a number at run time ([`ResourceDynamic`]).
    HostDynamic(u32),
    /// Defined by a component: fresh for each instantiation.
    Guest { id: u64, index: u32 },
    Uninstantiated { index: u32 },
}

/// The identities of guest-defined resource types made so far.
static NEXT_GUEST_RESOURCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl ResourceType {
    /// The resource type of host resources of Rust type `T` (the `T` of [`Resource<T>`]).
    pub fn host<T: 'static>() -> Self {
        ResourceType(Kind::Host { id: TypeId::of::<T>(), name: std::any::type_name::<T>() })
    }

    /// The resource type of [`ResourceDynamic`] handles of type number `payload`: a host type known only at
    /// run time, different from every `host::<T>()` type and from other payloads' types.
    pub fn host_dynamic(payload: u32) -> Self {
        ResourceType(Kind::HostDynamic(payload))
    }

    /// A fresh resource type for resource `index` a component instance defines.
    pub(crate) fn guest(index: u32) -> Self {
        let id = NEXT_GUEST_RESOURCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ResourceType(Kind::Guest { id, index })
    }

    /// Resource type number `index` of a component's types, before instantiation says which it is.
    pub(crate) fn uninstantiated(index: u32) -> Self {
        ResourceType(Kind::Uninstantiated { index })
    }
}

impl fmt::Debug for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::Host { name, .. } => write!(f, "ResourceType::host::<{name}>()"),
            Kind::HostDynamic(payload) => write!(f, "ResourceType::host_dynamic({payload})"),
            Kind::Guest { id, index } => write!(f, "ResourceType(resource {index} of instance #{id})"),
            Kind::Uninstantiated { index } => write!(f, "ResourceType(resource {index}, uninstantiated)"),
        }
    }
}

/// A handle to a resource whose type is known at run time, as [`Val::Resource`](super::Val::Resource)
/// carries it: its type, its representation and whether it is owned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceAny {
    ty: ResourceType,
    rep: u32,
    own: bool,
    /// For an owned handle a guest gave the host: its token among the store's live owned handles, so that
    /// using it after giving it away (or dropping it) is an error.
    token: Option<u64>,
}

/// The tokens of owned handles given to the host so far.
static NEXT_TOKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl ResourceAny {
    /// A handle of type `ty` to the resource represented by `rep` (crate-internal: the host makes them from
    /// a [`Resource<T>`] with [`try_from_resource`](Self::try_from_resource)).
    pub(crate) fn new(ty: ResourceType, rep: u32, own: bool) -> Self {
        ResourceAny { ty, rep, own, token: None }
    }

    /// An owned handle a guest gives the host, with a fresh token (which the store records once lifting is
    /// done).
    pub(crate) fn given(ty: ResourceType, rep: u32) -> Self {
        let token = NEXT_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ResourceAny { ty, rep, own: true, token: Some(token) }
    }

    /// The token of an owned handle a guest gave the host.
    pub(crate) fn token(&self) -> Option<u64> {
        self.token
    }

    /// The resource type.
    pub fn ty(&self) -> ResourceType {
        self.ty
    }

    /// Whether the handle is owned (rather than borrowed).
    pub fn owned(&self) -> bool {
        self.own
    }

    /// The resource's representation (for host resources, the host's own number for it).
    pub(crate) fn rep(&self) -> u32 {
        self.rep
    }

    /// Drops the handle, as Wasmtime's: for an owned handle a guest gave, runs the resource's destructor —
    /// the guest's for a resource a component defines, the host's (given to
    /// [`LinkerInstance::resource`](super::LinkerInstance::resource)) for a host resource. A borrowed handle,
    /// or one the host made itself from a [`Resource`] (the host owns that resource already), has nothing to
    /// run. Dropping an owned `ResourceAny` without this leaks the resource, as in Wasmtime.
    pub fn resource_drop<S: AsContextMut>(self, mut store: S) -> anyhow::Result<()> {
        let mut store = store.as_context_mut();
        let Some(token) = self.token.filter(|_| self.own) else {
            return Ok(());
        };
        if !store.0.get_mut().opaque.components.host_owned.remove(&token) {
            anyhow::bail!("this resource handle was given away or dropped already");
        }
        let instances = &store.0.get().opaque.components.instances;
        let found = instances.iter().enumerate().find_map(|(i, data)| data.resource_types.iter().position(|t| *t == self.ty).map(|r| (i, r)));
        let Some((instance, index)) = found else {
            anyhow::bail!("no component instance of this store has the resource type {:?}", self.ty)
        };
        let data = &instances[instance];
        if data.poisoned() {
            return Err(crate::Trap::CannotEnterComponent.into());
        }
        if let Some(dtor) = data.guest_dtors[index] {
            return dtor.call(&mut store, &[crate::Val::I32(self.rep as i32)], &mut []);
        }
        let host = data.host_dtors.get(index).and_then(Option::as_ref).and_then(|d| d.downcast_ref::<std::sync::Arc<ResourceDtor<S::Data>>>()).cloned();
        match host {
            Some(dtor) => dtor(store, self.rep),
            None => Ok(()),
        }
    }

    /// The typed handle, if the resource is a host resource of type `T` (`store` is taken as Wasmtime takes
    /// it; Tenon needs nothing of it).
    pub fn try_into_resource<T: 'static>(self, store: impl AsContextMut) -> anyhow::Result<Resource<T>> {
        Resource::try_from_resource_any(self, store)
    }

    /// The handle of type known at run time for `resource` (see [`try_into_resource`](Self::try_into_resource)).
    pub fn try_from_resource<T: 'static>(resource: Resource<T>, store: impl AsContextMut) -> anyhow::Result<Self> {
        resource.try_into_resource_any(store)
    }

    /// The dynamically typed handle, if the resource is a [`ResourceDynamic`] one.
    pub fn try_into_resource_dynamic(self, store: impl AsContextMut) -> anyhow::Result<ResourceDynamic> {
        ResourceDynamic::try_from_resource_any(self, store)
    }
}

/// A handle to a host resource of type `T`: its representation `rep` and whether it is owned (`own<T>`: the
/// holder is responsible for it) or borrowed (`borrow<T>`: valid for one call). Not `Clone`: an owned handle
/// is used up when it is given away.
pub struct Resource<T: 'static> {
    rep: u32,
    own: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T: 'static> Resource<T> {
    /// An owned handle to the resource represented by `rep`.
    pub fn new_own(rep: u32) -> Self {
        Resource { rep, own: true, _type: PhantomData }
    }

    /// A borrowed handle to the resource represented by `rep`.
    pub fn new_borrow(rep: u32) -> Self {
        Resource { rep, own: false, _type: PhantomData }
    }

    /// The resource's representation.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether the handle is owned (rather than borrowed).
    pub fn owned(&self) -> bool {
        self.own
    }
}

impl<T: 'static> Resource<T> {
    /// The typed handle of `resource`, if it is a host resource of type `T` (`store` is taken as Wasmtime
    /// takes it; Tenon needs nothing of it).
    pub fn try_from_resource_any(resource: ResourceAny, _store: impl AsContextMut) -> anyhow::Result<Self> {
        if resource.ty != ResourceType::host::<T>() {
            anyhow::bail!("resource type mismatch: {:?} is not {:?}", resource.ty, ResourceType::host::<T>());
        }
        Ok(Resource { rep: resource.rep, own: resource.own, _type: PhantomData })
    }

    /// This handle as a [`ResourceAny`].
    pub fn try_into_resource_any(self, _store: impl AsContextMut) -> anyhow::Result<ResourceAny> {
        Ok(self.as_any())
    }
}

impl<T: 'static> fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.own { "own" } else { "borrow" };
        write!(f, "Resource<{}>({kind}, {})", std::any::type_name::<T>(), self.rep)
    }
}

// As component values: `own<R>` and `borrow<R>`, checked against the instance's resource type when they
// cross (the type check only knows that the component's type is a handle).

use super::abi::layout::CanonicalAbiInfo;
use super::abi::lift::{FlatValues, LiftContext};
use super::abi::lower::{FlatBuf, LowerContext};
use super::abi::{AbiError, AbiResult};
use super::type_table::{ComponentTypes, InterfaceType};
use super::typed::{ComponentType, Lift, Lower, mismatch};

/// Whether `ty` is a handle type, for the type checks of [`Resource`] and [`ResourceAny`].
fn typecheck_handle<R: ?Sized>(ty: InterfaceType) -> anyhow::Result<()> {
    match ty {
        InterfaceType::Own(_) | InterfaceType::Borrow(_) => Ok(()),
        other => Err(mismatch::<R>(other)),
    }
}

/// Gives the guest `resource` as a handle of type `ty`; the handle's index.
fn lower_any(cx: &mut LowerContext<'_>, ty: InterfaceType, resource: &ResourceAny) -> AbiResult<u32> {
    match ty {
        InterfaceType::Own(i) => cx.guest.lower_handle(i, resource, true),
        InterfaceType::Borrow(i) => cx.guest.lower_handle(i, resource, false),
        other => Err(AbiError::mismatch("a resource handle", &super::typed::describe(other))),
    }
}

/// Takes the handle `index` of type `ty` from the guest.
fn lift_any(cx: &LiftContext<'_>, ty: InterfaceType, index: u32) -> AbiResult<ResourceAny> {
    match ty {
        InterfaceType::Own(i) => cx.lift_own(i, index),
        InterfaceType::Borrow(i) => cx.lift_borrow(i, index),
        other => Err(AbiError::mismatch("a resource handle", &super::typed::describe(other))),
    }
}

impl ComponentType for ResourceAny {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::SCALAR4;
    fn typecheck(ty: InterfaceType, _types: &ComponentTypes) -> anyhow::Result<()> {
        typecheck_handle::<Self>(ty)
    }
}

impl Lower for ResourceAny {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        let index = lower_any(cx, ty, self)?;
        dst.push(index as u64)
    }
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        let index = lower_any(cx, ty, self)?;
        cx.write(ptr, &index.to_le_bytes())
    }
}

impl Lift for ResourceAny {
    fn lift_flat(cx: &LiftContext<'_>, ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
        lift_any(cx, ty, src.next_u32()?)
    }
    fn load(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
        lift_any(cx, ty, cx.uint(ptr, 4)? as u32)
    }
}

impl<T: 'static> ComponentType for Resource<T> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::SCALAR4;
    fn typecheck(ty: InterfaceType, _types: &ComponentTypes) -> anyhow::Result<()> {
        typecheck_handle::<Self>(ty)
    }
}

impl<T: 'static> Resource<T> {
    fn as_any(&self) -> ResourceAny {
        ResourceAny::new(ResourceType::host::<T>(), self.rep, self.own)
    }
}

impl<T: 'static> Lower for Resource<T> {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        self.as_any().lower_flat(cx, ty, dst)
    }
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        self.as_any().store(cx, ty, ptr)
    }
}

impl<T: 'static> Lift for Resource<T> {
    fn lift_flat(cx: &LiftContext<'_>, ty: InterfaceType, src: &mut FlatValues<'_>) -> AbiResult<Self> {
        host_typed(ResourceAny::lift_flat(cx, ty, src)?, ResourceType::host::<T>()).map(|(rep, own)| Resource { rep, own, _type: PhantomData })
    }
    fn load(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
        host_typed(ResourceAny::load(cx, ty, ptr)?, ResourceType::host::<T>()).map(|(rep, own)| Resource { rep, own, _type: PhantomData })
    }
}

/// The representation and ownership of lifted handle `resource`, if it has host type `ty`.
fn host_typed(resource: ResourceAny, ty: ResourceType) -> AbiResult<(u32, bool)> {
    match resource.ty == ty {
        true => Ok((resource.rep, resource.own)),
        false => Err(AbiError::msg(format!("resource type mismatch: {:?} is not {ty:?}", resource.ty))),
    }
}

/// A handle to a host resource whose type is a number chosen at run time ([`ResourceType::host_dynamic`]),
/// for hosts that define resource types dynamically (as Wasmtime's `ResourceDynamic`): like [`Resource<T>`]
/// otherwise, with no destructor of its own.
pub struct ResourceDynamic {
    rep: u32,
    own: bool,
    ty: u32,
}

impl ResourceDynamic {
    /// An owned handle to the resource represented by `rep`, of type number `ty`.
    pub fn new_own(rep: u32, ty: u32) -> Self {
        ResourceDynamic { rep, own: true, ty }
    }

    /// A borrowed handle to the resource represented by `rep`, of type number `ty`.
    pub fn new_borrow(rep: u32, ty: u32) -> Self {
        ResourceDynamic { rep, own: false, ty }
    }

    /// The resource's representation.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// The type number given when the handle was made.
    pub fn ty(&self) -> u32 {
        self.ty
    }

    /// Whether the handle is owned (rather than borrowed).
    pub fn owned(&self) -> bool {
        self.own
    }

    /// The dynamically typed handle of `resource`, if it has a [`ResourceType::host_dynamic`] type.
    pub fn try_from_resource_any(resource: ResourceAny, _store: impl AsContextMut) -> anyhow::Result<Self> {
        match resource.ty.0 {
            Kind::HostDynamic(ty) => Ok(ResourceDynamic { rep: resource.rep, own: resource.own, ty }),
            _ => anyhow::bail!("resource type mismatch: {:?} is not a `ResourceType::host_dynamic` type", resource.ty),
        }
    }

    /// This handle as a [`ResourceAny`].
    pub fn try_into_resource_any(self, _store: impl AsContextMut) -> anyhow::Result<ResourceAny> {
        Ok(self.as_any())
    }

    fn as_any(&self) -> ResourceAny {
        ResourceAny::new(ResourceType::host_dynamic(self.ty), self.rep, self.own)
    }
}

impl fmt::Debug for ResourceDynamic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.own { "own" } else { "borrow" };
        write!(f, "ResourceDynamic({kind}, {}, type {})", self.rep, self.ty)
    }
}

impl ComponentType for ResourceDynamic {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::SCALAR4;
    fn typecheck(ty: InterfaceType, _types: &ComponentTypes) -> anyhow::Result<()> {
        typecheck_handle::<Self>(ty)
    }
}

impl Lower for ResourceDynamic {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, dst: &mut FlatBuf) -> AbiResult<()> {
        self.as_any().lower_flat(cx, ty, dst)
    }
    fn store(&self, cx: &mut LowerContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<()> {
        self.as_any().store(cx, ty, ptr)
    }
}

impl Lift for ResourceDynamic {
    fn lift_from(cx: &LiftContext<'_>, ty: InterfaceType, src: super::derived::LiftSource<'_, '_>) -> AbiResult<Self> {
        let resource = ResourceAny::lift_from(cx, ty, src)?;
        match resource.ty.0 {
            Kind::HostDynamic(payload) => Ok(ResourceDynamic { rep: resource.rep, own: resource.own, ty: payload }),
            _ => Err(AbiError::msg(format!("resource type mismatch: {:?} is not a `ResourceType::host_dynamic` type", resource.ty))),
        }
    }
}
