//! No credential leaves the cluster unasked: a redacted show → edit → apply round trip leaves
//! every credential byte-identical in the Secret while none reaches stdout, stderr, the state
//! directory or the audit log; a placeholder replaced on purpose sets the new value.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::fleet::{TestFleet, cli, config_apply, hub_values, set_hub_values, stderr, stdout};

const SECRETS: &[&str] = &[
    "0f3a9c1d5e7b2a4c6e8f0a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d",
    "cookie-5ecr3t-9a8b7c6d",
    "crypt-key-one-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "hubdeck-service-token-77c1",
    "oauth-client-secret-e4d2",
    "db-pass'word-q1",
];

fn values() -> String {
    format!(
        "# the hub's chart values\n\
         proxy:\n  secretToken: \"{}\"\n\
         hub:\n  cookieSecret: {}\n  config:\n    CryptKeeper:\n      keys:\n        - {}\n\
         \x20   GenericOAuthenticator:\n      client_id: hub-client\n      client_secret: {}\n\
         \x20     oauth_callback_url: https://hub.example.org/hub/oauth_callback\n\
         \x20 services:\n    hubdeck:\n      apiToken: {}\n\
         \x20 db:\n    password: '{}'\n\
         singleuser:\n  memory:\n    limit: 2G\n  cpu:\n    limit: 2\n",
        SECRETS[0],
        SECRETS[1],
        SECRETS[2],
        SECRETS[4],
        SECRETS[3],
        SECRETS[5].replace('\'', "''"),
    )
}

/// Every file under `dir`, with its contents.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn assert_no_secret(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for s in SECRETS {
        assert!(
            !text.contains(s),
            "{what} holds the credential {s}:\n{text}"
        );
    }
    assert!(!text.contains("db-pass"), "{what} holds the db password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redacted_round_trip_keeps_every_credential_and_shows_none() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    let original = values();
    set_hub_values(&c, &ns, &original);

    let shown = cli(&fleet, &["config", "show", &hub]).await;
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    assert_no_secret("config show", &shown.stdout);
    let text = stdout(&shown);
    assert!(
        text.contains("<redacted proxy.secretToken sha256:"),
        "{text}"
    );
    assert!(text.contains("limit: 2G"), "non-secrets stay: {text}");

    let edited = text.replace("limit: 2G", "limit: 4G");
    let file = fleet.home.path().join("edit.yaml");
    std::fs::write(&file, &edited).unwrap();
    let out = config_apply(&fleet, &hub, &file, &[]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_no_secret("apply's stdout", &out.stdout);
    assert_no_secret("apply's stderr", &out.stderr);
    assert!(stdout(&out).contains("+    limit: 4G"), "{}", stdout(&out));
    assert_eq!(
        hub_values(&c, &ns),
        original.replace("limit: 2G", "limit: 4G"),
        "every credential byte-identical, the edit applied"
    );

    let state = fleet.home.path().join("state");
    let written = files(&state);
    assert!(
        written
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("diffs")),
        "a diff file was written: {written:?}"
    );
    for (path, contents) in &written {
        assert_no_secret(&path.display().to_string(), contents);
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
    }
    let dir_mode = std::fs::metadata(state.join("diffs"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_placeholder_sets_the_new_credential_and_the_plan_names_it() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    set_hub_values(&c, &ns, &values());
    let text = stdout(&cli(&fleet, &["config", "show", &hub]).await);
    let line = text
        .lines()
        .find(|l| l.contains("cookieSecret:"))
        .unwrap()
        .to_string();
    let edited = text.replace(&line, "  cookieSecret: brand-new-cookie-secret-1");
    let file = fleet.home.path().join("edit.yaml");
    std::fs::write(&file, &edited).unwrap();
    let out = config_apply(&fleet, &hub, &file, &[]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("secret hub.cookieSecret changed"), "{said}");
    assert!(!said.contains("brand-new-cookie-secret-1"), "{said}");
    assert_no_secret("apply's output", said.as_bytes());
    let now = hub_values(&c, &ns);
    assert!(
        now.contains("cookieSecret: brand-new-cookie-secret-1"),
        "{now}"
    );
    assert!(now.contains(SECRETS[0]), "the other credentials stay");
    for (path, contents) in files(&fleet.home.path().join("state")) {
        assert!(
            !String::from_utf8_lossy(&contents).contains("brand-new-cookie-secret-1"),
            "{} holds the new credential",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_secrets_is_the_one_way_to_see_them() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    set_hub_values(&c, &ns, &values());
    let out = cli(&fleet, &["config", "show", &hub, "--show-secrets"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(SECRETS[3]), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("credentials as asked"),
        "{}",
        stderr(&out)
    );
}
