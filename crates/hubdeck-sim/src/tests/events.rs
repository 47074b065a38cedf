//! Why a server is pending, in the events a real cluster writes, read through kube.

use super::*;

async fn pod_events(client: &Client, ns: &str, pod: &str) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().fields(&format!("involvedObject.name={pod}"));
    let mut list = events.list(&lp).await.unwrap().items;
    list.sort_by_key(|e| e.metadata.creation_timestamp.clone().map(|t| t.0));
    list
}

fn find<'a>(evs: &'a [Event], reason: &str) -> &'a Event {
    evs.iter()
        .find(|e| e.reason.as_deref() == Some(reason))
        .unwrap_or_else(|| {
            panic!(
                "no {reason} in {:?}",
                evs.iter().map(|e| &e.reason).collect::<Vec<_>>()
            )
        })
}

#[tokio::test]
async fn a_server_that_waits_for_a_scale_up_tells_the_whole_story() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let nodes_before = c.nodes().len();
    // Quiet: the new node joins and the image is pulled at once.
    let pod = c.start_server_pending(&ns, "ada", "", Some(Pending::ScaleUp));
    let evs = pod_events(&client, &ns, &pod).await;
    let failed = find(&evs, "FailedScheduling");
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    let msg = failed.message.as_deref().unwrap();
    let total = nodes_before;
    assert!(
        msg.starts_with(&format!("0/{total} nodes are available: ")),
        "{msg}"
    );
    assert!(
        msg.contains("node(s) didn't match Pod's node affinity/selector"),
        "{msg}"
    );
    // The scheduler writes through events.k8s.io: eventTime, no count or lastTimestamp.
    assert!(failed.event_time.is_some() && failed.last_timestamp.is_none());
    assert_eq!(
        failed.reporting_component.as_deref(),
        Some("user-scheduler")
    );
    let up = find(&evs, "TriggeredScaleUp");
    assert_eq!(up.type_.as_deref(), Some("Normal"));
    let re =
        regex::Regex::new(r"^pod triggered scale-up: \[\{\S+ (\d+)->(\d+) \(max: (\d+)\)\}\]$")
            .unwrap();
    let caps = re
        .captures(up.message.as_deref().unwrap())
        .expect("CA's message format");
    let (from, to): (usize, usize) = (caps[1].parse().unwrap(), caps[2].parse().unwrap());
    assert_eq!(to, from + 1);
    assert_eq!(
        up.source.as_ref().and_then(|s| s.component.as_deref()),
        Some("cluster-autoscaler")
    );
    assert_eq!(up.count, Some(1));
    assert!(up.first_timestamp.is_some() && up.event_time.is_none());
    assert_eq!(c.nodes().len(), nodes_before + 1, "the pool grew by a node");
    let scheduled = find(&evs, "Scheduled");
    let p = c
        .pods()
        .into_iter()
        .find(|p| p.metadata.name.as_deref() == Some(&pod))
        .unwrap();
    let node = p.spec.unwrap().node_name.unwrap();
    assert_eq!(
        scheduled.message.as_deref(),
        Some(format!("Successfully assigned {ns}/{pod} to {node}").as_str())
    );
    let pulling = find(&evs, "Pulling");
    assert_eq!(
        pulling.source.as_ref().unwrap().host.as_deref(),
        Some(node.as_str())
    );
    let pulled = find(&evs, "Pulled").message.clone().unwrap();
    // Go's time.Duration text, as the kubelet prints it: "12.345s", "12.3s", "12s".
    let re = regex::Regex::new(r#"^Successfully pulled image "[^"]+" in (\d+(?:\.\d+)?)s \((\d+(?:\.\d+)?)s including waiting\)\. Image size: \d+ bytes\.$"#).unwrap();
    let caps = re.captures(&pulled).expect(&pulled);
    let secs: f64 = caps[1].parse().unwrap();
    assert!((3.0..=20.0).contains(&secs), "{pulled}");
    for (i, e) in evs.iter().enumerate() {
        let io = &e.involved_object;
        assert_eq!(
            (io.kind.as_deref(), io.name.as_deref()),
            (Some("Pod"), Some(pod.as_str())),
            "{i}"
        );
        assert!(io.uid.is_some());
    }
    find(&evs, "Started");
    // The scheduler binds what it places; the kubelet names the container it pulls for.
    assert_eq!(scheduled.action.as_deref(), Some("Binding"));
    assert_eq!(failed.action.as_deref(), Some("Scheduling"));
    assert_eq!(
        pulling.involved_object.field_path.as_deref(),
        Some("spec.containers{notebook}")
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_missing_secret_leaves_a_server_pending_after_its_image_pulled() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server_pending(&ns, "dee", "", Some(Pending::MissingSecret));
    let evs = pod_events(&client, &ns, &pod).await;
    let reasons: Vec<_> = evs.iter().filter_map(|e| e.reason.as_deref()).collect();
    for r in ["Scheduled", "Pulling", "Pulled", "Failed"] {
        assert!(reasons.contains(&r), "{reasons:?}");
    }
    let pulling = find(&evs, "Pulling").first_timestamp.clone().unwrap().0;
    let pulled = find(&evs, "Pulled");
    let said = pulled.message.as_deref().unwrap();
    let figure: f64 = said
        .split(" in ")
        .nth(1)
        .and_then(|r| r.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    let between = pulled
        .first_timestamp
        .clone()
        .unwrap()
        .0
        .duration_since(pulling);
    assert!(
        (between.as_secs_f64() - figure).abs() < 1.0,
        "{said} vs {between:?}"
    );
    let failed = find(&evs, "Failed");
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    assert!(
        failed
            .message
            .as_deref()
            .unwrap()
            .starts_with("Error: secret \""),
        "{failed:?}"
    );
    let p: Pod = Api::namespaced(client.clone(), &ns)
        .get(&pod)
        .await
        .unwrap();
    let status = p.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let waiting = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(
        waiting.reason.as_deref(),
        Some("CreateContainerConfigError")
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn pod_events_are_selected_as_kube_apiserver_selects_them() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    c.start_server_pending(&ns, "eve", "", Some(Pending::ScaleUp));
    let events: Api<Event> = Api::all(client.clone());
    let select = |s: &str| ListParams::default().fields(s);
    let story = events
        .list(&select(
            "involvedObject.kind=Pod,reason!=Created,reason!=Started",
        ))
        .await
        .unwrap()
        .items;
    assert!(
        story
            .iter()
            .any(|e| e.reason.as_deref() == Some("Scheduled"))
    );
    assert!(
        story
            .iter()
            .all(|e| !matches!(e.reason.as_deref(), Some("Created" | "Started")))
    );
    // The scheduler leaves `source` empty: the field is its reporting controller then.
    for field in ["source", "reportingComponent"] {
        let by = events
            .list(&select(&format!("{field}=user-scheduler")))
            .await
            .unwrap()
            .items;
        assert!(
            by.iter()
                .any(|e| e.reason.as_deref() == Some("FailedScheduling")),
            "{field}"
        );
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_pool_at_its_maximum_leaves_servers_pending_with_not_trigger_scale_up() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server_pending(&ns, "bo", "", Some(Pending::PoolAtMax));
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let p = pods.get(&pod).await.unwrap();
    let status = p.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let cond = &status.conditions.unwrap()[0];
    assert_eq!(
        (cond.type_.as_str(), cond.reason.as_deref()),
        ("PodScheduled", Some("Unschedulable"))
    );
    let evs = pod_events(&client, &ns, &pod).await;
    let no = find(&evs, "NotTriggerScaleUp");
    assert_eq!(no.type_.as_deref(), Some("Normal"));
    assert_eq!(
        no.message.as_deref(),
        Some(
            "pod didn't trigger scale-up: 1 max node group size reached, 1 node(s) didn't match Pod's node affinity/selector"
        )
    );
    // It waits: nothing schedules it, and the scheduler's message matches the pod's condition.
    let failed = find(&evs, "FailedScheduling");
    assert_eq!(failed.message, cond.message);
    assert!(evs.iter().all(|e| e.reason.as_deref() != Some("Scheduled")));
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_volume_that_does_not_attach_keeps_the_server_creating() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server_pending(&ns, "cy", "", Some(Pending::VolumeAttach));
    let evs = pod_events(&client, &ns, &pod).await;
    let attach = find(&evs, "FailedAttachVolume");
    assert_eq!(attach.type_.as_deref(), Some("Warning"));
    assert!(
        attach
            .message
            .as_deref()
            .unwrap()
            .starts_with("AttachVolume.Attach failed for volume \"pvc-")
    );
    assert_eq!(
        attach.source.as_ref().unwrap().component.as_deref(),
        Some("attachdetach-controller")
    );
    let mount = find(&evs, "FailedMount");
    assert!(
        mount
            .message
            .as_deref()
            .unwrap()
            .starts_with("Unable to attach or mount volumes: unmounted volumes=[home]")
    );
    let p = c
        .pods()
        .into_iter()
        .find(|p| p.metadata.name.as_deref() == Some(&pod))
        .unwrap();
    let cs = &p.status.unwrap().container_statuses.unwrap()[0];
    let waiting = cs.state.as_ref().unwrap().waiting.as_ref().unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("ContainerCreating"));
    fleet.shutdown().await;
}

#[tokio::test]
async fn the_demo_starts_with_servers_waiting_on_a_full_pool() {
    let spec = FleetSpec {
        scenario: Scenario::Steady,
        ..FleetSpec::small()
    };
    let fleet = SimFleet::start(spec).await.unwrap();
    let evs = fleet.clusters()[0].events();
    let no: Vec<_> = evs
        .iter()
        .filter(|e| e.reason.as_deref() == Some("NotTriggerScaleUp"))
        .collect();
    assert!(no.len() >= 4, "{}", no.len());
    assert!(no.iter().all(|e| e.count.unwrap_or(0) >= 12));
    let scheduling: Vec<_> = evs
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedScheduling") && e.series.is_some())
        .collect();
    assert!(scheduling.len() >= 4);
    let second = fleet.clusters()[1].events();
    assert!(
        second
            .iter()
            .any(|e| e.reason.as_deref() == Some("FailedAttachVolume"))
    );
    fleet.shutdown().await;
}
