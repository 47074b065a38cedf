//! Themes: named style roles (never raw colours in widgets), loaded from an embedded preset with
//! the user's `themes/NAME.toml` merged over it. `NO_COLOR` forces the mono preset.

use std::fmt;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

/// A configuration file that cannot be used; displays as one line `FILE:LINE: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file (or `builtin:NAME` for embedded presets).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong, one line.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl ConfigError {
    /// An error at a byte offset of `text`.
    pub(crate) fn at(
        file: &str,
        text: &str,
        offset: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        let line = offset.map(|o| super::line_of(text, o));
        let message: String = message.into();
        Self {
            file: file.to_string(),
            line,
            message: message
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        }
    }

    /// A TOML syntax or shape error.
    pub(crate) fn toml(file: &str, text: &str, e: &toml::de::Error) -> Self {
        Self::at(file, text, e.span().map(|s| s.start), e.message())
    }
}

/// Reads an optional user file; a missing file is not an error.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        // A name too long for a file is not a file the person has.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidFilename
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(ConfigError {
            file: hubdeck_core::text::clip(&path.display().to_string(), 200).into_owned(),
            line: None,
            message: e.to_string(),
        }),
    }
}

/// How one role looks, as written in a theme file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    bold: Option<bool>,
    dim: Option<bool>,
    italic: Option<bool>,
    underline: Option<bool>,
    reverse: Option<bool>,
}

impl StyleSpec {
    fn to_style(&self, file: &str, text: &str) -> Result<Style, ConfigError> {
        let colour = |c: &Option<Spanned<String>>| -> Result<Option<Color>, ConfigError> {
            let Some(c) = c else { return Ok(None) };
            c.get_ref().parse::<Color>().map(Some).map_err(|_| {
                ConfigError::at(
                    file,
                    text,
                    Some(c.span().start),
                    format!(
                        "{:?} is not a colour (a name, #rrggbb or 0-255)",
                        c.get_ref()
                    ),
                )
            })
        };
        let mut style = Style::default();
        if let Some(fg) = colour(&self.fg)? {
            style = style.fg(fg);
        }
        if let Some(bg) = colour(&self.bg)? {
            style = style.bg(bg);
        }
        for (on, m) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reverse, Modifier::REVERSED),
        ] {
            if on == Some(true) {
                style = style.add_modifier(m);
            }
        }
        Ok(style)
    }
}

macro_rules! roles {
    ($($(#[doc = $doc:literal])* $name:ident => $variant:ident,)*) => {
        /// A style role widgets ask the theme for.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Role { $($(#[doc = $doc])* $variant,)* }

        impl Role {
            /// Every role, in file order.
            pub const ALL: &'static [Role] = &[$(Role::$variant,)*];

            /// The key naming this role in theme files.
            pub fn key(self) -> &'static str {
                match self { $(Role::$variant => stringify!($name),)* }
            }
        }

        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            $($name: Option<StyleSpec>,)*
        }

        impl ThemeFile {
            fn merge_into(&self, theme: &mut Theme, file: &str, text: &str) -> Result<(), ConfigError> {
                $(if let Some(spec) = &self.$name {
                    theme.styles[Role::$variant as usize] = spec.to_style(file, text)?;
                })*
                Ok(())
            }
        }
    };
}

roles! {
    /// The fleet summary line at the top.
    header => Header,
    /// Where-you-are path above the pane.
    breadcrumb => Breadcrumb,
    /// Pane titles.
    title => Title,
    /// Plain text.
    text => Text,
    /// Secondary text: ages, hints, empty cells.
    dim => Dim,
    /// Table column headings.
    table_header => TableHeader,
    /// The selected row.
    selection => Selection,
    /// Pane borders.
    border => Border,
    /// Border of the pane that has the keyboard.
    border_focused => BorderFocused,
    /// Healthy hub / all ready.
    health_ok => HealthOk,
    /// Working with trouble.
    health_degraded => HealthDegraded,
    /// Broken.
    health_down => HealthDown,
    /// Stale: the cluster cannot be reached.
    health_unknown => HealthUnknown,
    /// Critical alerts.
    severity_critical => SeverityCritical,
    /// Warning alerts.
    severity_warning => SeverityWarning,
    /// Informational alerts.
    severity_info => SeverityInfo,
    /// Silenced alerts.
    silenced => Silenced,
    /// Trend sparklines.
    sparkline => Sparkline,
    /// Matches of a search in logs.
    search_match => SearchMatch,
    /// The filter or search being typed.
    input => Input,
    /// Keys in the hint line and help overlay.
    key_hint => KeyHint,
    /// Overlays (help, palette).
    overlay => Overlay,
    /// Informational toast.
    toast_info => ToastInfo,
    /// Error toast.
    toast_error => ToastError,
}

