//! values.yaml redaction against a realistic z2jh fixture: what is redacted, that nothing of
//! a credential leaks into redacted text, errors or Debug output, and how restore treats
//! edits.

use hubdeck_core::secrets::{
    Secret, SecretsError, has_placeholder, mask_url_credentials, redact, restore,
};

const VALUES: &str = include_str!("corpus/values/realistic.yaml");

/// Every credential in the fixture, as it is written there (a PEM key by its lines).
const SECRETS: &[&str] = &[
    "8c1e3f5a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e",
    "4f7a2c9e1b8d3f6a0c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a",
    "p@ss''word: with # hash",
    "p@ss'word: with # hash",
    "c0ffee00deadbeef1234567890abcdef",
    "b16b00b5feedface0badf00d13371337",
    "oauth-Zq7Lk2Vx9Pw4Rt6Ny8Mb",
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55",
    "whsec_Hq2Jm5Np8Rs1Tv4Wx7Yz",
    "Qu4yR0b0tT0k3n/With+Slashes=",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQAAACBrZXlNYXRlcmlhbEZvclRlc3RpbmdPbmx5Tm90QVJlYWxLZXkAAAAA",
];

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(
            !text.contains(s),
            "{what} holds the credential {s:?}:\n{text}"
        );
    }
    // Shorter pieces too: a leak of half a token is a leak.
    for s in SECRETS.iter().filter(|s| s.len() >= 24) {
        let half = &s[..s.len() / 2];
        assert!(!text.contains(half), "{what} holds half of {s:?}");
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_fixture_redacts_exactly_its_credentials() {
    let r = redact(VALUES).unwrap();
    let paths: Vec<&str> = r.secrets.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "proxy.secretToken",
            "hub.cookieSecret",
            "hub.db.password",
            "hub.services.hubdeck.apiToken",
            "hub.services.grafana-exporter.api_token",
            "hub.config.GenericOAuthenticator.client_secret",
            "hub.config.CryptKeeper.keys[0]",
            "hub.config.CryptKeeper.keys[1]",
            "hub.extraEnv[0].value",
            "singleuser.imagePullSecret.password",
            "singleuser.extraFiles.deploy-key.privateKey",
        ]
    );
    assert!(r.secrets.iter().all(|s| s.fingerprint.len() == 8));
    assert_eq!(r.secrets[0].line, line_of(VALUES, "secretToken"));
    // Non-secrets stay as written.
    for kept in [
        "    limit: 2G",
        "      admin_users: [ada]",
        "      tokenTTL: 3600",
        "      token_lifetime_seconds: 86400",
        "      token_url: https://sso.example.org/token",
        "      client_id: hub-example-org",
        "      key: tls.key",
        "    pullSecrets: [quay-pull]",
        "    registry: quay.io",
        "      c.Spawner.start_timeout = 600",
        "      value: debug",
        "# Managed by hubdeck's fleet repo. Chart: jupyterhub 4.1.0",
    ] {
        assert!(r.text.contains(&format!("{kept}\n")), "{kept:?} changed");
    }
    // Only the credentials' own bytes changed: comments and quoting around them stay.
    assert!(
        r.text
            .contains("  secretToken: \"<redacted proxy.secretToken sha256:")
    );
    assert!(r.text.contains("\"  # openssl rand -hex 32\n"));
    // The PEM block became one line after its key; the next key follows on the next line.
    let pem = r.text.lines().find(|l| l.contains("privateKey:")).unwrap();
    assert!(pem.starts_with(
        "      privateKey: \"<redacted singleuser.extraFiles.deploy-key.privateKey sha256:"
    ));
    assert!(r.text.contains("sha256:"));
    assert_eq!(
        r.text.lines().count(),
        VALUES.lines().count() - 4,
        "the four PEM lines fold into the placeholder line"
    );
}

#[test]
fn no_credential_leaks_into_redacted_text_or_debug() {
    let r = redact(VALUES).unwrap();
    assert_no_secret("redacted text", &r.text);
    assert_no_secret("Debug of Redacted", &format!("{r:?}"));
    assert!(has_placeholder(&r.text));
    assert!(!has_placeholder(VALUES));
}

