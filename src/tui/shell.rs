//! The console lending its terminal to a shell: an explicit state of the event loop, not a
//! call that blocks it. [`HandOver::begin`] leaves the alternate screen (raw mode stays, for
//! the remote tty) and starts reading stdin into the session, the loop meanwhile stops reading
//! keys; each [`HandOver::step`] writes the session's output to the terminal; when the session
//! ends, however it ends, [`HandOver::finish`] stops the stdin reader and takes the screen
//! back. Fleet updates keep being applied all along, so the console is current on return.

use std::io::Write;

use crate::action::exec::{ExecEnd, ExecSession};
use crate::exec_io::{Pump, Step, terminal_size};

use super::terminal::Tui;

/// A shell holding the terminal.
pub struct HandOver {
    pump: Pump,
    summary: String,
}

impl HandOver {
    /// Lends the terminal to `session`. The caller has stopped reading keys.
    pub fn begin(tui: &mut Tui, session: ExecSession) -> std::io::Result<HandOver> {
        tui.suspend()?;
        let summary = session.summary.clone();
        let banner = format!(
            "\r\n[hubdeck] {} (container {}): the console comes back when the shell exits\r\n",
            hubdeck_core::text::sanitize(&summary),
            hubdeck_core::text::sanitize(&session.container),
        );
        let mut out = std::io::stdout();
        out.write_all(banner.as_bytes())?;
        out.flush()?;
        let mut pump = Pump::start(session)?;
        if let Some((w, h)) = terminal_size() {
            pump.resize(w, h);
        }
        Ok(HandOver { pump, summary })
    }

    /// What the session is (`shell in server leap/prod/ada`).
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// Carries the session one step: output onto the terminal as it comes. Returns its end
    /// once it ended. Cancel-safe.
    pub async fn step(&mut self) -> Option<ExecEnd> {
        match self.pump.step().await {
            Step::Stdout(b) | Step::Stderr(b) => {
                let mut out = std::io::stdout();
                // A terminal that cannot be written to is gone; the session's end follows.
                let _ = out.write_all(&b).and_then(|()| out.flush());
                None
            }
            Step::End(end) => Some(end),
            Step::Moved => None,
        }
    }

    /// The terminal changed size: the remote tty follows.
    pub fn resize(&mut self) {
        if let Some((w, h)) = terminal_size() {
            self.pump.resize(w, h);
        }
    }

    /// Takes the terminal back after the session ended with `end` (or, when None, closes a
    /// session still open first). A line on the main screen says how it ended, so the
    /// transcript there reads whole after hubdeck quits.
    pub async fn finish(self, tui: &mut Tui, end: Option<ExecEnd>) -> std::io::Result<ExecEnd> {
        let HandOver { pump, summary } = self;
        let end = match end {
            Some(end) => end,
            None => pump
                .close()
                .await
                .unwrap_or_else(|| ExecEnd::Lost("closed by hubdeck".into())),
        };
        let line = format!(
            "\r\n[hubdeck] {}: {end}\r\n",
            hubdeck_core::text::sanitize(&summary)
        );
        let mut out = std::io::stdout();
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
        tui.resume()?;
        Ok(end)
    }
}
