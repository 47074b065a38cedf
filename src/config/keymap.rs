//! Keymaps: keys bound to named commands per context, as data. An embedded preset (`default`,
//! or `vim` merged over `default`) with the user's `keymap.toml` merged over it, binding by
//! binding. Errors name the file and line.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use toml::Spanned;

use super::theme::{ConfigError, read_optional};

macro_rules! commands {
    ($($name:literal => $variant:ident: $desc:literal,)*) => {
        /// A named command a key can run.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Command { $(#[doc = $desc] $variant,)* }

        impl Command {
            /// Every command.
            pub const ALL: &'static [Command] = &[$(Command::$variant,)*];

            /// The name used in keymap files.
            pub fn name(self) -> &'static str {
                match self { $(Command::$variant => $name,)* }
            }

            /// The description used when a binding gives none.
            pub fn default_desc(self) -> &'static str {
                match self { $(Command::$variant => $desc,)* }
            }

            /// Parses a keymap file name.
            pub fn from_name(name: &str) -> Option<Command> {
                match name { $($name => Some(Command::$variant),)* _ => None }
            }
        }
    };
}

commands! {
    "noop" => Noop: "Do nothing (unbinds a key)",
    "quit" => Quit: "Quit hubdeck",
    "help" => Help: "Show this help",
    "palette" => Palette: "Command palette: jump to a hub, switch pane or theme",
    "back" => Back: "Clear the filter, or go back one level",
    "redraw" => Redraw: "Redraw the screen",
    "cycle-theme" => CycleTheme: "Switch to the next built-in theme",
    "pane-hubs" => PaneHubs: "Show all hubs of the fleet",
    "pane-clusters" => PaneClusters: "Show clusters",
    "pane-servers" => PaneServers: "Show all user servers",
    "pane-alerts" => PaneAlerts: "Show firing alerts",
    "pane-events" => PaneEvents: "Show warning events",
    "pane-nodes" => PaneNodes: "Show nodes by pool",
    "up" => Up: "Move up",
    "down" => Down: "Move down",
    "page-up" => PageUp: "Move up one page",
    "page-down" => PageDown: "Move down one page",
    "top" => Top: "Go to the first line",
    "bottom" => Bottom: "Go to the last line",
    "open" => Open: "Open the selection (drill down)",
    "filter" => Filter: "Filter rows as you type",
    "sort-next" => SortNext: "Sort by the next column",
    "sort-reverse" => SortReverse: "Reverse the sort order",
    "sort-fullest" => SortFullest: "Sort by memory in use, fullest first (who is about to be OOM-killed)",
    "logs" => Logs: "Logs of the selected pod (server, or hub pod)",
    "logs-proxy" => LogsProxy: "Logs of the selected hub's proxy pod",
    "describe" => Describe: "Describe the selection",
    "follow" => Follow: "Follow the log on/off (pause)",
    "previous-run" => PreviousRun: "Log of the container's previous run (before its last restart) or back to the current one",
    "search" => Search: "Search the log",
    "next-match" => NextMatch: "Next search match",
    "prev-match" => PrevMatch: "Previous search match",
    "wrap" => Wrap: "Wrap long lines on/off",
    "submit" => Submit: "Accept the input",
    "cancel" => Cancel: "Cancel",
    "complete" => Complete: "Complete the input",
    "confirm" => Confirm: "Confirm",
    "mark" => Mark: "Mark or unmark the row (servers: for stop-server; hubs: for a rollout)",
    "clear-marks" => ClearMarks: "Unmark every marked row",
    "restart-hub" => RestartHub: "Restart the hub (rollout restart)",
    "restart-proxy" => RestartProxy: "Restart the proxy (drops connections)",
    "scale-hub" => ScaleHub: "Scale the hub to 0 or 1 (maintenance)",
    "scale-placeholders" => ScalePlaceholders: "Scale the user placeholders",
    "stop-server" => StopServer: "Stop the selected user server",
    "stop-dask" => StopDask: "Stop the selected server's user's dask clusters (dask-gateway)",
    "edit-config" => EditConfig: "Edit the hub's chart values",
    "silence-alert" => SilenceAlert: "Silence the selected alert",
    "shell" => Shell: "Open a shell in the selected pod (server, hub pod, or one of a node's)",
    "replay-next-change" => ReplayNextChange: "Replay: the next change of the fleet",
    "replay-prev-change" => ReplayPrevChange: "Replay: the previous change of the fleet",
    "replay-minute-on" => ReplayMinuteOn: "Replay: a minute on",
    "replay-minute-back" => ReplayMinuteBack: "Replay: a minute back",
    "replay-next-mark" => ReplayNextMark: "Replay: the next alert change or action",
    "replay-prev-mark" => ReplayPrevMark: "Replay: the previous alert change or action",
    "replay-type-time" => ReplayTypeTime: "Replay: go to a typed time (03:10, or RFC 3339)",
}

