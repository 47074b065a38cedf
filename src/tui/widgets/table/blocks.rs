//! A sorted sequence kept in blocks of a few hundred items: inserting or removing one item moves
//! at most a block, and finding the n-th item walks the block lengths, so a 100,000-row table
//! updates a changed row and finds its visible window in microseconds.

/// Blocks are split when they grow past twice this.
const BLOCK: usize = 256;

/// Sorted, duplicate-free items, with rank lookups.
#[derive(Debug, Clone)]
pub struct SortedBlocks<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for SortedBlocks<T> {
    fn default() -> Self {
        Self {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Ord> SortedBlocks<T> {
    /// From items already sorted and without duplicates.
    pub fn from_sorted(items: Vec<T>) -> Self {
        let len = items.len();
        let mut blocks = Vec::with_capacity(len.div_ceil(BLOCK));
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            blocks.push(items.by_ref().take(BLOCK).collect());
        }
        Self { blocks, len }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block that holds `item`, or would hold it.
    fn block_of(&self, item: &T) -> usize {
        let i = self
            .blocks
            .partition_point(|b| b.last().is_some_and(|last| last < item));
        i.min(self.blocks.len().saturating_sub(1))
    }

    /// Inserts `item` (replacing an equal one).
    pub fn insert(&mut self, item: T) {
        if self.blocks.is_empty() {
            self.blocks.push(Vec::with_capacity(BLOCK));
        }
        let b = self.block_of(&item);
        let block = &mut self.blocks[b];
        match block.binary_search(&item) {
            Ok(at) => block[at] = item,
            Err(at) => {
                block.insert(at, item);
                self.len += 1;
                if block.len() > 2 * BLOCK {
                    let tail = block.split_off(BLOCK);
                    self.blocks.insert(b + 1, tail);
                }
            }
        }
    }

    /// Removes the item equal to `item`, if there is one.
    pub fn remove(&mut self, item: &T) -> Option<T> {
        let b = self.block_of(item);
        let block = self.blocks.get_mut(b)?;
        let at = block.binary_search(item).ok()?;
        let gone = block.remove(at);
        if block.is_empty() {
            self.blocks.remove(b);
        }
        self.len -= 1;
        Some(gone)
    }

    /// Position of the item equal to `item`.
    pub fn rank(&self, item: &T) -> Option<usize> {
        let b = self.block_of(item);
        let at = self.blocks.get(b)?.binary_search(item).ok()?;
        Some(self.blocks[..b].iter().map(Vec::len).sum::<usize>() + at)
    }

    /// The item at position `i`.
    pub fn get(&self, mut i: usize) -> Option<&T> {
        for b in &self.blocks {
            if i < b.len() {
                return b.get(i);
            }
            i -= b.len();
        }
        None
    }

    /// Items in order.
    #[cfg(test)]
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.blocks.iter().flatten()
    }

    /// Keeps the items `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let items: Vec<T> = std::mem::take(&mut self.blocks)
            .into_iter()
            .flatten()
            .filter(|t| keep(t))
            .collect();
        *self = Self::from_sorted(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &SortedBlocks<u32>, want: &[u32]) {
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), want);
        assert_eq!(s.len(), want.len());
        for (i, v) in want.iter().enumerate() {
            assert_eq!(s.get(i), Some(v));
            assert_eq!(s.rank(v), Some(i));
        }
        assert_eq!(s.get(want.len()), None);
    }

    #[test]
    fn stays_sorted_through_inserts_and_removes_across_many_blocks() {
        let mut s = SortedBlocks::default();
        let mut want = Vec::new();
        // A scrambled order that splits blocks in the middle and at both ends.
        for i in 0..3_000u32 {
            let v = (i * 7_919) % 3_001;
            s.insert(v);
            want.push(v);
        }
        want.sort_unstable();
        check(&s, &want);
        for v in (0..3_001).step_by(3) {
            let had = want.binary_search(&v).is_ok();
            assert_eq!(s.remove(&v).is_some(), had);
        }
        want.retain(|v| v % 3 != 0);
        check(&s, &want);
        assert_eq!(s.rank(&3), None);
    }

    #[test]
    fn inserting_an_equal_item_keeps_one() {
        let mut s = SortedBlocks::from_sorted(vec![1, 2, 3]);
        s.insert(2);
        check(&s, &[1, 2, 3]);
    }

    #[test]
    fn removing_everything_then_inserting_works() {
        let mut s = SortedBlocks::from_sorted((0..600).collect());
        for v in 0..600 {
            s.remove(&v);
        }
        check(&s, &[]);
        s.insert(5);
        check(&s, &[5]);
    }

    #[test]
    fn retain_keeps_order() {
        let mut s = SortedBlocks::from_sorted((0..1_000).collect());
        s.retain(|v| v % 2 == 1);
        check(&s, &(0..1_000).filter(|v| v % 2 == 1).collect::<Vec<_>>());
    }
}
