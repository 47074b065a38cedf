//! Logs: a pod's log streamed from `Services::logs` into a bounded buffer, sanitised on arrival;
//! follow on/off (pause), `/` search with highlights and n/N, wrap, jump to the end.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use crate::config::keymap::{Command, Context};
use crate::config::theme::{Role, Theme};

use super::super::text::{fit, sanitize, width};
use super::super::widgets::draw_input;
use super::super::widgets::input::LineInput;
use super::super::{LogEvent, LogRequest};
use super::{Ctx, Outcome, Pane};

/// Lines a log pane keeps; older ones are dropped.
pub const MAX_LINES: usize = 10_000;
/// Events drained per poll, so a chatty pod cannot stall the UI.
const DRAIN_PER_POLL: usize = 5_000;

/// A log pane.
pub struct LogsPane {
    req: LogRequest,
    rx: Option<mpsc::Receiver<LogEvent>>,
    lines: VecDeque<(Role, String)>,
    dropped: u64,
    follow: bool,
    top: usize,
    page: usize,
    wrap: bool,
    needle: String,
    current: Option<usize>,
    typing: Option<LineInput>,
}

impl LogsPane {
    /// A pane reading `rx`, the stream of `req`.
    pub fn new(req: LogRequest, rx: mpsc::Receiver<LogEvent>) -> Self {
        Self {
            req,
            rx: Some(rx),
            lines: VecDeque::new(),
            dropped: 0,
            follow: true,
            top: 0,
            page: 10,
            wrap: false,
            needle: String::new(),
            current: None,
            typing: None,
        }
    }

    fn push(&mut self, role: Role, text: &str) {
        if self.lines.len() == MAX_LINES {
            self.lines.pop_front();
            self.dropped += 1;
            self.top = self.top.saturating_sub(1);
            self.current = self.current.and_then(|c| c.checked_sub(1));
        }
        self.lines.push_back((role, sanitize(text).into_owned()));
    }

    fn matches(&self, i: usize) -> bool {
        !self.needle.is_empty() && self.lines[i].1.to_ascii_lowercase().contains(&self.needle)
    }

    fn jump(&mut self, forward: bool) -> Outcome {
        if self.needle.is_empty() {
            return Outcome::Toast("no search: press / first".into());
        }
        let n = self.lines.len();
        let start = self.current.unwrap_or(if forward {
            self.top.saturating_sub(1)
        } else {
            self.top
        });
        for step in 1..=n {
            let i = if forward {
                (start + step) % n
            } else {
                (start + n * 2 - step) % n
            };
            if self.matches(i) {
                self.current = Some(i);
                self.follow = false;
                self.top = i.saturating_sub(self.page / 2);
                return Outcome::Handled;
            }
        }
        Outcome::Toast(format!("no match for \"{}\"", self.needle))
    }

    fn highlighted(&self, i: usize, text: &str, style: Style, theme: &Theme) -> Line<'static> {
        if self.needle.is_empty() {
            return Line::styled(text.to_string(), style);
        }
        let mark = if self.current == Some(i) {
            theme
                .style(Role::SearchMatch)
                .add_modifier(ratatui::style::Modifier::UNDERLINED)
        } else {
            theme.style(Role::SearchMatch)
        };
        let lower = text.to_ascii_lowercase();
        let mut spans = Vec::new();
        let mut at = 0;
        while let Some(pos) = lower[at..].find(&self.needle) {
            let (s, e) = (at + pos, at + pos + self.needle.len());
            if s > at {
                spans.push(Span::styled(text[at..s].to_string(), style));
            }
            spans.push(Span::styled(text[s..e].to_string(), mark));
            at = e;
        }
        spans.push(Span::styled(text[at..].to_string(), style));
        Line::from(spans)
    }

    /// Index of the first line shown and how many fit in `height` rows of `w` columns.
    fn window(&mut self, height: usize, w: usize) -> (usize, usize) {
        let rows = |line: &str| {
            if self.wrap {
                width(line).div_ceil(w.max(1)).max(1)
            } else {
                1
            }
        };
        let n = self.lines.len();
        if self.follow {
            let (mut used, mut first) = (0, n);
            while first > 0 && used + rows(&self.lines[first - 1].1) <= height {
                used += rows(&self.lines[first - 1].1);
                first -= 1;
            }
            self.top = first;
            return (first, n - first);
        }
        self.top = self.top.min(n.saturating_sub(1));
        let (mut used, mut count) = (0, 0);
        while self.top + count < n && used < height {
            used += rows(&self.lines[self.top + count].1);
            count += 1;
        }
        (self.top, count)
    }
}

