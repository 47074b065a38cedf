//! hubdeck — one terminal console for a fleet of JupyterHubs on Kubernetes.
//!
//! Module map (see DESIGN.md):
//! - `cli`: the clap command tree; `app`: glue from flags to modules.
//! - `fleet`: the pure model (clusters, hubs, servers, alerts, events), derived health.
//! - `kube`: one supervised task per cluster with its watchers; `alerts`, `hubapi`: the other
//!   network sources, polled per cluster and hub by `sources`.
//! - `action`: plan → check → run → audit for every mutation.
//! - `tui`: the console; `headless`: one-shot commands and runbooks.
//! - `sim`: the embedded demo fleet of loopback fake Kubernetes API servers.

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
