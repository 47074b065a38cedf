//! Pod exec over WebSocket, as kube-apiserver serves it to kube's `Api::exec` and to kubectl:
//! subprotocol `v5.channel.k8s.io` (or `v4`), every frame a channel byte then data; stdin 0,
//! stdout 1, stderr 2, error 3 (the final `Status`, as kubelet writes it: `Success`, or
//! `Failure` with reason `NonZeroExitCode` and the exit code as cause), resize 4 (JSON
//! `{"Width":..,"Height":..}`), and in v5 frame `[255, channel]` closing a stream. Behind it
//! runs the fake shell of `shell`, with the programs the container's image has: a command it
//! lacks fails as runc fails it, with a Status on the error channel and nothing run.
//! `SimCluster::drop_exec_sessions` cuts every open session off (no Status, no close frame), as
//! a dying node or a load balancer's idle timeout does.

use axum::extract::FromRequestParts;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::access::{self, Identity};
use super::cluster::SimCluster;
use super::portforward::frame;
use super::resources::Kind;
use super::shell::{self, Shell, Userland};
use super::status::ApiError;

const V5: &str = "v5.channel.k8s.io";
const V4: &str = "v4.channel.k8s.io";
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// What the exec request asked for.
#[derive(Debug)]
struct Options {
    command: Vec<String>,
    container: Option<String>,
    stdin: bool,
    tty: bool,
}

fn options(parts: &Parts) -> Options {
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    // The API server's parameter codec: any value but "0"/"false" is true.
    let flag = |k: &str| {
        pairs
            .iter()
            .any(|(n, v)| n == k && !matches!(v.as_str(), "0" | "false" | "False"))
    };
    Options {
        command: pairs
            .iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v.clone())
            .collect(),
        container: pairs
            .iter()
            .find(|(k, _)| k == "container")
            .map(|(_, v)| v.clone()),
        stdin: flag("stdin"),
        tty: flag("tty"),
    }
}

/// `GET|POST /api/v1/namespaces/{ns}/pods/{pod}/exec?command=...` with a WebSocket upgrade.
pub(crate) async fn exec(
    cluster: SimCluster,
    identity: Identity,
    namespace: String,
    pod: String,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    // The upgrade is a GET, authorized as `get`; since 1.35 (KEP-4006,
    // AuthorizePodWebsocketUpgradeCreatePermission) also as `create`, as a SPDY POST always was.
    for verb in ["get", "create"] {
        access::authorize(
            &identity,
            verb,
            "",
            "pods/exec",
            Some(&pod),
            Some(&namespace),
        )?;
    }
    let opts = options(&parts);
    if opts.command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }
    let userland = {
        let st = cluster.inner.state();
        let obj = st
            .store
            .get(Kind::Pod, &namespace, &pod)
            .ok_or_else(|| ApiError::not_found("pods", &pod))?;
        check_pod(&obj.value(), &pod, opts.container.as_deref())?
    };
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("unable to upgrade connection: {e}")))?;
    let cancel = cluster.inner.exec_token();
    Ok(ws
        .protocols([V5, V4])
        .on_upgrade(move |socket| session(socket, pod, userland, opts, cancel))
        .into_response())
}

/// The userland of the container to run in, with the API server's and kubelet's refusals.
fn check_pod(pod: &Value, name: &str, asked: Option<&str>) -> Result<Userland, ApiError> {
    let containers: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let container = match asked {
        Some(c) if containers.contains(&c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if containers.len() == 1 => containers[0].to_string(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    if matches!(phase, "Succeeded" | "Failed") {
        return Err(ApiError::bad_request(format!(
            "cannot exec into a container in a completed pod; current phase is {phase}"
        )));
    }
    if pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let running = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["name"] == container.as_str() && s["state"]["running"].is_object());
    if !running {
        return Err(ApiError::bad_request(format!(
            "unable to upgrade connection: container not found (\"{container}\")"
        )));
    }
    let image = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == container.as_str())
        .and_then(|c| c["image"].as_str())
        .unwrap_or("");
    Ok(Userland::of(image))
}

/// The final Status on the error channel.
fn status(code: i32, command: &[String]) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({"metadata": {}, "status": "Failure",
        "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", command.join(" ")),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}})
}

/// A close frame with status 1000: client-go's reader treats a close without one as an error.
fn normal_close() -> Message {
    Message::Close(Some(axum::extract::ws::CloseFrame {
        code: axum::extract::ws::close_code::NORMAL,
        reason: "".into(),
    }))
}

