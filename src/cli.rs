//! The command tree. Global flags apply to every command; no subcommand opens the console.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::headless::get::Kind;
use crate::headless::output::Format;
use crate::headless::selector::Selector;

/// hubdeck: one terminal console for a fleet of JupyterHubs on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "hubdeck", version, about, long_about = None)]
pub struct Cli {
    /// Flags shared by every command.
    #[command(flatten)]
    pub global: Global,
    /// What to do; none opens the console.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Only these kubeconfig contexts (or fleet.toml clusters); repeatable.
    #[arg(long = "context", global = true, value_name = "CONTEXT")]
    pub contexts: Vec<String>,
    /// Fleet file listing the clusters (default: fleet.toml in the config directory, if any;
    /// else every context of the kubeconfig).
    #[arg(long, global = true, env = "HUBDECK_FLEET", value_name = "FILE")]
    pub fleet: Option<PathBuf>,
    /// Run against the embedded demo fleet (loopback fake API servers) instead of real clusters.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Demo fleet size as CLUSTERS,HUBS,SERVERS (implies --demo).
    #[arg(long, global = true, value_name = "C,H,S", value_parser = parse_scale)]
    pub demo_scale: Option<(usize, usize, usize)>,
    /// Refuse every mutation.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Output format of headless commands.
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value = "table"
    )]
    pub output: Format,
    /// Theme: default, light, high-contrast, mono, or a file.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Keymap preset (default, vim) or a file.
    #[arg(long, global = true)]
    pub keymap: Option<String>,
    /// Seconds to wait for clusters' first lists (headless).
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<u64>,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List clusters, hubs, user servers, alerts or events.
    Get(GetArgs),
    /// Run the demo fleet alone, in the foreground, for other clients (kubectl, hubdeck).
    Sim(SimArgs),
}

/// `hubdeck get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// What to list.
    #[arg(value_enum)]
    pub kind: Kind,
    /// Only this cluster.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Only this hub, as CLUSTER/HUB.
    #[arg(long, value_name = "C/H")]
    pub hub: Option<crate::fleet::HubRef>,
    /// Conditions on the printed fields, e.g. `health!=ok` or `phase=Pending,cluster=leap`.
    #[arg(short = 'l', long, value_parser = parse_selector, default_value = "")]
    pub selector: Selector,
}

/// `hubdeck sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Where to write the kubeconfig for the simulated clusters.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: PathBuf,
    /// Number of clusters.
    #[arg(long)]
    pub clusters: Option<usize>,
    /// Number of hubs, fleet-wide.
    #[arg(long)]
    pub hubs: Option<usize>,
    /// Number of user servers, fleet-wide.
    #[arg(long)]
    pub servers: Option<usize>,
    /// Scenario: quiet, steady, gameday, churn.
    #[arg(long, default_value = "steady")]
    pub scenario: String,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

fn parse_scale(s: &str) -> Result<(usize, usize, usize), String> {
    let parts: Vec<&str> = s.split(',').collect();
    let nums: Result<Vec<usize>, _> = parts.iter().map(|p| p.trim().parse::<usize>()).collect();
    match nums.as_deref() {
        Ok([c, h, s]) if *c > 0 && h >= c => Ok((*c, *h, *s)),
        _ => Err(format!(
            "{s:?}: expected CLUSTERS,HUBS,SERVERS with at least one hub per cluster"
        )),
    }
}

fn parse_selector(s: &str) -> Result<Selector, String> {
    s.parse()
}
