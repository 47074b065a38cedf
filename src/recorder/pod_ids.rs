//! Numbers for pods, so a patch names its pod in two or three bytes instead of its cluster,
//! namespace and name.
//!
//! The numbering restarts at every snapshot: the pods of the snapshot's pod lists get 0, 1,
//! 2, ... in the order written, and every later pod written whole under a key not numbered
//! yet gets the next number. Writer and reader follow the same rule, so the numbers are never
//! written down. A removed pod keeps its number (the same name may come back).
//!
//! The writer keeps a 64-bit hash of each key rather than the key itself (a couple of MB at
//! 100,000 pods instead of a dozen); two keys of one recording segment colliding in 64 bits
//! is a chance of about 1 in 10^9 at that size.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use hubdeck_core::fleet::{ClusterId, Delta, FleetUpdate, ObjectKey, PodInfo};

/// Calls `f` with every pod an update writes whole, in order.
pub fn pods_written(u: &FleetUpdate, mut f: impl FnMut(&ClusterId, &PodInfo)) {
    if let FleetUpdate::Pods { cluster, delta } = u {
        match delta {
            Delta::Upsert(p) => f(cluster, p),
            Delta::Replace(all) | Delta::ReplaceIn(_, all) => {
                for p in all {
                    f(cluster, p);
                }
            }
            Delta::Remove(_) => {}
        }
    }
}

/// The writer's side: key → number.
#[derive(Debug, Default)]
pub struct Numbering {
    ids: HashMap<u64, u32, BuildHasherDefault<Identity>>,
}

impl Numbering {
    /// Forgets every number (a snapshot follows). The map keeps its capacity: the snapshot
    /// numbers about as many pods again, and shrinking it would rebuild it from scratch.
    pub fn reset(&mut self) {
        self.ids.clear();
    }

    /// Numbers the pods `u` writes whole.
    pub fn note(&mut self, u: &FleetUpdate) {
        pods_written(u, |c, p| self.note_pod(c, &p.key));
    }

    /// Numbers a pod written whole, if it has no number yet.
    pub fn note_pod(&mut self, cluster: &ClusterId, key: &ObjectKey) {
        let next = self.ids.len() as u32;
        self.ids.entry(hash(cluster, key)).or_insert(next);
    }

    /// The number of a pod written whole since the last snapshot.
    pub fn get(&self, cluster: &ClusterId, key: &ObjectKey) -> Option<u32> {
        self.ids.get(&hash(cluster, key)).copied()
    }
}

/// A numbered pod as the reader knows it.
#[derive(Debug, Clone)]
pub struct Numbered {
    /// Its cluster.
    pub cluster: ClusterId,
    /// Its key.
    pub key: ObjectKey,
    /// The release of its last version written whole (patches never change it), so the
    /// reader finds the pod in its hub directly instead of asking every hub of the cluster.
    pub release: Arc<str>,
}

/// The reader's side: number → key, and key → number. Key → number goes through the same
/// 64-bit hash as the writer's: it holds no copy of the keys (a seek numbers 100,000 pods
/// before anything else, and cloning and hashing each key whole was a third of that), and
/// two keys colliding in it get one number on both sides, as the numbers must agree.
#[derive(Debug, Default, Clone)]
pub struct Keys {
    keys: Vec<Numbered>,
    ids: HashMap<u64, u32, BuildHasherDefault<Identity>>,
}

impl Keys {
    /// Numbers the pods `u` writes whole.
    pub fn note(&mut self, u: &FleetUpdate) {
        pods_written(u, |c, p| self.note_pod(c, p));
    }

    /// Numbers a pod written whole, if it has no number yet.
    pub fn note_pod(&mut self, cluster: &ClusterId, p: &PodInfo) {
        let next = self.keys.len() as u32;
        let id = *self.ids.entry(hash(cluster, &p.key)).or_insert(next);
        if id == next {
            self.keys.push(Numbered {
                cluster: cluster.clone(),
                key: p.key.clone(),
                release: p.release.clone(),
            });
        } else if let Some(k) = self.keys.get_mut(id as usize) {
            k.release = p.release.clone();
        }
    }

    /// The pod numbered `id`.
    pub fn get(&self, id: u32) -> Option<&Numbered> {
        self.keys.get(id as usize)
    }

    /// The number of a pod written whole since the snapshot.
    pub fn id(&self, cluster: &ClusterId, key: &ObjectKey) -> Option<u32> {
        self.ids.get(&hash(cluster, key)).copied()
    }

    /// How many pods are numbered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no pod is numbered yet.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn hash(cluster: &ClusterId, key: &ObjectKey) -> u64 {
    // Fixed keys: the numbering must not change between two runs over the same data.
    let mut h = std::hash::BuildHasherDefault::<DefaultHasher>::default().build_hasher();
    cluster.as_str().hash(&mut h);
    key.namespace.hash(&mut h);
    key.name.hash(&mut h);
    h.finish()
}

/// The keys are already hashes.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}