async fn send(socket: &mut WebSocket, channel: u8, data: &str) -> bool {
    data.is_empty() || socket.send(frame(channel, data.as_bytes())).await.is_ok()
}

/// Writes a command's output: with a tty, stderr shares the terminal.
async fn output(socket: &mut WebSocket, sh: &Shell, ran: &shell::Ran) -> bool {
    if sh.tty {
        let both = format!("{}{}", ran.stdout, ran.stderr);
        send(socket, STDOUT, &sh.to_terminal(&both)).await
    } else {
        send(socket, STDOUT, &ran.stdout).await && send(socket, STDERR, &ran.stderr).await
    }
}

async fn finish(mut socket: WebSocket, code: i32, command: &[String]) {
    let _ = socket
        .send(frame(ERROR, status(code, command).to_string().as_bytes()))
        .await;
    let _ = socket.send(normal_close()).await;
}

async fn session(
    mut socket: WebSocket,
    pod: String,
    userland: Userland,
    opts: Options,
    cancel: CancellationToken,
) {
    let mut sh = Shell {
        pod,
        userland,
        tty: opts.tty,
        size: (80, 24),
        last_status: 0,
    };
    let argv: Vec<&str> = opts.command.iter().map(String::as_str).collect();
    if !userland.has(argv[0]) {
        let msg = format!(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{}\": executable file not found in $PATH: unknown",
            argv[0]
        );
        let st = json!({"metadata": {}, "status": "Failure", "message": msg,
            "reason": "InternalError", "details": {"causes": [{"message": msg}]}});
        let _ = socket.send(frame(ERROR, st.to_string().as_bytes())).await;
        let _ = socket.send(normal_close()).await;
        return;
    }
    let interactive = shell::is_shell(argv[0]) && argv.get(1) != Some(&"-c");
    if !interactive {
        let ran = sh.command(&argv);
        if output(&mut socket, &sh, &ran).await {
            finish(socket, ran.status, &opts.command).await;
        }
        return;
    }
    if !opts.stdin {
        // A shell without stdin reads end-of-file at once.
        finish(socket, 0, &opts.command).await;
        return;
    }
    if sh.tty && !send(&mut socket, STDOUT, &sh.prompt()).await {
        return;
    }
    let mut line = String::new();
    loop {
        let msg = tokio::select! {
            () = cancel.cancelled() => return,
            m = socket.recv() => m,
        };
        let data = match msg {
            Some(Ok(Message::Binary(b))) if !b.is_empty() => b,
            Some(Ok(Message::Close(_)) | Err(_)) | None => return,
            Some(Ok(_)) => continue,
        };
        match data[0] {
            STDIN => {
                for ch in String::from_utf8_lossy(&data[1..]).chars() {
                    let mut echo = String::new();
                    let done = match ch {
                        '\r' | '\n' => {
                            echo.push_str("\r\n");
                            true
                        }
                        '\u{7f}' | '\u{8}' => {
                            if line.pop().is_some() {
                                echo.push_str("\u{8} \u{8}");
                            }
                            false
                        }
                        // Ctrl-D on an empty line ends the shell.
                        '\u{4}' if line.is_empty() => {
                            finish(socket, sh.last_status, &opts.command).await;
                            return;
                        }
                        c => {
                            line.push(c);
                            echo.push(c);
                            false
                        }
                    };
                    if sh.tty && !send(&mut socket, STDOUT, &echo).await {
                        return;
                    }
                    if !done {
                        continue;
                    }
                    let ran = sh.line(&std::mem::take(&mut line));
                    if !output(&mut socket, &sh, &ran).await {
                        return;
                    }
                    if ran.exit {
                        finish(socket, ran.status, &opts.command).await;
                        return;
                    }
                    if sh.tty && !send(&mut socket, STDOUT, &sh.prompt()).await {
                        return;
                    }
                }
            }
            RESIZE => {
                #[derive(serde::Deserialize)]
                struct Size {
                    #[serde(rename = "Width")]
                    width: u16,
                    #[serde(rename = "Height")]
                    height: u16,
                }
                if let Ok(s) = serde_json::from_slice::<Size>(&data[1..]) {
                    sh.size = (s.width, s.height);
                }
            }
            CLOSE if data.get(1) == Some(&STDIN) => {
                // End of input: what is left of the line runs, then the shell exits.
                let mut code = sh.last_status;
                if !line.trim().is_empty() {
                    let ran = sh.line(&std::mem::take(&mut line));
                    if !output(&mut socket, &sh, &ran).await {
                        return;
                    }
                    code = ran.status;
                }
                finish(socket, code, &opts.command).await;
                return;
            }
            _ => {}
        }
    }
}
