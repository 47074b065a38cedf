//! kubectl against the sim with validation on: it reads `/openapi/v3`, sends
//! `fieldValidation=Strict`, and gets a real server's answers. Skips where kubectl is missing
//! (it is no package of the project's); writes nothing outside a temp dir.

use super::*;

const MANIFESTS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: 'nginx:1.27', ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: hello}
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret}
type: Opaque
stringData: {password: hunter2}
";

pub(super) struct Kubectl {
    pub(super) dir: tempfile::TempDir,
    pub(super) context: String,
}

/// Whether kubectl is on the machine (the tests that need it skip without).
pub(super) fn have_kubectl() -> bool {
    std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok()
}

impl Kubectl {
    /// kubectl with an admin kubeconfig of `fleet`, on `cluster`'s context.
    pub(super) fn new(fleet: &SimFleet, cluster: &SimCluster) -> Kubectl {
        let dir = tempfile::tempdir().unwrap();
        fleet
            .write_kubectl_kubeconfig(&dir.path().join("kubeconfig"), Identity::Admin)
            .unwrap();
        Kubectl {
            dir,
            context: cluster.name().to_string(),
        }
    }

    pub(super) async fn run(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.dir.path().join("kubeconfig"))
            .arg("--context")
            .arg(&self.context)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env_remove("KUBECONFIG")
            .env("HOME", self.dir.path())
            .output()
            .await
            .unwrap()
    }
}

pub(super) fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn kubectl_creates_with_validation_on_and_gets_real_errors() {
    if !have_kubectl() {
        eprintln!("kubectl not installed; skipping");
        return;
    }
    let (fleet, c, client) = small().await;
    let dir = tempfile::tempdir().unwrap();
    fleet
        .write_kubectl_kubeconfig(&dir.path().join("kubeconfig"), Identity::Admin)
        .unwrap();
    std::fs::write(dir.path().join("app.yaml"), MANIFESTS).unwrap();
    let bad = MANIFESTS
        .split("---")
        .next()
        .unwrap()
        .replace("name: web,", "name: web2,")
        .replace("replicas: 2", "replicaz: 2");
    std::fs::write(dir.path().join("bad.yaml"), bad).unwrap();
    let k = Kubectl {
        dir,
        context: c.name().to_string(),
    };
    let ns = c.hub_namespaces()[0].clone();
    let app = k.dir.path().join("app.yaml");
    let rv = c.resource_version();

    let out = k
        .run(&["create", "-n", &ns, "-f", app.to_str().unwrap()])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    let asked: Vec<_> = c
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(asked.len(), 3);
    assert!(
        asked
            .iter()
            .all(|r| r.query.contains("fieldValidation=Strict")),
        "kubectl found server-side validation in /openapi/v3: {asked:?}"
    );

    // What kubectl created is listed and watched like anything else.
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), &ns);
    let cm = cms.get("web-config").await.unwrap();
    assert_eq!(cm.data.unwrap()["greeting"], "hello");
    let secrets: Api<Secret> = Api::namespaced(client, &ns);
    let s = secrets.get("web-secret").await.unwrap();
    assert_eq!(
        s.data.unwrap()["password"].0,
        b"hunter2",
        "stringData folds into data"
    );
    let watch = reqwest::Client::new()
        .get(format!(
            "{}/apis/apps/v1/namespaces/{ns}/deployments?watch=true&resourceVersion={rv}&timeoutSeconds=1",
            c.url()
        ))
        .bearer_auth(c.token(&Identity::Admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        watch
            .lines()
            .any(|l| l.contains(r#""type":"ADDED""#) && l.contains(r#""name":"web""#)),
        "{watch}"
    );

    let out = k
        .run(&[
            "create",
            "-n",
            &ns,
            "-f",
            k.dir.path().join("bad.yaml").to_str().unwrap(),
        ])
        .await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains(
            r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz""#
        ),
        "{}",
        text(&out)
    );

    let out = k.run(&["get", "pods", "-n", &ns, "-l", "bad key!"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Error from server (BadRequest)")
            && text(&out).contains(
                "unable to parse requirement: found 'key', expected: in, notin, =, ==, !=, gt, lt"
            ),
        "{}",
        text(&out)
    );

    let out = k.run(&["explain", "deployment.spec.replicas"]).await;
    assert!(text(&out).contains("replicas <integer>"), "{}", text(&out));
    fleet.shutdown().await;
}

#[tokio::test]
async fn kubectl_sees_a_namespace_editor_as_a_real_server_would() {
    if std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        eprintln!("kubectl not installed; skipping");
        return;
    }
    let (fleet, c, _) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let editor = Identity::namespace_editor("hub-ops", &[&ns]);
    let opts = crate::KubeconfigOptions {
        token_in_url: true,
        ..Default::default()
    };
    fleet
        .write_kubeconfig_with(&dir.path().join("kubeconfig"), &editor, &opts)
        .unwrap();
    let k = Kubectl {
        dir,
        context: c.name().to_string(),
    };

    let all = k.run(&["get", "pods", "-A"]).await;
    assert!(!all.status.success());
    assert!(
        text(&all).contains(
            "pods is forbidden: User \"hub-ops\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
        ),
        "{}",
        text(&all)
    );
    let mine = k.run(&["get", "pods", "-n", &ns]).await;
    assert!(mine.status.success(), "{}", text(&mine));
    assert!(text(&mine).contains("hub-"), "{}", text(&mine));

    // `auth can-i` asks SelfSubjectAccessReviews, `--list` a SelfSubjectRulesReview.
    let can = |args: &[&str]| {
        let mut a = vec!["auth", "can-i"];
        a.extend_from_slice(args);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    for (args, yes) in [
        (can(&["watch", "pods", "-n", &ns]), true),
        (can(&["patch", "deployments.apps", "-n", &ns]), true),
        (can(&["list", "pods", "-A"]), false),
        (can(&["get", "secrets", "-n", "kube-system"]), false),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = k.run(&refs).await;
        let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(
            said,
            if yes { "yes" } else { "no" },
            "{args:?}: {}",
            text(&out)
        );
    }
    let list = k.run(&["auth", "can-i", "--list", "-n", &ns]).await;
    assert!(list.status.success(), "{}", text(&list));
    let rules = text(&list);
    let pods = rules
        .lines()
        .find(|l| l.trim_start().starts_with("pods "))
        .unwrap_or_else(|| panic!("no pods rule in:\n{rules}"));
    assert!(pods.contains("watch") && pods.contains("list"), "{pods}");
    let elsewhere = k
        .run(&["auth", "can-i", "--list", "-n", "kube-system"])
        .await;
    assert!(
        !text(&elsewhere)
            .lines()
            .any(|l| l.trim_start().starts_with("pods ")),
        "{}",
        text(&elsewhere)
    );
}
