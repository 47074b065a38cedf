//! Keymap loading: presets parse, user files merge, bad files fail with file and line.
use super::*;

fn user_map(text: &str) -> Result<Keymap, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keymap.toml"), text).unwrap();
    Keymap::load(None, Some(dir.path()))
}

#[test]
fn every_builtin_keymap_parses() {
    for (name, _) in BUILTIN_KEYMAPS {
        let map = Keymap::builtin(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            map.lookup(Context::Table, Key::parse("q").unwrap()),
            Some(Command::Quit)
        );
        assert_eq!(
            map.lookup(Context::Table, Key::parse("?").unwrap()),
            Some(Command::Help)
        );
    }
}

#[test]
fn p_switches_to_the_previous_run_in_the_logs_of_every_preset() {
    let p = Key::parse("p").unwrap();
    for (name, _) in BUILTIN_KEYMAPS {
        let map = Keymap::builtin(name).unwrap();
        assert_eq!(
            map.lookup(Context::Logs, p),
            Some(Command::PreviousRun),
            "{name}"
        );
        assert_eq!(
            map.keys_for(Context::Logs, Command::Follow),
            vec![Key::parse("f").unwrap()],
            "{name}: f still follows"
        );
    }
}

#[test]
fn every_mutation_is_bound_in_the_default_keymap() {
    let map = Keymap::builtin("default").unwrap();
    for c in Command::ALL.iter().filter(|c| c.is_mutation()) {
        assert!(
            map.bindings().any(|b| b.command == *c),
            "{} unbound",
            c.name()
        );
    }
}

#[test]
fn keys_parse_and_print_canonically() {
    for (text, shown) in [
        ("j", "j"),
        ("G", "G"),
        ("ctrl-d", "ctrl-d"),
        ("Ctrl-D", "ctrl-D"),
        ("enter", "enter"),
        ("esc", "esc"),
        ("shift-tab", "shift-tab"),
        ("pagedown", "pagedown"),
        ("f5", "f5"),
        ("space", "space"),
        ("alt-x", "alt-x"),
        ("?", "?"),
        ("-", "-"),
        ("ctrl--", "ctrl--"),
    ] {
        let k = Key::parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(k.to_string(), shown);
    }
    for bad in ["", "ctrl-", "hello", "f99", "ctrl-nothing"] {
        assert!(Key::parse(bad).is_none(), "{bad}");
    }
    let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(Key::from_event(&shift_g), Key::parse("G").unwrap());
}

#[test]
fn user_file_overrides_single_bindings() {
    let map = user_map("[[table]]\non = \"x\"\nrun = \"filter\"\ndesc = \"Narrow down\"\n\n[[global]]\non = \"q\"\nrun = \"noop\"\n").unwrap();
    assert_eq!(
        map.lookup(Context::Table, Key::parse("x").unwrap()),
        Some(Command::Filter)
    );
    assert_eq!(
        map.lookup(Context::Table, Key::parse("/").unwrap()),
        Some(Command::Filter)
    );
    assert_eq!(map.lookup(Context::Table, Key::parse("q").unwrap()), None);
    assert_eq!(
        map.lookup(Context::Table, Key::parse("j").unwrap()),
        Some(Command::Down)
    );
}

#[test]
fn bad_keymap_files_are_one_line_errors_with_file_and_line() {
    let cases = [
        (
            "[[table]]\non = \"j\"\nrun = \"jump-around\"\n",
            3,
            "unknown command",
        ),
        (
            "[[table]]\non = \"ctrl-nothing\"\nrun = \"down\"\n",
            2,
            "cannot parse key",
        ),
        (
            "[[table]]\non = \"j\"\nrun = \"down\"\n[[table]]\non = [\"k\", \"j\"]\nrun = \"up\"\n",
            5,
            "bound twice",
        ),
        (
            "[[table]]\non = \"j\"\nrun = \"down\"\ncolour = 1\n",
            4,
            "unknown field",
        ),
        (
            "[[tables]]\non = \"j\"\nrun = \"down\"\n",
            1,
            "unknown field",
        ),
        ("[[table]]\non = \"j\"\n", 1, "missing field"),
    ];
    for (text, line, needle) in cases {
        let e = user_map(text).unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("keymap.toml:"), "{shown}");
        assert_eq!(e.line, Some(line), "{shown}");
        assert!(shown.contains(needle), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }
}
