//! The table every list pane uses: rows come from a [`RowSource`], are filtered and sorted into a
//! cached index keyed by (fleet version, filter, sort), and only the visible window is built and
//! drawn, so a frame costs the same for 30 rows as for 100,000.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

use crate::config::keymap::{Command, Context};
use crate::config::theme::Role;

use super::super::app::Target;
use super::super::panes::{Ctx, Open, Outcome, Pane};
use super::super::text::fit;
use super::input::LineInput;

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
}

impl Cell {
    /// A cell in a role.
    pub fn new(text: impl Into<String>, role: Role) -> Self {
        Self {
            text: text.into(),
            role,
        }
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
    /// Text, compared case-insensitively (lower-cased by the source).
    Text(String),
}

/// The rows of one table pane: where they come from and what they show.
pub trait RowSource {
    /// Identity of a row (kept across rebuilds so the selection stays put).
    type Row: Clone + PartialEq;
    /// Breadcrumb segment.
    fn crumb(&self) -> String;
    /// Table title ("Hubs").
    fn title(&self) -> &'static str;
    /// All columns, narrowest-first collapsing by priority.
    fn columns(&self) -> &'static [Column];
    /// Every row in scope, in the default order.
    fn collect(&self, ctx: &Ctx, out: &mut Vec<Self::Row>);
    /// Cells of a row, one per column (None when the row vanished).
    fn cells(&self, row: &Self::Row, ctx: &Ctx) -> Option<Vec<Cell>>;
    /// Sort key of a row in a column.
    fn sort_key(&self, row: &Self::Row, col: usize, ctx: &Ctx) -> SortKey;
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
    /// Whether rows can be marked (several user servers for one stop-server).
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

/// A rebuild costing this much is worth rate-limiting.
const EXPENSIVE: Duration = Duration::from_millis(15);
/// How long rows of an expensive table may lag the fleet.
const STALE_FOR: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq)]
struct CacheKey {
    version: u64,
    filter: String,
    sort: Option<usize>,
    reverse: bool,
}

/// A table pane over a row source.
pub struct TablePane<S: RowSource> {
    source: S,
    rows: Vec<S::Row>,
    cache: Option<CacheKey>,
    built: Option<(Instant, Duration)>,
    selected: usize,
    offset: usize,
    page: usize,
    sort: Option<usize>,
    reverse: bool,
    filter: String,
    typing: Option<LineInput>,
    anchor: Option<S::Row>,
    /// Marked rows (few: a linear set keeps `Row` free of `Hash`).
    marks: Vec<S::Row>,
}

impl<S: RowSource> TablePane<S> {
    /// A table over `source`, first row selected.
    pub fn new(source: S) -> Self {
        Self {
            source,
            rows: Vec::new(),
            cache: None,
            built: None,
            selected: 0,
            offset: 0,
            page: 10,
            sort: None,
            reverse: false,
            filter: String::new(),
            typing: None,
            anchor: None,
            marks: Vec::new(),
        }
    }

    /// Selects the first row equal to `row` (used when jumping to a hub).
    pub fn select(&mut self, row: S::Row) {
        self.anchor = Some(row);
        self.cache = None;
    }