impl Command {
    /// Whether this command changes a cluster (handled by the action layer).
    pub fn is_mutation(self) -> bool {
        matches!(
            self,
            Command::RestartHub
                | Command::RestartProxy
                | Command::ScaleHub
                | Command::ScalePlaceholders
                | Command::StopServer
                | Command::StopDask
                | Command::EditConfig
                | Command::SilenceAlert
                | Command::Shell
        )
    }
}

/// Where a binding applies. The focused context is looked up first, then `global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Everywhere, unless the focused context binds the key.
    Global,
    /// Table panes (clusters, hubs, servers, alerts, events, nodes).
    Table,
    /// The detail (describe) pane.
    Detail,
    /// The log pane.
    Logs,
    /// A line being typed: filter, log search, command palette.
    Input,
    /// A confirmation dialog.
    Dialog,
    /// A replay's timeline (`hubdeck replay`), looked up before the pane's keys.
    Replay,
}

impl Context {
    /// Every context, in help order.
    pub const ALL: &'static [Context] = &[
        Context::Global,
        Context::Table,
        Context::Detail,
        Context::Logs,
        Context::Input,
        Context::Dialog,
        Context::Replay,
    ];

    /// Section name in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Table => "table",
            Context::Detail => "detail",
            Context::Logs => "logs",
            Context::Input => "input",
            Context::Dialog => "dialog",
            Context::Replay => "replay",
        }
    }
}

/// A key with its modifiers, normalised so that file keys and terminal events compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl and Alt (Shift is carried by the character's case, or by BackTab).
    pub mods: KeyModifiers,
}

impl Key {
    fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if matches!(code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key { code, mods }
    }

    /// Parses `j`, `G`, `?`, `enter`, `ctrl-d`, `alt-x`, `shift-tab`, `f5`, `space`, `pagedown`.
    pub fn parse(s: &str) -> Option<Key> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break; // "ctrl-" alone is not a key; "-" after a modifier is handled below
            }
            mods |= m;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" => KeyCode::Insert,
                "space" => KeyCode::Char(' '),
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                f if f.starts_with('f') => {
                    KeyCode::F(f[1..].parse().ok().filter(|n| (1..=24).contains(n))?)
                }
                _ => return None,
            },
        };
        Some(Key::new(code, mods))
    }

    /// The key of a terminal event.
    pub fn from_event(e: &KeyEvent) -> Key {
        Key::new(e.code, e.modifiers)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            other => write!(f, "{}", format!("{other:?}").to_ascii_lowercase()),
        }
    }
}

/// One binding as shown in help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Where it applies.
    pub context: Context,
    /// The key.
    pub key: Key,
    /// What it runs.
    pub command: Command,
    /// What it does, for people.
    pub desc: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Keys {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingSpec {
    on: Spanned<Keys>,
    run: Spanned<String>,
    desc: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    #[serde(default)]
    global: Vec<BindingSpec>,
    #[serde(default)]
    table: Vec<BindingSpec>,
    #[serde(default)]
    detail: Vec<BindingSpec>,
    #[serde(default)]
    logs: Vec<BindingSpec>,
    #[serde(default)]
    input: Vec<BindingSpec>,
    #[serde(default)]
    dialog: Vec<BindingSpec>,
    #[serde(default)]
    replay: Vec<BindingSpec>,
}

/// Embedded presets: (name, TOML text). Every preset but `default` is merged over `default`.
pub const BUILTIN_KEYMAPS: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

/// A loaded keymap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keymap {
    /// Preset or file it came from.
    pub name: String,
    bindings: Vec<Binding>,
    index: HashMap<(Context, Key), usize>,
}

impl Keymap {
    /// The command a key runs in a context, falling back to `global`.
    pub fn lookup(&self, context: Context, key: Key) -> Option<Command> {
        let found = self
            .index
            .get(&(context, key))
            .or_else(|| self.index.get(&(Context::Global, key)))?;
        Some(self.bindings[*found].command).filter(|c| *c != Command::Noop)
    }

    /// The command a key runs in exactly this context (no `global` fallback: used while typing).
    pub fn lookup_in(&self, context: Context, key: Key) -> Option<Command> {
        let found = self.index.get(&(context, key))?;
        Some(self.bindings[*found].command).filter(|c| *c != Command::Noop)
    }

