//! The in-memory object store: unique names, ids, and a version history per object.
//! Values are kept in memory only; the dev server is disposable by design.

use std::collections::BTreeMap;

use super::random_token;
use vfr_credentials::clock;
use vfr_credentials::keys;

/// Names are unique per environment and at most this many characters (WorkOS limit).
pub(crate) const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Clone)]
pub(crate) struct Version {
    pub id: String,
    pub value: String,
    pub created_at: String,
    pub etag: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub id: String,
    pub name: String,
    pub context: BTreeMap<String, String>,
    pub key_id: String,
    /// Oldest first; never empty (an object is created with its first version).
    pub versions: Vec<Version>,
}

impl Object {
    pub(crate) fn current(&self) -> &Version {
        // Invariant: versions is never empty; indexing keeps that assumption visible.
        &self.versions[self.versions.len() - 1]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreError {
    NameTaken,
    NotFound,
    VersionMismatch,
    InvalidName(&'static str),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NameTaken => f.write_str("An object with this name already exists"),
            StoreError::NotFound => f.write_str("Object not found"),
            StoreError::VersionMismatch => f.write_str("Version mismatch"),
            StoreError::InvalidName(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for StoreError {}

/// Sort direction for listing, by creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Asc,
    Desc,
}

#[derive(Debug)]
pub(crate) struct Store {
    /// Creation order; the dev server holds few objects, so linear scans are fine.
    objects: Vec<Object>,
    pub environment_id: String,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store {
            objects: Vec::new(),
            environment_id: format!("environment_dev_{}", random_token(20)),
        }
    }

    pub(crate) fn by_name(&self, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.name == name)
    }

    pub(crate) fn by_id(&self, id: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.id == id)
    }

    fn index_of_id(&self, id: &str) -> Result<usize, StoreError> {
        self.objects
            .iter()
            .position(|o| o.id == id)
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn create(
        &mut self,
        name: &str,
        value: &str,
        context: BTreeMap<String, String>,
    ) -> Result<&Object, StoreError> {
        check_name(name)?;
        if self.by_name(name).is_some() {
            return Err(StoreError::NameTaken);
        }
        self.objects.push(Object {
            id: new_uuid(),
            name: name.to_string(),
            context,
            key_id: new_uuid(),
            versions: vec![new_version(value)],
        });
        Ok(&self.objects[self.objects.len() - 1])
    }

    /// Add a new version. `version_check`, when given, must name the current version
    /// (optimistic locking, as WorkOS does it).
    pub(crate) fn update(
        &mut self,
        id: &str,
        value: &str,
        version_check: Option<&str>,
    ) -> Result<&Object, StoreError> {
        let i = self.index_of_id(id)?;
        let obj = &mut self.objects[i];
        if version_check.is_some_and(|v| v != obj.current().id) {
            return Err(StoreError::VersionMismatch);
        }
        obj.versions.push(new_version(value));
        Ok(&self.objects[i])
    }

    /// Create the object or add a version to it (seeding and tests).
    pub(crate) fn set_value(&mut self, name: &str, value: &str) -> Result<&Object, StoreError> {
        match self.by_name(name).map(|o| o.id.clone()) {
            Some(id) => self.update(&id, value, None),
            None => self.create(name, value, BTreeMap::new()),
        }
    }

    pub(crate) fn delete(
        &mut self,
        id: &str,
        version_check: Option<&str>,
    ) -> Result<Object, StoreError> {
        let i = self.index_of_id(id)?;
        if version_check.is_some_and(|v| v != self.objects[i].current().id) {
            return Err(StoreError::VersionMismatch);
        }
        Ok(self.objects.remove(i))
    }

    pub(crate) fn remove_by_name(&mut self, name: &str) -> bool {
        let before = self.objects.len();
        self.objects.retain(|o| o.name != name);
        self.objects.len() != before
    }

    /// One page of objects whose name contains `search`, starting after the object
    /// with id `after`. Returns the page and the cursor for the next page, if any.
    pub(crate) fn list(
        &self,
        order: Order,
        search: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<&Object>, Option<String>) {
        let mut all: Vec<&Object> = self
            .objects
            .iter()
            .filter(|o| search.is_none_or(|s| o.name.contains(s)))
            .collect();
        if order == Order::Desc {
            all.reverse();
        }
        let start = match after {
            Some(a) => all
                .iter()
                .position(|o| o.id == a)
                .map_or(all.len(), |p| p + 1),
            None => 0,
        };
        let rest = &all[start.min(all.len())..];
        let page: Vec<&Object> = rest.iter().take(limit).copied().collect();
        let next = (rest.len() > page.len())
            .then(|| page.last().map(|o| o.id.clone()))
            .flatten();
        (page, next)
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(StoreError::InvalidName("name must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::InvalidName(
            "name must be at most 200 characters",
        ));
    }
    Ok(())
}

fn new_uuid() -> String {
    keys::generate_uuid()
}

fn new_version(value: &str) -> Version {
    Version {
        id: random_token(32),
        value: value.to_string(),
        created_at: clock::now(),
        // A random tag, not a hash: a hash of a secret value would be a needless hint.
        etag: random_token(32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_bounded() {
        let mut s = Store::new();
        let id = s.create("a", "1", BTreeMap::new()).unwrap().id.clone();
        assert_eq!(
            s.create("a", "2", BTreeMap::new()).unwrap_err(),
            StoreError::NameTaken
        );
        assert!(matches!(
            s.create("", "x", BTreeMap::new()),
            Err(StoreError::InvalidName(_))
        ));
        assert!(s.create(&"n".repeat(200), "x", BTreeMap::new()).is_ok());
        assert!(matches!(
            s.create(&"n".repeat(201), "x", BTreeMap::new()),
            Err(StoreError::InvalidName(_))
        ));
        assert_eq!(s.by_name("a").unwrap().id, id);
        assert_eq!(s.by_id(&id).unwrap().current().value, "1");
        assert!(vfr_credentials::keys::is_uuid(&id));
    }

    #[test]
    fn updates_add_versions_and_check_the_current_one() {
        let mut s = Store::new();
        let o = s.create("a", "1", BTreeMap::new()).unwrap();
        let (id, v1) = (o.id.clone(), o.current().id.clone());
        assert_eq!(v1.len(), 32);
        let v2 = s.update(&id, "2", Some(&v1)).unwrap().current().id.clone();
        assert_ne!(v1, v2);
        assert_eq!(
            s.update(&id, "3", Some(&v1)).unwrap_err(),
            StoreError::VersionMismatch
        );
        let o = s.by_id(&id).unwrap();
        assert_eq!(o.versions.len(), 2);
        assert_eq!(o.current().value, "2");
        assert_eq!(
            s.update("nope", "x", None).unwrap_err(),
            StoreError::NotFound
        );

        let v3 = s.set_value("a", "3").unwrap().current().id.clone();
        assert_ne!(v2, v3);
        assert_eq!(s.by_id(&id).unwrap().versions.len(), 3);
        assert_eq!(
            s.delete(&id, Some(&v1)).unwrap_err(),
            StoreError::VersionMismatch
        );
        assert_eq!(s.delete(&id, Some(&v3)).unwrap().name, "a");
        assert!(s.by_name("a").is_none());
        assert!(!s.remove_by_name("a"));
    }

    #[test]
    fn list_pages_and_filters() {
        let mut s = Store::new();
        for n in ["alpha", "beta", "gamma", "alphabet"] {
            s.create(n, "v", BTreeMap::new()).unwrap();
        }
        let names = |v: Vec<&Object>| v.iter().map(|o| o.name.clone()).collect::<Vec<_>>();
        let (page, next) = s.list(Order::Asc, None, None, 2);
        assert_eq!(names(page), ["alpha", "beta"]);
        let (page, next) = s.list(Order::Asc, None, next.as_deref(), 2);
        assert_eq!(names(page), ["gamma", "alphabet"]);
        assert!(next.is_none());
        let (page, _) = s.list(Order::Desc, Some("alpha"), None, 10);
        assert_eq!(names(page), ["alphabet", "alpha"]);
    }
}