#[test]
fn untouched_redaction_restores_byte_for_byte() {
    let r = redact(VALUES).unwrap();
    let back = restore(&r.text, VALUES).unwrap();
    assert_eq!(back.text, VALUES);
    assert!(back.changed.is_empty());
    assert!(!has_placeholder(&back.text));
    // The restored text holds the credentials again; its Debug does not show them.
    assert_no_secret("Debug of Restored", &format!("{back:?}"));
}

#[test]
fn editing_other_lines_keeps_the_credentials() {
    let r = redact(VALUES).unwrap();
    let edited = r
        .text
        .replace(
            "    limit: 2G\n",
            "    limit: 4G  # raised for the course\n",
        )
        .replace("admin_users: [ada]", "admin_users: [ada, grace]")
        .replace("  timeout: 3600\n", "");
    let back = restore(&edited, VALUES).unwrap();
    let want = VALUES
        .replace(
            "    limit: 2G\n",
            "    limit: 4G  # raised for the course\n",
        )
        .replace("admin_users: [ada]", "admin_users: [ada, grace]")
        .replace("  timeout: 3600\n", "");
    assert_eq!(back.text, want);
    assert!(back.changed.is_empty());
}

#[test]
fn a_new_value_stays_and_is_reported() {
    let r = redact(VALUES).unwrap();
    let line = r
        .text
        .lines()
        .find(|l| l.contains("cookieSecret"))
        .unwrap()
        .to_string();
    let edited = r.text.replace(
        &line,
        "  cookieSecret: \"0123456789abcdef0123456789abcdef\"",
    );
    let back = restore(&edited, VALUES).unwrap();
    assert!(
        back.text
            .contains("  cookieSecret: \"0123456789abcdef0123456789abcdef\"\n")
    );
    assert!(
        back.text.contains(SECRETS[0]),
        "the other credentials are back"
    );
    assert_eq!(back.changed, ["hub.cookieSecret"]);
}

#[test]
fn a_removed_or_added_credential_is_reported() {
    let r = redact(VALUES).unwrap();
    let mut lines: Vec<&str> = r.text.lines().collect();
    let i = lines.iter().position(|l| l.contains("api_token:")).unwrap();
    lines.remove(i);
    let edited = lines.join("\n") + "\n";
    let edited = edited.replace(
        "    hubdeck:\n      apiToken:",
        "    new-svc:\n      apiToken: fresh-token-value\n    hubdeck:\n      apiToken:",
    );
    let back = restore(&edited, VALUES).unwrap();
    assert_eq!(
        back.changed,
        [
            "hub.services.grafana-exporter.api_token",
            "hub.services.new-svc.apiToken"
        ]
    );
    assert!(!back.text.contains(SECRETS[5]));
    assert!(back.text.contains(SECRETS[4]));
}

#[test]
fn a_moved_placeholder_is_refused_by_line() {
    let r = redact(VALUES).unwrap();
    let token_line = r
        .text
        .lines()
        .find(|l| l.contains("secretToken"))
        .unwrap()
        .to_string();
    let placeholder = token_line
        .trim_start_matches("  secretToken: ")
        .split("  #")
        .next()
        .unwrap()
        .to_string();
    // Put proxy.secretToken's placeholder on hub.cookieSecret too.
    let cookie_line = r
        .text
        .lines()
        .find(|l| l.contains("cookieSecret"))
        .unwrap()
        .to_string();
    let edited = r
        .text
        .replace(&cookie_line, &format!("  cookieSecret: {placeholder}"));
    let e = restore(&edited, VALUES).unwrap_err();
    let line = line_of(&edited, "cookieSecret");
    assert_eq!(
        e.to_string(),
        format!(
            "values.yaml:{line}: placeholder for proxy.secretToken stands at hub.cookieSecret; a placeholder can only stay where it was"
        )
    );
    assert_no_secret("error", &e.to_string());
    assert_no_secret("Debug of error", &format!("{e:?}"));
}

