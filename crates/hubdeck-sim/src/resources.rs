//! The resource kinds the fake API server serves, and the discovery documents describing them.

use serde_json::{Value, json};

/// A kind of stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Pod,
    Service,
    Secret,
    ConfigMap,
    Event,
    Namespace,
    Deployment,
    StatefulSet,
    Node,
    /// dask-gateway's custom resource: served only by clusters with its CRD (not in `ALL`,
    /// which is what every cluster serves).
    DaskCluster,
}

impl Kind {
    /// Every kind, for discovery.
    pub const ALL: [Kind; 9] = [
        Kind::Pod,
        Kind::Service,
        Kind::Secret,
        Kind::ConfigMap,
        Kind::Event,
        Kind::Namespace,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::Node,
    ];

    /// The object `kind` field.
    pub fn kind(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Service => "Service",
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
            Kind::Event => "Event",
            Kind::Namespace => "Namespace",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::Node => "Node",
            Kind::DaskCluster => "DaskCluster",
        }
    }

    /// The URL plural.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::Service => "services",
            Kind::Secret => "secrets",
            Kind::ConfigMap => "configmaps",
            Kind::Event => "events",
            Kind::Namespace => "namespaces",
            Kind::Deployment => "deployments",
            Kind::StatefulSet => "statefulsets",
            Kind::Node => "nodes",
            Kind::DaskCluster => "daskclusters",
        }
    }

    /// The API group ("" for core).
    pub fn group(self) -> &'static str {
        match self {
            Kind::Deployment | Kind::StatefulSet => "apps",
            Kind::DaskCluster => super::dask::GROUP,
            _ => "",
        }
    }

    /// The `apiVersion` field.
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Deployment | Kind::StatefulSet => "apps/v1",
            Kind::DaskCluster => "gateway.dask.org/v1alpha1",
            _ => "v1",
        }
    }

    /// Whether objects live in a namespace.
    pub fn namespaced(self) -> bool {
        !matches!(self, Kind::Namespace | Kind::Node)
    }

    /// Finds the kind served at `group`/`plural`.
    pub fn from_plural(group: &str, plural: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.group() == group && k.plural() == plural)
    }

    fn short_names(self) -> &'static [&'static str] {
        match self {
            Kind::Pod => &["po"],
            Kind::Service => &["svc"],
            Kind::Event => &["ev"],
            Kind::Namespace => &["ns"],
            Kind::Deployment => &["deploy"],
            Kind::StatefulSet => &["sts"],
            Kind::Secret => &[],
            Kind::ConfigMap => &["cm"],
            Kind::Node => &["no"],
            Kind::DaskCluster => &[],
        }
    }
}

const RW_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_entry(kind: Kind) -> Value {
    json!({
        "name": kind.plural(),
        "singularName": kind.kind().to_lowercase(),
        "namespaced": kind.namespaced(),
        "kind": kind.kind(),
        "verbs": RW_VERBS,
        "shortNames": kind.short_names(),
    })
}

fn sub_entry(name: &str, kind: &str, verbs: &[&str], group: Option<(&str, &str)>) -> Value {
    let mut v =
        json!({"name": name, "singularName": "", "namespaced": true, "kind": kind, "verbs": verbs});
    if let Some((g, ver)) = group {
        v["group"] = json!(g);
        v["version"] = json!(ver);
    }
    v
}

/// `GET /version`.
pub(crate) fn version() -> Value {
    json!({
        "major": "1", "minor": "31", "gitVersion": "v1.31.4-hubdeck-sim",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.22.10", "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `GET /api`.
pub(crate) fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
}

/// `GET /apis`, with metrics.k8s.io when its APIService is registered.
pub(crate) fn group_list(metrics_registered: bool) -> Value {
    let group = |name: &str| {
        json!({"name": name, "versions": [{"groupVersion": format!("{name}/v1"), "version": "v1"}],
               "preferredVersion": {"groupVersion": format!("{name}/v1"), "version": "v1"}})
    };
    let metrics = json!({"name": "metrics.k8s.io",
        "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}],
        "preferredVersion": {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}});
    let mut groups = vec![group("apps"), group("authorization.k8s.io")];
    if metrics_registered {
        groups.push(metrics);
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /api/v1`, `/apis/apps/v1`, `/apis/authorization.k8s.io/v1`; None for unknown groups.
pub(crate) fn resource_list(group_version: &str) -> Option<Value> {
    let resources: Vec<Value> = match group_version {
        "v1" => {
            let mut r: Vec<Value> = Kind::ALL
                .into_iter()
                .filter(|k| k.group().is_empty())
                .map(resource_entry)
                .collect();
            r.push(sub_entry(
                "pods/exec",
                "PodExecOptions",
                &["create", "get"],
                None,
            ));
            r.push(sub_entry("pods/log", "Pod", &["get"], None));
            r.push(sub_entry(
                "pods/portforward",
                "PodPortForwardOptions",
                &["create", "get"],
                None,
            ));
            r.push(sub_entry(
                "pods/status",
                "Pod",
                &["get", "patch", "update"],
                None,
            ));
            r.push(sub_entry(
                "services/proxy",
                "ServiceProxyOptions",
                &["create", "delete", "get", "patch", "update"],
                None,
            ));
            r
        }
        "apps/v1" => {
            let mut r = Vec::new();
            for k in [Kind::Deployment, Kind::StatefulSet] {
                r.push(resource_entry(k));
                let scale = Some(("autoscaling", "v1"));
                r.push(sub_entry(
                    &format!("{}/scale", k.plural()),
                    "Scale",
                    &["get", "patch", "update"],
                    scale,
                ));
                r.push(sub_entry(
                    &format!("{}/status", k.plural()),
                    k.kind(),
                    &["get", "patch", "update"],
                    None,
                ));
            }
            r
        }
        // metrics-server's aggregated API.
        "metrics.k8s.io/v1beta1" => vec![
            json!({"name": "nodes", "singularName": "", "namespaced": false,
                "kind": "NodeMetrics", "verbs": ["get", "list"]}),
            json!({"name": "pods", "singularName": "", "namespaced": true,
                "kind": "PodMetrics", "verbs": ["get", "list"]}),
        ],
        "authorization.k8s.io/v1" => vec![
            json!({
                "name": "selfsubjectaccessreviews", "singularName": "", "namespaced": false,
                "kind": "SelfSubjectAccessReview", "verbs": ["create"]
            }),
            json!({
                "name": "selfsubjectrulesreviews", "singularName": "", "namespaced": false,
                "kind": "SelfSubjectRulesReview", "verbs": ["create"]
            }),
        ],
        _ => return None,
    };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": group_version, "resources": resources}))
}
