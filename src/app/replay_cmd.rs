//! `hubdeck replay FILE ...`: the headless forms (the console form is in `console.rs`).

use std::io::Write;

use color_eyre::eyre::{Result, WrapErr, eyre};
use jiff::Timestamp;

use crate::cli::{Global, ReplayArgs, ReplayCommand};
use crate::headless::exit;
use crate::headless::get::{Filter, get};
use crate::headless::output::write_rows;
use crate::recorder::{Recording, replay, times};

/// The window `--between` names.
pub fn window(rec: &Recording, args: &ReplayArgs) -> Result<Option<(Timestamp, Timestamp)>> {
    let Some(between) = &args.between else {
        return Ok(None);
    };
    let [a, b] = between.as_slice() else {
        return Err(eyre!("--between takes two times"));
    };
    let start = rec.start();
    let t1 = times::parse(a, start).map_err(|e| eyre!("--between: {e}"))?;
    let t2 = times::parse(b, start).map_err(|e| eyre!("--between: {e}"))?;
    if t2 < t1 {
        return Err(eyre!("--between {a} {b}: the window ends before it starts"));
    }
    Ok(Some((t1, t2)))
}

/// The moment `--at` names, or `default`.
pub fn moment(rec: &Recording, args: &ReplayArgs, default: Timestamp) -> Result<Timestamp> {
    match &args.at {
        Some(s) => times::parse(s, rec.start()).map_err(|e| eyre!("--at: {e}")),
        None => Ok(default),
    }
}

/// Runs a headless replay (a command or `--export`).
pub fn run(global: &Global, args: &ReplayArgs) -> Result<i32> {
    let rec = Recording::open(&args.file)?;
    for (path, offset) in &rec.torn {
        eprintln!(
            "hubdeck: {}: the last record (from byte {offset}) was cut short, as a crash leaves it; replaying what precedes it",
            path.display()
        );
    }
    let window = window(&rec, args)?;
    if let Some(out) = &args.export {
        let (t1, t2) = window.ok_or_else(|| eyre!("--export needs --between T1 T2"))?;
        let bytes = replay::export(&rec, t1, t2, out)?;
        eprintln!(
            "hubdeck: wrote {} ({} bytes): {t1} to {t2}",
            out.display(),
            bytes
        );
        if args.command.is_none() {
            return Ok(exit::OK);
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match &args.command {
        Some(ReplayCommand::Get(g)) => {
            let t = moment(&rec, args, rec.end())?;
            let state = rec.state_at(t)?;
            if state.gap {
                eprintln!(
                    "hubdeck: the recorder fell behind before {t}: changes between the gap and the next snapshot are missing"
                );
            }
            let filter = Filter {
                cluster: g.cluster.clone(),
                hub: g.hub.clone(),
                selector: g.selector.clone(),
            };
            get(&state.fleet, g.kind, &filter, global.output, &mut out, t).map(|_| ())
        }
        Some(ReplayCommand::Changes) => {
            let (t1, t2) = window.unwrap_or((rec.start(), rec.end()));
            let rows = replay::changes(&rec, t1, t2)?;
            write_rows(&mut out, global.output, rows.into_iter(), t2).map(|_| ())
        }
        None => return Err(eyre!("replay: name a command (get, changes) or --export")),
    }
    .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::OK),
        other => {
            other.wrap_err("writing output")?;
            Ok(exit::OK)
        }
    }
}
