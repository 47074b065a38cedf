//! Theme loading: presets parse, user files merge, bad files fail with file and line.
use super::*;

#[test]
fn every_builtin_theme_parses_and_sets_every_role() {
    for (name, text) in BUILTIN_THEMES {
        let t = Theme::builtin(name).unwrap_or_else(|e| panic!("{e}"));
        let parsed: toml::Table = toml::from_str(text).unwrap();
        for role in Role::ALL {
            assert!(
                parsed.contains_key(role.key()),
                "{name} lacks {}",
                role.key()
            );
        }
        assert_eq!(t.name, *name);
    }
}

#[test]
fn user_theme_overrides_single_roles() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("themes")).unwrap();
    std::fs::write(
        dir.path().join("themes/default.toml"),
        "header = { fg = \"#ff0000\" }\n",
    )
    .unwrap();
    let t = Theme::load(None, Some(dir.path()), false).unwrap();
    assert_eq!(t.style(Role::Header).fg, Some(Color::Rgb(255, 0, 0)));
    assert_eq!(
        t.style(Role::Selection),
        Theme::builtin("default").unwrap().style(Role::Selection)
    );
}

#[test]
fn bad_theme_files_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("themes")).unwrap();
    let cases = [
        (
            "header = { fg = \"red\" }\nbogus_role = { bold = true }\n",
            2,
            "unknown field",
        ),
        ("\n\nheader = { fg = \"blurple\" }\n", 3, "not a colour"),
        (
            "header = { fg = \"red\", blink = true }\n",
            1,
            "unknown field",
        ),
        ("header = \n", 1, ""),
    ];
    for (text, line, needle) in cases {
        std::fs::write(dir.path().join("themes/mine.toml"), text).unwrap();
        let e = Theme::load(Some("mine"), Some(dir.path()), false).unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("themes/mine.toml:"), "{shown}");
        assert_eq!(e.line, Some(line), "{shown}");
        assert!(shown.contains(needle), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }
}

#[test]
fn unknown_theme_name_is_an_error() {
    let e = Theme::load(Some("nope"), None, false).unwrap_err();
    assert!(e.to_string().contains("no such theme"), "{e}");
}

#[test]
fn no_color_forces_mono_without_colours() {
    let t = Theme::load(Some("default"), None, true).unwrap();
    assert!(t.is_mono());
    for role in Role::ALL {
        assert_eq!(t.style(*role).fg, None);
        assert_eq!(t.style(*role).bg, None);
    }
    assert!(
        t.style(Role::Selection)
            .add_modifier
            .contains(Modifier::REVERSED)
    );
}
