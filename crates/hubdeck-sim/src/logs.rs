//! Pod logs: plausible JupyterHub, configurable-http-proxy and jupyter-server lines, with
//! `tailLines`, `timestamps` and `follow` (new lines a few times a second until the client leaves).

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::api::{Call, Target};
use super::resources::Kind;
use super::status::ApiError;

/// Lines of history a log has before "now".
const HISTORY: u64 = 200;

/// Which program a container runs, to pick its log style.
#[derive(Clone, Copy)]
enum Flavor {
    Hub,
    Proxy,
    Server,
    Other,
}

fn flavor(container: &str, component: &str) -> Flavor {
    match (container, component) {
        ("hub", _) | (_, "hub") => Flavor::Hub,
        ("chp", _) | (_, "proxy") => Flavor::Proxy,
        ("notebook", _) | (_, "singleuser-server") => Flavor::Server,
        _ => Flavor::Other,
    }
}

/// The n-th log line of a container, stamped at `ts`.
fn line(flavor: Flavor, n: u64, ts: jiff::Timestamp, user: &str) -> String {
    let t = ts.strftime("%Y-%m-%d %H:%M:%S%.3f");
    let ms = 3 + (n * 37) % 400;
    match flavor {
        Flavor::Hub => match n % 6 {
            0 => format!(
                "[I {t} JupyterHub log:192] 200 GET /hub/api/users ({user}@10.4.1.7) {ms}.12ms"
            ),
            1 => format!(
                "[I {t} JupyterHub log:192] 302 GET /hub/ -> /hub/spawn ({user}@10.4.1.7) {ms}.40ms"
            ),
            2 => format!("[I {t} JupyterHub proxy:356] Checking routes"),
            3 => format!(
                "[I {t} JupyterHub log:192] 200 POST /hub/api/users/{user}/activity (jupyter-{user}@10.4.2.19) {ms}.91ms"
            ),
            4 => format!("[W {t} JupyterHub base:414] Invalid or expired cookie token"),
            _ => format!("[I {t} JupyterHub app:3312] JupyterHub is now running at http://:8000"),
        },
        Flavor::Proxy => {
            let t = ts.strftime("%H:%M:%S%.3f");
            match n % 4 {
                0 => format!("{t} [ConfigProxy] info: 200 GET /api/routes"),
                1 => format!(
                    "{t} [ConfigProxy] info: Adding route /user/{user} -> http://10.4.2.19:8888"
                ),
                2 => format!(
                    "{t} [ConfigProxy] info: Route added /user/{user} -> http://10.4.2.19:8888"
                ),
                _ => format!(
                    "{t} [ConfigProxy] error: 503 GET /user/{user}/api/kernels connect ECONNREFUSED 10.4.2.19:8888"
                ),
            }
        }
        Flavor::Server => match n % 5 {
            0 => format!("[I {t} ServerApp] Saving file at /{user}/analysis.ipynb"),
            1 => format!(
                "[I {t} ServerApp] Kernel started: 5f1c{n:04x}-7b0e-4a0c-9a51-2d3c9e0b{ms:04}"
            ),
            2 => format!(
                "[I {t} ServerApp] 200 GET /user/{user}/api/kernels?{n} ({user}@10.4.0.3) {ms}.00ms"
            ),
            3 => format!(
                "[W {t} ServerApp] 404 GET /user/{user}/nbextensions/widgets/notebook/js/extension.js {ms}.20ms"
            ),
            _ => format!("[I {t} ServerApp] Starting buffering for 5f1c{n:04x}:{ms}"),
        },
        Flavor::Other => format!(
            "I{} {n} main.go:{ms}] sync loop ok",
            ts.strftime("%m%d %H:%M:%S%.6f")
        ),
    }
}

fn render(flavor: Flavor, n: u64, ts: jiff::Timestamp, user: &str, timestamps: bool) -> String {
    let l = line(flavor, n, ts, user);
    if timestamps {
        format!("{} {l}\n", ts.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"))
    } else {
        format!("{l}\n")
    }
}

/// Serves `GET .../pods/{name}/log`.
pub(crate) async fn logs(call: &Call, t: &Target) -> Result<Response, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let pod = call
        .cluster
        .inner
        .state()
        .store
        .get(Kind::Pod, &ns, &name)
        .ok_or_else(|| ApiError::not_found("pods", &name))?
        .value();
    let containers: Vec<String> = pod["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let container = match call.param("container") {
        Some(c) if containers.iter().any(|x| x == c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == container.as_str())
        .cloned()
        .unwrap_or_default();
    // The previous run: kubelet keeps the last terminated container's log, nothing before it.
    let mut end = jiff::Timestamp::now();
    let previous = call.flag("previous");
    if previous {
        let term = &status["lastState"]["terminated"];
        let finished = term["finishedAt"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        match (term["containerID"].as_str(), finished) {
            (Some(id), Some(at)) if !id.is_empty() => end = at,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "previous terminated container \"{container}\" in pod \"{name}\" not found"
                )));
            }
        }
    } else if let Some(reason) = status["state"]["waiting"]["reason"].as_str()
        && reason != "CrashLoopBackOff"
    {
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
        )));
    }
    let component = pod["metadata"]["labels"]["component"]
        .as_str()
        .unwrap_or("");
    let user = pod["metadata"]["labels"]["hub.jupyter.org/username"]
        .as_str()
        .unwrap_or("alice")
        .to_string();
    let flavor = flavor(&container, component);
    let timestamps = call.flag("timestamps");
    let now = end;
    let mut count = HISTORY;
    if let Some(s) = call
        .int("sinceSeconds")?
        .and_then(|s| u64::try_from(s).ok())
    {
        count = count.min(s / 3 + 1);
    }
    if let Some(n) = call.int("tailLines")?.and_then(|n| u64::try_from(n).ok()) {
        count = count.min(n);
    }
    let mut history = String::new();
    for i in (0..count).rev() {
        let ts = now - jiff::SignedDuration::from_secs(i64::try_from(i * 3).unwrap_or(0));
        history.push_str(&render(flavor, HISTORY - i, ts, &user, timestamps));
    }
    if previous && status["lastState"]["terminated"]["exitCode"] != 137 {
        // A crash leaves its last words; an OOM kill (SIGKILL, 137) leaves none.
        let last = match flavor {
            Flavor::Proxy => format!(
                "{} [ConfigProxy] error: Uncaught Exception: listen EADDRINUSE: address already in use :::8000",
                now.strftime("%H:%M:%S%.3f")
            ),
            _ => "Traceback (most recent call last):\nRuntimeError: exiting after a fatal error"
                .to_string(),
        };
        history.push_str(&last);
        history.push('\n');
    }
    if previous || !call.flag("follow") {
        return Ok(([(header::CONTENT_TYPE, "text/plain")], history).into_response());
    }
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let cancel = call.cluster.inner.conn_token();
    tokio::spawn(async move {
        if tx.send(Bytes::from(history)).await.is_err() {
            return;
        }
        let mut n = HISTORY;
        let mut tick = tokio::time::interval(Duration::from_millis(300));
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tx.closed() => return,
                _ = tick.tick() => {
                    n += 1;
                    let l = render(flavor, n, jiff::Timestamp::now(), &user, timestamps);
                    if tx.send(Bytes::from(l)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(stream),
    )
        .into_response())
}
