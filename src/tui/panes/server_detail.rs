//! A user server's detail: what the table shows and more (last termination, image, the hub
//! API's view), the node it runs on — Enter opens that node — then the pod's description.

use crate::fleet::{HubState, NodeInfo, PodInfo, ServerId};

use super::super::app::Target;

use super::super::text::{age, bytes, cpu};
use super::super::{DescribeKind, DescribeRequest};
use super::servers::{phase, story_rows, usage_line, user};
use super::{Ctx, Open};

/// Local sections and the describe request of a user server.
pub fn server_detail(hub: &HubState, pod: &PodInfo, ctx: &Ctx) -> Open {
    let (phase, _) = phase(hub, pod, ctx.now);
    let (cpu_used, mem_used) = usage_line(hub, pod, ctx);
    let mut summary = vec![
        ("Hub".to_string(), hub.id.to_string()),
        ("User".into(), user(pod).to_string()),
        (
            "Server".into(),
            pod.owner.as_ref().map_or("", |o| &o.server).to_string(),
        ),
        ("Pod".into(), pod.key.name.to_string()),
        ("Phase".into(), phase),
        ("Ready".into(), pod.ready.to_string()),
        ("Restarts".into(), pod.restarts.to_string()),
        (
            "Last termination".into(),
            pod.last_termination
                .as_ref()
                .map_or_else(|| "-".to_string(), |t| t.describe(ctx.now)),
        ),
        (
            "Node".into(),
            pod.node.as_deref().unwrap_or("-").to_string(),
        ),
    ];
    let node = pod.node.as_ref().map(|name| {
        let info = ctx
            .fleet
            .cluster(hub.id.cluster.as_str())
            .and_then(|c| c.nodes.get(name));
        (name, info)
    });
    if let Some((_, info)) = &node {
        summary.push(("Node status".into(), node_status(*info)));
    }
    summary.extend([
        ("Age".into(), age(ctx.now, pod.started.or(pod.created))),
        (
            "Requests".into(),
            format!(
                "cpu {} mem {}",
                cpu(pod.requests.cpu_milli),
                bytes(pod.requests.memory_bytes)
            ),
        ),
        (
            "Limits".into(),
            format!(
                "cpu {} mem {}",
                cpu(pod.limits.cpu_milli),
                bytes(pod.limits.memory_bytes)
            ),
        ),
        ("CPU used".into(), cpu_used),
        ("Memory used".into(), mem_used),
        (
            "Image".into(),
            pod.image.as_deref().unwrap_or("-").to_string(),
        ),
    ]);
    if let Some(a) = hub.activity_of(pod) {
        summary.push(("Hub says ready".into(), a.ready.to_string()));
        summary.push((
            "Last activity".into(),
            format!("{} ago", age(ctx.now, a.last_activity)),
        ));
        if let Some(p) = a.pending {
            summary.push(("Pending action".into(), p.as_str().to_string()));
        }
    }
    if let Some(d) = hub.dask_of(pod) {
        summary.push((
            "Dask".into(),
            format!("{} clusters, {} workers", d.clusters, d.workers),
        ));
    }
    let mut sections = vec![("User server".to_string(), summary)];
    if let Some(story) = hub.story(&pod.key.name) {
        sections.push(("Why it is pending".into(), story_rows(story, ctx.now)));
    }
    let target = pod.owner.as_ref().map(|o| Target::Server {
        server: ServerId {
            hub: hub.id.clone(),
            user: o.user.clone(),
            server: o.server.clone(),
        },
        pod: pod.key.clone(),
    });
    Open::Detail {
        title: format!("{} › Detail", user(pod)),
        sections,
        link: node.map(|(name, _)| Box::new(Open::Node(hub.id.cluster.clone(), name.clone()))),
        describe: Some(DescribeRequest {
            cluster: hub.id.cluster.clone(),
            kind: DescribeKind::Pod,
            namespace: pod.key.namespace.to_string(),
            name: pod.key.name.to_string(),
        }),
        target,
    }
}

/// The state of the node a server runs on, next to its name (a narrow terminal shows both), and
/// that Enter opens it in the Nodes pane.
fn node_status(info: Option<&NodeInfo>) -> String {
    let Some(n) = info else {
        return "not listed (nodes are not watched here)".into();
    };
    let mut status = vec![if n.ready { "Ready" } else { "NotReady" }];
    if n.cordoned {
        status.push("cordoned");
    }
    if n.pressure.any() {
        status.push(n.pressure.names());
    }
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{} · pool {} ({}) · enter: open it",
        status.join(", "),
        or_dash(&n.pool),
        or_dash(&n.instance_type)
    )
}
