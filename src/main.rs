//! hubdeck — one terminal console for a fleet of JupyterHubs on Kubernetes.
//!
//! The binary is thin: it parses the command line, installs the error hooks, and runs
//! `hubdeck::app::run` on a tokio runtime. Where things live (ARCHITECTURE.md has the whole
//! map):
//! - `hubdeck_core` (crates/hubdeck-core): the pure fleet model, the action model and the one
//!   resolver every front end calls; no I/O.
//! - `hubdeck_sim` (crates/hubdeck-sim): the embedded demo fleet of loopback fake API servers.
//! - this crate: `cli` and `app` (flags to modules), `kube`, `alerts`, `hubapi` and `sources`
//!   (the network), `action` (runner and audit), `tui` (the console), `headless` (one-shot
//!   commands and runbooks).

use std::process::ExitCode;

use clap::Parser;

use hubdeck::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    hubdeck::errors::install_hooks();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hubdeck: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(hubdeck::app::run(cli));
    // Supervisors and the demo fleet end with the runtime; do not wait on stuck connections.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match code {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("hubdeck: {}", hubdeck::errors::one_line(&*e));
            ExitCode::from(1)
        }
    }
}
