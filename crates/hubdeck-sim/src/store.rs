//! The per-cluster object store: objects kept as serialized JSON (compact at 100k pods), one global
//! resourceVersion counter, and a bounded change log that watches replay from.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

use super::resources::Kind;

/// Changes kept for watches that resume from an older resourceVersion; older ones get 410 Gone.
const LOG_CAPACITY: usize = 20_000;
/// Live fan-out buffer; a watcher that falls this far behind is expired like on a real server.
const BROADCAST_CAPACITY: usize = 16_384;

/// One stored object: its identity and its wire form, ready to be concatenated into lists.
#[derive(Debug)]
pub(crate) struct Obj {
    pub kind: Kind,
    pub namespace: Box<str>,
    pub name: Box<str>,
    pub rv: u64,
    pub json: Bytes,
}

impl Obj {
    /// Parses the stored JSON back into a value for mutation.
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }

    /// Parses the stored JSON into a typed k8s-openapi object.
    pub fn typed<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.json).ok()
    }
}

/// What happened to an object, as a watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeType {
    Added,
    Modified,
    Deleted,
}

/// One entry of the change log; `prev` lets a selector watch turn "stopped matching" into DELETED.
#[derive(Debug)]
pub(crate) struct Change {
    pub ty: ChangeType,
    pub obj: Arc<Obj>,
    pub prev: Option<Arc<Obj>>,
}

/// A watch asked for history the store no longer has.
#[derive(Debug)]
pub(crate) struct Expired;

type Key = (Box<str>, Box<str>);

/// A live feed of changes.
pub(crate) type ChangeReceiver = broadcast::Receiver<Arc<Change>>;

/// All objects of one cluster plus its change history.
pub(crate) struct Store {
    objects: BTreeMap<Kind, BTreeMap<Key, Arc<Obj>>>,
    rv: u64,
    log: VecDeque<Arc<Change>>,
    /// A watch from resourceVersion R can be served iff R >= oldest_resumable.
    oldest_resumable: u64,
    tx: broadcast::Sender<Arc<Change>>,
    uid_counter: u64,
    uid_prefix: u32,
}

impl Store {
    /// An empty store; `uid_seed` keeps uids distinct between clusters.
    pub fn new(uid_seed: u32) -> Self {
        let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        Store {
            objects: BTreeMap::new(),
            rv: 1000,
            log: VecDeque::new(),
            oldest_resumable: 1000,
            tx,
            uid_counter: 0,
            uid_prefix: uid_seed,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Looks up one object.
    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Arc<Obj>> {
        self.objects
            .get(&kind)?
            .get(&(Box::from(namespace), Box::from(name)))
            .cloned()
    }

    /// All objects of a kind, optionally in one namespace, with the store's resourceVersion.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> Vec<Arc<Obj>> {
        let Some(map) = self.objects.get(&kind) else {
            return Vec::new();
        };
        match namespace {
            None => map.values().cloned().collect(),
            Some(ns) => map
                .range((Box::from(ns), Box::from(""))..)
                .take_while(|((n, _), _)| &**n == ns)
                .map(|(_, o)| o.clone())
                .collect(),
        }
    }

    /// A fresh uid, deterministic per cluster so generated fleets are reproducible.
    pub fn new_uid(&mut self) -> String {
        self.uid_counter += 1;
        let c = self.uid_counter;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            self.uid_prefix,
            (c >> 32) & 0xffff,
            (c >> 20) & 0xfff,
            (c >> 8) & 0xfff,
            c.wrapping_mul(0x9e37_79b9) & 0xffff_ffff_ffff
        )
    }

