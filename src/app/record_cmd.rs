//! `hubdeck record` and the recorder the console starts.

use std::time::Duration;

use color_eyre::eyre::{Result, eyre};
use jiff::SignedDuration;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::Global;
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::headless::exit;
use crate::headless::session::Session;
use crate::recorder::{Recorder, RecorderConfig, Tap, Target};

use super::resolve;

/// The recorder settings ask for, into `out` or the state directory's recordings.
pub fn start(
    paths: &Paths,
    settings: &Settings,
    out: Option<std::path::PathBuf>,
) -> Result<(Tap, Recorder)> {
    let target = match out {
        Some(file) => Target::File(file),
        None => Target::Dir {
            dir: crate::recorder::dir(&paths.state),
            budget: settings.record_budget(),
        },
    };
    let where_ = match &target {
        Target::File(f) => f.display().to_string(),
        Target::Dir { dir, .. } => dir.display().to_string(),
    };
    Recorder::start(RecorderConfig {
        target,
        snapshot_every: SignedDuration::from_mins(settings.record_snapshot_mins as i64),
        audit_log: Some(paths.audit_log()),
    })
    .map_err(|e| eyre!("recording to {where_}: {e}"))
}

/// Records until `duration` passed or a signal came.
pub async fn record(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    duration: Option<Duration>,
    out: Option<std::path::PathBuf>,
) -> Result<i32> {
    let fleetwide = resolve(global, paths).await?;
    let (tap, recorder) = start(paths, settings, out.clone())?;
    let mut session = Session::start_polling(
        fleetwide.targets.clone(),
        settings.thresholds(),
        crate::sources::Polls::from_settings(settings),
    );
    super::check_outside(&mut session, settings, &fleetwide.network);
    session.record_to(tap);
    let target = out.map_or_else(
        || crate::recorder::dir(&paths.state).display().to_string(),
        |f| f.display().to_string(),
    );
    eprintln!(
        "hubdeck: recording {} cluster(s) to {target}{}",
        fleetwide.targets.len(),
        duration.map_or_else(
            || " until interrupted".to_string(),
            |d| format!(" for {}", crate::action::humanize(d))
        )
    );
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let deadline =
        tokio::time::Instant::now() + duration.unwrap_or(Duration::from_secs(100 * 365 * 86_400));
    // A signal asks for the end: answered by a clean one, the file complete.
    loop {
        let step = tokio::time::Instant::now() + Duration::from_millis(200);
        tokio::select! {
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            _ = session.pump(step.min(deadline)) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
    }
    session.drain();
    session.stop_recording();
    drop(session);
    match tokio::task::spawn_blocking(move || recorder.finish()).await {
        Ok(None) => Ok(exit::OK),
        Ok(Some(e)) => Err(eyre!(e)),
        Err(e) => Err(eyre!("recorder: {e}")),
    }
}
