//! The console on a recording: the moment shown, the keys that move it (by change, by minute,
//! to the next alert or action, to a typed time) and the alerts and actions of the recording,
//! for the timeline line under the header. Seeking rebuilds the model from the recording's
//! last snapshot before the moment; every pane then reads it as it reads a live one.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::{SignedDuration, Timestamp};

use crate::config::keymap::{Command, Context, Key, Keymap};
use crate::fleet::Fleet;

use super::app::App;
use super::trends::Trends;
use crate::recorder::format::{FLAG_ALERTS, Kind};
use crate::recorder::{Recording, RecordingError, times};

/// An alert change or an action of the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// When.
    pub time: Timestamp,
    /// What, in a few words.
    pub text: String,
}

/// What a key asks of the replay.
#[derive(Debug, Clone, PartialEq)]
pub enum Move {
    /// Show this moment.
    To(Timestamp),
    /// Redraw (typing a time).
    Typing,
    /// Say this (a time that did not parse, the end reached).
    Say(String),
}

/// The recording a console replays and where in it it is.
pub struct ReplayControl {
    rec: Recording,
    /// The moment shown.
    pub at: Timestamp,
    /// The recorder fell behind before this moment and no snapshot came since.
    pub gap: bool,
    /// Alert changes and actions, in time order.
    pub marks: Vec<Mark>,
    /// A time being typed after `t`.
    pub typing: Option<String>,
}

impl ReplayControl {
    /// Opens `rec` at `at`; returns the control and the fleet at that moment.
    pub fn open(rec: Recording, at: Timestamp) -> Result<(Self, Fleet), RecordingError> {
        let mut marks = Vec::new();
        for e in rec.entries() {
            match e.header.kind {
                Kind::Audit => {
                    let a = rec.audit(e)?;
                    let what = match a.phase {
                        crate::action::audit::Phase::Intent => "intent".to_string(),
                        crate::action::audit::Phase::Outcome => a.outcome.clone(),
                    };
                    marks.push(Mark {
                        time: a.time,
                        text: format!("{} {} {what} by {}", a.action, a.target, a.os_user),
                    });
                }
                Kind::Deltas if e.header.flags & FLAG_ALERTS != 0 => marks.push(Mark {
                    time: e.header.time,
                    text: "alerts changed".into(),
                }),
                _ => {}
            }
        }
        marks.sort_by_key(|m| m.time);
        let state = rec.state_at(at)?;
        let control = Self {
            rec,
            at,
            gap: state.gap,
            marks,
            typing: None,
        };
        Ok((control, state.fleet))
    }

    /// First and last moment of the recording.
    pub fn span(&self) -> (Timestamp, Timestamp) {
        (self.rec.start(), self.rec.end())
    }

    /// The fleet at `t` (the moment becomes `t`).
    pub fn seek(&mut self, t: Timestamp) -> Result<Fleet, RecordingError> {
        let (start, end) = self.span();
        let t = t.clamp(start, end);
        let state = self.rec.state_at(t)?;
        self.at = t;
        self.gap = state.gap;
        Ok(state.fleet)
    }

