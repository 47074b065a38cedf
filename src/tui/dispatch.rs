//! Key dispatch: overlays and typed lines first, then the keymap (focused context, then global),
//! then the command's handler: global commands here, pane commands in the pane, drill-downs in
//! `open`, and every cluster mutation through `mutation` — the one door to the action layer.

use crossterm::event::{KeyEvent, KeyEventKind};

use crate::config::keymap::{Command, Context, Key};
use crate::config::theme::{BUILTIN_THEMES, Theme};
use crate::fleet::{Component, HubId};

use super::app::{App, Intent, Overlay, Target};
use super::panes::alerts::Alerts;
use super::panes::clusters::Clusters;
use super::panes::detail::{DetailPane, hub_log};
use super::panes::events::Events;
use super::panes::hubs::Hubs;
use super::panes::logs::LogsPane;
use super::panes::nodes::{NodeRow, Nodes};
use super::panes::servers::Servers;
use super::panes::{Ctx, Open, Outcome, Pane, TablePane, log_request};
use super::widgets::help::Help;
use super::widgets::palette::{Palette, PaletteAction, PaletteOutcome};
use super::{DescribeKind, DescribeRequest};

impl App {
    /// Handles one key; returns what the event loop should do.
    pub fn handle_key(&mut self, key: KeyEvent) -> Intent {
        if key.kind == KeyEventKind::Release {
            return Intent::None;
        }
        let k = Key::from_event(&key);
        match &mut self.overlay {
            Overlay::None => {}
            Overlay::Help(h) => {
                if !h.handle(self.keymap.lookup(Context::Detail, k)) {
                    self.overlay = Overlay::None;
                }
                return Intent::Redraw;
            }
            Overlay::Palette(p) => {
                match p.handle(self.keymap.lookup_in(Context::Input, k), &key) {
                    PaletteOutcome::Stay => {}
                    PaletteOutcome::Close => self.overlay = Overlay::None,
                    PaletteOutcome::Run(action) => {
                        self.overlay = Overlay::None;
                        return self.run_palette(action);
                    }
                }
                return Intent::Redraw;
            }
        }
        if self.actions.has_focus() {
            self.actions.handle_key(key, &self.keymap, &self.fleet);
            self.take_action_notices();
            return Intent::Redraw;
        }
        let typed = self.keymap.lookup_in(Context::Input, k);
        let pane = self.top();
        if let Some(input) = pane.input() {
            let edited =
                !matches!(typed, Some(Command::Submit | Command::Cancel)) && input.edit(&key);
            match typed {
                Some(Command::Submit) => pane.input_changed(true, false),
                Some(Command::Cancel) => pane.input_changed(false, true),
                _ if edited => pane.input_changed(false, false),
                _ => {}
            }
            return Intent::Redraw;
        }
        if let Some(r) = self.replay.as_mut()
            && let Some(m) = r.handle(&key, &self.keymap)
        {
            match m {
                super::replay::Move::To(t) => self.seek(t),
                super::replay::Move::Typing => {}
                super::replay::Move::Say(text) => self.notify(text, false),
            }
            return Intent::Redraw;
        }
        let context = self.top().context();
        match self.keymap.lookup(context, k) {
            Some(cmd) => self.run_command(cmd),
            None => Intent::None,
        }
    }

    fn top(&mut self) -> &mut (dyn Pane + Send) {
        let last = self.stack.len() - 1;
        self.stack[last].as_mut()
    }

    /// Runs a command as if its key was pressed.
    pub fn run_command(&mut self, cmd: Command) -> Intent {
        match cmd {
            Command::Noop => return Intent::None,
            Command::Quit => return self.quit(),
            Command::Help => {
                // In a replay its timeline keys come first.
                let focus = match self.replay {
                    Some(_) => Context::Replay,
                    None => self.top().context(),
                };
                self.overlay = Overlay::Help(Help::new(focus));
            }
            Command::Palette => {
                self.overlay = Overlay::Palette(Box::new(Palette::new(&self.fleet)))
            }
            Command::Back if self.actions.cancel_rollout() => self.take_action_notices(),
            Command::Back => {
                if !self.top().clear_filter() && self.stack.len() > 1 {
                    self.stack.pop();
                }
            }
            Command::Redraw => {}
            Command::CycleTheme => {
                let i = BUILTIN_THEMES
                    .iter()
                    .position(|(n, _)| *n == self.theme.name)
                    .map_or(0, |i| i + 1);
                self.switch_theme(BUILTIN_THEMES[i % BUILTIN_THEMES.len()].0);
            }
            Command::PaneHubs => self.reset(Box::new(TablePane::new(Hubs::fleet()))),
            Command::PaneClusters => self.reset(Box::new(TablePane::new(Clusters))),
            Command::PaneServers => self.reset(Box::new(TablePane::new(Servers::fleet()))),
            Command::PaneAlerts => self.reset(Box::new(TablePane::new(Alerts))),
            Command::PaneEvents => self.reset(Box::new(TablePane::new(Events))),
            Command::PaneNodes => self.reset(Box::new(TablePane::new(Nodes::fleet()))),
            _ => {
                let ctx = Ctx {
                    fleet: &self.fleet,
                    theme: &self.theme,
                    now: self.now,
                    trends: &self.trends,
                };
                let last = self.stack.len() - 1;
                match self.stack[last].handle(cmd, &ctx) {
                    Outcome::Ignored => return Intent::None,
                    Outcome::Handled => {}
                    Outcome::Open(open) => self.open(open),
                    Outcome::Reopen(open) => {
                        // The base pane stays: the stack is never empty.
                        if self.stack.len() > 1 {
                            self.stack.pop();
                        }
                        self.open(open);
                    }
                    Outcome::Mutation(command, target) => return self.mutation(command, target),
                    Outcome::Toast(text) => self.notify(text, false),
                }
            }
        }
        Intent::Redraw
    }

