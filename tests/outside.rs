//! Hubs checked from outside, against a real JupyterHub: each declared hub's
//! `https://<domain>/hub/health` reached the way its users would, through a TLS front, with
//! the domains pointed at loopback by fleet.toml's `[outside] resolve` and the test's CA as the
//! only trusted one. What a check meets: a healthy hub, an expired certificate, another status
//! than the expected one, a refused connection and an ingress that never answers.

mod common;

use std::net::SocketAddr;
use std::path::Path;

use common::fleet::{TestFleet, cli, stderr, stdout};
use common::real_servers::JupyterHub;
use common::tls_front::{Front, TestCa, closed_port};
use hubdeck_sim::ingress::domain;
use serde_json::Value;

fn items(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", stderr(out));
    let doc: Value = serde_json::from_str(&stdout(out)).expect("JSON");
    doc["items"].as_array().expect("items").clone()
}

fn hub<'a>(rows: &'a [Value], cluster: &str, ns: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["cluster"] == cluster && r["namespace"] == ns)
        .unwrap_or_else(|| panic!("no row for {cluster}/{ns} in {rows:#?}"))
}

/// Sets `uptime_check.expected_status` of one declared hub in the repository.
fn expect_status(repo: &Path, cluster: &str, ns: &str, status: u16) {
    let file = repo
        .join("config/clusters")
        .join(cluster)
        .join("cluster.yaml");
    let mut doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for h in doc["hubs"].as_sequence_mut().unwrap() {
        if h["name"].as_str() == Some(ns) {
            let mut check = serde_yaml_ng::Mapping::new();
            check.insert("expected_status".into(), u64::from(status).into());
            h["uptime_check"] = check.into();
        }
    }
    std::fs::write(&file, serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_from_outside_tell_each_failure_apart() {
    let hubs_server = JupyterHub::start().await;
    let proxy: SocketAddr = hubs_server
        .proxy_api_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // Four hubs a cluster: the first cluster declares three of them.
    let fleet = TestFleet::start(hubdeck_sim::FleetSpec {
        hubs: 12,
        ..hubdeck_sim::FleetSpec::small()
    })
    .await;
    let repo = tempfile::tempdir().unwrap();
    hubdeck_sim::deploy_repo::write(&fleet.sim, repo.path()).unwrap();
    let (c0, c1, c2) = (fleet.cluster(0), fleet.cluster(1), fleet.cluster(2));
    let mut ns0 = c0.hub_namespaces();
    ns0.sort();
    // The repository leaves the last hub of the first cluster undeclared: no domain, no check.
    let (healthy, expired, redirected) = (&ns0[0], &ns0[1], &ns0[2]);
    expect_status(repo.path(), c0.name(), redirected, 302);

    let ca = TestCa::new();
    let wildcard = format!("*.{}.{}", c0.name(), hubdeck_sim::ingress::DOMAIN_SUFFIX);
    let good = Front::tls(&ca, std::slice::from_ref(&wildcard), false, proxy).await;
    let stale = Front::tls(&ca, &[domain(c0.name(), expired)], true, proxy).await;
    let hung = Front::silent().await;
    let refused = closed_port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca.pem).unwrap();
    let fleet_toml = dir.path().join("fleet.toml");
    // Every declared domain is pinned: no lookup leaves the machine.
    std::fs::write(
        &fleet_toml,
        format!(
            "[outside]\nca_file = \"ca.pem\"\n[outside.resolve]\n\
             \"{wildcard}\" = \"{}\"\n\"{}\" = \"{}\"\n\
             \"*.{}.{suffix}\" = \"{refused}\"\n\"*.{}.{suffix}\" = \"{}\"\n",
            good.addr,
            domain(c0.name(), expired),
            stale.addr,
            c1.name(),
            c2.name(),
            hung.addr,
            suffix = hubdeck_sim::ingress::DOMAIN_SUFFIX,
        ),
    )
    .unwrap();
    let config = fleet.home.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("settings.toml"), "outside_timeout_secs = 2\n").unwrap();

    let args = |what: &'static str| {
        vec![
            "--fleet".to_string(),
            fleet_toml.display().to_string(),
            "--fleet-repo".to_string(),
            repo.path().display().to_string(),
            "get".to_string(),
            what.to_string(),
            "-o".to_string(),
            "json".to_string(),
        ]
    };
    let hubs_args = args("hubs");
    let started = std::time::Instant::now();
    let out = cli(
        &fleet,
        &hubs_args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let took = started.elapsed();
    let rows = items(&out);

    let ok = &hub(&rows, c0.name(), healthy)["outside"];
    assert_eq!(ok["state"], "ok", "{ok:#}\n{}", hubs_server.log());
    assert_eq!(ok["status"], 200);
    assert!(ok["latency_ms"].as_u64().is_some(), "{ok:#}");
    assert!(ok["reason"].is_null());

    let tls = &hub(&rows, c0.name(), expired)["outside"];
    assert_eq!(tls["state"], "tls", "{tls:#} {}", stderr(&out));
    assert!(
        tls["reason"].as_str().unwrap().contains("xpired"),
        "the reason says the certificate expired: {tls:#}"
    );

    let status = &hub(&rows, c0.name(), redirected)["outside"];
    assert_eq!(status["state"], "status", "{status:#}");
    assert_eq!(status["status"], 200);
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .contains("status 200 (expected 302)"),
        "{status:#}"
    );

    for ns in c1.hub_namespaces() {
        let check = &hub(&rows, c1.name(), &ns)["outside"];
        assert_eq!(check["state"], "connect", "{ns}: {check:#}");
        assert!(
            check["reason"].as_str().unwrap().contains("refused"),
            "{check:#}"
        );
    }
    for ns in c2.hub_namespaces() {
        let check = &hub(&rows, c2.name(), &ns)["outside"];
        assert_eq!(check["state"], "timeout", "{ns}: {check:#}");
    }
    let undeclared = &ns0[ns0.len() - 1];
    assert!(hub(&rows, c0.name(), undeclared)["outside"].is_null());
    // One round, a handful at a time, each bounded by the 2 s timeout: not a serial crawl.
    assert!(took.as_secs() < 20, "get hubs took {took:?}");

    let alerts_args = args("alerts");
    let out = cli(
        &fleet,
        &alerts_args.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let alerts = items(&out);
    let outside: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["name"] == "HubUnreachableOutside")
        .collect();
    let about = |cluster: &str, ns: &str| {
        outside
            .iter()
            .any(|a| a["cluster"] == cluster && a["hub"].as_str().unwrap().starts_with(ns))
    };
    assert!(about(c0.name(), expired), "{outside:#?}");
    assert!(about(c0.name(), redirected), "{outside:#?}");
    assert!(!about(c0.name(), healthy), "{outside:#?}");
    assert!(
        outside.iter().all(|a| a["severity"] == "warning"),
        "one failed check is a warning: {outside:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_outside_table_names_the_file_and_line() {
    let fleet = TestFleet::small().await;
    let repo = tempfile::tempdir().unwrap();
    hubdeck_sim::deploy_repo::write(&fleet.sim, repo.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fleet_toml = dir.path().join("fleet.toml");
    for (text, says) in [
        (
            "# checks\n[outside]\nresolve = { \"hub.example.org\" = \"not-an-address\" }\n",
            "not IP:PORT",
        ),
        ("\n\n[outside]\nca_file = \"missing.pem\"\n", "missing.pem"),
    ] {
        std::fs::write(&fleet_toml, text).unwrap();
        let out = cli(
            &fleet,
            &[
                "--fleet",
                fleet_toml.to_str().unwrap(),
                "--fleet-repo",
                repo.path().to_str().unwrap(),
                "get",
                "hubs",
            ],
        )
        .await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{}:", fleet_toml.display())) && err.contains(says),
            "{err}"
        );
        let line = if text.starts_with('#') { ":2:" } else { ":3:" };
        assert!(err.contains(line), "names the [outside] line: {err}");
    }
}
