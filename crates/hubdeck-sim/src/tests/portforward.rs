//! Port-forward to hub pods through kube's client: only the hub API port answers, and
//! forwarding needs `create` on `pods/portforward`.

use super::*;

#[tokio::test]
async fn port_forward_refuses_other_ports_and_needs_create() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let hub_pod = c
        .pods()
        .into_iter()
        .find(|p| {
            p.metadata.namespace.as_deref() == Some(ns.as_str())
                && p.metadata.labels.as_ref().unwrap()["component"] == "hub"
        })
        .and_then(|p| p.metadata.name)
        .unwrap();
    let mut pf = pods.portforward(&hub_pod, &[9999]).await.unwrap();
    let err = pf.take_error(9999).unwrap().await.unwrap();
    assert!(err.contains("connection refused"), "{err}");

    let ro_path = fleet.kubeconfig_path().with_extension("ro-pf");
    fleet
        .write_kubeconfig(&ro_path, Identity::ReadOnly)
        .unwrap();
    let ro: Api<Pod> = Api::namespaced(client_for(&ro_path, c.name()).await, &ns);
    let code = |r: Result<kube::api::Portforwarder, kube::Error>| match r {
        Ok(_) => panic!("port-forward should be refused"),
        Err(e) => api_code(e),
    };
    assert_eq!(code(ro.portforward(&hub_pod, &[8081]).await), 403);
    assert_eq!(code(pods.portforward("nope", &[8081]).await), 404);
    let _ = std::fs::remove_file(ro_path);
    fleet.shutdown().await;
}
