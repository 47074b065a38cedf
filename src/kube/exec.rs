//! Exec over kube's WebSocket client (`Api::<Pod>::exec`): the executor's [`PodExec`] and
//! the precondition of an exec action. Each session gets a pump task between kube's
//! `AttachedProcess` and the session's channels, which ends the session with exactly one
//! [`ExecEnd`] on every path: kubelet's final Status, a dropped connection (after which kube's
//! stdout pipe is never closed, so the pump stops waiting for it), or the front end gone.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{AttachParams, AttachedProcess, TerminalSize};
use kube::{Api, Client};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::executor::{KubeActions, failed};
use crate::action::exec::{ExecChannels, ExecEnd, ExecInput, ExecOutput, ExecSpec};
use crate::action::{ActionError, Pending, PodExec};

/// The annotation kubectl reads for the container to exec into by default.
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";
/// Bytes kube buffers per stream before the pump reads them.
const PIPE: usize = 64 << 10;
/// How long the pump still reads after the session's end for what kube had buffered.
const DRAIN: Duration = Duration::from_millis(300);

impl PodExec for KubeActions {
    type Session = ExecChannels;

    fn open<'a>(&'a self, spec: &'a ExecSpec) -> Pending<'a, (String, ExecChannels)> {
        Box::pin(async move { open(&self.client(&spec.cluster).await?, spec).await })
    }
}

async fn open(client: &Client, spec: &ExecSpec) -> Result<(String, ExecChannels), ActionError> {
    let pods = Api::<Pod>::namespaced(client.clone(), &spec.namespace);
    let container = match &spec.container {
        Some(c) => c.clone(),
        None => {
            let pod = pods.get(&spec.pod).await.map_err(failed)?;
            default_container(&pod).ok_or_else(|| {
                ActionError::Precondition(format!(
                    "pod {}/{} has no container",
                    spec.namespace, spec.pod
                ))
            })?
        }
    };
    let params = AttachParams {
        container: Some(container.clone()),
        stdin: true,
        stdout: true,
        // With a tty the remote terminal carries both (the API server refuses both).
        stderr: !spec.tty,
        tty: spec.tty,
        max_stdin_buf_size: Some(PIPE),
        max_stdout_buf_size: Some(PIPE),
        max_stderr_buf_size: Some(PIPE),
    };
    let process = pods
        .exec(&spec.pod, spec.command.clone(), &params)
        .await
        .map_err(|e| match failed(e) {
            ActionError::Failed(why) => ActionError::Failed(format!(
                "exec in pod {}/{} on cluster {}: {why}",
                spec.namespace, spec.pod, spec.cluster
            )),
            other => other,
        })?;
    let (input, input_rx) = mpsc::channel(64);
    let (output_tx, output) = mpsc::channel(64);
    tokio::spawn(pump(process, input_rx, output_tx));
    Ok((container, ExecChannels { input, output }))
}

/// The container kubectl would choose: the default-container annotation if it names one of the
/// pod's containers, else the first.
fn default_container(pod: &Pod) -> Option<String> {
    let names: Vec<&str> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER))
        .filter(|c| names.contains(&c.as_str()));
    annotated
        .cloned()
        .or_else(|| names.first().map(|c| (*c).to_string()))
}

/// The pod is there, running, and has the container asked for running: otherwise the API
/// server would refuse the upgrade with a 400 that says less.
pub(super) async fn exec_precondition(
    client: &Client,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
) -> Result<(), ActionError> {
    let p = Api::<Pod>::namespaced(client.clone(), namespace)
        .get_opt(pod)
        .await
        .map_err(failed)?
        .ok_or_else(|| ActionError::Precondition(format!("pod {namespace}/{pod} is gone")))?;
    if p.metadata.deletion_timestamp.is_some() {
        return Err(ActionError::Precondition(format!(
            "pod {namespace}/{pod} is terminating"
        )));
    }
    let status = p.status.clone().unwrap_or_default();
    let phase = status.phase.clone().unwrap_or_default();
    if phase != "Running" {
        return Err(ActionError::Precondition(format!(
            "pod {namespace}/{pod} is {phase}, not Running"
        )));
    }
    let Some(name) = container
        .map(str::to_string)
        .or_else(|| default_container(&p))
    else {
        return Err(ActionError::Precondition(format!(
            "pod {namespace}/{pod} has no container"
        )));
    };
    let known: Vec<String> = p
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    if !known.contains(&name) {
        return Err(ActionError::Precondition(format!(
            "pod {namespace}/{pod} has no container {name}; its containers: {}",
            known.join(", ")
        )));
    }
    let state = status
        .container_statuses
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.name == name)
        .and_then(|s| s.state);
    match state {
        Some(s) if s.running.is_some() => Ok(()),
        Some(s) => {
            let why = s
                .waiting
                .and_then(|w| w.reason)
                .or_else(|| s.terminated.and_then(|t| t.reason))
                .unwrap_or_else(|| "not started".into());
            Err(ActionError::Precondition(format!(
                "container {name} of pod {namespace}/{pod} is not running ({why})"
            )))
        }
        None => Err(ActionError::Precondition(format!(
            "container {name} of pod {namespace}/{pod} has no status yet"
        ))),
    }
}

/// Reads into `buf` from a stream that may be gone (then never).
async fn read_some<R: AsyncRead + Unpin>(
    r: &mut Option<R>,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    match r {
        Some(r) => r.read(buf).await,
        None => std::future::pending().await,
    }
}