#[test]
fn a_placeholder_for_a_rotated_credential_is_refused() {
    let r = redact(VALUES).unwrap();
    let rotated = VALUES.replace(SECRETS[0], "ffffffffffffffffffffffffffffffff");
    let e = restore(&r.text, &rotated).unwrap_err();
    let line = line_of(&r.text, "secretToken");
    assert_eq!(
        e.to_string(),
        format!(
            "values.yaml:{line}: placeholder for proxy.secretToken does not match the Secret's current value"
        )
    );
    // A credential gone from the Secret: the same refusal.
    let gone = VALUES.replace("  cookieSecret: ", "  cookieSecretOld: ");
    let e = restore(&r.text, &gone).unwrap_err();
    assert!(
        matches!(e, SecretsError::PlaceholderMismatch { ref path, .. } if path == "hub.cookieSecret")
    );
    assert_no_secret("error", &format!("{e} {e:?}"));
}

#[test]
fn an_altered_placeholder_is_refused() {
    let r = redact(VALUES).unwrap();
    for alter in [
        |t: &str| t.replacen("sha256:", "sha256:0", 1),
        |t: &str| t.replacen(">\"", "\"", 1),
        |t: &str| {
            t.replacen(
                "<redacted proxy.secretToken",
                "x <redacted proxy.secretToken",
                1,
            )
        },
    ] {
        let edited = alter(&r.text);
        let e = restore(&edited, VALUES).unwrap_err();
        assert_eq!(
            e,
            SecretsError::PlaceholderAltered {
                line: line_of(&edited, "secretToken")
            },
            "{e}"
        );
        assert!(e.to_string().starts_with("values.yaml:"));
    }
}

#[test]
fn a_fingerprint_typo_is_a_mismatch_not_a_new_value() {
    let r = redact(VALUES).unwrap();
    let fp = &r.secrets[0].fingerprint;
    let typo = format!("{}{}", &fp[..7], if fp.ends_with('0') { '1' } else { '0' });
    let edited = r.text.replacen(fp.as_str(), &typo, 1);
    let e = restore(&edited, VALUES).unwrap_err();
    assert!(matches!(e, SecretsError::PlaceholderMismatch { .. }), "{e}");
}

#[test]
fn errors_never_hold_credentials() {
    let r = redact(VALUES).unwrap();
    let broken = r.text.replace("  type: dynamic\n", "  type: [dynamic\n");
    let mut errors = vec![
        restore(&broken, VALUES).unwrap_err(),
        restore(&r.text, &VALUES.replace(SECRETS[6], "rotated")).unwrap_err(),
        redact(&r.text).unwrap_err(),
        redact(&VALUES.replace("  type: dynamic\n", "  type: [dynamic\n")).unwrap_err(),
        redact(&format!("{VALUES}---\nextra: doc\n")).unwrap_err(),
        redact(&format!("{VALUES}hub:\n  cookieSecret: again\n")).unwrap_err(),
    ];
    // A credential whose own text is broken YAML.
    errors.push(redact("hub:\n  cookieSecret: \"unterminated s3cr3t-value\n").unwrap_err());
    for e in &errors {
        let shown = format!("{e} | {e:?}");
        assert_no_secret("error", &shown);
        assert!(!shown.contains("s3cr3t-value"));
        assert_eq!(e.to_string().lines().count(), 1, "one line: {e}");
        assert!(e.to_string().contains("values.yaml:"), "{e}");
    }
    assert!(matches!(errors[2], SecretsError::AlreadyRedacted { .. }));
    assert!(matches!(errors[4], SecretsError::MultipleDocuments { .. }));
    assert!(matches!(errors[5], SecretsError::Duplicate { .. }));
    let invalid_line = line_of(&broken, "[dynamic") + 1;
    assert!(
        matches!(errors[0], SecretsError::Yaml { line, .. } if line >= invalid_line - 1 && line <= invalid_line + 1),
        "{}",
        errors[0]
    );
}

