//! Configuration read from files: themes and keymaps (embedded presets from `themes/` and
//! `keymaps/`, with the user's files merged over them).

pub mod keymap;
pub mod theme;

pub use theme::ConfigError;
