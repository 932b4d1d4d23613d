//! `ResourceTable` and `Resource<T>`: typed entries, reused slots, parent/child links, the capacity limit,
//! and every misuse as its error.

use tenon::component::{Resource, ResourceTable, ResourceTableError};

#[derive(Debug, PartialEq)]
struct File(String);
#[derive(Debug, PartialEq)]
struct Stream(u64);

#[test]
fn entries_are_typed_and_slots_reused() {
    let mut table = ResourceTable::new();
    assert!(table.is_empty());
    let a = table.push(File("a".into())).unwrap();
    let b = table.push(Stream(1)).unwrap();
    assert!(a.owned() && a.rep() != b.rep());
    assert_eq!(table.get(&a).unwrap(), &File("a".into()));
    table.get_mut(&b).unwrap().0 += 1;
    assert_eq!(table.get(&b).unwrap(), &Stream(2));

    // A handle of the wrong type, to a deleted entry, or made up: errors, never a panic.
    let wrong: Resource<Stream> = Resource::new_borrow(a.rep());
    assert!(!wrong.owned());
    assert_eq!(table.get(&wrong).unwrap_err(), ResourceTableError::WrongType);
    let a_rep = a.rep();
    assert_eq!(table.delete(a).unwrap(), File("a".into()));
    assert_eq!(table.get(&Resource::<File>::new_own(a_rep)).unwrap_err(), ResourceTableError::NotPresent);
    assert_eq!(table.delete(Resource::<File>::new_own(a_rep)).unwrap_err(), ResourceTableError::NotPresent);
    assert_eq!(table.get(&Resource::<File>::new_own(999)).unwrap_err(), ResourceTableError::NotPresent);
    assert_eq!(table.delete(Resource::<File>::new_own(b.rep())).unwrap_err(), ResourceTableError::WrongType);

    // The freed slot is used again.
    let c = table.push(File("c".into())).unwrap();
    assert_eq!(c.rep(), a_rep);
    assert_eq!(format!("{c:?}"), format!("Resource<{}>(own, {a_rep})", std::any::type_name::<File>()));
}

#[test]
fn parents_outlive_their_children() {
    let mut table = ResourceTable::new();
    let file = table.push(File("f".into())).unwrap();
    let s1 = table.push_child(Stream(1), &file).unwrap();
    let s2 = table.push_child(Stream(2), &file).unwrap();
    assert_eq!(table.iter_children(&file).unwrap().collect::<Vec<_>>(), [s1.rep(), s2.rep()]);
    let file_rep = file.rep();
    let file_again = Resource::<File>::new_own(file_rep);
    assert_eq!(table.delete(file).unwrap_err(), ResourceTableError::HasChildren);
    table.delete(s1).unwrap();
    assert_eq!(table.delete(Resource::<File>::new_own(file_rep)).unwrap_err(), ResourceTableError::HasChildren);
    table.delete(s2).unwrap();
    assert_eq!(table.delete(file_again).unwrap(), File("f".into()));
    assert!(table.is_empty());
    // A child of a missing parent is refused.
    assert_eq!(table.push_child(Stream(0), &Resource::<File>::new_own(file_rep)).unwrap_err(), ResourceTableError::NotPresent);
}

#[test]
fn the_capacity_limit_holds() {
    let mut table = ResourceTable::with_capacity(4);
    table.set_max_capacity(2);
    assert_eq!(table.max_capacity(), 2);
    let a = table.push(Stream(1)).unwrap();
    table.push(Stream(2)).unwrap();
    assert_eq!(table.push(Stream(3)).unwrap_err(), ResourceTableError::Full);
    assert_eq!(ResourceTableError::Full.to_string(), "resource table has no free keys");
    table.delete(a).unwrap();
    table.push(Stream(4)).unwrap();
}