    /// The one place cluster mutations go through. It checks that the command applies to the
    /// selection and refuses it in read-only mode; otherwise it returns [`Intent::Mutation`] for
    /// the event loop to hand to the action layer (plan, confirm, run, audit). Nothing here
    /// changes a cluster or pretends to.
    fn mutation(&mut self, command: Command, selected: Target) -> Intent {
        match selected.for_mutation(command) {
            Err(why) => self.notify(why, true),
            Ok(target) if self.replay.is_some() => {
                self.notify(
                    format!("replay: read-only: {} on {target} refused", command.name()),
                    true,
                );
            }
            Ok(target) if self.readonly => {
                self.notify(
                    format!("read-only: {} on {target} refused", command.name()),
                    true,
                );
            }
            Ok(target) => return Intent::Mutation { command, target },
        }
        Intent::Redraw
    }

    fn reset(&mut self, root: Box<dyn Pane + Send>) {
        self.stack.clear();
        self.stack.push(root);
    }

    /// Pushes the pane a drill-down asks for, starting any I/O it needs.
    fn open(&mut self, open: Open) {
        let pane: Box<dyn Pane + Send> = match open {
            Open::Hubs(c) => Box::new(TablePane::new(Hubs::of(c))),
            Open::Servers(h) => Box::new(TablePane::new(Servers::of(h))),
            Open::NodeServers(c, node) => Box::new(TablePane::new(Servers::on_node(c, node))),
            Open::PoolServers(c, pool) => Box::new(TablePane::new(Servers::in_pool(c, pool))),
            Open::Node(c, node) => {
                let mut nodes = TablePane::new(Nodes::of(c.clone()));
                nodes.select(NodeRow::Node(c, node));
                Box::new(nodes)
            }
            Open::HubDetail(id) => {
                let hub = self.fleet.hub(&id);
                let describe =
                    hub.and_then(|h| h.workload(Component::Hub))
                        .map(|w| DescribeRequest {
                            cluster: id.cluster.clone(),
                            kind: DescribeKind::Deployment,
                            namespace: w.key.namespace.to_string(),
                            name: w.key.name.to_string(),
                        });
                let logs = hub.and_then(hub_log);
                let rx = describe.map(|d| self.services.describe(d));
                Box::new(DetailPane::hub(id, rx, logs))
            }
            Open::Detail {
                title,
                sections,
                describe,
                target,
                link,
            } => {
                let logs = describe
                    .as_ref()
                    .filter(|d| d.kind == DescribeKind::Pod)
                    .map(|d| {
                        let key = crate::fleet::ObjectKey {
                            namespace: d.namespace.as_str().into(),
                            name: d.name.as_str().into(),
                        };
                        log_request(&d.cluster, &key)
                    });
                let rx = describe.map(|d| self.services.describe(d));
                Box::new(
                    DetailPane::new(title, sections, rx, logs)
                        .with_target(target)
                        .with_link(link.map(|l| *l)),
                )
            }
            Open::Logs(req) => {
                let rx = self.services.logs(req.clone());
                Box::new(LogsPane::new(req, rx))
            }
        };
        self.stack.push(pane);
        self.poll_io();
    }

    fn run_palette(&mut self, action: PaletteAction) -> Intent {
        match action {
            PaletteAction::Pane(cmd) => return self.run_command(cmd),
            PaletteAction::Theme(name) => self.switch_theme(&name),
            PaletteAction::Hub(id) => self.jump_to_hub(id),
            PaletteAction::StopIdle(arg) => return self.stop_idle(&arg),
        }
        Intent::Redraw
    }

    /// `stop-idle 8h` from the palette: servers of the selected hub idle for longer than that,
    /// through the same mutation path (and read-only check) as every key.
    fn stop_idle(&mut self, arg: &str) -> Intent {
        let idle_for = match hubdeck_core::duration::parse(arg) {
            Ok(d) => d,
            Err(e) => {
                self.notify(format!("stop-idle: {e}"), true);
                return Intent::Redraw;
            }
        };
        let ctx = Ctx {
            fleet: &self.fleet,
            theme: &self.theme,
            now: self.now,
            trends: &self.trends,
        };
        let last = self.stack.len() - 1;
        let hub = self.stack[last]
            .selection(&ctx)
            .and_then(|t| t.hub().cloned());
        let Some(hub) = hub else {
            self.notify(
                "stop-idle: select a hub (or one of its servers) first",
                true,
            );
            return Intent::Redraw;
        };
        self.mutation(Command::StopServer, Target::IdleServers { hub, idle_for })
    }

    /// Shows a hub's servers, with the fleet's hub list (hub selected) one Esc away.
    pub fn jump_to_hub(&mut self, id: HubId) {
        let mut hubs = TablePane::new(Hubs::fleet());
        hubs.select(id.clone());
        self.reset(Box::new(hubs));
        self.open(Open::Servers(id));
    }

    /// Switches to a built-in theme (colours stay off under NO_COLOR).
    pub fn switch_theme(&mut self, name: &str) {
        match Theme::builtin(name) {
            Ok(mut t) => {
                if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                    t.strip_colours();
                }
                self.theme = t;
                self.notify(format!("theme {name}"), false);
            }
            Err(e) => self.notify(e.to_string(), true),
        }
    }
}
