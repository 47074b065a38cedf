//! Console tests: drive keys, render into `TestBackend`, assert on what a person reads.

mod actions;
mod dask;
mod live;
mod navigation;
mod node_shell;
mod nodes;
mod outside;
mod overlays;
mod panes;
mod replay;
mod shell;
mod usage;
mod warm;
mod waves;

use std::sync::{Arc, Mutex};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use ratatui::buffer::Buffer;
use tokio::sync::{mpsc, oneshot};

use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::fleet::fixtures::{healthy_hub, t0, workload};
use crate::fleet::{ClusterId, Component, Delta, Fleet, FleetUpdate, Thresholds};

use super::{
    App, ConsoleOptions, DescribeRequest, Description, Intent, LogEvent, LogRequest, Services,
    render_offscreen,
};

pub fn opts() -> ConsoleOptions {
    ConsoleOptions {
        theme: Theme::builtin("default").unwrap(),
        keymap: Keymap::builtin("default").unwrap(),
        readonly: false,
        state_dir: std::env::temp_dir().join("hubdeck-tui-tests"),
    }
}

/// Turns full lists into upserts, so that several hubs can share a cluster.
pub fn as_upserts(updates: Vec<FleetUpdate>) -> Vec<FleetUpdate> {
    let mut out = Vec::new();
    for u in updates {
        match u {
            FleetUpdate::Workloads {
                cluster,
                kind,
                delta: Delta::Replace(all),
            } => out.extend(all.into_iter().map(|w| FleetUpdate::Workloads {
                cluster: cluster.clone(),
                kind,
                delta: Delta::Upsert(w),
            })),
            FleetUpdate::Pods {
                cluster,
                delta: Delta::Replace(all),
            } => out.extend(all.into_iter().map(|p| FleetUpdate::Pods {
                cluster: cluster.clone(),
                delta: Delta::Upsert(p),
            })),
            other => out.push(other),
        }
    }
    out
}

/// leap/staging (ok: ada, grace), leap/prod (hub not ready: down), nasa/science (ok: carl).
pub fn fleet_updates() -> Vec<FleetUpdate> {
    let mut u = as_upserts(healthy_hub("leap", "staging", &["ada", "grace"]));
    u.extend(as_upserts(healthy_hub("leap", "prod", &["dora", "eve"])));
    let mut hub = workload("prod", "prod", Component::Hub, "hub", 1);
    hub.ready = 0;
    u.push(FleetUpdate::Workloads {
        cluster: ClusterId::new("leap"),
        kind: crate::fleet::WorkloadKind::Deployment,
        delta: Delta::Upsert(hub),
    });
    u.extend(as_upserts(healthy_hub("nasa", "science", &["carl"])));
    u
}

pub fn fleet() -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(fleet_updates(), t0());
    f
}

pub fn app() -> App {
    App::new(opts(), fleet())
}

pub fn now() -> Timestamp {
    t0()
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Presses keys written like a keymap: single characters, or `<enter>`, `<esc>`, `<down>`,
/// `<space>`, `<backspace>`, `<ctrl-s>`. Mutation intents go to the action flow, as the event
/// loop does.
pub fn press(app: &mut App, keys: &str) {
    let mut rest = keys;
    while !rest.is_empty() {
        let (k, len) = if let Some(end) = rest.strip_prefix('<').and_then(|r| r.find('>')) {
            let name = &rest[1..=end];
            let code = match name {
                "enter" => KeyCode::Enter,
                "esc" => KeyCode::Esc,
                "down" => KeyCode::Down,
                "up" => KeyCode::Up,
                "tab" => KeyCode::Tab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "ctrl-s" | "ctrl-o" => KeyCode::Char(name.as_bytes()[5] as char),
                other => panic!("unknown key {other}"),
            };
            (code, end + 2)
        } else {
            let c = rest.chars().next().unwrap();
            (KeyCode::Char(c), c.len_utf8())
        };
        let mods = match k {
            _ if rest.starts_with("<ctrl-") => KeyModifiers::CONTROL,
            KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
            _ => KeyModifiers::NONE,
        };
        if let Intent::Mutation { command, target } = app.handle_key(KeyEvent::new(k, mods)) {
            app.begin_action(command, target);
        }
        rest = &rest[len..];
    }
}

pub fn buffer(app: &mut App, w: u16, h: u16) -> Buffer {
    render_offscreen(app, w, h).unwrap()
}

pub fn text_of(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut skip = 0;
        for x in 0..area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            skip = crate::tui::text::width(symbol).saturating_sub(1);
            out.push_str(symbol);
        }
        out.push('\n');
    }
    out
}

pub fn screen(app: &mut App) -> String {
    text_of(&buffer(app, 120, 40))
}

/// The first screen line containing `needle`.
pub fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{screen}"))
}

/// Row index of the line containing `needle`.
pub fn row_of(screen: &str, needle: &str) -> usize {
    screen
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in\n{screen}"))
}

/// The text of the row drawn with the selection style.
pub fn selected_row(app: &mut App) -> String {
    let sel = app.theme().style(crate::config::theme::Role::Selection);
    let buf = buffer(app, 120, 40);
    let text = text_of(&buf);
    let y = (0..buf.area.height)
        .find(|&y| (2..buf.area.width - 2).all(|x| buf[(x, y)].bg == sel.bg.unwrap()))
        .expect("a selected row");
    text.lines().nth(usize::from(y)).unwrap().to_string()
}

/// Services answering from canned data and recording what was asked.
#[derive(Default)]
pub struct FakeServices {
    pub log_lines: Vec<String>,
    /// What a container's previous run logged (`--previous`).
    pub previous_lines: Vec<String>,
    pub description: Description,
    pub asked: Mutex<Vec<String>>,
}

impl Services for FakeServices {
    fn logs(&self, req: LogRequest) -> mpsc::Receiver<LogEvent> {
        self.asked.lock().unwrap().push(format!(
            "logs {}/{}{}",
            req.namespace,
            req.pod,
            if req.previous { " previous" } else { "" }
        ));
        let lines = if req.previous {
            &self.previous_lines
        } else {
            &self.log_lines
        };
        let (tx, rx) = mpsc::channel(lines.len() + 1);
        for l in lines {
            tx.try_send(LogEvent::Line(l.clone())).unwrap();
        }
        rx
    }

    fn describe(&self, req: DescribeRequest) -> oneshot::Receiver<Result<Description, String>> {
        self.asked.lock().unwrap().push(format!(
            "describe {:?} {}/{}",
            req.kind, req.namespace, req.name
        ));
        let (tx, rx) = oneshot::channel();
        tx.send(Ok(self.description.clone())).unwrap();
        rx
    }
}

pub fn app_with(services: FakeServices) -> (App, Arc<FakeServices>) {
    let services = Arc::new(services);
    (
        App::new(opts(), fleet()).with_services(services.clone()),
        services,
    )
}