/// Writes some of `bytes` to a stream that may be gone (then never).
async fn write_some<W: AsyncWrite + Unpin>(
    w: &mut Option<W>,
    bytes: &[u8],
) -> std::io::Result<usize> {
    match w {
        Some(w) => w.write(bytes).await,
        None => std::future::pending().await,
    }
}

/// Carries one session between kube's process and the channels, then reports its end. Reads
/// and writes run side by side (a chunk of stdin is written while output is read), so a
/// session moving much data both ways cannot stall on its full pipes.
async fn pump(
    mut process: AttachedProcess,
    mut input: mpsc::Receiver<ExecInput>,
    output: mpsc::Sender<ExecOutput>,
) {
    let mut stdin = process.stdin();
    let mut stdout = process.stdout();
    let mut stderr = process.stderr();
    let mut resize = process.terminal_size();
    let Some(status) = process.take_status() else {
        let _ = output
            .send(ExecOutput::End(ExecEnd::Lost("no status channel".into())))
            .await;
        return;
    };
    let mut status = std::pin::pin!(status);
    let (mut out_buf, mut err_buf) = (vec![0u8; 16 << 10], vec![0u8; 16 << 10]);
    // Stdin not yet written, and whether its end came after it.
    let (mut held, mut close_stdin) = (Vec::new(), false);
    // Set once the session ended: Some(status) from kubelet, or None when it broke off.
    let mut ended: Option<Option<Status>> = None;
    let mut deadline: Option<Instant> = None;
    loop {
        if ended.is_some() && stdout.is_none() && stderr.is_none() {
            break;
        }
        if close_stdin
            && held.is_empty()
            && let Some(mut w) = stdin.take()
        {
            let _ = w.shutdown().await;
        }
        tokio::select! {
            n = read_some(&mut stdout, &mut out_buf) => match n {
                Ok(0) | Err(_) => stdout = None,
                Ok(n) => {
                    if output.send(ExecOutput::Stdout(out_buf[..n].to_vec())).await.is_err() {
                        process.abort();
                        return;
                    }
                }
            },
            n = read_some(&mut stderr, &mut err_buf) => match n {
                Ok(0) | Err(_) => stderr = None,
                Ok(n) => {
                    if output.send(ExecOutput::Stderr(err_buf[..n].to_vec())).await.is_err() {
                        process.abort();
                        return;
                    }
                }
            },
            n = write_some(&mut stdin, &held), if !held.is_empty() => match n {
                Ok(0) | Err(_) => {
                    stdin = None;
                    held.clear();
                }
                Ok(n) => {
                    held.drain(..n);
                }
            },
            s = &mut status, if ended.is_none() => {
                // kube closes its pipes after a Status; after a failure it never does.
                let grace = if s.is_some() { DRAIN * 10 } else { DRAIN };
                deadline = Some(Instant::now() + grace);
                ended = Some(s);
            }
            () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => break,
            i = input.recv(), if held.is_empty() => match i {
                Some(ExecInput::Stdin(bytes)) if stdin.is_some() && !close_stdin => held = bytes,
                Some(ExecInput::Stdin(_)) => {}
                Some(ExecInput::Resize { width, height }) => {
                    if let Some(r) = resize.as_mut() {
                        // A resize that finds the queue full is followed by a newer one.
                        let _ = r.try_send(TerminalSize { width, height });
                    }
                }
                Some(ExecInput::EndOfInput) => close_stdin = true,
                None => {
                    process.abort();
                    return;
                }
            },
        }
    }
    let end = match ended.flatten() {
        Some(status) => end_of(&status),
        None => match process.join().await {
            Err(e) => ExecEnd::Lost(crate::errors::one_line(&e)),
            Ok(()) => {
                ExecEnd::Lost("the API server closed the session without an exit status".into())
            }
        },
    };
    let _ = output.send(ExecOutput::End(end)).await;
}

/// The end a Status on the error channel says: kubelet's `Success`, `NonZeroExitCode` with the
/// code as the `ExitCode` cause, or the runtime's failure to start the command.
fn end_of(st: &Status) -> ExecEnd {
    if st.status.as_deref() == Some("Success") {
        return ExecEnd::Exited(0);
    }
    let message = st.message.clone().unwrap_or_default();
    if st.reason.as_deref() == Some("NonZeroExitCode") {
        let code = st
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message.as_deref())
            .and_then(|m| m.parse::<i32>().ok());
        if let Some(code) = code {
            return ExecEnd::Exited(code);
        }
    }
    // runc/crun: `exec: "bash": executable file not found in $PATH`; a path that is absent:
    // `no such file or directory`.
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
    {
        return ExecEnd::NotStarted(message);
    }
    ExecEnd::Lost(if message.is_empty() {
        "the session failed without a message".into()
    } else {
        message
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(v: serde_json::Value) -> Status {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn kubelet_statuses_become_exit_codes_or_a_command_that_could_not_start() {
        assert_eq!(
            end_of(&status(serde_json::json!({"status": "Success"}))),
            ExecEnd::Exited(0)
        );
        let nonzero = status(serde_json::json!({"status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}));
        assert_eq!(end_of(&nonzero), ExecEnd::Exited(3));
        let missing = status(serde_json::json!({"status": "Failure",
            "message": "OCI runtime exec failed: exec failed: unable to start container process: exec: \"bash\": executable file not found in $PATH: unknown",
            "reason": "InternalError"}));
        assert!(matches!(end_of(&missing), ExecEnd::NotStarted(m) if m.contains("\"bash\"")));
        let other = status(
            serde_json::json!({"status": "Failure", "message": "container not found", "reason": "InternalError"}),
        );
        assert_eq!(end_of(&other), ExecEnd::Lost("container not found".into()));
    }
}
