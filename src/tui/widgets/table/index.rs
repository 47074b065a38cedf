//! The rows a table shows, filtered and sorted, kept up to date row by row: when the fleet
//! moves, only the rows it names as changed are taken out and put back at their new place, so the
//! first frame after a change costs what changed, not what the fleet holds.

use std::collections::HashMap;
use std::hash::Hash;

use super::super::super::panes::Ctx;
use super::blocks::SortedBlocks;
use super::source::{RowSource, SortKey};

/// A row at its place: the sorted column's key, then the default order, then the row itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry<R, O> {
    key: SortKey,
    order: O,
    row: R,
}

/// How rows are chosen and ordered.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Column sorted by, if any (else the default order).
    pub sort: Option<usize>,
    /// Lower-cased text a row's cells must contain (empty: every row).
    pub filter: &'a str,
}

/// Sorted, filtered rows with their places, for updates in place.
#[derive(Debug)]
pub struct RowIndex<R, O> {
    sorted: SortedBlocks<Entry<R, O>>,
    /// Where each indexed row sits, to find it again once the fleet no longer says.
    at: HashMap<R, (SortKey, O)>,
    reverse: bool,
}

impl<R, O> Default for RowIndex<R, O> {
    fn default() -> Self {
        Self {
            sorted: SortedBlocks::default(),
            at: HashMap::new(),
            reverse: false,
        }
    }
}

fn sort_key<S: RowSource>(source: &S, row: &S::Row, ctx: &Ctx, sort: Option<usize>) -> SortKey {
    sort.map_or(SortKey::Num(0), |c| source.sort_key(row, c, ctx))
}

/// Whether any cell of the row contains `needle` (lower-cased), as a person reads it, or the
/// text the source adds for filtering.
pub fn matches<S: RowSource>(source: &S, row: &S::Row, ctx: &Ctx, needle: &str) -> bool {
    needle.is_empty()
        || source
            .cells(row, ctx)
            .is_some_and(|cells| cells.iter().any(|c| c.text.to_lowercase().contains(needle)))
        || source
            .search_text(row, ctx)
            .is_some_and(|t| t.to_lowercase().contains(needle))
}

impl<R: Clone + Ord + Hash, O: Clone + Ord> RowIndex<R, O> {
    /// Number of rows shown.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether no row is shown.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Shows rows last-first (or not).
    pub fn set_reverse(&mut self, reverse: bool) {
        self.reverse = reverse;
    }

    fn underlying(&self, pos: usize) -> Option<usize> {
        if self.reverse {
            self.len().checked_sub(pos + 1)
        } else {
            Some(pos)
        }
    }

    /// The row shown at `pos`.
    pub fn get(&self, pos: usize) -> Option<&R> {
        let i = self.underlying(pos)?;
        self.sorted.get(i).map(|e| &e.row)
    }

    /// Where `row` is shown, if it is.
    pub fn position(&self, row: &R) -> Option<usize> {
        let (key, order) = self.at.get(row)?;
        let i = self.sorted.rank(&Entry {
            key: key.clone(),
            order: order.clone(),
            row: row.clone(),
        })?;
        self.underlying(i)
    }

    /// Collects, filters and sorts every row again.
    pub fn rebuild<S>(&mut self, source: &S, ctx: &Ctx, view: View)
    where
        S: RowSource<Row = R, Order = O>,
    {
        let mut all = Vec::new();
        source.collect(ctx, &mut all);
        let mut entries: Vec<Entry<R, O>> = all
            .into_iter()
            .filter(|(row, _)| matches(source, row, ctx, view.filter))
            .map(|(row, order)| Entry {
                key: sort_key(source, &row, ctx, view.sort),
                order,
                row,
            })
            .collect();
        // Stable sort: it runs in linear time over rows collected in the default order already.
        entries.sort();
        entries.dedup_by(|a, b| a.row == b.row);
        // Sized once: growing would hash every row again at each doubling.
        let mut at = HashMap::with_capacity(entries.len());
        at.extend(
            entries
                .iter()
                .map(|e| (e.row.clone(), (e.key.clone(), e.order.clone()))),
        );
        self.at = at;
        self.sorted = SortedBlocks::from_sorted(entries);
    }

    /// Keeps only the rows matching a longer filter (typing more only narrows).
    pub fn narrow<S>(&mut self, source: &S, ctx: &Ctx, needle: &str)
    where
        S: RowSource<Row = R, Order = O>,
    {
        let at = &mut self.at;
        self.sorted.retain(|e| {
            let keep = matches(source, &e.row, ctx, needle);
            if !keep {
                at.remove(&e.row);
            }
            keep
        });
    }

