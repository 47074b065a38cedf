//! Restarted containers: OOM kills in pod status, previous-run logs and the real 400 without one.

use super::*;

fn user_pod(c: &SimCluster, ns: &str) -> String {
    c.pods()
        .into_iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .filter_map(|p| p.metadata.name)
        .find(|n| n.starts_with("jupyter-"))
        .unwrap()
}

async fn memory_of(client: &Client, ns: &str, pod: &str) -> f64 {
    let path = format!("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/{pod}");
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    let m: serde_json::Value = client.request(req).await.unwrap();
    let ki = m["containers"][0]["usage"]["memory"].as_str().unwrap();
    ki.trim_end_matches("Ki").parse::<f64>().unwrap() * 1024.0
}

#[tokio::test]
async fn an_oom_killed_server_restarts_with_its_last_state_and_previous_logs() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = user_pod(&c, &ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let lp = LogParams {
        previous: true,
        ..LogParams::default()
    };
    let err = pods.logs(&pod, &lp).await.unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("{err:?}")
    };
    assert_eq!(s.code, 400);
    assert_eq!(
        s.message,
        format!("previous terminated container \"notebook\" in pod \"{pod}\" not found")
    );

    let limit = 4.0 * 1024.0 * 1024.0 * 1024.0;
    let calm = memory_of(&client, &ns, &pod).await;
    assert!(calm < 0.8 * limit, "{calm}");
    assert!(c.oom_course(&ns, &pod, Duration::from_secs(3600)));
    let near = memory_of(&client, &ns, &pod).await;
    assert!(near > 0.6 * limit && near < limit, "{near}");

    assert!(c.oom_kill(&ns, &pod));
    let p = pods.get(&pod).await.unwrap();
    let cs = &p.status.unwrap().container_statuses.unwrap()[0];
    assert_eq!(cs.restart_count, 1);
    let term = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!(
        (term.reason.as_deref(), term.exit_code),
        (Some("OOMKilled"), 137)
    );
    assert!(term.finished_at.is_some() && term.container_id.is_some());
    assert!(cs.state.as_ref().unwrap().running.is_some());
    let previous = pods.logs(&pod, &lp).await.unwrap();
    assert!(previous.lines().count() > 10, "{previous}");
    assert!(previous.contains("ServerApp"));
    let after = memory_of(&client, &ns, &pod).await;
    assert!(
        after < near,
        "memory starts over after the restart: {after} vs {near}"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_course_reaches_the_limit_and_the_kernel_kills_again() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = user_pod(&c, &ns);
    assert!(c.oom_course(&ns, &pod, Duration::from_secs(1)));
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let restarts = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let p = pods.get(&pod).await.unwrap();
            let n = p.status.unwrap().container_statuses.unwrap()[0].restart_count;
            if n >= 2 {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("killed twice");
    assert!(restarts >= 2);
    fleet.shutdown().await;
}

#[tokio::test]
async fn logs_of_a_container_still_creating_are_refused_as_kubelet_refuses_them() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server_pending(&ns, "dee", "", Some(Pending::VolumeAttach));
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let err = pods.logs(&pod, &LogParams::default()).await.unwrap_err();
    let kube::Error::Api(s) = err else { panic!() };
    assert_eq!(
        (s.code, s.message),
        (
            400,
            format!(
                "container \"notebook\" in pod \"{pod}\" is waiting to start: ContainerCreating"
            )
        )
    );
    fleet.shutdown().await;
}
