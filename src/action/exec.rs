//! The bytes of an exec session, as channels of the runtime: what an executor opens
//! ([`ExecChannels`]) and what the runner hands a front end ([`ExecSession`]) once the session
//! passed its checks and its opening is on the audit log.

use tokio::sync::mpsc;

pub use hubdeck_core::action::{ExecEnd, ExecSpec};

/// What a front end sends into a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecInput {
    /// Bytes for the remote stdin (keystrokes, or a pipe's data).
    Stdin(Vec<u8>),
    /// The local terminal's new size, for the remote tty.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// The local stdin ended: the remote stdin is closed (a shell reading it then exits).
    EndOfInput,
}

/// What comes out of a session, ending with exactly one [`ExecOutput::End`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutput {
    /// Remote stdout (with a tty: the terminal's output, stderr included).
    Stdout(Vec<u8>),
    /// Remote stderr (without a tty).
    Stderr(Vec<u8>),
    /// How the session ended; nothing follows.
    End(ExecEnd),
}

/// One command's session as an executor opened it.
pub struct ExecChannels {
    /// Into the session.
    pub input: mpsc::Sender<ExecInput>,
    /// Out of it.
    pub output: mpsc::Receiver<ExecOutput>,
}

/// An open, audited session, for a front end to carry: keystrokes or a pipe into `input`,
/// `output` onto the terminal. Its closing is audited when it ends, whichever way.
pub struct ExecSession {
    /// The plan's summary (`shell in server leap/prod/ada`), for messages.
    pub summary: String,
    /// The container it runs in.
    pub container: String,
    /// Into the session.
    pub input: mpsc::Sender<ExecInput>,
    /// Out of it.
    pub output: mpsc::Receiver<ExecOutput>,
}

impl std::fmt::Debug for ExecSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecSession")
            .field("summary", &self.summary)
            .field("container", &self.container)
            .finish_non_exhaustive()
    }
}
