//! The console's draw loop as `tui::event_loop` runs it (batch the updates, tick, redraw at most
//! every 12 ms and only when something changed), drawing through ratatui's `CrosstermBackend`
//! into a writer that counts the bytes a terminal would receive.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hubdeck::config::keymap::Command;
use hubdeck::fleet::{ClusterStatus, Fleet, Thresholds};
use hubdeck::kube::{self, ClientCache};
use hubdeck::tui::App;
use jiff::Timestamp;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::child::{Job, console_options, emit, targets};
use crate::procs::CpuMeter;

/// Same pacing as `tui::event_loop`.
const FRAME: Duration = Duration::from_millis(12);
const TICK: Duration = Duration::from_millis(100);
const MAX_BATCH: usize = 50_000;

/// Counts bytes written, shared so the loop can read it while the terminal owns the writer.
struct Counting(Arc<AtomicU64>);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Loads the fleet (`expect` user servers) into a console showing `pane`, then runs its loop for
/// the job's window and reports frames, frame time, bytes to the terminal and CPU as `name`.
pub async fn run(job: &Job<'_>, expect: usize, pane: Command, name: &str) {
    let clients = ClientCache::new(&targets(job.kubeconfig));
    let shutdown = CancellationToken::new();
    let mut updates = kube::start(&clients, &shutdown);
    let mut app = App::new(console_options(), Fleet::new(Thresholds::default()));
    let ready = |f: &Fleet| {
        f.clusters().count() == clients.targets().count()
            && f.clusters().all(|c| c.status != ClusterStatus::Connecting)
            && f.server_count() == expect
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while !ready(app.fleet()) && Instant::now() < deadline {
        let mut batch = Vec::new();
        match tokio::time::timeout_at(deadline, updates.recv_many(&mut batch, MAX_BATCH)).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        app.apply_updates(batch, Timestamp::now());
    }
    if !ready(app.fleet()) {
        emit("error", format!("{name}: model not complete within 600 s"));
    }
    app.run_command(pane);

    let bytes = Arc::new(AtomicU64::new(0));
    let backend = CrosstermBackend::new(Counting(bytes.clone()));
    let viewport = Viewport::Fixed(Rect::new(0, 0, 120, 40));
    let mut terminal = Terminal::with_options(backend, TerminalOptions { viewport })
        .expect("a fixed-size terminal");
    terminal.draw(|f| app.draw(f)).expect("first frame");
    emit(
        &format!("{name}_first_bytes"),
        bytes.swap(0, Ordering::Relaxed),
    );

    let cpu = CpuMeter::start();
    let started = Instant::now();
    let end = started + job.window;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut dirty, mut frames, mut applied) = (false, 0u64, 0u64);
    let mut draw_times = Vec::new();
    let mut last_draw = Instant::now();
    while Instant::now() < end {
        if dirty && last_draw.elapsed() >= FRAME {
            let t = std::time::Instant::now();
            terminal.draw(|f| app.draw(f)).expect("frame");
            draw_times.push(t.elapsed());
            last_draw = Instant::now();
            frames += 1;
            dirty = false;
        }
        let next_frame = sleep_until(last_draw + FRAME);
        tokio::select! {
            first = updates.recv() => {
                let Some(first) = first else { break };
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match updates.try_recv() {
                        Ok(u) => batch.push(u),
                        Err(_) => break,
                    }
                }
                applied += batch.len() as u64;
                dirty |= app.apply_updates(batch, Timestamp::now());
            }
            _ = tick.tick() => dirty |= app.tick(Timestamp::now()),
            () = next_frame, if dirty => {}
            () = sleep_until(end) => {}
        }
    }
    let secs = started.elapsed().as_secs_f64();
    shutdown.cancel();
    draw_times.sort();
    let mean = draw_times.iter().sum::<Duration>().as_secs_f64() / draw_times.len().max(1) as f64;
    emit(&format!("{name}_cpu"), format!("{:.1}", cpu.percent()));
    emit(
        &format!("{name}_updates_per_s"),
        format!("{:.0}", applied as f64 / secs),
    );
    emit(
        &format!("{name}_fps"),
        format!("{:.1}", frames as f64 / secs),
    );
    emit(
        &format!("{name}_frame_mean_ms"),
        format!("{:.2}", mean * 1000.0),
    );
    emit(
        &format!("{name}_frame_max_ms"),
        format!(
            "{:.2}",
            draw_times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        ),
    );
    emit(
        &format!("{name}_bytes_per_s"),
        format!("{:.0}", bytes.load(Ordering::Relaxed) as f64 / secs),
    );
}
