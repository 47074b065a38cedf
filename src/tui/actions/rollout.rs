//! A hub action on the marked hubs: a rollout in waves. The prompt asks the waves and settle
//! time (and the replicas, or the merge patch); the dialog shows the wave plan — waves, hubs
//! per wave, what each gets, a diff summary per hub — and takes a typed `yes`; while it runs,
//! the status line shows the wave, the hubs done and the settle countdown. The waves, gate and
//! order are the core's (`hubdeck_core::rollout`), the same as `hubdeck restart hub -l ...`.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::action::{Action, Runner, humanize};
use crate::config::keymap::{Command, Context, Keymap};
use crate::config::theme::{Role, Theme};
use hubdeck_core::rollout::{GateState, HubAction, Pace, Planned, Rollout, Status};

use super::super::text::{fit, sanitize, wrap};
use super::super::widgets::draw_input;
use super::super::widgets::input::LineInput;
use super::layout::{box_width, draw_box};

/// What the marked hubs get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutKind {
    /// Restart the hub, or the proxy.
    Restart {
        /// The proxy.
        proxy: bool,
    },
    /// Scale the hub or the placeholders (the replicas are asked).
    Scale {
        /// The placeholders.
        placeholders: bool,
    },
    /// A merge patch of values.yaml (asked).
    Patch,
}