#[test]
fn reindented_and_restyled_placeholders_still_restore_the_value() {
    // Re-indent the whole extraFiles block: the PEM cannot go back as written, so it goes
    // back as a double-quoted scalar holding the same value.
    let r = redact(VALUES).unwrap();
    let start = r.text.find("  extraFiles:\n").unwrap();
    let end = r.text.find("  networkPolicy:").unwrap();
    let block: String = r.text[start..end]
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    let edited = format!(
        "{}  extraFiles:\n{}{}",
        &r.text[..start],
        &block["    extraFiles:\n".len()..],
        &r.text[end..]
    );
    let back = restore(&edited, VALUES).unwrap();
    assert!(back.changed.is_empty(), "{:?}", back.changed);
    assert!(
        back.text
            .contains("        privateKey: \"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Bl")
    );

    // A block list of keys turned into a flow list: `a,b` is fine plain in a block list but
    // would be two items in a flow list, so it goes back double-quoted.
    let src = "hub:\n  config:\n    CryptKeeper:\n      keys:\n        - a,b\n        - k2 # old\n";
    let r = redact(src).unwrap();
    let item = |n: usize| {
        r.text
            .lines()
            .nth(n)
            .unwrap()
            .trim()
            .trim_start_matches("- ")
            .split(" #")
            .next()
            .unwrap()
            .to_string()
    };
    let edited = format!(
        "hub:\n  config:\n    CryptKeeper:\n      keys: [{}, {}]\n",
        item(4),
        item(5)
    );
    let back = restore(&edited, src).unwrap();
    assert_eq!(
        back.text,
        "hub:\n  config:\n    CryptKeeper:\n      keys: [\"a,b\", \"k2\"]\n"
    );
    assert!(back.changed.is_empty());
}

#[test]
fn secret_newtype_never_prints_its_value() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s}"), "‹redacted›");
    assert_eq!(format!("{s:?}"), "‹redacted›");
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Login {
        user: String,
        password: Secret,
    }
    let l = Login {
        user: "ada".into(),
        password: "hunter2".into(),
    };
    assert!(!format!("{l:?}").contains("hunter2"));
    assert_eq!(l.password.expose(), "hunter2");
}

#[test]
fn url_masking_in_a_log_line() {
    let line = "spawn failed: GET https://robot:Qu4yR0b0t@quay.io/v2/token?scope=x&access_token=abc -> 401";
    assert_eq!(
        mask_url_credentials(line),
        "spawn failed: GET https://robot:***@quay.io/v2/token?scope=x&access_token=*** -> 401"
    );
}

#[test]
fn credential_decisions_both_ways() {
    let src = "\
storage:
  accessKey: AKIAEXAMPLEKEY
  accessKeyId: AKIAEXAMPLEID
  secretKey: s3-secret
  publicKey: ssh-ed25519 AAAA
auth:
  tokenTTL: \"3600\"
  token_lifetime_seconds: 86400
  password: 12345
  db_password: \"12345\"
  enabled: true
  secret: null
  apiToken: ''
hub:
  config:
    CryptKeeper:
      keys: [ck1]
  keys: [not-a-credential]
  extraConfig:
    x: |
      c.JupyterHub.cookie_secret_file = '/srv/cookie'
singleuser:
  cpu:
    limit: 2
";
    let r = redact(src).unwrap();
    let paths: Vec<&str> = r.secrets.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "storage.accessKey",
            "storage.secretKey",
            "auth.db_password",
            "hub.config.CryptKeeper.keys[0]"
        ]
    );
    assert!(r.text.contains("password: 12345\n"), "numbers stay");
    assert!(r.text.contains("tokenTTL: \"3600\"\n"));
    assert!(r.text.contains("keys: [not-a-credential]\n"));
}

#[test]
fn placeholders_in_comments_do_not_count_but_unparsable_text_is_searched() {
    let r = redact("proxy:\n  secretToken: abc\n").unwrap();
    let commented = format!(
        "# was: {}\nproxy: {{}}\n",
        r.text.lines().nth(1).unwrap().trim()
    );
    assert!(!has_placeholder(&commented));
    let broken = format!("{}: [\n", r.text);
    assert!(has_placeholder(&broken));
    assert!(!has_placeholder("password: <redacted>\n"));
}
