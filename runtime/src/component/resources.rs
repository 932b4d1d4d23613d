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

    /// Drops the resource (an owned handle): runs its destructor, the guest's for a resource a component
    /// defines, the host's (given to [`LinkerInstance::resource`](super::LinkerInstance::resource)) for a
    /// host resource. Dropping a `ResourceAny` without this leaks the resource, as in Wasmtime.
    pub fn resource_drop<S: AsContextMut>(self, mut store: S) -> anyhow::Result<()> {
        if !self.own {
            anyhow::bail!("a borrowed handle cannot be dropped");
        }
        let mut store = store.as_context_mut();
        if let Some(token) = self.token
            && !store.0.get_mut().opaque.components.host_owned.remove(&token)
        {
            anyhow::bail!("this resource handle was given away or dropped already");
        }
        let instances = &store.0.get().opaque.components.instances;
        let found = instances.iter().enumerate().find_map(|(i, data)| data.resource_types.iter().position(|t| *t == self.ty).map(|r| (i, r)));
        let Some((instance, index)) = found else {
            anyhow::bail!("no component instance of this store has the resource type {:?}", self.ty)
        };
        let data = &instances[instance];
        if data.poisoned {
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

    /// The typed handle, if the resource is a host resource of type `T`.
    pub fn try_into_resource<T: 'static>(self) -> anyhow::Result<Resource<T>> {
        if self.ty != ResourceType::host::<T>() {
            anyhow::bail!("resource type mismatch: {:?} is not {:?}", self.ty, ResourceType::host::<T>());
        }
        Ok(Resource { rep: self.rep, own: self.own, _type: PhantomData })
    }

    /// The handle of type known at run time for `resource`.
    pub fn try_from_resource<T: 'static>(resource: Resource<T>) -> anyhow::Result<Self> {
        Ok(ResourceAny { ty: ResourceType::host::<T>(), rep: resource.rep, own: resource.own, token: None })
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
        ResourceAny::lift_flat(cx, ty, src)?.try_into_resource().map_err(|e| AbiError::msg(e.to_string()))
    }
    fn load(cx: &LiftContext<'_>, ty: InterfaceType, ptr: u32) -> AbiResult<Self> {
        ResourceAny::load(cx, ty, ptr)?.try_into_resource().map_err(|e| AbiError::msg(e.to_string()))
    }
}