    /// Rows after filtering and sorting (rebuilt when the fleet, filter or sort changed).
    fn ensure_rows(&mut self, ctx: &Ctx) {
        let key = CacheKey {
            version: ctx.fleet.version(),
            filter: self.filter.to_lowercase(),
            sort: self.sort,
            reverse: self.reverse,
        };
        if self.cache.as_ref() == Some(&key) || self.stale_is_fine(&key) {
            return;
        }
        let started = Instant::now();
        // Typing more of a filter only narrows: filter the cached rows instead of all of them.
        let narrowing = self.cache.as_ref().is_some_and(|old| {
            old.version == key.version
                && old.sort == key.sort
                && old.reverse == key.reverse
                && key.filter.starts_with(&old.filter)
        });
        if !narrowing {
            self.rows.clear();
            self.source.collect(ctx, &mut self.rows);
            if let Some(col) = self.sort {
                self.rows
                    .sort_by_cached_key(|r| self.source.sort_key(r, col, ctx));
            }
            if self.reverse {
                self.rows.reverse();
            }
            // Rows that left the fleet (a stopped server) lose their mark.
            if !self.marks.is_empty() {
                let rows = &self.rows;
                self.marks.retain(|m| rows.contains(m));
            }
        }
        if !key.filter.is_empty() {
            let needle = key.filter.as_str();
            let source = &self.source;
            self.rows.retain(|r| {
                source.cells(r, ctx).is_some_and(|cells| {
                    cells.iter().any(|c| c.text.to_lowercase().contains(needle))
                })
            });
        }
        self.cache = Some(key);
        self.built = Some((Instant::now(), started.elapsed()));
        if let Some(i) = self
            .anchor
            .as_ref()
            .and_then(|a| self.rows.iter().position(|r| r == a))
        {
            self.selected = i;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.anchor = self.rows.get(self.selected).cloned();
    }

    /// Whether to keep rows from an older fleet version: only when nothing but the version
    /// moved, the last rebuild was expensive (a huge fleet-wide table) and recent. Keeps a
    /// churning 100,000-server fleet from spending every frame on rebuilds; rows are at most
    /// `STALE_FOR` old (vanished rows draw blank until then).
    fn stale_is_fine(&self, key: &CacheKey) -> bool {
        let (Some(old), Some((at, cost))) = (&self.cache, self.built) else {
            return false;
        };
        old.filter == key.filter
            && old.sort == key.sort
            && old.reverse == key.reverse
            && cost >= EXPENSIVE
            && at.elapsed() < STALE_FOR
    }

    fn select_index(&mut self, i: usize) {
        self.selected = i.min(self.rows.len().saturating_sub(1));
        self.anchor = self.rows.get(self.selected).cloned();
    }

    fn current(&self) -> Option<&S::Row> {
        self.rows.get(self.selected)
    }

    fn layout_columns(&self, avail: u16) -> Vec<(usize, u16)> {
        let cols = self.source.columns();
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

    fn title_line(&self, ctx: &Ctx) -> Line<'static> {
        let t = ctx.theme;
        let mut spans = vec![Span::styled(
            format!(" {} ({}) ", self.source.title(), self.rows.len()),
            t.style(Role::Title),
        )];
        if !self.marks.is_empty() {
            spans.push(Span::styled(
                format!("{} marked ", self.marks.len()),
                t.style(Role::SearchMatch),
            ));
        }
        if !self.filter.is_empty() && self.typing.is_none() {
            spans.push(Span::styled(
                format!("/{} ", fit(&self.filter, 24)),
                t.style(Role::Input),
            ));
        }
        if let Some(c) = self.sort {
            let arrow = if self.reverse { "▼" } else { "▲" };
            let name = self.source.columns()[c].name.to_lowercase();
            spans.push(Span::styled(
                format!("sort:{name}{arrow} "),
                t.style(Role::Dim),
            ));
        } else if self.reverse {
            spans.push(Span::styled("reversed ".to_string(), t.style(Role::Dim)));
        }
        Line::from(spans)
    }
}

impl<S: RowSource> Pane for TablePane<S> {
    fn crumb(&self) -> String {
        self.source.crumb()
    }

    fn context(&self) -> Context {
        Context::Table
    }

