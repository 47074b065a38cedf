//! The local end of an exec session, shared by `hubdeck exec` and the console's hand-over:
//! stdin read on a stoppable thread ([`stdin`]) into the session, the session's output handed
//! to the caller to write where it belongs, the terminal's size forwarded, and raw mode for
//! the remote tty ([`RawMode`]) restored on every way out.

pub mod stdin;

use std::time::Duration;

use crate::action::exec::{ExecEnd, ExecInput, ExecOutput, ExecSession};

use stdin::{Chunk, StdinReader};

/// How long a session that is being left gets to answer with its end (and the runner to
/// write its closing line).
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// One step of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Remote output for the terminal (or stdout).
    Stdout(Vec<u8>),
    /// Remote stderr.
    Stderr(Vec<u8>),
    /// The session ended; stdin is no longer read.
    End(ExecEnd),
    /// Input moved; nothing to show.
    Moved,
}

/// Stdin into a session, the session's output out of [`Pump::step`].
pub struct Pump {
    session: ExecSession,
    stdin: StdinReader,
    /// Input read, waiting for room in the session.
    held: Option<ExecInput>,
    stdin_done: bool,
    ended: bool,
}

impl Pump {
    /// Starts reading stdin into `session`.
    pub fn start(session: ExecSession) -> std::io::Result<Self> {
        Ok(Self {
            session,
            stdin: StdinReader::start()?,
            held: None,
            stdin_done: false,
            ended: false,
        })
    }

    /// What the session's summary says (`shell in server leap/prod/ada`).
    pub fn summary(&self) -> &str {
        &self.session.summary
    }

    /// The container the session runs in.
    pub fn container(&self) -> &str {
        &self.session.container
    }

    /// The next thing that happened. Cancel-safe: a `select!` may drop it at any await.
    pub async fn step(&mut self) -> Step {
        if self.ended {
            return std::future::pending().await;
        }
        let step = tokio::select! {
            out = self.session.output.recv() => match out {
                Some(ExecOutput::Stdout(b)) => Step::Stdout(b),
                Some(ExecOutput::Stderr(b)) => Step::Stderr(b),
                Some(ExecOutput::End(end)) => Step::End(end),
                None => Step::End(ExecEnd::Lost(
                    "the session ended without an exit status".into(),
                )),
            },
            permit = self.session.input.reserve(), if self.held.is_some() => {
                match permit {
                    Ok(p) => {
                        if let Some(i) = self.held.take() {
                            p.send(i);
                        }
                    }
                    Err(_) => self.held = None,
                }
                Step::Moved
            }
            chunk = self.stdin.chunks.recv(), if self.held.is_none() && !self.stdin_done => {
                self.held = match chunk {
                    Some(Chunk::Bytes(b)) => Some(ExecInput::Stdin(b)),
                    Some(Chunk::Eof | Chunk::Error(_)) | None => {
                        self.stdin_done = true;
                        Some(ExecInput::EndOfInput)
                    }
                };
                Step::Moved
            }
        };
        if matches!(step, Step::End(_)) {
            self.ended = true;
            self.stdin.stop();
        }
        step
    }

    /// Tells the remote tty the terminal's size (dropped if the session is busy: the next
    /// resize carries the newer size anyway).
    pub fn resize(&mut self, width: u16, height: u16) {
        let _ = self
            .session
            .input
            .try_send(ExecInput::Resize { width, height });
    }

    /// Leaves a session that has not ended (a signal, the console quitting): stops reading
    /// stdin, closes the session and waits briefly for its end, so its closing is audited.
    pub async fn close(mut self) -> Option<ExecEnd> {
        self.stdin.stop();
        if self.ended {
            return None;
        }
        let Pump { session, .. } = self;
        let ExecSession {
            input, mut output, ..
        } = session;
        drop(input);
        let end = async {
            while let Some(out) = output.recv().await {
                if let ExecOutput::End(end) = out {
                    return Some(end);
                }
            }
            None
        };
        tokio::time::timeout(CLOSE_WAIT, end).await.ok().flatten()
    }
}

/// Raw mode while a remote tty runs (keys go through as typed, ctrl-c included); the mode
/// the terminal had comes back on drop, and on a panic through the console's hook.
pub struct RawMode(());

impl RawMode {
    /// Enters raw mode.
    pub fn enter() -> std::io::Result<Self> {
        crate::tui::terminal::install_panic_hook();
        crossterm::terminal::enable_raw_mode()?;
        Ok(Self(()))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// The terminal's size as (columns, rows), if stdout is one.
pub fn terminal_size() -> Option<(u16, u16)> {
    crossterm::terminal::size()
        .ok()
        .filter(|(w, h)| *w > 0 && *h > 0)
}
