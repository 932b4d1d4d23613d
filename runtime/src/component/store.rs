//! What a store keeps for components: each component instance's core instances, lowered functions,
//! resolved canonical options and state, and the component functions handed out.

use super::Component;
use super::translate::StringEncoding;
use super::handles::HandleTable;
use super::resources::ResourceType;
use super::type_table::TypeFuncIndex;
use crate::vm::ComponentFlags;
use crate::{AsContext, AsContextMut, Func, Instance, Memory, Store, StoreContextMut};
use std::collections::HashMap;
use std::sync::Arc;

/// The component state of a store.
pub(crate) struct ComponentStore {
    pub instances: Vec<InstanceData>,
    pub funcs: Vec<FuncData>,
    /// The most bytes the host copies out of a guest in one call (see [`Store::set_hostcall_fuel`]).
    pub hostcall_fuel: usize,
    /// The tokens of the owned handles guests gave the host and it still holds (see `ResourceAny`).
    pub host_owned: std::collections::HashSet<u64>,
    /// Guest resources whose [`GuestResource`](super::GuestResource) was dropped without a store: dropped at
    /// the next call into a component.
    pub dropped: super::guest_resource::DropQueue,
}

/// The default of [`Store::hostcall_fuel`]: 128 MiB, as in Wasmtime.
const DEFAULT_HOSTCALL_FUEL: usize = 128 << 20;

impl Default for ComponentStore {
    fn default() -> Self {
        ComponentStore {
            instances: Vec::new(),
            funcs: Vec::new(),
            hostcall_fuel: DEFAULT_HOSTCALL_FUEL,
            host_owned: Default::default(),
            dropped: Default::default(),
        }
    }
}

impl<T: 'static> Store<T> {
    /// The most data, in bytes, the host copies out of a guest in one call: the arguments of one call of a
    /// host function, or the results of one call of an export. 128 MiB unless set with
    /// [`set_hostcall_fuel`](Store::set_hostcall_fuel).
    pub fn hostcall_fuel(&self) -> usize {
        self.as_context().0.opaque.components.hostcall_fuel
    }

    /// Sets the [`hostcall_fuel`](Store::hostcall_fuel): a guest that makes the host copy more than `fuel`
    /// bytes in one call (a huge list of strings, say) gets an error ("too much data is being copied
    /// between the host and the guest") instead of making the host allocate without bound. Lifted values
    /// count as the memory the host allocates for them: string bytes, and per list element the size of the
    /// Rust type (or [`Val`](super::Val)) it becomes. Data going into the guest is not limited.
    pub fn set_hostcall_fuel(&mut self, fuel: usize) {
        self.as_context_mut().set_hostcall_fuel(fuel)
    }
}

impl<T: 'static> StoreContextMut<'_, T> {
    /// See [`Store::hostcall_fuel`].
    pub fn hostcall_fuel(&self) -> usize {
        self.0.get().opaque.components.hostcall_fuel
    }

    /// See [`Store::set_hostcall_fuel`].
    pub fn set_hostcall_fuel(&mut self, fuel: usize) {
        self.0.get_mut().opaque.components.hostcall_fuel = fuel;
    }
}

/// One component instance.
pub(crate) struct InstanceData {
    pub component: Component,
    /// The core instances instantiation created, in order.
    pub core_instances: Vec<Instance>,
    /// The lowered functions instantiation created, in order.
    pub lowered: Vec<Func>,
    /// Canonical options resolved to the store's objects, once resolved.
    pub options: Vec<Option<Options>>,
    /// The component functions made for its exports, by export path.
    pub exported_funcs: HashMap<Vec<usize>, usize>,
    /// The names of its functions, for errors (see [`FuncData::name`]).
    pub func_names: Vec<Arc<str>>,
    /// The call state of each component instance it holds (the root and the nested ones), in flags fused
    /// adapters read and write too.
    pub flags: ComponentFlags,
    /// The core global of each (nested) instance's flags, once an adapter needed it.
    pub flag_globals: Vec<Option<crate::Global>>,
    /// The resource handles of each (nested) component instance.
    pub handles: Vec<HandleTable>,
    /// The identity of each of the component's resource types, by resource index.
    pub resource_types: Vec<ResourceType>,
    /// The destructor of each resource type the component defines (by resource index), if it has one.
    pub guest_dtors: Vec<Option<Func>>,
    /// The destructor of each host resource type (by resource index): an `Arc<ResourceDtor<T>>`, erased.
    pub host_dtors: Vec<Option<Box<dyn std::any::Any + Send + Sync>>>,
    /// How many borrowed handles each (nested) instance holds, lent for its current call: it must drop them
    /// all before the call returns.
    pub borrows: Vec<u32>,
    /// The handles each (nested) instance was lent by its caller for its current call, as (lending instance,
    /// handle index): the caller may not move them in the same call, nor drop them while the call runs.
    pub lent: Vec<Vec<(usize, u32)>>,
    /// For each (nested) instance, the borrow count and lent handles of its calls that a call between
    /// components into it interrupted (a child calling its parent back), innermost last: each call has its
    /// own. A borrowed handle records how many there were when it was lent (see `Handle::Borrow`).
    pub outer_calls: Vec<Vec<CallBorrows>>,
    /// Which (nested) instance defines each resource type the component defines (by resource index).
    pub resource_owners: Vec<Option<usize>>,
    /// The `InstancePre<T>` it was made from, erased (for `Instance::instance_pre`).
    pub pre: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// The borrows of one call into a (nested) instance: how many borrowed handles it holds, and which handles
/// (lending instance, index) its caller lent it.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallBorrows {
    pub count: u32,
    pub lent: Vec<(usize, u32)>,
}

