//! The terminal: raw mode, alternate screen and hidden cursor while the console runs, and a
//! restore on every exit path — normal return, error, panic (a panic hook that restores before
//! the report is printed) and signals (handled by the event loop, which returns normally).
//! A shell borrows it in between: [`Tui::suspend`] leaves the alternate screen (raw mode stays:
//! the remote tty wants the keys as typed), [`Tui::resume`] takes it back and redraws.

use std::io::{Stdout, stdout};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The console's terminal; dropping it restores the terminal.
pub struct Tui {
    /// The ratatui terminal drawing to stdout.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Tui {
    /// Installs the restoring panic hook, then enters raw mode and the alternate screen.
    pub fn enter() -> std::io::Result<Tui> {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
            return Err(std::io::Error::other(
                "the console needs a terminal (stdin and stdout are not one); for scripts use a \
                 headless command such as `hubdeck get hubs`",
            ));
        }
        install_panic_hook();
        enable_raw_mode()?;
        let entered = execute!(stdout(), EnterAlternateScreen, Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(stdout())));
        match entered {
            Ok(mut terminal) => {
                terminal.clear()?;
                Ok(Tui { terminal })
            }
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Tui {
    /// Hands the terminal to a remote tty: the main screen and the cursor back, raw mode kept.
    pub fn suspend(&mut self) -> std::io::Result<()> {
        execute!(stdout(), LeaveAlternateScreen, Show)
    }

    /// Takes the terminal back after a shell, however it ended: modes a remote program may
    /// have left behind reset (colours, application cursor keys and keypad), raw mode (again),
    /// the alternate screen, and a full redraw at the terminal's size now.
    pub fn resume(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        let mut out = stdout();
        out.write_all(b"\x1b[0m\x1b[?1l\x1b>")?;
        enable_raw_mode()?;
        execute!(out, EnterAlternateScreen, Hide)?;
        self.terminal.autoresize()?;
        self.terminal.clear()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen and shows the cursor. Safe to call more than once
/// and when the terminal was never entered.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), LeaveAlternateScreen, Show);
}

/// Chains a hook that restores the terminal before the previous panic hook runs, so the report
/// (color-eyre's) is printed on a usable terminal.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        crate::errors::install_hooks();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
