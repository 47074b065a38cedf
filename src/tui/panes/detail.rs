//! Detail: sections of key/value pairs, known locally and/or answered by `Services::describe`.
//! For a hub: its live summary and trend, then the hub Deployment's description.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};
use tokio::sync::oneshot;
use tokio::sync::oneshot::error::TryRecvError;

use crate::config::keymap::{Command, Context};
use crate::config::theme::Role;
use crate::fleet::{Component, HubId, HubState, OutsideCheck};

use super::super::text::{age, fit, sanitize, width, wrap};
use super::super::widgets::{health_badge, health_role};
use super::super::{Description, LogRequest};
use super::{Ctx, Outcome, Pane, Target, hubs};

type Section = (String, Vec<(String, String)>);

/// What a hub's pods use together, e.g. `cpu 1.2 · mem 14.0Gi`.
fn usage(hub: &HubState, now: jiff::Timestamp) -> String {
    match hub.usage.total(now) {
        Some(u) => format!(
            "cpu {} · mem {}",
            super::super::widgets::usage::cpu_cell(Some(u)).text,
            super::super::widgets::usage::mem_cell(Some(u)).text
        ),
        None => super::super::widgets::usage::UNKNOWN.to_string(),
    }
}

const SPINNER: [&str; 4] = ["⠋", "⠙", "⠸", "⠴"];

/// Lines a value may take before it is cut.
const VALUE_LINES: usize = 4;

/// A detail pane.
pub struct DetailPane {
    title: String,
    sections: Vec<Section>,
    pending: Option<oneshot::Receiver<Result<Description, String>>>,
    error: Option<String>,
    hub: Option<HubId>,
    logs: Option<LogRequest>,
    /// What `shell` opens from here: the described server, or the hub's hub pod.
    target: Option<Target>,
    /// What Enter opens (a server's node).
    link: Option<super::Open>,
    scroll: usize,
    page: usize,
    spin: usize,
}

impl DetailPane {
    /// A detail of local sections, with a description on its way (if `pending`).
    pub fn new(
        title: String,
        sections: Vec<Section>,
        pending: Option<oneshot::Receiver<Result<Description, String>>>,
        logs: Option<LogRequest>,
    ) -> Self {
        Self {
            title,
            sections,
            pending,
            error: None,
            hub: None,
            logs,
            target: None,
            link: None,
            scroll: 0,
            page: 10,
            spin: 0,
        }
    }

    /// Enter opens `link` from here.
    pub fn with_link(mut self, link: Option<super::Open>) -> Self {
        self.link = link;
        self
    }

    /// A hub's detail: live summary and trend (from the fleet), then the description.
    pub fn hub(
        id: HubId,
        pending: Option<oneshot::Receiver<Result<Description, String>>>,
        logs: Option<LogRequest>,
    ) -> Self {
        let mut d = Self::new(format!("{id} › Detail"), Vec::new(), pending, logs);
        d.target = Some(Target::Hub(id.clone()));
        d.hub = Some(id);
        d
    }

    /// What a shell opened from this detail goes into.
    pub fn with_target(mut self, target: Option<Target>) -> Self {
        self.target = target;
        self
    }

    fn hub_sections(
        hub: &HubState,
        outside: Option<&OutsideCheck>,
        now: jiff::Timestamp,
    ) -> Vec<Section> {
        let s = &hub.summary;
        let r = |x: Option<crate::fleet::Replicas>| {
            x.map_or_else(
                || "-".into(),
                |r| format!("{}/{} ready", r.ready, r.desired),
            )
        };
        let mut fields = vec![
            ("Hub".to_string(), r(s.hub)),
            ("Proxy".into(), r(s.proxy)),
            ("Placeholders".into(), r(s.placeholders)),
            (
                "Servers".into(),
                format!(
                    "{} ready, {} pending ({} too long), {} total",
                    s.servers_ready, s.servers_pending, s.servers_stuck, s.servers_total
                ),
            ),
            (
                "Hub image".into(),
                s.hub_image.as_deref().unwrap_or("-").to_string(),
            ),
            ("Pods use".into(), usage(hub, now)),
        ];
        if let Some(line) = outside_line(hub, outside, now) {
            fields.push(("From outside".into(), line));
        }
        if !s.crashlooping.is_empty() {
            fields.push(("Crash-looping".into(), s.crashlooping.join(", ")));
        }
        let workloads = hub
            .workloads
            .iter()
            .map(|w| {
                (
                    format!("{:?} {}", w.kind, w.key.name),
                    format!("{}/{} ready, {} updated", w.ready, w.desired, w.updated),
                )
            })
            .collect();
        vec![("Summary".into(), fields), ("Workloads".into(), workloads)]
    }

