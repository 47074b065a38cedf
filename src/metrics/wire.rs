//! metrics.k8s.io/v1beta1 `PodMetricsList` and `NodeMetricsList`, read straight into the
//! model's small structs: only names, the `release` label and the usage quantities are decoded
//! (borrowed from the body where it has no escapes), every other field is skipped without
//! allocating, and repeated strings (namespaces, releases) are shared.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;

use crate::fleet::{NodeUsage, ObjectKey, PodUsage, Usage};

/// A list whose `items` may be null, as Go encodes an empty slice.
#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Option::default")]
    items: Option<Vec<T>>,
}

#[derive(Default, Deserialize)]
struct Meta<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    labels: Option<Labels<'a>>,
}

/// Of a pod's labels, only the release (its hub).
#[derive(Deserialize)]
struct Labels<'a> {
    #[serde(borrow, default)]
    release: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct PodMetrics<'a> {
    #[serde(borrow, default)]
    metadata: Meta<'a>,
    #[serde(borrow, default)]
    containers: Option<Vec<Container<'a>>>,
}

#[derive(Deserialize)]
struct Container<'a> {
    #[serde(borrow, default)]
    usage: Option<Quantities<'a>>,
}

#[derive(Deserialize)]
struct NodeMetrics<'a> {
    #[serde(borrow, default)]
    metadata: Meta<'a>,
    #[serde(borrow, default)]
    usage: Option<Quantities<'a>>,
}

#[derive(Deserialize)]
struct Quantities<'a> {
    #[serde(borrow, default)]
    cpu: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    memory: Option<Cow<'a, str>>,
}

impl Quantities<'_> {
    /// (nanocores, bytes); a missing or malformed quantity counts as zero.
    fn read(&self) -> (u64, u64) {
        let read = |q: &Option<Cow<'_, str>>, f: fn(&str) -> Option<u64>| {
            q.as_deref().and_then(f).unwrap_or(0)
        };
        (
            read(&self.cpu, hubdeck_core::quantity::nano),
            read(&self.memory, hubdeck_core::quantity::units),
        )
    }
}

/// Usage from nanocores and bytes, CPU rounded up to millicores once (as `kubectl top` rounds
/// a pod's summed quantity).
fn usage((nanos, bytes): (u64, u64)) -> Usage {
    Usage {
        cpu_milli: u32::try_from(nanos.div_ceil(1_000_000)).unwrap_or(u32::MAX),
        memory_bytes: bytes,
    }
}

/// Shares the strings many items repeat.
#[derive(Default)]
struct Strings(HashSet<Arc<str>>);

impl Strings {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(found) = self.0.get(s) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.0.insert(shared.clone());
        shared
    }
}

/// Why a metrics list's body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {message}")]
pub struct DecodeError {
    /// `PodMetricsList` or `NodeMetricsList`.
    pub what: &'static str,
    /// The parser's message (line and column).
    pub message: String,
}

/// The pods of a `PodMetricsList` with a `release` label, each summed over its containers.
pub fn pods(body: &str) -> Result<Vec<PodUsage>, DecodeError> {
    let list: List<PodMetrics> = serde_json::from_str(body).map_err(|e| DecodeError {
        what: "PodMetricsList",
        message: e.to_string(),
    })?;
    let mut strings = Strings::default();
    Ok(list
        .items
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let meta = &m.metadata;
            let release = meta.labels.as_ref()?.release.as_deref()?;
            let sum = m
                .containers
                .iter()
                .flatten()
                .filter_map(|c| c.usage.as_ref())
                .map(Quantities::read)
                .fold((0u64, 0u64), |(c, b), (cc, cb)| {
                    (c.saturating_add(cc), b.saturating_add(cb))
                });
            Some(PodUsage {
                key: ObjectKey {
                    namespace: strings.get(meta.namespace.as_deref().unwrap_or("")),
                    name: Arc::from(meta.name.as_deref()?),
                },
                release: strings.get(release),
                usage: usage(sum),
            })
        })
        .collect())
}