    /// Creates or replaces an object, stamping resourceVersion (and uid/creationTimestamp when new).
    pub fn put(&mut self, kind: Kind, mut value: Value) -> Arc<Obj> {
        let (namespace, name) = object_key(&value);
        let prev = self.get(kind, &namespace, &name);
        self.rv += 1;
        let rv = self.rv;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("apiVersion".into(), Value::from(kind.api_version()));
            obj.insert("kind".into(), Value::from(kind.kind()));
        }
        let meta = ensure_object(&mut value, "metadata");
        meta.insert("resourceVersion".into(), Value::from(rv.to_string()));
        if !meta.contains_key("uid") {
            let uid = match &prev {
                Some(p) => p.value()["metadata"]["uid"].clone(),
                None => Value::Null,
            };
            let uid = if uid.is_string() {
                uid
            } else {
                Value::from(self.new_uid())
            };
            let meta = ensure_object(&mut value, "metadata");
            meta.insert("uid".into(), uid);
        }
        let meta = ensure_object(&mut value, "metadata");
        if !meta.contains_key("creationTimestamp") {
            meta.insert("creationTimestamp".into(), Value::from(now_rfc3339()));
        }
        let obj = Arc::new(Obj {
            kind,
            json: Bytes::from(serde_json::to_vec(&value).unwrap_or_default()),
            namespace: namespace.clone().into(),
            name: name.clone().into(),
            rv,
        });
        self.objects
            .entry(kind)
            .or_default()
            .insert((namespace.into(), name.into()), obj.clone());
        let ty = if prev.is_some() {
            ChangeType::Modified
        } else {
            ChangeType::Added
        };
        self.record(Change {
            ty,
            obj: obj.clone(),
            prev,
        });
        obj
    }

    /// Removes an object; the DELETED event carries its last state at a new resourceVersion.
    pub fn remove(&mut self, kind: Kind, namespace: &str, name: &str) -> Option<Arc<Obj>> {
        let key: Key = (namespace.into(), name.into());
        let prev = self.objects.get_mut(&kind)?.remove(&key)?;
        self.rv += 1;
        let mut value = prev.value();
        ensure_object(&mut value, "metadata")
            .insert("resourceVersion".into(), Value::from(self.rv.to_string()));
        let obj = Arc::new(Obj {
            kind,
            namespace: key.0,
            name: key.1,
            rv: self.rv,
            json: Bytes::from(serde_json::to_vec(&value).unwrap_or_default()),
        });
        self.record(Change {
            ty: ChangeType::Deleted,
            obj: obj.clone(),
            prev: Some(prev),
        });
        Some(obj)
    }

    fn record(&mut self, change: Change) {
        let change = Arc::new(change);
        // No receivers is normal (nobody watching); the log still keeps the change.
        let _ = self.tx.send(change.clone());
        self.log.push_back(change);
        while self.log.len() > LOG_CAPACITY {
            if let Some(old) = self.log.pop_front() {
                self.oldest_resumable = old.obj.rv;
            }
        }
    }

    /// Whether the retained history reaches back to `from` (for watches and continued lists).
    pub fn resumable(&self, from: u64) -> bool {
        from >= self.oldest_resumable
    }

    /// Starts a watch after `from`: the changes already logged plus a live receiver, without a gap.
    pub fn watch_from(&self, from: u64) -> Result<(Vec<Arc<Change>>, ChangeReceiver), Expired> {
        if !self.resumable(from) {
            return Err(Expired);
        }
        let backlog = self
            .log
            .iter()
            .filter(|c| c.obj.rv > from)
            .cloned()
            .collect();
        Ok((backlog, self.tx.subscribe()))
    }

    /// A live receiver starting now (for watches that begin with the current state).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Forgets all history, as a restarted API server does: any older resourceVersion is now expired.
    pub fn forget_history(&mut self) {
        self.log.clear();
        self.oldest_resumable = self.rv;
    }

    /// Marks everything so far as not resumable (after initial generation).
    pub fn seal_history(&mut self) {
        self.forget_history();
    }
}

/// Namespace and name of a JSON object (empty strings when absent).
pub(crate) fn object_key(value: &Value) -> (String, String) {
    let meta = &value["metadata"];
    (
        meta["namespace"].as_str().unwrap_or("").to_string(),
        meta["name"].as_str().unwrap_or("").to_string(),
    )
}

/// The map at `value[key]`, created if missing or not an object.
pub(crate) fn ensure_object<'a>(
    value: &'a mut Value,
    key: &str,
) -> &'a mut serde_json::Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Default::default());
    }
    let Value::Object(map) = value else {
        unreachable!("just made an object")
    };
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Default::default()));
    if !entry.is_object() {
        *entry = Value::Object(Default::default());
    }
    match entry {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

/// Now as a Kubernetes `Time` string (RFC 3339, whole seconds).
pub(crate) fn now_rfc3339() -> String {
    rfc3339(jiff::Timestamp::now())
}

/// A timestamp as a Kubernetes `Time` string.
pub(crate) fn rfc3339(ts: jiff::Timestamp) -> String {
    let secs = ts.as_second();
    jiff::Timestamp::from_second(secs).unwrap_or(ts).to_string()
}
