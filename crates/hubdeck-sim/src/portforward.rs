//! Pod port-forward over WebSocket, as the API server and kubelet speak it to kube's
//! `Api::<Pod>::portforward`: subprotocol `v4.channel.k8s.io`; every frame starts with a
//! channel byte, port `i` (of the `ports` query) using data channel `2i` and error channel
//! `2i+1`; the first frame on each channel carries the port as two little-endian bytes.
//!
//! Only the hub pod's API port (8081) has something listening: its data channel is served by
//! that hub's [`FakeHub`] over an in-memory stream, synced with the user pods before every
//! request. Any other port gets kubelet's "connection refused" on its error channel.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::service::Service as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, WriteHalf};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::access::{self, Identity};
use super::cluster::SimCluster;
use super::fake_hub::FakeHub;
use super::resources::Kind;
use super::status::ApiError;

/// The subprotocol the API server picks for port-forward among those kube offers (v5 is only
/// for exec and attach).
const PROTOCOL: &str = "v4.channel.k8s.io";
/// The hub pod's REST API port.
const HUB_API_PORT: u16 = 8081;
/// Bytes buffered between the WebSocket and a hub's HTTP server.
const BUFFER: usize = 64 * 1024;

/// What is behind one forwarded port.
enum Backend {
    Hub(FakeHub),
    Refused(String),
}

/// `GET /api/v1/namespaces/{ns}/pods/{pod}/portforward?ports=P[,P...]` with a WebSocket upgrade.
pub(crate) async fn portforward(
    cluster: SimCluster,
    identity: Identity,
    namespace: String,
    pod: String,
    query: &HashMap<String, String>,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    // Since Kubernetes 1.30 a WebSocket port-forward needs `create`, like the SPDY one.
    access::authorize(
        &identity,
        "create",
        "",
        "pods/portforward",
        Some(&pod),
        Some(&namespace),
    )?;
    let ports = parse_ports(query.get("ports").map(String::as_str))?;
    let (uid, is_hub) = {
        let st = cluster.inner.state();
        let obj = st
            .store
            .get(Kind::Pod, &namespace, &pod)
            .ok_or_else(|| ApiError::not_found("pods", &pod))?;
        let v = obj.value();
        if v["status"]["phase"] != "Running" || !v["metadata"]["deletionTimestamp"].is_null() {
            return Err(ApiError::bad_request(format!(
                "unable to upgrade connection: pod {pod} is not running"
            )));
        }
        let uid = v["metadata"]["uid"].as_str().unwrap_or("").to_string();
        (uid, v["metadata"]["labels"]["component"] == "hub")
    };
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("unable to upgrade connection: {e}")))?;
    let backends: Vec<(u16, Backend)> = ports
        .into_iter()
        .map(|port| {
            let hub = (is_hub && port == HUB_API_PORT)
                .then(|| super::hub_apis::hub_api(&cluster, &namespace))
                .flatten();
            let backend = match hub {
                Some(h) => Backend::Hub(h),
                None => Backend::Refused(format!(
                    "error forwarding port {port} to pod {uid}, uid : failed to connect to localhost:{port} inside namespace of pod {namespace}/{pod}: dial tcp4 127.0.0.1:{port}: connect: connection refused"
                )),
            };
            (port, backend)
        })
        .collect();
    let cancel = cluster.inner.conn_token();
    Ok(ws
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| forward(socket, cluster, namespace, backends, cancel))
        .into_response())
}

fn parse_ports(raw: Option<&str>) -> Result<Vec<u16>, ApiError> {
    let raw = raw.unwrap_or("").trim();
    if raw.is_empty() {
        return Err(ApiError::bad_request(
            "unable to upgrade connection: at least 1 port must be specified",
        ));
    }
    raw.split(',')
        .map(|p| {
            p.trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| ApiError::bad_request(format!("invalid port {p:?}")))
        })
        .collect()
}

/// Carries frames between the WebSocket and the backends until either side ends.
async fn forward(
    mut socket: WebSocket,
    cluster: SimCluster,
    namespace: String,
    backends: Vec<(u16, Backend)>,
    cancel: CancellationToken,
) {
    let (to_client, mut from_backends) = mpsc::channel::<(u8, Bytes)>(16);
    let mut writers: Vec<Option<WriteHalf<DuplexStream>>> = Vec::new();
    for (i, (port, backend)) in backends.into_iter().enumerate() {
        let Ok(data_ch) = u8::try_from(2 * i) else {
            break;
        };
        let [lo, hi] = port.to_le_bytes();
        for ch in [data_ch, data_ch + 1] {
            if socket.send(frame(ch, &[lo, hi])).await.is_err() {
                return;
            }
        }
        match backend {
            Backend::Hub(hub) => {
                let (client_end, server_end) = tokio::io::duplex(BUFFER);
                tokio::spawn(serve_hub(
                    server_end,
                    hub,
                    cluster.clone(),
                    namespace.clone(),
                    cancel.clone(),
                ));
                let (mut reader, writer) = tokio::io::split(client_end);
                writers.push(Some(writer));
                let tx = to_client.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; BUFFER];
                    while let Ok(n) = reader.read(&mut buf).await {
                        if n == 0
                            || tx
                                .send((data_ch, Bytes::copy_from_slice(&buf[..n])))
                                .await
                                .is_err()
                        {
                            break;
                        }
                    }
                });
            }
            Backend::Refused(message) => {
                writers.push(None);
                if socket
                    .send(frame(data_ch + 1, message.as_bytes()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
    drop(to_client);
    if writers.iter().all(Option::is_none) {
        let _ = socket.send(Message::Close(None)).await;
        return;
    }
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            msg = socket.recv() => match msg {
                Some(Ok(Message::Binary(b))) if b.len() > 1 => {
                    let ch = usize::from(b[0]);
                    if !ch.is_multiple_of(2) {
                        continue;
                    }
                    if let Some(Some(w)) = writers.get_mut(ch / 2)
                        && w.write_all(&b[1..]).await.is_err()
                    {
                        writers[ch / 2] = None;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            out = from_backends.recv() => match out {
                Some((ch, data)) => {
                    if socket.send(frame(ch, &data)).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// One binary frame of the channel protocol: the channel byte, then the data.
pub(crate) fn frame(channel: u8, data: &[u8]) -> Message {
    let mut out = Vec::with_capacity(data.len() + 1);
    out.push(channel);
    out.extend_from_slice(data);
    Message::Binary(out.into())
}

/// Serves the hub's REST API on one forwarded stream, syncing it with the pods per request.
async fn serve_hub(
    stream: DuplexStream,
    hub: FakeHub,
    cluster: SimCluster,
    namespace: String,
    cancel: CancellationToken,
) {
    let router = hub.router();
    let svc = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        super::hub_apis::sync(&cluster, &hub, &namespace);
        TowerToHyperService::new(router.clone()).call(req)
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        _ = conn => {}
        () = cancel.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ports;

    #[test]
    fn ports_are_a_comma_separated_list() {
        assert_eq!(parse_ports(Some("8081")).unwrap(), vec![8081]);
        assert_eq!(parse_ports(Some("8081,9090")).unwrap(), vec![8081, 9090]);
        assert_eq!(parse_ports(None).unwrap_err().code, 400);
        assert_eq!(parse_ports(Some("x")).unwrap_err().code, 400);
    }
}