    /// The key's move, if it is one of the replay's (`None`: the console handles it). The keys
    /// are the keymap's `[replay]` bindings; a time being typed takes `[input]`'s submit and
    /// cancel.
    pub fn handle(&mut self, key: &KeyEvent, keymap: &Keymap) -> Option<Move> {
        let k = Key::from_event(key);
        if let Some(text) = &mut self.typing {
            return Some(match keymap.lookup_in(Context::Input, k) {
                Some(Command::Cancel) => {
                    self.typing = None;
                    Move::Typing
                }
                Some(Command::Submit) => {
                    let typed = std::mem::take(text);
                    self.typing = None;
                    match times::parse(&typed, self.rec.start()) {
                        Ok(t) => Move::To(t),
                        Err(e) => Move::Say(e),
                    }
                }
                _ => {
                    match key.code {
                        KeyCode::Backspace => {
                            text.pop();
                        }
                        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                            text.push(c)
                        }
                        _ => {}
                    }
                    Move::Typing
                }
            });
        }
        let minute = SignedDuration::from_mins(1);
        let at = self.at;
        Some(match keymap.lookup_in(Context::Replay, k)? {
            Command::ReplayNextChange => self.after(self.next_change()),
            Command::ReplayPrevChange => self.after(self.prev_change()),
            Command::ReplayMinuteOn => Move::To(at + minute),
            Command::ReplayMinuteBack => Move::To(at - minute),
            Command::ReplayNextMark => {
                self.after(self.marks.iter().find(|m| m.time > at).map(|m| m.time))
            }
            Command::ReplayPrevMark => self.after(
                self.marks
                    .iter()
                    .rev()
                    .find(|m| m.time < at)
                    .map(|m| m.time),
            ),
            Command::ReplayTypeTime => {
                self.typing = Some(String::new());
                Move::Typing
            }
            _ => return None,
        })
    }

    fn after(&self, t: Option<Timestamp>) -> Move {
        match t {
            Some(t) => Move::To(t),
            None => Move::Say("nothing further that way in this recording".into()),
        }
    }

    /// Times of the batches in the deltas records around the moment.
    fn batch_times(&self, i: usize) -> Vec<Timestamp> {
        self.rec
            .entries()
            .get(i)
            .and_then(|e| self.rec.groups(e).ok())
            .map(|gs| gs.iter().map(|g| g.time).collect())
            .unwrap_or_default()
    }

    fn deltas(&self) -> Vec<usize> {
        let e = self.rec.entries();
        (0..e.len())
            .filter(|i| e[*i].header.kind == Kind::Deltas)
            .collect()
    }

    /// The first batch after the moment.
    pub fn next_change(&self) -> Option<Timestamp> {
        let entries = self.rec.entries();
        let deltas = self.deltas();
        let from = deltas
            .iter()
            .rposition(|i| entries[*i].header.time <= self.at)
            .unwrap_or(0);
        deltas[from..]
            .iter()
            .take(2)
            .flat_map(|i| self.batch_times(*i))
            .find(|t| *t > self.at)
    }

    /// The last batch before the moment.
    pub fn prev_change(&self) -> Option<Timestamp> {
        let entries = self.rec.entries();
        let deltas = self.deltas();
        let upto = deltas
            .iter()
            .rposition(|i| entries[*i].header.time < self.at)?;
        deltas[..=upto]
            .iter()
            .rev()
            .take(2)
            .flat_map(|i| self.batch_times(*i).into_iter().rev())
            .find(|t| *t < self.at)
    }

    /// The marks nearest the moment: the last one at or before it and the next one.
    pub fn around(&self) -> (Option<&Mark>, Option<&Mark>) {
        let i = self.marks.partition_point(|m| m.time <= self.at);
        (i.checked_sub(1).map(|j| &self.marks[j]), self.marks.get(i))
    }
}

impl App {
    /// Shows a recording: the clock is the moment shown, the timeline keys move it, and every
    /// action is refused.
    pub fn with_replay(mut self, r: super::replay::ReplayControl) -> Self {
        self.now = r.at;
        self.trends = Trends::default();
        self.trends.sample(&self.fleet, self.now);
        self.replay = Some(r);
        self
    }

    /// Moves a replay to `t`; returns whether it could.
    pub(crate) fn seek(&mut self, t: Timestamp) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        match r.seek(t) {
            Ok(mut fleet) => {
                fleet.succeed(self.fleet.version());
                self.fleet = fleet;
                self.now = r.at;
                self.glance = None;
                self.trends = Trends::default();
                self.trends.sample(&self.fleet, self.now);
            }
            Err(e) => self.notify(e.to_string(), true),
        }
    }

    /// The moment a replay shows.
    pub fn replay_at(&self) -> Option<Timestamp> {
        self.replay.as_ref().map(|r| r.at)
    }

    /// A replay's tick: the recording's moment stays; only toasts age, by ticks.
    pub(crate) fn replay_tick(&mut self) -> bool {
        let mut changed = self.poll_io();
        if self.toast.is_some() {
            self.replay_toast_ticks += 1;
            if self.replay_toast_ticks >= 40 {
                self.toast = None;
                self.replay_toast_ticks = 0;
                changed = true;
            }
        }
        changed
    }
}
