//! `hubdeck logs`: one pod's log to stdout, the pod found through the fleet model as the
//! console finds it, the lines sanitized as the logs view shows them.

use std::io::Write;

use color_eyre::eyre::{Result, eyre};

use crate::action::{PodSource, ServerRef, bind_pod};
use crate::cli::{Global, HubComponent, LogsArgs};
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::fleet::{Component, HubRef};
use crate::headless::exit;
use crate::headless::session::Needs;
use crate::kube::logs::{self, LogItem, LogSpec};

/// Streams the log; returns the exit code.
pub async fn logs(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    args: LogsArgs,
) -> Result<i32> {
    let source = match pod_source(&args.target, args.component) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hubdeck: {e}");
            return Ok(exit::USAGE);
        }
    };
    let (session, _fleetwide) =
        super::commands::session(global, paths, settings, Needs::LISTS).await?;
    let pod = match bind_pod(&session.fleet, &source) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hubdeck: {e}");
            return Ok(exit::for_resolve(&e));
        }
    };
    let mut items = logs::stream(
        session.clients.clone(),
        LogSpec {
            cluster: pod.cluster,
            namespace: pod.namespace,
            pod: pod.pod,
            container: args.container,
            tail_lines: args.tail,
            follow: args.follow,
            previous: args.previous,
            since_seconds: args.since.map(|d| d.as_secs().max(1)),
        },
    );
    let stdout = std::io::stdout();
    // Line-buffered so `-f` shows each line as it comes.
    let mut out = std::io::LineWriter::new(stdout.lock());
    while let Some(item) = items.recv().await {
        let written = match item {
            LogItem::Line(line) => writeln!(out, "{}", hubdeck_core::text::sanitize(&line)),
            LogItem::Error(e) => {
                let _ = out.flush();
                eprintln!("hubdeck: {e}");
                return Ok(exit::ERROR);
            }
            LogItem::End => break,
        };
        match written {
            Ok(()) => {}
            // `| head` closing the pipe is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(exit::OK),
            Err(e) => return Err(eyre!("writing the log: {e}")),
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(eyre!("writing the log: {e}")),
        _ => Ok(exit::OK),
    }
}

/// `C/H/USER[/SERVER]`, or `C/H` (also `C/NAMESPACE/RELEASE`) with `--component`: the pod
/// `hubdeck logs` and `hubdeck exec` reach.
pub(super) fn pod_source(
    target: &str,
    component: Option<HubComponent>,
) -> Result<PodSource, String> {
    if let Some(c) = component {
        let hub: HubRef = target.parse().map_err(|e| format!("{target:?}: {e}"))?;
        let c = match c {
            HubComponent::Hub => Component::Hub,
            HubComponent::Proxy => Component::Proxy,
            HubComponent::UserScheduler => Component::UserScheduler,
        };
        return Ok(PodSource::Component(hub, c));
    }
    let parts: Vec<&str> = target.split('/').collect();
    let hub = |c: &str, h: &str| HubRef {
        cluster: c.to_string(),
        hub: h.to_string(),
        release: None,
    };
    match parts.as_slice() {
        [c, h, u] => Ok(PodSource::Server(ServerRef {
            hub: hub(c, h),
            user: u.to_string(),
            server: String::new(),
        })),
        [c, h, u, s] => Ok(PodSource::Server(ServerRef {
            hub: hub(c, h),
            user: u.to_string(),
            server: s.to_string(),
        })),
        _ => Err(format!(
            "{target:?}: expected CLUSTER/HUB/USER[/SERVER], or CLUSTER/HUB with --component"
        )),
    }
}
