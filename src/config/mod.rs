//! Configuration read from files: paths, settings, the fleet file, themes and keymaps
//! (embedded presets from `themes/` and `keymaps/`, with the user's files merged over them).

pub mod fleet_file;
pub mod fleet_repo;
pub mod keymap;
pub mod paths;
pub mod settings;
pub mod theme;

pub use theme::ConfigError;

/// 1-based line number of a byte offset, for errors that name the line.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A TOML error as `line, message` (one line, without toml's source excerpt).
pub fn toml_error(text: &str, e: &toml::de::Error) -> (usize, String) {
    let line = e.span().map_or(1, |s| line_of(text, s.start));
    (
        line,
        hubdeck_core::text::clip(e.message().trim(), 300).into_owned(),
    )
}