    /// Takes the `changed` rows out and puts back those still in scope and matching, at their
    /// current place. Rows that left the fleet or the scope are added to `gone`.
    pub fn update<S>(&mut self, source: &S, ctx: &Ctx, view: View, changed: &[R], gone: &mut Vec<R>)
    where
        S: RowSource<Row = R, Order = O>,
    {
        for row in changed {
            if let Some((key, order)) = self.at.remove(row) {
                self.sorted.remove(&Entry {
                    key,
                    order,
                    row: row.clone(),
                });
            }
            let Some(order) = source.order(row, ctx) else {
                gone.push(row.clone());
                continue;
            };
            if !matches(source, row, ctx, view.filter) {
                continue;
            }
            let key = sort_key(source, row, ctx, view.sort);
            self.at.insert(row.clone(), (key.clone(), order.clone()));
            self.sorted.insert(Entry {
                key,
                order,
                row: row.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::theme::Theme;
    use crate::fleet::Fleet;
    use crate::fleet::fixtures::t0;
    use crate::tui::panes::Open;
    use crate::tui::trends::Trends;
    use crate::tui::widgets::table::{Cell, Column, col};

    /// Rows `id -> (group, name)`: the default order is by group, column 0 sorts by name,
    /// column 1 by group.
    #[derive(Default)]
    struct Toy(RefCell<BTreeMap<u32, (i64, String)>>);

    impl Toy {
        fn set(&self, id: u32, group: i64, name: &str) {
            self.0.borrow_mut().insert(id, (group, name.into()));
        }
        fn drop_row(&self, id: u32) {
            self.0.borrow_mut().remove(&id);
        }
    }

    impl RowSource for Toy {
        type Row = u32;
        type Order = i64;
        fn crumb(&self) -> String {
            "Toy".into()
        }
        fn title(&self) -> &'static str {
            "Toy"
        }
        fn columns(&self) -> &'static [Column] {
            const COLUMNS: &[Column] = &[col("NAME", 8, 0), col("GROUP", 5, 0)];
            COLUMNS
        }
        fn collect(&self, _ctx: &Ctx, out: &mut Vec<(u32, i64)>) {
            out.extend(self.0.borrow().iter().map(|(id, (g, _))| (*id, *g)));
        }
        fn order(&self, row: &u32, _ctx: &Ctx) -> Option<i64> {
            self.0.borrow().get(row).map(|(g, _)| *g)
        }
        fn cells(&self, row: &u32, _ctx: &Ctx) -> Option<Vec<Cell>> {
            let rows = self.0.borrow();
            let (g, name) = rows.get(row)?;
            Some(vec![Cell::text(name.clone()), Cell::text(g.to_string())])
        }
        fn sort_key(&self, row: &u32, col: usize, _ctx: &Ctx) -> SortKey {
            let rows = self.0.borrow();
            match (rows.get(row), col) {
                (Some((_, name)), 0) => SortKey::text(name.to_lowercase()),
                (Some((g, _)), _) => SortKey::Num(*g),
                (None, _) => SortKey::Num(i64::MAX),
            }
        }
        fn target(&self, _row: &u32, _ctx: &Ctx) -> Option<crate::tui::app::Target> {
            None
        }
        fn open(&self, _row: &u32, _ctx: &Ctx) -> Result<Open, String> {
            Err("no".into())
        }
        fn describe(&self, _row: &u32, _ctx: &Ctx) -> Result<Open, String> {
            Err("no".into())
        }
    }

    fn with_ctx(test: impl FnOnce(&Ctx)) {
        let fleet = Fleet::default();
        let theme = Theme::builtin("default").unwrap();
        let trends = Trends::default();
        test(&Ctx {
            fleet: &fleet,
            theme: &theme,
            now: t0(),
            trends: &trends,
        });
    }

    fn shown(index: &RowIndex<u32, i64>) -> Vec<u32> {
        (0..index.len()).map(|i| *index.get(i).unwrap()).collect()
    }

    /// What a rebuild from scratch shows: the reference the updates must match.
    fn rebuilt(toy: &Toy, ctx: &Ctx, view: View, reverse: bool) -> Vec<u32> {
        let mut index = RowIndex::default();
        index.set_reverse(reverse);
        index.rebuild(toy, ctx, view);
        shown(&index)
    }

    const BY_DEFAULT: View = View {
        sort: None,
        filter: "",
    };
    const BY_NAME: View = View {
        sort: Some(0),
        filter: "",
    };

    #[test]
    fn a_changed_row_moves_to_its_new_place() {
        with_ctx(|ctx| {
            let toy = Toy::default();
            toy.set(1, 0, "ada");
            toy.set(2, 0, "bob");
            toy.set(3, 0, "cy");
            let mut index = RowIndex::default();
            index.rebuild(&toy, ctx, BY_NAME);
            assert_eq!(shown(&index), [1, 2, 3]);
            toy.set(1, 0, "zed");
            let mut gone = Vec::new();
            index.update(&toy, ctx, BY_NAME, &[1], &mut gone);
            assert_eq!(shown(&index), [2, 3, 1]);
            assert_eq!(index.position(&1), Some(2));
            assert!(gone.is_empty());
        });
    }

    #[test]
    fn new_rows_go_to_their_place_in_the_default_order_and_vanished_ones_are_reported() {
        with_ctx(|ctx| {
            let toy = Toy::default();
            toy.set(1, 5, "a");
            toy.set(2, 1, "b");
            let mut index = RowIndex::default();
            index.rebuild(&toy, ctx, BY_DEFAULT);
            assert_eq!(shown(&index), [2, 1]);
            toy.set(3, 3, "c");
            toy.drop_row(2);
            let mut gone = Vec::new();
            index.update(&toy, ctx, BY_DEFAULT, &[2, 3], &mut gone);
            assert_eq!(shown(&index), [3, 1]);
            assert_eq!(gone, [2]);
            assert_eq!(index.position(&2), None);
        });
    }

    #[test]
    fn the_filter_is_applied_to_changed_rows() {
        with_ctx(|ctx| {
            let toy = Toy::default();
            toy.set(1, 0, "ada");
            toy.set(2, 0, "bob");
            let view = View {
                sort: None,
                filter: "ad",
            };
            let mut index = RowIndex::default();
            index.rebuild(&toy, ctx, view);
            assert_eq!(shown(&index), [1]);
            toy.set(1, 0, "eve");
            toy.set(2, 0, "bradley");
            let mut gone = Vec::new();
            index.update(&toy, ctx, view, &[1, 2], &mut gone);
            assert_eq!(shown(&index), [2]);
            assert!(gone.is_empty(), "filtered out is not gone");
        });
    }

    #[test]
    fn typing_more_filter_narrows_the_rows() {
        with_ctx(|ctx| {
            let toy = Toy::default();
            toy.set(1, 0, "ada");
            toy.set(2, 0, "adam");
            toy.set(3, 0, "bob");
            let mut index = RowIndex::default();
            index.rebuild(
                &toy,
                ctx,
                View {
                    sort: None,
                    filter: "ad",
                },
            );
            index.narrow(&toy, ctx, "adam");
            assert_eq!(shown(&index), [2]);
            assert_eq!(index.position(&1), None);
        });
    }

    #[test]
    fn reversed_rows_count_positions_from_the_end() {
        with_ctx(|ctx| {
            let toy = Toy::default();
            for (id, name) in [(1, "a"), (2, "b"), (3, "c")] {
                toy.set(id, 0, name);
            }
            let mut index = RowIndex::default();
            index.rebuild(&toy, ctx, BY_NAME);
            index.set_reverse(true);
            assert_eq!(shown(&index), [3, 2, 1]);
            assert_eq!(index.position(&3), Some(0));
            assert_eq!(index.get(3), None);
        });
    }

    #[test]
    fn many_random_updates_match_a_rebuild() {
        with_ctx(|ctx| {
            let toy = Toy::default();
            let mut seed = 0x2545_f491_u64;
            let mut next = |n: u64| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % n
            };
            for id in 0..2_000 {
                toy.set(id, next(10) as i64, &format!("n{}", next(500)));
            }
            for view in [
                BY_DEFAULT,
                BY_NAME,
                View {
                    sort: Some(1),
                    filter: "n1",
                },
            ] {
                let mut index = RowIndex::default();
                index.rebuild(&toy, ctx, view);
                for _round in 0..20 {
                    let mut changed = Vec::new();
                    for _ in 0..50 {
                        let id = next(2_200) as u32;
                        match next(3) {
                            0 => toy.drop_row(id),
                            _ => toy.set(id, next(10) as i64, &format!("n{}", next(500))),
                        }
                        changed.push(id);
                    }
                    changed.sort_unstable();
                    changed.dedup();
                    index.update(&toy, ctx, view, &changed, &mut Vec::new());
                    assert_eq!(shown(&index), rebuilt(&toy, ctx, view, false));
                }
            }
        });
    }
}