    fn handle(&mut self, cmd: Command, ctx: &Ctx) -> Outcome {
        self.ensure_rows(ctx);
        let page = self.page.max(1);
        match cmd {
            Command::Up => self.select_index(self.selected.saturating_sub(1)),
            Command::Down => self.select_index(self.selected + 1),
            Command::PageUp => self.select_index(self.selected.saturating_sub(page)),
            Command::PageDown => self.select_index(self.selected + page),
            Command::Top => self.select_index(0),
            Command::Bottom => self.select_index(usize::MAX),
            Command::Filter => self.typing = Some(LineInput::new(&self.filter)),
            Command::SortNext => {
                let n = self.source.columns().len();
                self.sort = match self.sort {
                    None => Some(0),
                    Some(c) if c + 1 < n => Some(c + 1),
                    Some(_) => None,
                };
            }
            Command::SortReverse => self.reverse = !self.reverse,
            // Space marks where rows can be marked, and pages elsewhere (as it did before).
            Command::Mark if !self.source.markable() => {
                self.select_index(self.selected + page);
            }
            Command::Mark => {
                let Some(row) = self.current().cloned() else {
                    return Outcome::Toast("nothing selected".into());
                };
                match self.marks.iter().position(|m| *m == row) {
                    Some(i) => {
                        self.marks.remove(i);
                    }
                    None => self.marks.push(row),
                }
                self.select_index(self.selected + 1);
            }
            Command::StopServer if !self.marks.is_empty() => {
                return match self.source.marked_target(&self.marks, ctx) {
                    Some(target) => Outcome::Mutation(cmd, target),
                    None => Outcome::Toast("the marked servers are gone".into()),
                };
            }
            Command::Open | Command::Logs | Command::LogsProxy | Command::Describe => {
                let Some(row) = self.current() else {
                    return Outcome::Toast("nothing selected".into());
                };
                let result = match cmd {
                    Command::Open => self.source.open(row, ctx),
                    Command::Describe => self.source.describe(row, ctx),
                    _ => self.source.logs(row, ctx, cmd == Command::LogsProxy),
                };
                return result.map_or_else(Outcome::Toast, Outcome::Open);
            }
            c if c.is_mutation() => {
                return match self.current().and_then(|r| self.source.target(r, ctx)) {
                    Some(target) => Outcome::Mutation(c, target),
                    None => Outcome::Toast(format!("{}: nothing selected", c.name())),
                };
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Handled
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        self.ensure_rows(ctx);
        let t = ctx.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.style(Role::BorderFocused))
            .title(self.title_line(ctx));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let footer = self.source.footer_height();
        let footer = if footer > 0 && inner.height >= footer + 8 {
            footer
        } else {
            0
        };
        let typing = u16::from(self.typing.is_some());
        let [table_area, input_area, footer_area] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(typing),
            Constraint::Length(footer),
        ])
        .areas(inner);
        if let Some(input) = &self.typing {
            super::draw_input(frame, input_area, "/", input, t);
        }
        self.page = usize::from(table_area.height.saturating_sub(1)).max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + self.page {
            self.offset = self.selected + 1 - self.page;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(self.page));
        if footer > 0 {
            self.source
                .draw_footer(self.current(), frame, footer_area, ctx);
        }
        let layout = self.layout_columns(table_area.width);
        let cols = self.source.columns();
        let header = Row::new(layout.iter().map(|&(i, w)| {
            let mut style = t.style(Role::TableHeader);
            if self.sort == Some(i) {
                style = style.add_modifier(Modifier::UNDERLINED);
            }
            ratatui::widgets::Cell::from(fit(cols[i].name, usize::from(w)).into_owned())
                .style(style)
        }));
        if self.rows.is_empty() {
            let what = self.source.title().to_lowercase();
            let msg = if self.filter.is_empty() {
                format!("no {what}")
            } else {
                format!("no {what} match \"{}\"", self.filter)
            };
            let p = Paragraph::new(vec![
                Line::default(),
                Line::styled(format!("  {msg}"), t.style(Role::Dim)),
            ]);
            frame.render_widget(p, table_area);
            return;
        }
        let end = (self.offset + self.page).min(self.rows.len());
        let body: Vec<Row> = self.rows[self.offset..end]
            .iter()
            .map(|r| {
                let mut cells = self.source.cells(r, ctx).unwrap_or_default();
                if self.marks.contains(r)
                    && let Some(first) = cells.first_mut()
                {
                    first.text.insert_str(0, "* ");
                    first.role = Role::SearchMatch;
                }
                Row::new(layout.iter().map(|&(i, w)| {
                    match cells.get(i) {
                        Some(c) => {
                            ratatui::widgets::Cell::from(fit(&c.text, usize::from(w)).into_owned())
                                .style(t.style(c.role))
                        }
                        None => ratatui::widgets::Cell::from(""),
                    }
                }))
            })
            .collect();
        let widths: Vec<Constraint> = layout.iter().map(|&(_, w)| Constraint::Length(w)).collect();
        let table = Table::new(body, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(t.style(Role::Selection));
        let mut state = TableState::default().with_selected(Some(self.selected - self.offset));
        frame.render_stateful_widget(table, table_area, &mut state);
    }

    fn input(&mut self) -> Option<&mut LineInput> {
        self.typing.as_mut()
    }

    fn input_changed(&mut self, done: bool, cancel: bool) {
        if cancel {
            self.filter.clear();
            self.typing = None;
            return;
        }
        if let Some(input) = &self.typing {
            self.filter = input.text().to_string();
        }
        if done {
            self.typing = None;
        }
    }

    fn selection(&mut self, ctx: &Ctx) -> Option<Target> {
        self.ensure_rows(ctx);
        self.current().and_then(|r| self.source.target(r, ctx))
    }

    fn clear_marks(&mut self) {
        self.marks.clear();
    }

    fn clear_filter(&mut self) -> bool {
        let had = !self.filter.is_empty() || self.typing.is_some();
        self.filter.clear();
        self.typing = None;
        had
    }
}
