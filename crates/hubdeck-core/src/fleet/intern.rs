//! String interning, so that namespaces, node names and images repeated by thousands of pods are
//! stored once.

use std::collections::HashSet;
use std::sync::Arc;

/// A set of shared strings; `get` hands out the stored copy.
#[derive(Debug, Default)]
pub struct Interner {
    strings: HashSet<Arc<str>>,
}

impl Interner {
    /// Returns the shared copy of `s`, storing it on first sight.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(found) = self.strings.get(s) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.strings.insert(shared.clone());
        shared
    }

    /// Drops strings nobody else holds any more (call after a full re-list).
    pub fn sweep(&mut self) {
        self.strings.retain(|s| Arc::strong_count(s) > 1);
    }

    /// Number of distinct strings held.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_strings_share_one_allocation() {
        let mut i = Interner::default();
        let a = i.get("node-1");
        let b = i.get("node-1");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
        drop((a, b));
        i.sweep();
        assert!(i.is_empty());
    }
}
