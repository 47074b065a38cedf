//! Nodes in pools named as each cloud names them, read through kube and kubectl.

use super::*;
use k8s_openapi::api::core::v1::Node;

fn label<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

fn condition(n: &Node, ty: &str) -> String {
    let conds = n.status.as_ref().and_then(|s| s.conditions.clone());
    conds
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == ty)
        .map(|c| c.status)
        .unwrap_or_default()
}

#[tokio::test]
async fn nodes_come_in_pools_labelled_as_each_cloud_labels_them() {
    let spec = FleetSpec {
        clusters: 6,
        hubs: 6,
        servers: 120,
        ..FleetSpec::small()
    };
    let fleet = SimFleet::start(spec).await.unwrap();
    let pool_label = [
        ("gcp", "cloud.google.com/gke-nodepool"),
        ("aws", "eks.amazonaws.com/nodegroup"),
        ("azure", "kubernetes.azure.com/agentpool"),
    ];
    let mut karpenter = 0;
    for c in fleet.clusters() {
        let client = client_for(fleet.kubeconfig_path(), c.name()).await;
        let nodes: Api<Node> = Api::all(client.clone());
        let list = nodes.list(&ListParams::default()).await.unwrap().items;
        assert!(list.len() >= 4, "{}: {} nodes", c.name(), list.len());
        let key = pool_label
            .iter()
            .find(|(p, _)| *p == c.provider())
            .unwrap()
            .1;
        let mut pools = std::collections::BTreeSet::new();
        for n in &list {
            let purpose = label(n, "hub.jupyter.org/node-purpose").unwrap();
            assert!(label(n, "node.kubernetes.io/instance-type").is_some());
            let pool = label(n, key).or(label(n, "karpenter.sh/nodepool")).unwrap();
            if label(n, "karpenter.sh/nodepool").is_some() {
                karpenter += 1;
            }
            pools.insert((pool.to_string(), purpose.to_string()));
            assert_eq!(condition(n, "Ready"), "True", "a Quiet fleet is healthy");
            assert_eq!(condition(n, "MemoryPressure"), "False");
            let status = n.status.as_ref().unwrap();
            let alloc = status.allocatable.as_ref().unwrap();
            let cap = status.capacity.as_ref().unwrap();
            assert!(alloc["cpu"].0.ends_with('m') && !cap["cpu"].0.ends_with('m'));
            assert!(n.metadata.creation_timestamp.is_some());
        }
        match c.provider() {
            "gcp" => {
                assert!(
                    pools.contains(&("core-pool".into(), "core".into())),
                    "{pools:?}"
                );
                assert!(
                    pools.contains(&("nb-n2-highmem-4".into(), "user".into())),
                    "{pools:?}"
                );
            }
            "azure" => assert!(
                pools.contains(&("nbuser".into(), "user".into())),
                "{pools:?}"
            ),
            _ => {
                for n in list.iter().filter(|n| label(n, key).is_some()) {
                    assert_eq!(label(n, key), label(n, "alpha.eksctl.io/nodegroup-name"));
                }
            }
        }
        // Every scheduled pod runs on a node that exists, user servers on user nodes.
        let names: std::collections::BTreeMap<String, String> = list
            .iter()
            .map(|n| {
                let purpose = label(n, "hub.jupyter.org/node-purpose").unwrap();
                (n.metadata.name.clone().unwrap(), purpose.to_string())
            })
            .collect();
        for p in c.pods() {
            let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
            let Some(node) = node else { continue };
            let purpose = names.get(&node).unwrap_or_else(|| panic!("no node {node}"));
            let component = label_of(&p, "component");
            if component == "singleuser-server" {
                assert_eq!(purpose, "user");
            }
        }
        let users: Api<Node> = Api::all(client);
        let lp = ListParams::default().labels("hub.jupyter.org/node-purpose=user");
        let user_nodes = users.list(&lp).await.unwrap().items;
        assert_eq!(user_nodes.len(), c.node_names("user").len());
    }
    assert!(karpenter > 0, "one AWS cluster runs Karpenter");
    fleet.shutdown().await;
}

fn label_of(p: &Pod, key: &str) -> String {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(key).cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn cordon_and_conditions_show_in_the_node_and_its_watch() {
    let (fleet, c, client) = small().await;
    let nodes: Api<Node> = Api::all(client);
    let name = c.node_names("user")[0].clone();
    let mut stream = watcher(nodes.clone(), watcher::Config::default()).boxed();
    // kubectl cordon is a patch of spec.unschedulable; the taint follows.
    let patch = json!({"spec": {"unschedulable": true}});
    nodes
        .patch(&name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .unwrap();
    let ev = next_matching(&mut stream, |e: &Result<watcher::Event<Node>, _>| {
        matches!(e, Ok(watcher::Event::Apply(n) | watcher::Event::InitApply(n))
            if n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true))
    })
    .await;
    let Ok(watcher::Event::Apply(n) | watcher::Event::InitApply(n)) = ev else {
        unreachable!()
    };
    let taints = n.spec.unwrap().taints.unwrap();
    assert!(
        taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/unschedulable")
    );
    let lp = ListParams::default().fields("spec.unschedulable=true");
    let cordoned = nodes.list(&lp).await.unwrap().items;
    assert_eq!(cordoned.len(), 1);
    assert_eq!(cordoned[0].metadata.name.as_deref(), Some(name.as_str()));

    let other = c.node_names("user")[1].clone();
    assert!(c.set_node_conditions(&other, &[NodeCondition::MemoryPressure]));
    let n = nodes.get(&other).await.unwrap();
    assert_eq!(condition(&n, "MemoryPressure"), "True");
    assert_eq!(condition(&n, "Ready"), "True");
    assert!(c.set_node_conditions(&other, &[NodeCondition::NotReady]));
    let n = nodes.get(&other).await.unwrap();
    assert_eq!(condition(&n, "Ready"), "Unknown");
    let taints = n.spec.unwrap().taints.unwrap();
    assert!(
        taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/unreachable" && t.effect == "NoExecute")
    );
    // New servers avoid both.
    for i in 0..12 {
        let pod = c.start_server(&c.hub_namespaces()[0], &format!("newcomer{i}"), "");
        let p = c
            .pods()
            .into_iter()
            .find(|p| p.metadata.name.as_deref() == Some(&pod))
            .unwrap();
        let on = p.spec.unwrap().node_name.unwrap();
        assert!(on != name && on != other, "{pod} landed on {on}");
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_moving_fleet_shows_a_cordoned_a_silent_and_a_pressed_node() {
    let spec = FleetSpec {
        scenario: Scenario::Steady,
        ..FleetSpec::small()
    };
    let fleet = SimFleet::start(spec).await.unwrap();
    let found = |i: usize, f: &dyn Fn(&Node) -> bool| fleet.clusters()[i].nodes().iter().any(f);
    assert!(found(0, &|n| n.spec.as_ref().and_then(|s| s.unschedulable)
        == Some(true)));
    assert!(found(1, &|n| condition(n, "Ready") == "Unknown"));
    assert!(found(2, &|n| condition(n, "MemoryPressure") == "True"));
    fleet.shutdown().await;
}
