//! Running the console: the kube-backed `tui::Services`, the supervisors and the UI loop.

use std::sync::Arc;

use color_eyre::eyre::Result;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::action::AuditLog;
use crate::config::keymap::Keymap;
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::config::theme::Theme;
use crate::fleet::Fleet;
use crate::kube::describe::{self, Kind};
use crate::kube::logs::{self, LogItem, LogSpec};
use crate::kube::{self, ClientCache};
use crate::tui::{
    self, ConsoleOptions, DescribeKind, DescribeRequest, Description, LogEvent, LogRequest,
    Services,
};

use super::Fleetwide;
use crate::cli::Global;

/// `tui::Services` over the clusters' clients; every call runs on its own task.
pub struct KubeServices {
    clients: Arc<ClientCache>,
}

impl Services for KubeServices {
    fn logs(&self, req: LogRequest) -> mpsc::Receiver<LogEvent> {
        let mut items = logs::stream(
            self.clients.clone(),
            LogSpec {
                cluster: req.cluster,
                namespace: req.namespace,
                pod: req.pod,
                container: req.container,
                tail_lines: req.tail_lines,
                follow: req.follow,
                previous: req.previous,
                since_seconds: None,
            },
        );
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(async move {
            while let Some(item) = items.recv().await {
                let ev = match item {
                    LogItem::Line(l) => LogEvent::Line(l),
                    LogItem::Error(e) => LogEvent::Error(e),
                    LogItem::End => LogEvent::End,
                };
                if tx.send(ev).await.is_err() {
                    break;
                }
            }
        });
        rx
    }

    fn describe(&self, req: DescribeRequest) -> oneshot::Receiver<Result<Description, String>> {
        let (tx, rx) = oneshot::channel();
        let clients = self.clients.clone();
        tokio::spawn(async move {
            let result = async {
                let client = clients
                    .client(&req.cluster)
                    .await
                    .map_err(|e| e.to_string())?;
                let kind = match req.kind {
                    DescribeKind::Pod => Kind::Pod,
                    DescribeKind::Deployment => Kind::Deployment,
                    DescribeKind::StatefulSet => Kind::StatefulSet,
                };
                let sections = describe::describe(&client, kind, &req.namespace, &req.name).await?;
                Ok(Description { sections })
            }
            .await;
            let _ = tx.send(result);
        });
        rx
    }
}

/// Opens the console on a recording, at `--at` or its start: read-only, no cluster contacted.
pub async fn replay(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    args: &crate::cli::ReplayArgs,
) -> Result<i32> {
    let rec = crate::recorder::Recording::open(&args.file)?;
    let at = super::replay_cmd::moment(&rec, args, rec.start())?;
    let (control, fleet) = tui::replay::ReplayControl::open(rec, at)?;
    let (theme, keymap) = look(global, paths, settings)?;
    let opts = ConsoleOptions {
        theme,
        keymap,
        readonly: true,
        state_dir: paths.state.clone(),
    };
    // No producer: the recording is the only source.
    let (_, updates) = mpsc::channel(1);
    let services = Arc::new(ReplayServices);
    tui::run(
        opts,
        fleet,
        updates,
        services,
        None,
        CancellationToken::new(),
        tui::Extras {
            recorder: None,
            replay: Some(control),
            waves: Default::default(),
        },
    )
    .await
}

/// A recording holds no logs and no live objects to describe.
struct ReplayServices;

impl Services for ReplayServices {
    fn logs(&self, _req: LogRequest) -> mpsc::Receiver<LogEvent> {
        let (tx, rx) = mpsc::channel(1);
        let _ = tx.try_send(LogEvent::Error(
            "replay: a recording keeps the fleet's state, not pod logs".into(),
        ));
        rx
    }

    fn describe(&self, _req: DescribeRequest) -> oneshot::Receiver<Result<Description, String>> {
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(Err(
            "replay: a recording keeps the fleet's state, not the objects to describe".into(),
        ));
        rx
    }
}