impl RolloutKind {
    /// The prompt's title and fields (label, pre-filled value).
    pub fn prompt(self, hubs: usize, waves: &str) -> (String, Vec<(&'static str, String)>) {
        let (what, mut fields): (&str, Vec<(&'static str, String)>) = match self {
            RolloutKind::Restart { proxy: false } => ("restart hub", vec![]),
            RolloutKind::Restart { proxy: true } => ("restart proxy", vec![]),
            RolloutKind::Scale {
                placeholders: false,
            } => (
                "scale hub",
                vec![("replicas (0 = maintenance, 1)", String::new())],
            ),
            RolloutKind::Scale { placeholders: true } => {
                ("scale placeholders", vec![("replicas", String::new())])
            }
            RolloutKind::Patch => (
                "merge-patch values.yaml",
                vec![("merge patch ({a: {b: 1}}; null removes)", String::new())],
            ),
        };
        fields.push(("waves", waves.to_string()));
        fields.push(("settle", "2m".into()));
        (format!("{what} on {hubs} marked hubs, in waves"), fields)
    }

    /// The action and pace the filled prompt asks for.
    pub fn read_prompt(self, values: &[String]) -> Result<(HubAction, Pace), String> {
        let value = |i: usize| values.get(i).map(String::as_str).unwrap_or_default();
        let (what, rest) = match self {
            RolloutKind::Restart { proxy } => (HubAction::Restart { proxy }, 0),
            RolloutKind::Scale { placeholders } => {
                let replicas: u32 = value(0).trim().parse().map_err(|_| {
                    format!(
                        "{:?} is not a replica count",
                        hubdeck_core::text::clip(value(0), 20)
                    )
                })?;
                (
                    HubAction::Scale {
                        placeholders,
                        replicas,
                    },
                    1,
                )
            }
            RolloutKind::Patch => {
                let patch = hubdeck_core::action::merge::parse_patch(value(0))?;
                (HubAction::MergeValues { patch }, 1)
            }
        };
        let waves: Vec<String> = value(rest)
            .split(',')
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        let settle = hubdeck_core::duration::parse(value(rest + 1)).map_err(|e| e.to_string())?;
        let pace = Pace {
            waves: Some(waves),
            settle,
            ..Pace::default()
        };
        Ok((what, pace))
    }
}

/// The confirm dialog over a rollout's plan.
pub struct RolloutDialog {
    /// The plan that runs on confirm.
    pub rollout: Rollout,
    lines: Vec<(String, Role)>,
    input: LineInput,
    error: Option<String>,
    scroll: usize,
}

/// A diff's size, `+3 -1`.
fn diff_summary(diff: &str) -> String {
    let count = |c: char, header: &str| {
        diff.lines()
            .filter(|l| l.starts_with(c) && !l.starts_with(header))
            .count()
    };
    format!("+{} -{} lines", count('+', "+++"), count('-', "---"))
}

impl RolloutDialog {
    /// The dialog, its text made once (the runner says how each hub's plan goes).
    pub fn new(rollout: Rollout, runner: &Runner) -> Self {
        let mut lines = vec![(
            format!(
                "{} hubs in {} waves, up to {} of a wave at once; each wave's hubs must stay \
                 healthy, with no new alert (hubdeck's, or Alertmanager's about the hub), for {} \
                 (within {}) before the next wave starts; the first failure stops the rollout.",
                rollout.hubs(),
                rollout.waves.len(),
                rollout.parallel,
                humanize(rollout.settle),
                humanize(rollout.timeout)
            ),
            Role::Text,
        )];
        for (i, w) in rollout.waves.iter().enumerate() {
            lines.push((String::new(), Role::Text));
            lines.push((
                format!(
                    "wave {}/{} {} — {} hubs",
                    i + 1,
                    rollout.waves.len(),
                    w.name,
                    w.hubs.len()
                ),
                Role::TableHeader,
            ));
            for s in &w.hubs {
                match &s.planned {
                    Planned::Act(action) => {
                        let plan = runner.plan(action);
                        let extra = match action {
                            Action::EditHubConfig { diff, .. } => {
                                format!(" ({})", diff_summary(diff))
                            }
                            _ => String::new(),
                        };
                        lines.push((format!("  {}{extra}", plan.summary), Role::Text));
                        for step in &plan.steps {
                            lines.push((format!("      {}", step.what), Role::KeyHint));
                        }
                        for warning in &plan.warnings {
                            lines.push((format!("    ⚠ {warning}"), Role::SeverityWarning));
                        }
                    }
                    Planned::Nothing(why) => {
                        lines.push((format!("  {}: nothing to do: {why}", s.hub), Role::Dim))
                    }
                    Planned::Problem(p) => {
                        lines.push((format!("  {}: cannot: {p}", s.hub), Role::ToastError))
                    }
                }
            }
        }
        if !rollout.left_out.is_empty() {
            lines.push((String::new(), Role::Text));
            for l in &rollout.left_out {
                lines.push((format!("left out: {} ({})", l.hub, l.why), Role::Dim));
            }
        }
        Self {
            rollout,
            lines,
            input: LineInput::default(),
            error: None,
            scroll: 0,
        }
    }

    /// Whether it can run (no hub with a problem, something to do).
    pub fn runnable(&self) -> bool {
        self.rollout.problems().is_empty() && self.rollout.acting() > 0
    }

    /// Handles a key: typing the confirmation, scrolling, cancel.
    pub fn handle(&mut self, keymap: &Keymap, key: &KeyEvent) -> super::dialog::DialogOutcome {
        use super::dialog::DialogOutcome;
        let k = crate::config::keymap::Key::from_event(key);
        match keymap.lookup_in(Context::Input, k) {
            Some(Command::Cancel) => return DialogOutcome::Cancel,
            Some(Command::Submit) if !self.runnable() => {
                self.error = Some("this rollout cannot run (see the plan); esc closes".into());
            }
            Some(Command::Submit) => {
                if self.input.text().trim() == "yes" {
                    return DialogOutcome::Confirm;
                }
                self.error = Some("type \"yes\" to start the rollout (esc cancels)".into());
            }
            Some(Command::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Command::Down) => self.scroll += 1,
            _ => {
                if self.input.edit(key) {
                    self.error = None;
                }
            }
        }
        DialogOutcome::Stay
    }

    /// The plan as lines, wrapped to `width`.
    fn body(&self, theme: &Theme, width: usize) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        for (text, role) in &self.lines {
            let text = sanitize(text);
            if text.is_empty() {
                out.push(Line::default());
                continue;
            }
            // The plan's nesting is its indentation: kept on every wrapped line.
            let indent = text.len() - text.trim_start().len();
            let lines = wrap(text.trim_start(), width.saturating_sub(indent + 2));
            for (i, l) in lines.into_iter().enumerate() {
                let pad = if i == 0 { indent } else { indent + 2 };
                out.push(Line::styled(
                    format!("{}{l}", " ".repeat(pad)),
                    theme.style(*role),
                ));
            }
        }
        out
    }

    /// Draws the dialog centred over `area`.
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let w = box_width(area, 110);
        let lines = self.body(theme, usize::from(w.saturating_sub(4)));
        let title = format!(
            "Confirm rollout: {} on {} hubs",
            self.rollout.what,
            self.rollout.acting()
        );
        let Some(b) = draw_box(frame, area, w, lines.len(), &title, theme) else {
            return;
        };
        crate::tui::widgets::scrolled(frame, b.body, lines, &mut self.scroll);
        let (hint_row, input_row) = (b.hint, b.input);
        let (hint, role) = match &self.error {
            Some(e) => (e.clone(), Role::ToastError),
            None if self.runnable() => (
                "explicit confirmation: type \"yes\" and press enter · esc cancels · while it \
                 runs, esc stops it after the hubs out"
                    .to_string(),
                Role::SeverityWarning,
            ),
            None => (
                "this rollout cannot run as planned · esc closes".to_string(),
                Role::ToastError,
            ),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                fit(&hint, usize::from(hint_row.width)).into_owned(),
                theme.style(role),
            )),
            hint_row,
        );
        draw_input(frame, input_row, "confirm> ", &self.input, theme);
    }
}