impl Pane for LogsPane {
    fn crumb(&self) -> String {
        if self.req.previous {
            format!("{} › logs (previous run)", self.req.pod)
        } else {
            format!("{} › logs", self.req.pod)
        }
    }

    fn context(&self) -> Context {
        Context::Logs
    }

    fn handle(&mut self, cmd: Command, _ctx: &Ctx) -> Outcome {
        let page = self.page.max(1);
        let last_page = self.lines.len().saturating_sub(page);
        match cmd {
            Command::Up | Command::PageUp | Command::Top => {
                if self.follow {
                    self.top = last_page;
                }
                self.follow = false;
                self.top = match cmd {
                    Command::Up => self.top.saturating_sub(1),
                    Command::PageUp => self.top.saturating_sub(page),
                    _ => 0,
                };
            }
            Command::Down | Command::PageDown if !self.follow => {
                let step = if cmd == Command::Down { 1 } else { page };
                self.top = (self.top + step).min(last_page);
            }
            Command::Down | Command::PageDown => {}
            Command::Bottom => self.follow = true,
            Command::Follow => {
                self.follow = !self.follow;
                if !self.follow {
                    self.top = last_page;
                }
            }
            Command::Wrap => self.wrap = !self.wrap,
            Command::Search => self.typing = Some(LineInput::new(&self.needle)),
            Command::PreviousRun => {
                let mut req = self.req.clone();
                req.previous = !req.previous;
                return Outcome::Reopen(super::Open::Logs(req));
            }
            Command::NextMatch => return self.jump(true),
            Command::PrevMatch => return self.jump(false),
            _ => return Outcome::Ignored,
        }
        Outcome::Handled
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let mut flags = vec![
            if self.follow {
                "● following"
            } else {
                "‖ paused"
            }
            .to_string(),
        ];
        if self.req.previous {
            flags.insert(0, "previous run".into());
        }
        if self.wrap {
            flags.push("wrap".into());
        }
        flags.push(format!("{} lines", self.lines.len() as u64 + self.dropped));
        if !self.needle.is_empty() {
            flags.push(format!("/{}", fit(&self.needle, 20)));
        }
        if self.rx.is_none() {
            flags.push("ended".into());
        }
        let title = format!(
            " {}/{}/{} ",
            self.req.cluster, self.req.namespace, self.req.pod
        );
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.style(Role::BorderFocused))
            .title(Line::from(vec![
                Span::styled(
                    fit(&title, usize::from(area.width / 2)).into_owned(),
                    t.style(Role::Title),
                ),
                Span::styled(format!("{} ", flags.join(" · ")), t.style(Role::Dim)),
            ]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let typing = u16::from(self.typing.is_some());
        let [body, input] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(typing)]).areas(inner);
        if let Some(i) = &self.typing {
            draw_input(frame, input, "/", i, t);
        }
        self.page = usize::from(body.height).max(1);
        let w = usize::from(body.width);
        let (first, count) = self.window(self.page, w);
        let lines: Vec<Line> = (first..first + count)
            .map(|i| {
                let (role, text) = &self.lines[i];
                let text = if self.wrap {
                    text.clone()
                } else {
                    fit(text, w).into_owned()
                };
                self.highlighted(i, &text, t.style(*role), t)
            })
            .collect();
        let mut p = Paragraph::new(lines);
        if self.wrap {
            p = p.wrap(Wrap { trim: false });
        }
        frame.render_widget(p, body);
    }

    fn input(&mut self) -> Option<&mut LineInput> {
        self.typing.as_mut()
    }

    fn input_changed(&mut self, done: bool, cancel: bool) {
        if cancel {
            self.needle.clear();
            self.current = None;
            self.typing = None;
            return;
        }
        if let Some(i) = &self.typing {
            self.needle = i.text().to_ascii_lowercase();
            self.current = None;
        }
        if done {
            self.typing = None;
            if !self.needle.is_empty() {
                self.jump(true);
            }
        }
    }

    fn clear_filter(&mut self) -> bool {
        let had = !self.needle.is_empty() || self.typing.is_some();
        self.input_changed(false, true);
        had
    }

    fn poll(&mut self) -> bool {
        let mut changed = false;
        for _ in 0..DRAIN_PER_POLL {
            let Some(rx) = &mut self.rx else { break };
            match rx.try_recv() {
                Ok(LogEvent::Line(l)) => self.push(Role::Text, &l),
                Ok(LogEvent::Error(e)) => {
                    self.push(Role::ToastError, &format!("log stream error: {e}"))
                }
                Ok(LogEvent::End) | Err(TryRecvError::Disconnected) => {
                    self.push(Role::Dim, "— end of log —");
                    self.rx = None;
                }
                Err(TryRecvError::Empty) => break,
            }
            changed = true;
        }
        changed
    }
}
