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
    /// Forgets every number (a snapshot follows).
    pub fn reset(&mut self) {
        self.ids.clear();
        self.ids.shrink_to(self.ids.len() * 2);
    }

    /// Numbers the pods `u` writes whole.
    pub fn note(&mut self, u: &FleetUpdate) {
        pods_written(u, |c, p| {
            let next = self.ids.len() as u32;
            self.ids.entry(hash(c, &p.key)).or_insert(next);
        });
    }

    /// The number of a pod written whole since the last snapshot.
    pub fn get(&self, cluster: &ClusterId, key: &ObjectKey) -> Option<u32> {
        self.ids.get(&hash(cluster, key)).copied()
    }
}

/// The reader's side: number → key.
#[derive(Debug, Default, Clone)]
pub struct Keys {
    keys: Vec<(ClusterId, ObjectKey)>,
    known: std::collections::HashSet<(ClusterId, ObjectKey)>,
}

impl Keys {
    /// Numbers the pods `u` writes whole.
    pub fn note(&mut self, u: &FleetUpdate) {
        pods_written(u, |c, p| {
            let k = (c.clone(), p.key.clone());
            if !self.known.contains(&k) {
                self.known.insert(k.clone());
                self.keys.push(k);
            }
        });
    }

    /// The pod numbered `id`.
    pub fn get(&self, id: u32) -> Option<&(ClusterId, ObjectKey)> {
        self.keys.get(id as usize)
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
