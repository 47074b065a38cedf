//! `metrics.k8s.io/v1beta1` as metrics-server serves it: NodeMetrics and PodMetrics, listed (all,
//! per namespace, with label selectors) or got by name, CPU in nanocores and memory in Ki, one
//! value per 15 s scrape. Usage is computed, not stored: a slow wave per container from a hash of
//! its pod, under its limits, except for a pod set on course for an OOM kill (`State::oom`),
//! whose memory climbs to its limit. Pods that do not run, and nodes whose kubelet is silent,
//! have no metrics, as metrics-server has none to scrape.

use std::collections::BTreeMap;

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::access;
use super::api::Call;
use super::controller::State;
use super::nodes::{NodeCondition, bad_conditions};
use super::resources::Kind;
use super::selectors::LabelSelector;
use super::status::{ApiError, json_response};
use super::store::rfc3339;

/// metrics-server's default scrape interval.
const SCRAPE_SECS: i64 = 15;

/// How a cluster answers metrics.k8s.io.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MetricsApi {
    /// metrics-server is installed and answers.
    Served = 0,
    /// No metrics-server: the group is not in discovery and its paths are 404.
    NotInstalled = 1,
    /// Its APIService is registered but unavailable (metrics-server down): kube-aggregator
    /// answers 503 `service unavailable` in plain text, discovery included.
    Unavailable = 2,
}

impl MetricsApi {
    pub(crate) fn from_index(i: u8) -> Self {
        match i {
            1 => Self::NotInstalled,
            2 => Self::Unavailable,
            _ => Self::Served,
        }
    }
}

/// The answer to any metrics.k8s.io path of a cluster that does not serve it as `api` says.
pub(crate) fn unserved(api: MetricsApi, path: &str) -> Result<Response, ApiError> {
    match api {
        MetricsApi::Served | MetricsApi::NotInstalled => Err(ApiError::no_route(path)),
        MetricsApi::Unavailable => Ok(Response::builder()
            .status(503)
            .header("content-type", "text/plain; charset=utf-8")
            .header("x-content-type-options", "nosniff")
            .body(axum::body::Body::from("service unavailable\n"))
            .unwrap_or_default()),
    }
}