/// Canonical options with their items as handles in the store.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    /// The (nested) component instance they belong to.
    pub nested: usize,
    pub encoding: StringEncoding,
    pub memory: Option<Memory>,
    pub realloc: Option<Func>,
    pub post_return: Option<Func>,
}

/// A component function: a core function lifted with options, in an instance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FuncData {
    /// The instance it belongs to.
    pub instance: usize,
    /// Its type.
    pub ty: TypeFuncIndex,
    /// The core function.
    pub core: Func,
    /// Its canonical options.
    pub options: Options,
    /// Its name, for errors: an index into the instance's [`InstanceData::func_names`].
    pub name: u32,
}

impl InstanceData {
    /// Whether (nested) instance `nested` or one of its ancestors is running, or the component is locked
    /// down: either way, the host may not enter it.
    #[inline]
    pub fn refuses_entry(&self, nested: usize) -> bool {
        let refuses = |i| self.flags.get(i) & (ComponentFlags::ENTERED | ComponentFlags::POISONED) != 0;
        // The root (0) has no ancestors.
        refuses(nested) || (nested != 0 && self.component.info().self_and_ancestors(nested).any(refuses))
    }

    /// Marks (nested) instance `nested` and its ancestors as running, or (`false`) no longer.
    #[inline]
    pub fn set_entered(&mut self, nested: usize, entered: bool) {
        if nested == 0 {
            return self.flags.set(0, ComponentFlags::ENTERED, entered);
        }
        for i in self.component.info().self_and_ancestors(nested) {
            self.flags.set(i, ComponentFlags::ENTERED, entered);
        }
    }

    /// Whether any of its (nested) instances is running.
    pub fn running(&self) -> bool {
        (0..self.flags.count()).any(|i| self.flags.get(i) & ComponentFlags::ENTERED != 0)
    }

    /// Whether (nested) instance `nested` may call its imports: not while its `realloc` or `post-return` runs.
    #[inline]
    pub fn may_leave(&self, nested: usize) -> bool {
        self.flags.get(nested) & ComponentFlags::MAY_LEAVE != 0
    }

    #[inline]
    pub fn set_may_leave(&mut self, nested: usize, may: bool) {
        self.flags.set(nested, ComponentFlags::MAY_LEAVE, may);
    }

    /// Counts the drop of a borrowed handle of (nested) instance `nested` lent for its call `scope` (see
    /// `Handle::Borrow`).
    pub fn borrow_dropped(&mut self, nested: usize, scope: u32) {
        let count = match self.outer_calls[nested].get_mut(scope as usize) {
            Some(outer) => &mut outer.count,
            None => &mut self.borrows[nested],
        };
        *count = count.saturating_sub(1);
    }

    /// Whether handle `index` of (nested) instance `nested` is lent to a call that is running.
    pub fn is_lent(&self, nested: usize, index: u32) -> bool {
        let current = self.lent.iter();
        let interrupted = self.outer_calls.iter().flatten().map(|outer| &outer.lent);
        current.chain(interrupted).any(|lent| lent.contains(&(nested, index)))
    }

    /// Whether anything trapped in it: then nothing may call into it any more.
    #[inline]
    pub fn poisoned(&self) -> bool {
        self.flags.get(0) & ComponentFlags::POISONED != 0
    }

    /// Locks it down after a trap: each of its (nested) instances is marked, for adapters to see.
    pub fn poison(&mut self) {
        (0..self.flags.count()).for_each(|i| self.flags.set(i, ComponentFlags::POISONED, true));
    }

    /// Records a function name; its index.
    pub fn name(&mut self, name: &str) -> u32 {
        self.func_names.push(name.into());
        self.func_names.len() as u32 - 1
    }

    /// A new, empty instance of `component`, whose resource types are `resource_types`.
    pub fn new(component: Component, resource_types: Vec<ResourceType>) -> Self {
        let options = component.info().options.len();
        let instances = component.info().num_component_instances;
        let flags = ComponentFlags::new(instances);
        InstanceData {
            component,
            core_instances: Vec::new(),
            lowered: Vec::new(),
            options: vec![None; options],
            exported_funcs: HashMap::new(),
            func_names: Vec::new(),
            flags,
            flag_globals: vec![None; instances],
            handles: (0..instances).map(|_| HandleTable::default()).collect(),
            guest_dtors: vec![None; resource_types.len()],
            host_dtors: Vec::new(),
            pre: None,
            resource_owners: vec![None; resource_types.len()],
            resource_types,
            borrows: vec![0; instances],
            lent: vec![Vec::new(); instances],
            outer_calls: vec![Vec::new(); instances],
        }
    }
}
