//! What a table pane shows: where its rows come from, their columns, cells and sort keys.

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::config::theme::Role;

use super::super::super::app::Target;
use super::super::super::panes::{Ctx, Open};

/// A table column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Heading.
    pub name: &'static str,
    /// Width it wants.
    pub width: u16,
    /// Lower is kept longer when the terminal is narrow (0 = always).
    pub priority: u8,
    /// Takes the width left over.
    pub flex: bool,
}

/// The columns that fit in `avail` cells (lower priority numbers kept longest), in column order
/// with their widths; the flex column (else the last) takes the width left over.
pub fn layout(cols: &[Column], avail: u16) -> Vec<(usize, u16)> {
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by_key(|&i| cols[i].priority);
    let mut used = 0u16;
    let mut keep = Vec::new();
    for i in order {
        let need = cols[i].width + u16::from(!keep.is_empty());
        if used + need <= avail || keep.is_empty() {
            used += need;
            keep.push(i);
        }
    }
    keep.sort_unstable();
    let spare = avail.saturating_sub(used);
    let flex = keep
        .iter()
        .rposition(|&i| cols[i].flex)
        .or(keep.len().checked_sub(1));
    keep.iter()
        .enumerate()
        .map(|(n, &i)| {
            let w = cols[i].width + if Some(n) == flex { spare } else { 0 };
            (i, w.min(avail))
        })
        .collect()
}

/// Shorthand for a fixed column.
pub const fn col(name: &'static str, width: u16, priority: u8) -> Column {
    Column {
        name,
        width,
        priority,
        flex: false,
    }
}

/// Shorthand for the column taking the rest of the width.
pub const fn flex(name: &'static str, width: u16, priority: u8) -> Column {
    Column {
        name,
        width,
        priority,
        flex: true,
    }
}

/// One cell: text (sanitised and fitted when drawn) and the role that styles it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// What a person reads.
    pub text: String,
    /// Its style role.
    pub role: Role,
    /// Too long, it loses its start rather than its end.
    pub keep_end: bool,
}

impl Cell {
    /// A cell in a role.
    pub fn new(text: impl Into<String>, role: Role) -> Self {
        Self {
            text: text.into(),
            role,
            keep_end: false,
        }
    }

    /// Cut from the start when too long (names that share a long prefix).
    pub fn keep_end(mut self) -> Self {
        self.keep_end = true;
        self
    }

    /// A plain text cell.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(text, Role::Text)
    }
}

/// What a column sorts by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    /// Numbers (counts, ages in seconds, levels).
    Num(i64),
    /// Text, compared case-insensitively (lower-cased by the source). Shared, because the
    /// table keeps the key of every row it indexes and most keys are names the fleet holds.
    Text(Arc<str>),
}

impl SortKey {
    /// A text key from text already lower-cased.
    pub fn text(s: impl Into<Arc<str>>) -> Self {
        Self::Text(s.into())
    }

    /// A case-insensitive key for a name the fleet holds: shares it when it is lower-case
    /// already (user and namespace names usually are), so keeping the key costs no allocation.
    pub fn lower(s: &Arc<str>) -> Self {
        if s.chars().any(char::is_uppercase) {
            Self::Text(s.to_lowercase().into())
        } else {
            Self::Text(s.clone())
        }
    }
}

/// The rows of one table pane: where they come from and what they show.
pub trait RowSource {
    /// Identity of a row (kept across rebuilds so the selection stays put); its order breaks
    /// ties of the default order.
    type Row: Clone + Ord + std::hash::Hash;
    /// A row's place in the default order (worst health first, by user...).
    type Order: Clone + Ord;
    /// Breadcrumb segment.
    fn crumb(&self) -> String;
    /// Table title ("Hubs").
    fn title(&self) -> &'static str;
    /// All columns, narrowest-first collapsing by priority.
    fn columns(&self) -> &'static [Column];
    /// Every row in scope with its place in the default order (collecting them in that order
    /// makes building the index cheaper).
    fn collect(&self, ctx: &Ctx, out: &mut Vec<(Self::Row, Self::Order)>);
    /// A row's place in the default order; `None` when it left the fleet or the scope.
    fn order(&self, row: &Self::Row, ctx: &Ctx) -> Option<Self::Order>;
    /// Rows that may have appeared, changed or vanished since fleet version `since` (repeats
    /// allowed); false when the source cannot tell, and the table collects every row again.
    fn changed_since(&self, _ctx: &Ctx, _since: u64, _out: &mut Vec<Self::Row>) -> bool {
        false
    }
    /// Cells of a row, one per column (None when the row vanished).
    fn cells(&self, row: &Self::Row, ctx: &Ctx) -> Option<Vec<Cell>>;
    /// Text a filter matches besides the cells (what a row belongs to but does not show).
    fn search_text(&self, _row: &Self::Row, _ctx: &Ctx) -> Option<String> {
        None
    }
    /// Sort key of a row in a column.
    fn sort_key(&self, row: &Self::Row, col: usize, ctx: &Ctx) -> SortKey;
    /// The column whose sort puts the fullest memory first (`sort-fullest`), if any.
    fn fullest_column(&self) -> Option<usize> {
        None
    }
    /// What actions on this row act on.
    fn target(&self, row: &Self::Row, ctx: &Ctx) -> Option<Target>;
    /// Drill-down on Enter.
    fn open(&self, row: &Self::Row, ctx: &Ctx) -> Result<Open, String>;
    /// Logs of the row's pod (`proxy`: the hub's proxy pod).
    fn logs(&self, _row: &Self::Row, _ctx: &Ctx, _proxy: bool) -> Result<Open, String> {
        Err("no pod log for this row".into())
    }
    /// Detail of the row.
    fn describe(&self, row: &Self::Row, ctx: &Ctx) -> Result<Open, String>;
    /// Whether rows can be marked (several user servers for one stop-server, several hubs
    /// for a rollout).
    fn markable(&self) -> bool {
        false
    }
    /// The target of several marked rows (only asked when `markable`).
    fn marked_target(&self, _rows: &[Self::Row], _ctx: &Ctx) -> Option<Target> {
        None
    }
    /// Lines below the table for the selected row (e.g. a trend), 0 for none.
    fn footer_height(&self) -> u16 {
        0
    }
    /// Draws the footer.
    fn draw_footer(&self, _row: Option<&Self::Row>, _frame: &mut Frame, _area: Rect, _ctx: &Ctx) {}
}