    /// Every active binding, context by context, in file order (for the help overlay).
    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(|b| b.command != Command::Noop)
    }

    /// Keys bound to a command in a context (or globally), for hints.
    pub fn keys_for(&self, context: Context, command: Command) -> Vec<Key> {
        self.bindings()
            .filter(|b| {
                b.command == command && (b.context == context || b.context == Context::Global)
            })
            .filter(|b| self.lookup(context, b.key) == Some(command))
            .map(|b| b.key)
            .collect()
    }

    /// The keys of `keys_for` as a hint shows them: `enter/y`.
    pub fn hint_keys(&self, context: Context, command: Command) -> String {
        self.keys_for(context, command)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A built-in preset, without user files.
    pub fn builtin(name: &str) -> Result<Keymap, ConfigError> {
        let text_of = |n: &str| {
            BUILTIN_KEYMAPS
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, t)| *t)
        };
        let text = text_of(name).ok_or_else(|| ConfigError {
            file: format!("keymap {:?}", hubdeck_core::text::clip(name, 60)),
            line: None,
            message: "no such keymap (built in: default, vim)".into(),
        })?;
        let mut map = Keymap::default();
        if name != "default" {
            map.merge("builtin:default", text_of("default").unwrap_or_default())?;
        }
        map.merge(&format!("builtin:{name}"), text)?;
        map.name = name.to_string();
        Ok(map)
    }

    /// Loads a keymap: a preset name (default `default`) or a file path merged over `default`,
    /// then `<user_dir>/keymap.toml` merged over that, binding by binding.
    pub fn load(
        name_or_path: Option<&str>,
        user_dir: Option<&Path>,
    ) -> Result<Keymap, ConfigError> {
        let wanted = name_or_path.unwrap_or("default");
        let mut map = if wanted.ends_with(".toml") || wanted.contains(std::path::MAIN_SEPARATOR) {
            let path = Path::new(wanted);
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
                file: path.display().to_string(),
                line: None,
                message: e.to_string(),
            })?;
            let mut m = Keymap::builtin("default")?;
            m.merge(&path.display().to_string(), &text)?;
            m.name = wanted.to_string();
            m
        } else {
            Keymap::builtin(wanted)?
        };
        if let Some(dir) = user_dir {
            let path = dir.join("keymap.toml");
            if let Some(text) = read_optional(&path)? {
                map.merge(&path.display().to_string(), &text)?;
            }
        }
        Ok(map)
    }

    /// Merges a keymap file over this one: each (context, key) it binds replaces the old binding.
    fn merge(&mut self, file: &str, text: &str) -> Result<(), ConfigError> {
        let parsed: KeymapFile =
            toml::from_str(text).map_err(|e| ConfigError::toml(file, text, &e))?;
        let sections = [
            (Context::Global, parsed.global),
            (Context::Table, parsed.table),
            (Context::Detail, parsed.detail),
            (Context::Logs, parsed.logs),
            (Context::Input, parsed.input),
            (Context::Dialog, parsed.dialog),
            (Context::Replay, parsed.replay),
        ];
        let mut seen: HashMap<(Context, Key), usize> = HashMap::new();
        for (context, specs) in sections {
            for spec in specs {
                let err =
                    |offset: usize, msg: String| ConfigError::at(file, text, Some(offset), msg);
                let run = spec.run.get_ref();
                let command = Command::from_name(run).ok_or_else(|| {
                    err(
                        spec.run.span().start,
                        format!("unknown command {run:?} in [{}]", context.name()),
                    )
                })?;
                let on_line = spec.on.span().start;
                let keys = match spec.on.into_inner() {
                    Keys::One(k) => vec![k],
                    Keys::Many(ks) => ks,
                };
                if keys.is_empty() {
                    return Err(err(on_line, "`on` lists no key".into()));
                }
                for k in keys {
                    let key = Key::parse(&k)
                        .ok_or_else(|| err(on_line, format!("cannot parse key {k:?}")))?;
                    if let Some(prev) = seen.insert((context, key), on_line) {
                        let prev_line = text[..prev].matches('\n').count() + 1;
                        return Err(err(
                            on_line,
                            format!(
                                "key {key} bound twice in [{}] (also on line {prev_line})",
                                context.name()
                            ),
                        ));
                    }
                    let binding = Binding {
                        context,
                        key,
                        command,
                        desc: spec
                            .desc
                            .clone()
                            .unwrap_or_else(|| command.default_desc().to_string()),
                    };
                    match self.index.get(&(context, key)) {
                        Some(&i) => self.bindings[i] = binding,
                        None => {
                            self.index.insert((context, key), self.bindings.len());
                            self.bindings.push(binding);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