/// Reads a Kubernetes quantity as a number of base units (cores or bytes).
pub(crate) fn quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let f = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n * f)
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// A number in [0, 1) from a hash, for per-container shapes.
fn unit(h: u64, salt: u64) -> f64 {
    ((h ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as f64 / (1u64 << 53) as f64
}

/// A slow wave in [-1, 1]: a few minutes a period, its phase fixed per container.
fn wave(h: u64, t: i64, period: f64) -> f64 {
    (std::f64::consts::TAU * (t as f64 / period + unit(h, 7))).sin()
}

/// The few fields of a pod a scrape reads, parsed without the rest (a whole `Value` per pod
/// made the scrape the sim's main cost).
#[derive(Deserialize, Default)]
#[serde(default)]
struct PodView {
    metadata: MetaView,
    spec: SpecView,
    status: StatusView,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MetaView {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpecView {
    node_name: Option<String>,
    containers: Vec<ContainerView>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContainerView {
    name: String,
    resources: ResourcesView,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourcesView {
    limits: BTreeMap<String, QuantityView>,
    requests: BTreeMap<String, QuantityView>,
}

/// A quantity as stored: the API writes strings; a bare number someone sent is read too.
#[derive(Deserialize)]
#[serde(untagged)]
enum QuantityView {
    Text(String),
    Number(f64),
}

impl QuantityView {
    fn value(&self) -> Option<f64> {
        match self {
            Self::Text(q) => quantity(q),
            Self::Number(n) => Some(*n),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct StatusView {
    phase: String,
    container_statuses: Vec<ContainerStatusView>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContainerStatusView {
    name: String,
    state: StateView,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StateView {
    running: Option<serde::de::IgnoredAny>,
}

/// One container's usage at scrape time `t`: (cores, bytes).
fn container_usage(st: &State, pod: &PodView, c: &ContainerView, t: i64) -> (f64, f64) {
    let (ns, name) = (pod.metadata.namespace.as_str(), pod.metadata.name.as_str());
    let h = fnv(&format!("{ns}/{name}/{}", c.name));
    let res = &c.resources;
    let get = |kind: &BTreeMap<String, QuantityView>, what: &str| {
        kind.get(what).and_then(QuantityView::value)
    };
    let mem_limit = get(&res.limits, "memory");
    let mem_req = get(&res.requests, "memory").unwrap_or(256.0 * 1024.0 * 1024.0);
    let cpu_limit = get(&res.limits, "cpu");
    let cpu_req = get(&res.requests, "cpu").unwrap_or(0.1);
    // Memory: a working set between a fifth and two thirds of the limit (or of twice the request).
    let ceiling = mem_limit.unwrap_or(mem_req * 1.5);
    let base = ceiling * (0.2 + 0.4 * unit(h, 1));
    let mut mem = base * (1.0 + 0.12 * wave(h, t, 420.0 + 300.0 * unit(h, 2)));
    if let Some(oom) = st.oom.iter().find(|o| o.namespace == ns && o.pod == name)
        && let Some(limit) = mem_limit
    {
        let elapsed = (t - oom.since.as_second()).max(0) as f64;
        let progress = (elapsed / oom.climb_secs.max(1) as f64).min(1.0);
        mem = limit * (oom.from + (0.995 - oom.from) * progress);
    }
    // CPU: mostly idle notebooks with bursts, never above the limit.
    let idle = cpu_req * (0.02 + 0.2 * unit(h, 3));
    let burst = (wave(h, t, 90.0 + 120.0 * unit(h, 4))).max(0.0).powi(3) * cpu_req * 1.2;
    let cpu = (idle + burst).min(cpu_limit.unwrap_or(f64::MAX) * 0.98);
    (cpu, mem.min(mem_limit.unwrap_or(f64::MAX) * 0.995))
}

fn running(pod: &PodView, container: &str) -> bool {
    pod.status
        .container_statuses
        .iter()
        .any(|s| s.name == container && s.state.running.is_some())
}

fn usage(cores: f64, bytes: f64) -> Value {
    json!({"cpu": format!("{}n", (cores * 1e9) as u64), "memory": format!("{}Ki", (bytes / 1024.0) as u64)})
}

/// The scrape that answers a request now: its time, rounded down to the interval.
fn scrape_time() -> i64 {
    let now = jiff::Timestamp::now().as_second();
    now - now.rem_euclid(SCRAPE_SECS)
}

/// Nodes whose kubelet cannot be scraped.
fn silent_nodes(st: &State) -> Vec<String> {
    st.store
        .list(Kind::Node, None)
        .iter()
        .filter(|o| bad_conditions(&o.value()).contains(&NodeCondition::NotReady))
        .map(|o| o.name.to_string())
        .collect()
}

/// PodMetrics of a pod with running containers, with its node and per-container usage.
fn pod_metrics(st: &State, pod: &PodView, t: i64, silent: &[String]) -> Option<(Value, f64, f64)> {
    let node = pod.spec.node_name.as_deref()?;
    if silent.iter().any(|n| n == node) || pod.status.phase != "Running" {
        return None;
    }
    let mut containers = Vec::new();
    let (mut cpu, mut mem) = (0.0, 0.0);
    for c in &pod.spec.containers {
        if !running(pod, &c.name) {
            continue;
        }
        let (cc, cm) = container_usage(st, pod, c, t);
        cpu += cc;
        mem += cm;
        containers.push(json!({"name": c.name, "usage": usage(cc, cm)}));
    }
    if containers.is_empty() {
        return None;
    }
    let m = &pod.metadata;
    let v = json!({"metadata": {"name": m.name, "namespace": m.namespace,
            "creationTimestamp": rfc3339(jiff::Timestamp::now()), "labels": m.labels},
        "timestamp": rfc3339(jiff::Timestamp::from_second(t).unwrap_or_default()),
        "window": "15.006s", "containers": containers});
    Some((v, cpu, mem))
}

/// What one scrape of the cluster measured: every PodMetrics and NodeMetrics. Like
/// metrics-server, which answers from its last scrape of the kubelets, the sim computes them once
/// per scrape interval, and again only when the cluster changed meanwhile (a pod started, a node
/// went NotReady) or an OOM course moved: computing them per request parsed every pod twice and
/// made the sim, not the client, the cost of a big fleet's polls.
#[derive(Debug)]
pub(crate) struct Scrape {
    at: i64,
    revision: u64,
    oom: u64,
    pods: Vec<Item>,
    nodes: Vec<Item>,
}

/// One PodMetrics or NodeMetrics, with what requests select it by, serialized once.
#[derive(Debug)]
struct Item {
    namespace: Option<String>,
    name: String,
    labels: BTreeMap<String, String>,
    json: String,
}

impl Item {
    fn of(v: &Value) -> Self {
        Self {
            namespace: v["metadata"]["namespace"].as_str().map(str::to_string),
            name: v["metadata"]["name"].as_str().unwrap_or("").to_string(),
            labels: labels_of(v),
            json: v.to_string(),
        }
    }
}

/// A fingerprint of the OOM courses, which move memory without a change to the store.
fn oom_print(st: &State) -> u64 {
    st.oom.iter().fold(st.oom.len() as u64, |h, o| {
        h.rotate_left(7)
            ^ fnv(&o.pod)
            ^ fnv(&o.namespace)
            ^ o.since.as_second() as u64
            ^ o.climb_secs as u64
            ^ o.from.to_bits()
    })
}

/// The scrape at time `t`, from the cache when nothing changed since it was taken.
fn scrape(st: &mut State, t: i64) -> std::sync::Arc<Scrape> {
    let (revision, oom) = (st.store.resource_version(), oom_print(st));
    if let Some(s) = &st.scrape
        && s.at == t
        && s.revision == revision
        && s.oom == oom
    {
        return s.clone();
    }
    let silent = silent_nodes(st);
    let mut per_node: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut pods = Vec::new();
    for o in st.store.list(Kind::Pod, None) {
        let Some(pod) = o.typed::<PodView>() else {
            continue;
        };
        if let Some((m, cpu, mem)) = pod_metrics(st, &pod, t, &silent) {
            let node = pod.spec.node_name.clone().unwrap_or_default();
            let e = per_node.entry(node).or_default();
            e.0 += cpu;
            e.1 += mem;
            pods.push(Item::of(&m));
        }
    }
    let nodes = node_metrics(st, t, &silent, &per_node)
        .iter()
        .map(Item::of)
        .collect();
    let s = std::sync::Arc::new(Scrape {
        at: t,
        revision,
        oom,
        pods,
        nodes,
    });
    st.scrape = Some(s.clone());
    s
}

/// NodeMetrics of every scrapeable node: its pods' usage (`per_node`) plus the system's.
fn node_metrics(
    st: &State,
    t: i64,
    silent: &[String],
    per_node: &BTreeMap<String, (f64, f64)>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for o in st.store.list(Kind::Node, None) {
        if silent.iter().any(|n| **n == *o.name) {
            continue;
        }
        let node = o.value();
        let alloc = &node["status"]["allocatable"];
        let cores = alloc["cpu"].as_str().and_then(quantity).unwrap_or(4.0);
        let bytes = alloc["memory"].as_str().and_then(quantity).unwrap_or(16e9);
        let h = fnv(&o.name);
        let (pods_cpu, pods_mem) = per_node.get(&*o.name).copied().unwrap_or_default();
        // kubelet, containerd, kube-proxy, the CNI and the log agent.
        let sys_cpu = 0.08 + 0.02 * cores * (1.0 + wave(h, t, 300.0)) / 2.0;
        let sys_mem = 900e6 + 0.03 * bytes;
        let mut mem = pods_mem + sys_mem;
        if bad_conditions(&node).contains(&NodeCondition::MemoryPressure) {
            mem = mem.max(bytes * 0.97);
        }
        let cpu = (pods_cpu + sys_cpu).min(cores);
        out.push(json!({"metadata": {"name": o.name.as_ref(),
                "creationTimestamp": rfc3339(jiff::Timestamp::now()), "labels": node["metadata"]["labels"]},
            "timestamp": rfc3339(jiff::Timestamp::from_second(t).unwrap_or_default()),
            "window": "20.033s", "usage": usage(cpu, mem)}));
    }
    out
}

fn with_kind(mut v: Value, kind: &str) -> Value {
    v["kind"] = json!(kind);
    v["apiVersion"] = json!("metrics.k8s.io/v1beta1");
    v
}

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect()
}

/// `GET /apis/metrics.k8s.io/v1beta1/{nodes[/N] | pods | namespaces/NS/pods[/N]}`.
pub(crate) fn serve(call: &Call, rest: &[&str]) -> Result<Response, ApiError> {
    let (resource, namespace, name) = match rest {
        ["nodes"] => ("nodes", None, None),
        ["nodes", n] => ("nodes", None, Some(*n)),
        ["pods"] => ("pods", None, None),
        ["namespaces", ns, "pods"] => ("pods", Some(*ns), None),
        ["namespaces", ns, "pods", n] => ("pods", Some(*ns), Some(*n)),
        _ => return Err(ApiError::no_route("metrics.k8s.io")),
    };
    let verb = if name.is_some() { "get" } else { "list" };
    access::authorize(
        &call.identity,
        verb,
        "metrics.k8s.io",
        resource,
        name,
        namespace,
    )?;
    let selector = LabelSelector::parse(call.param("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let scraped = scrape(&mut call.cluster.inner.state(), scrape_time());
    let kind = if resource == "nodes" {
        "NodeMetrics"
    } else {
        "PodMetrics"
    };
    let all = if resource == "nodes" {
        &scraped.nodes
    } else {
        &scraped.pods
    };
    let mut items = all
        .iter()
        .filter(|i| namespace.is_none_or(|ns| i.namespace.as_deref() == Some(ns)))
        .filter(|i| name.is_none_or(|n| i.name == n))
        .filter(|i| selector.matches(&i.labels));
    match name {
        Some(n) => items
            .next()
            .map(|i| {
                let v: Value = serde_json::from_str(&i.json).unwrap_or(Value::Null);
                json_response(200, with_kind(v, kind).to_string())
            })
            .ok_or_else(|| match namespace {
                // metrics-server names a missing pod with its namespace.
                Some(ns) => ApiError::not_found("podmetrics.metrics.k8s.io", &format!("{ns}/{n}")),
                None => ApiError::not_found("nodemetrics.metrics.k8s.io", n),
            }),
        None => {
            let mut body = format!(
                r#"{{"kind":"{kind}List","apiVersion":"metrics.k8s.io/v1beta1","metadata":{{}},"items":["#
            );
            for (i, item) in items.enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&item.json);
            }
            body.push_str("]}");
            Ok(json_response(200, body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quantity;

    #[test]
    fn quantities_read_as_the_api_writes_them() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("2Gi"), Some(2.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("3920m"), Some(3.92));
        assert_eq!(quantity("4"), Some(4.0));
        assert_eq!(quantity("12Ki"), Some(12.0 * 1024.0));
        assert_eq!(quantity("x"), None);
    }
}