/// Embedded presets: (name, TOML text).
pub const BUILTIN_THEMES: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// A loaded theme: one style per role.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Preset or file name it came from.
    pub name: String,
    styles: Vec<Style>,
    mono: bool,
}

impl Theme {
    /// The style of a role.
    pub fn style(&self, role: Role) -> Style {
        self.styles[role as usize]
    }

    /// Whether colours are off (NO_COLOR or the mono preset).
    pub fn is_mono(&self) -> bool {
        self.mono
    }

    /// A built-in preset by name, without user files.
    pub fn builtin(name: &str) -> Result<Theme, ConfigError> {
        let (name, text) = BUILTIN_THEMES
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| unknown(name))?;
        let mut theme = Theme {
            name: name.to_string(),
            styles: vec![Style::default(); Role::ALL.len()],
            mono: *name == "mono",
        };
        theme.merge(&format!("builtin:{name}"), text)?;
        Ok(theme)
    }

    /// Loads a theme: a preset name (default `default`), with `<user_dir>/themes/NAME.toml`
    /// merged over it, or a path to a file merged over `default`. `no_color` forces `mono`
    /// and strips every colour.
    pub fn load(
        name_or_path: Option<&str>,
        user_dir: Option<&Path>,
        no_color: bool,
    ) -> Result<Theme, ConfigError> {
        let wanted = if no_color {
            "mono"
        } else {
            name_or_path.unwrap_or("default")
        };
        let is_path = wanted.ends_with(".toml") || wanted.contains(std::path::MAIN_SEPARATOR);
        let mut theme = if is_path {
            let path = Path::new(wanted);
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
                file: path.display().to_string(),
                line: None,
                message: e.to_string(),
            })?;
            let mut t = Theme::builtin("default")?;
            t.name = path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into());
            t.merge(&path.display().to_string(), &text)?;
            t
        } else {
            let user = match user_dir {
                Some(dir) => {
                    let path = dir.join("themes").join(format!("{wanted}.toml"));
                    read_optional(&path)?.map(|text| (path, text))
                }
                None => None,
            };
            let builtin = BUILTIN_THEMES.iter().any(|(n, _)| *n == wanted);
            let mut t = Theme::builtin(if builtin { wanted } else { "default" })?;
            match user {
                Some((path, text)) => t.merge(&path.display().to_string(), &text)?,
                None if !builtin => return Err(unknown(wanted)),
                None => {}
            }
            t.name = wanted.to_string();
            t
        };
        if no_color {
            theme.strip_colours();
        }
        Ok(theme)
    }

    fn merge(&mut self, file: &str, text: &str) -> Result<(), ConfigError> {
        let parsed: ThemeFile =
            toml::from_str(text).map_err(|e| ConfigError::toml(file, text, &e))?;
        parsed.merge_into(self, file, text)
    }

    /// Removes every colour, keeping bold/reverse/underline emphasis.
    pub fn strip_colours(&mut self) {
        for s in &mut self.styles {
            s.fg = None;
            s.bg = None;
            s.underline_color = None;
        }
        self.mono = true;
    }
}

fn unknown(name: &str) -> ConfigError {
    let known: Vec<&str> = BUILTIN_THEMES.iter().map(|(n, _)| *n).collect();
    ConfigError {
        file: format!("theme {:?}", hubdeck_core::text::clip(name, 60)),
        line: None,
        message: format!("no such theme (built in: {})", known.join(", ")),
    }
}

#[cfg(test)]
mod tests;