    fn lines(&self, ctx: &Ctx, avail: usize) -> Vec<Line<'static>> {
        let t = ctx.theme;
        let mut out = Vec::new();
        let live = self.hub.as_ref().and_then(|id| ctx.fleet.hub(id));
        if let Some(hub) = live {
            let h = &hub.summary.health;
            out.push(Line::from(vec![
                Span::styled(
                    format!(" {} ", health_badge(h.level)),
                    t.style(health_role(h.level)),
                ),
                Span::styled(sanitize(&h.reason).into_owned(), t.style(Role::Text)),
            ]));
        } else if self.hub.is_some() {
            out.push(Line::styled(
                " hub is gone from the fleet",
                t.style(Role::HealthDown),
            ));
        }
        let live_sections = live
            .map(|h| {
                let outside = ctx
                    .fleet
                    .cluster(h.id.cluster.as_str())
                    .and_then(|c| c.outside_of(h));
                Self::hub_sections(h, outside, ctx.now)
            })
            .unwrap_or_default();
        for (title, fields) in live_sections.iter().chain(self.sections.iter()) {
            out.push(Line::default());
            out.push(Line::styled(
                sanitize(title).into_owned(),
                t.style(Role::TableHeader),
            ));
            let keyw = fields
                .iter()
                .map(|(k, _)| width(k))
                .max()
                .unwrap_or(0)
                .min(28);
            for (k, v) in fields {
                let key = fit(k, keyw);
                let pad = " ".repeat(keyw.saturating_sub(width(&key)));
                let room = avail.saturating_sub(keyw + 4);
                // A long value (a scheduler's message) goes on a few lines under itself.
                let mut parts = wrap(&sanitize(v), room);
                if parts.len() > VALUE_LINES {
                    parts.truncate(VALUE_LINES);
                    if let Some(last) = parts.last_mut() {
                        *last = fit(&format!("{last} …"), room).into_owned();
                    }
                }
                for (i, part) in parts.into_iter().enumerate() {
                    let lead = match i {
                        0 => format!("  {key}{pad}  "),
                        _ => " ".repeat(keyw + 4),
                    };
                    out.push(Line::from(vec![
                        Span::styled(lead, t.style(Role::Dim)),
                        Span::styled(part, t.style(Role::Text)),
                    ]));
                }
            }
        }
        if self.pending.is_some() {
            out.push(Line::default());
            out.push(Line::styled(
                format!(" {} describing…", SPINNER[self.spin % SPINNER.len()]),
                t.style(Role::Dim),
            ));
        }
        if let Some(e) = &self.error {
            out.push(Line::default());
            out.push(Line::styled(
                format!(" describe failed: {}", fit(e, avail.saturating_sub(18))),
                t.style(Role::ToastError),
            ));
        }
        out
    }
}

impl Pane for DetailPane {
    fn crumb(&self) -> String {
        self.title.clone()
    }

    fn context(&self) -> Context {
        Context::Detail
    }

    fn handle(&mut self, cmd: Command, _ctx: &Ctx) -> Outcome {
        let page = self.page.max(1);
        match cmd {
            Command::Up => self.scroll = self.scroll.saturating_sub(1),
            Command::Down => self.scroll += 1,
            Command::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Command::PageDown => self.scroll += page,
            Command::Top => self.scroll = 0,
            Command::Bottom => self.scroll = usize::MAX / 2,
            Command::Open => {
                return match &self.link {
                    Some(open) => Outcome::Open(open.clone()),
                    None => Outcome::Ignored,
                };
            }
            Command::Logs => {
                return match &self.logs {
                    Some(req) => Outcome::Open(super::Open::Logs(req.clone())),
                    None => Outcome::Toast("no pod log here".into()),
                };
            }
            Command::Shell => {
                return match &self.target {
                    Some(t) => Outcome::Mutation(cmd, t.clone()),
                    None => Outcome::Toast("shell: describe a user server or a hub".into()),
                };
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Handled
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let t = ctx.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.style(Role::BorderFocused))
            .title(Span::styled(
                format!(
                    " {} ",
                    fit(&self.title, usize::from(area.width).saturating_sub(4))
                ),
                t.style(Role::Title),
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let trend_h = if self.hub.is_some() && inner.height >= 16 {
            4
        } else {
            0
        };
        let [trend, body] =
            Layout::vertical([Constraint::Length(trend_h), Constraint::Min(1)]).areas(inner);
        if trend_h > 0 {
            hubs::draw_trend(self.hub.as_ref(), frame, trend, ctx);
        }
        let lines = self.lines(ctx, usize::from(body.width));
        self.page = crate::tui::widgets::scrolled(frame, body, lines, &mut self.scroll);
    }

    fn poll(&mut self) -> bool {
        let Some(rx) = &mut self.pending else {
            return false;
        };
        match rx.try_recv() {
            Ok(Ok(d)) => self.sections.extend(d.sections),
            Ok(Err(e)) => self.error = Some(e),
            Err(TryRecvError::Empty) => {
                self.spin += 1;
                return true;
            }
            Err(TryRecvError::Closed) => {
                self.error = Some("the describe request was dropped".into())
            }
        }
        self.pending = None;
        true
    }
}

/// The last check of the hub's health endpoint from outside, e.g.
/// `https://x.org/hub/health: 200 in 84ms, 12s ago`; none without a domain.
fn outside_line(
    hub: &HubState,
    check: Option<&OutsideCheck>,
    now: jiff::Timestamp,
) -> Option<String> {
    let domain = hub.declared.as_ref()?.domain.as_ref()?;
    let url = format!("https://{domain}/hub/health");
    let Some(c) = check else {
        return Some(format!("{url}: not checked yet"));
    };
    let ago = age(now, Some(c.at));
    Some(match c.reason() {
        None => {
            let took = c
                .latency
                .map_or_else(String::new, |l| format!(" in {}ms", l.as_millis()));
            format!("{url}: {}{took}, {ago} ago", c.expected)
        }
        Some(why) => format!(
            "{url}: {why}; {} failed in a row, since {} ago (checked {ago} ago)",
            c.failures,
            age(now, Some(c.since))
        ),
    })
}

/// The hub pod of a hub, for `l` in its detail.
pub fn hub_log(hub: &HubState) -> Option<LogRequest> {
    hubs::component_pod(hub, Component::Hub).map(|p| super::log_request(&hub.id.cluster, &p.key))
}