/// The nodes of a `NodeMetricsList`.
pub fn nodes(body: &str) -> Result<Vec<NodeUsage>, DecodeError> {
    let list: List<NodeMetrics> = serde_json::from_str(body).map_err(|e| DecodeError {
        what: "NodeMetricsList",
        message: e.to_string(),
    })?;
    Ok(list
        .items
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some(NodeUsage {
                name: Arc::from(m.metadata.name.as_deref()?),
                usage: usage(m.usage.as_ref().map_or((0, 0), Quantities::read)),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Two pods of one hub and one without a release, as metrics-server lists them.
    const PODS: &str = r#"{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1",
      "metadata":{},"items":[
      {"metadata":{"name":"jupyter-ada","namespace":"prod","creationTimestamp":"2026-01-01T00:00:00Z",
        "labels":{"component":"singleuser-server","release":"prod","hub.jupyter.org/username":"ada"}},
       "timestamp":"2026-01-01T00:00:00Z","window":"15.006s",
       "containers":[{"name":"notebook","usage":{"cpu":"12345678n","memory":"123456Ki"}},
                     {"name":"sidecar","usage":{"cpu":"250m","memory":"1Mi"}}]},
      {"metadata":{"name":"hub-7d9f","namespace":"prod","labels":{"component":"hub","release":"prod"}},
       "containers":[{"name":"hub","usage":{"cpu":"3m","memory":"200Mi"}}]},
      {"metadata":{"name":"coredns-1","namespace":"kube-system","labels":{"k8s-app":"kube-dns"}},
       "containers":[{"name":"coredns","usage":{"cpu":"1m","memory":"20Mi"}}]}]}"#;

    #[test]
    fn pod_metrics_are_summed_per_pod_and_keep_only_z2jh_pods() {
        let got = pods(PODS).unwrap();
        assert_eq!(got.len(), 2, "the pod without a release is no hub's");
        let ada = &got[0];
        assert_eq!(&*ada.key.name, "jupyter-ada");
        assert_eq!(ada.usage.cpu_milli, 263, "12.3m and 250m, rounded up once");
        assert_eq!(ada.usage.memory_bytes, 123_456 * 1024 + (1 << 20));
        assert!(
            Arc::ptr_eq(&ada.release, &got[1].release),
            "repeated strings are shared"
        );
        assert!(Arc::ptr_eq(&ada.key.namespace, &got[1].key.namespace));
    }

    #[test]
    fn node_metrics_read_cpu_and_memory() {
        let body = r#"{"kind":"NodeMetricsList","items":[
          {"metadata":{"name":"n-1","labels":{"a":"b"}},"timestamp":"2026-01-01T00:00:00Z",
           "window":"20.033s","usage":{"cpu":"1520117045n","memory":"6123456Ki"}},
          {"metadata":{"name":"n-2"}}]}"#;
        let got = nodes(body).unwrap();
        assert_eq!(got[0].usage.cpu_milli, 1521);
        assert_eq!(got[0].usage.memory_bytes, 6_123_456 * 1024);
        assert_eq!(got[1].usage, Usage::default(), "no usage yet");
        assert!(
            nodes(r#"{"items":null}"#).unwrap().is_empty(),
            "Go's nil slice"
        );
    }

    #[test]
    fn a_body_that_is_no_list_is_an_error_naming_the_kind() {
        let e = pods("<html>503 Service Unavailable</html>").unwrap_err();
        assert_eq!(e.what, "PodMetricsList");
        assert!(!e.to_string().contains('\n'));
        assert!(pods(r#"{"items":[]}"#).unwrap().is_empty());
        assert!(pods("{}").unwrap().is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_body_decodes_or_fails_without_panicking(cut in 0usize..PODS.len(), noise in ".{0,8}") {
            // PODS is ASCII: every cut is a character boundary.
            let mut body = PODS[..cut].to_string();
            body.push_str(&noise);
            let _ = pods(&body);
            let _ = nodes(&body);
        }

        #[test]
        fn any_quantity_in_a_list_decodes_without_panicking(cpu in "[0-9.eEnumkMGi+-]{0,12}", mem in ".{0,12}") {
            let body = serde_json::json!({"items": [{"metadata": {"name": "p", "namespace": "n",
                "labels": {"release": "r"}}, "containers": [{"usage": {"cpu": cpu, "memory": mem}}]}]});
            prop_assert_eq!(pods(&body.to_string()).map(|p| p.len()), Ok(1));
        }
    }
}
