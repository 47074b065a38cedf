//! Help overlay, keymap remapping, themes and NO_COLOR.

use ratatui::style::Color;

use super::*;

#[test]
fn help_overlay_lists_the_keys_of_the_active_keymap() {
    let mut app = app();
    press(&mut app, "?");
    let s = screen(&mut app);
    assert!(s.contains("keymap default"), "{s}");
    let filter = line_with(&s, "Filter rows as you type");
    assert!(
        filter.contains('/') && filter.contains("filter"),
        "{filter}"
    );
    assert!(line_with(&s, "Next row").contains("down, j"), "{s}");
    press(&mut app, "<esc>");
    assert!(!screen(&mut app).contains("keymap default"));
}

#[test]
fn a_remapped_key_shows_up_remapped_in_help() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keymap.toml"),
        "[[table]]\non = \"x\"\nrun = \"filter\"\ndesc = \"Narrow the table\"\n[[table]]\non = \"/\"\nrun = \"noop\"\n",
    )
    .unwrap();
    let keymap = Keymap::load(None, Some(dir.path())).unwrap();
    let mut app = App::new(ConsoleOptions { keymap, ..opts() }, fleet());
    press(&mut app, "?");
    let s = screen(&mut app);
    assert!(line_with(&s, "Narrow the table").contains(" x "), "{s}");
    assert!(!s.contains("Filter rows as you type"), "{s}");
    press(&mut app, "<esc>xsci");
    assert!(screen(&mut app).contains("Hubs (1)"));
}

#[test]
fn vim_keymap_drills_down_with_l() {
    let mut app = App::new(
        ConsoleOptions {
            keymap: Keymap::builtin("vim").unwrap(),
            ..opts()
        },
        fleet(),
    );
    press(&mut app, "jl");
    assert_eq!(app.breadcrumb(), "Hubs › leap/staging › Servers");
    press(&mut app, "h");
    assert_eq!(app.breadcrumb(), "Hubs");
}

#[test]
fn no_color_renders_without_any_colour() {
    let theme = Theme::load(Some("default"), None, true).unwrap();
    let mut app = App::new(ConsoleOptions { theme, ..opts() }, fleet());
    for keys in ["", "<down>", "?", "<esc>2", "4"] {
        press(&mut app, keys);
        let buf = buffer(&mut app, 120, 40);
        for cell in buf.content() {
            assert_eq!(
                (cell.fg, cell.bg),
                (Color::Reset, Color::Reset),
                "{keys}: {cell:?}"
            );
        }
    }
    let s = screen(&mut app);
    assert!(s.contains("HubNotReady"), "{s}");
}

#[test]
fn every_builtin_theme_renders_every_pane() {
    for (name, _) in crate::config::theme::BUILTIN_THEMES {
        let mut app = App::new(
            ConsoleOptions {
                theme: Theme::builtin(name).unwrap(),
                ..opts()
            },
            fleet(),
        );
        for keys in ["1", "2", "3", "4", "5", "1d"] {
            press(&mut app, keys);
            assert!(text_of(&buffer(&mut app, 120, 40)).contains("clu 2/2"));
        }
    }
}

#[test]
fn cycle_theme_key_switches_theme() {
    let mut app = app();
    press(&mut app, "T");
    assert_eq!(app.theme().name, "light");
}