/// The status line of a running rollout, in at most `width` columns: in full where there is
/// room, else in short words and without the stop hint (at 80 columns), the gate's reason cut
/// last.
pub fn progress_line(
    what: &str,
    s: &Status,
    running_for: std::time::Duration,
    width: usize,
) -> String {
    let failed = match s.failed {
        0 => String::new(),
        n => format!(", {n} failed"),
    };
    let running = match s.running.as_slice() {
        [] => None,
        [one] => Some(format!("{one}… {:.0}s", running_for.as_secs_f32())),
        [first, rest @ ..] => Some(format!(
            "{first} +{}… {:.0}s",
            rest.len(),
            running_for.as_secs_f32()
        )),
    };
    let gate = |short: bool| match (&running, &s.gate) {
        (Some(r), _) => Some(r.clone()),
        (None, Some(GateState::Settling { left })) => {
            Some(format!("settling, {} left", clock(*left)))
        }
        (None, Some(GateState::Waiting { hub, why, left })) if short => {
            Some(format!("waiting for {hub} {}: {why}", clock(*left)))
        }
        (None, Some(GateState::Waiting { hub, why, left })) => {
            Some(format!("waiting for {hub} ({}): {why}", clock(*left)))
        }
        _ => None,
    };
    let wave = format!("wave {}/{} {}", s.wave, s.waves, s.name);
    let full: Vec<String> = [
        Some(format!("rollout {what}: {wave}")),
        Some(format!("{}/{} hubs done{failed}", s.done, s.acting)),
        gate(false),
        Some("esc stops after the hubs out".into()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let full = full.join(" · ");
    if super::super::text::width(&full) <= width {
        return full;
    }
    let short: Vec<String> = [
        Some(format!("{what} · {wave}")),
        Some(format!("{}/{} done{failed}", s.done, s.acting)),
        gate(true),
    ]
    .into_iter()
    .flatten()
    .collect();
    let short = short.join(" · ");
    let with_hint = format!("{short} · esc stops");
    if super::super::text::width(&with_hint) <= width {
        return with_hint;
    }
    fit(&short, width).into_owned()
}

fn clock(d: std::time::Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}
