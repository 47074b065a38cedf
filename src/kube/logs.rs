//! Streaming a pod's log, line by line, into a channel the console reads.

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::LogParams;
use tokio::sync::mpsc;

use super::clients::ClientCache;
use super::watch::one_line;
use crate::fleet::ClusterId;

/// What to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSpec {
    /// Cluster.
    pub cluster: ClusterId,
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container (default: the pod's only or first one).
    pub container: Option<String>,
    /// Lines of history first.
    pub tail_lines: u32,
    /// Keep streaming new lines.
    pub follow: bool,
    /// The previous (terminated) run of the container instead of the current one.
    pub previous: bool,
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<u64>,
}

/// One item of a log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogItem {
    /// A line (without its newline).
    Line(String),
    /// The stream failed.
    Error(String),
    /// The stream ended.
    End,
}

/// Spawns the stream; it stops when the receiver is dropped.
pub fn stream(clients: std::sync::Arc<ClientCache>, spec: LogSpec) -> mpsc::Receiver<LogItem> {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        let item = match run(&clients, &spec, &tx).await {
            Ok(()) => LogItem::End,
            Err(e) => LogItem::Error(e),
        };
        let _ = tx.send(item).await;
    });
    rx
}

async fn run(
    clients: &ClientCache,
    spec: &LogSpec,
    tx: &mpsc::Sender<LogItem>,
) -> Result<(), String> {
    let client = clients
        .client(&spec.cluster)
        .await
        .map_err(|e| format!("cluster {}: {e}", spec.cluster))?;
    let pods = Api::<Pod>::namespaced(client, &spec.namespace);
    let params = LogParams {
        container: spec.container.clone(),
        follow: spec.follow,
        tail_lines: Some(i64::from(spec.tail_lines)),
        previous: spec.previous,
        since_seconds: spec.since_seconds.and_then(|s| i64::try_from(s).ok()),
        ..LogParams::default()
    };
    let reader = pods.log_stream(&spec.pod, &params).await.map_err(|e| {
        format!(
            "cluster {}: logs of pod {}/{}: {}",
            spec.cluster,
            spec.namespace,
            spec.pod,
            one_line(&e)
        )
    })?;
    let mut lines = reader.lines();
    while let Some(line) = lines.next().await {
        let line = line.map_err(|e| {
            format!(
                "cluster {}: logs of pod {}/{}: {e}",
                spec.cluster, spec.namespace, spec.pod
            )
        })?;
        if tx.send(LogItem::Line(line)).await.is_err() {
            break;
        }
    }
    Ok(())
}