/// How long quitting waits for actions in flight to answer.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Opens the console on the resolved clusters until the person quits.
pub async fn run(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    fleetwide: Fleetwide,
) -> Result<i32> {
    let (theme, keymap) = look(global, paths, settings)?;
    let shutdown = CancellationToken::new();
    let clients = ClientCache::new(&fleetwide.targets);
    let kube_updates = kube::start_with_idle(&clients, &shutdown, settings.watch_idle());
    let poll = crate::sources::Polls::from_settings(settings);
    let (sources, updates) = crate::sources::start(&clients, poll, kube_updates, &shutdown);
    if let Some(checks) = crate::outside::Checks::from_settings(settings, fleetwide.network.clone())
        && let Err(e) = crate::outside::start(
            crate::outside::targets(&fleetwide.targets),
            &checks,
            sources.feed.clone(),
            &shutdown,
        )
    {
        // The console has no stderr to speak to once it runs; the log says why.
        tracing::warn!("checks from outside: {e}");
    }
    let services = Arc::new(KubeServices {
        clients: clients.clone(),
    });
    let readonly = global.readonly || settings.readonly;
    let runner = Arc::new(
        crate::kube::executor::runner(clients.clone(), readonly, AuditLog::new(paths.audit_log()))
            .with_hub_api(sources.hub_api.clone())
            .with_silencer(sources.silencer.clone()),
    );
    let opts = ConsoleOptions {
        theme,
        keymap,
        readonly,
        state_dir: paths.state.clone(),
    };
    // Read before this session's recorder starts its own file.
    let names: Vec<&str> = fleetwide.targets.iter().map(|t| t.name.as_str()).collect();
    let fleet = settings
        .record
        .then(|| {
            crate::recorder::warm::from_dir(
                &crate::recorder::dir(&paths.state),
                &names,
                settings.thresholds(),
            )
        })
        .flatten()
        .unwrap_or_else(|| Fleet::new(settings.thresholds()));
    let (recorder, tap) = if settings.record {
        match super::record_cmd::start(paths, settings, None) {
            Ok((tap, recorder)) => (Some(recorder), Some(tap)),
            // The console is worth more than its recording: it opens, and says why not.
            Err(e) => {
                tracing::warn!("{e}");
                (None, None)
            }
        }
    } else {
        (None, None)
    };
    let result = tui::run(
        opts,
        fleet,
        updates,
        services,
        Some(runner.clone()),
        shutdown.clone(),
        tui::Extras {
            recorder: tap,
            replay: None,
            waves: super::rollout_cmd::wave_rules(global, paths)?,
        },
    )
    .await;
    if let Some(r) = recorder
        && let Some(e) = tokio::task::spawn_blocking(move || r.finish())
            .await
            .ok()
            .flatten()
    {
        eprintln!("hubdeck: {e}");
    }
    // The terminal is restored. An action still out (a second quit, a signal) gets to finish
    // so its outcome is in the audit log; its connections must stay up meanwhile.
    let n = runner.in_flight();
    if n > 0 {
        eprintln!("hubdeck: waiting for {n} action(s) in flight to answer and be recorded…");
        if !runner.wait_idle(SHUTDOWN_WAIT).await {
            eprintln!(
                "hubdeck: gave up after {}s; `hubdeck audit` shows their outcome as unknown",
                SHUTDOWN_WAIT.as_secs()
            );
        }
    }
    shutdown.cancel();
    drop(fleetwide);
    result
}

/// The theme and keymap the flags, then the settings, name (NO_COLOR wins over any theme).
fn look(global: &Global, paths: &Paths, settings: &Settings) -> Result<(Theme, Keymap)> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::load(
        Some(global.theme.as_deref().unwrap_or(&settings.theme)),
        Some(&paths.config),
        no_color,
    )?;
    let keymap = Keymap::load(
        Some(global.keymap.as_deref().unwrap_or(&settings.keymap)),
        Some(&paths.config),
    )?;
    Ok((theme, keymap))
}
