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
    /// Deployment repository (2i2c's layout: config/clusters/*/cluster.yaml) declaring the
    /// clusters and their hubs; combinable with --fleet for per-cluster settings. With --demo,
    /// the demo's own repository is used unless this is given.
    #[arg(long, global = true, env = "HUBDECK_FLEET_REPO", value_name = "DIR")]
    pub fleet_repo: Option<PathBuf>,
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
    /// Write diagnostics to this file (filtered by RUST_LOG, default hubdeck=info); with only
    /// RUST_LOG set they go to hubdeck.log in the state directory. Never to the terminal.
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Seconds to wait for clusters' first lists (headless).
    #[arg(long, global = true, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: Option<u64>,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List clusters, hubs, user servers, alerts or events.
    Get(GetArgs),
    /// Run the demo fleet alone, in the foreground, for other clients (kubectl, hubdeck).
    Sim(SimArgs),
    /// Rollout-restart a hub's hub or proxy Deployment (or, with -l, of many hubs in waves).
    Restart {
        /// hub or proxy.
        #[arg(value_enum)]
        what: RestartWhat,
        /// CLUSTER/HUB (or -l for many).
        #[arg(required_unless_present = "selector")]
        hub: Option<crate::fleet::HubRef>,
        #[command(flatten)]
        waves: WaveArgs,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Scale a hub (0 = maintenance, 1) or its user placeholders (or, with -l, many hubs').
    Scale {
        /// hub or placeholders.
        #[arg(value_enum)]
        what: ScaleWhat,
        /// CLUSTER/HUB (or -l for many).
        #[arg(required_unless_present = "selector")]
        hub: Option<crate::fleet::HubRef>,
        /// New replica count.
        #[arg(long)]
        replicas: u32,
        #[command(flatten)]
        waves: WaveArgs,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Stop user servers: one (CLUSTER/HUB/USER[/SERVER]) or all idle longer than --idle-for
    /// on a hub (CLUSTER/HUB); or a user's dask clusters (`stop dask CLUSTER/HUB/USER`).
    Stop {
        /// `server`, or `dask` for a user's dask-gateway clusters.
        #[arg(value_enum)]
        what: StopWhat,
        /// CLUSTER/HUB/USER[/SERVER], or CLUSTER/HUB with --idle-for.
        target: String,
        /// Stop every server of the hub idle (no activity, else running) longer than this (8h, 90m).
        #[arg(long, value_name = "DURATION", value_parser = hubdeck_core::duration::parse)]
        idle_for: Option<std::time::Duration>,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Show, edit ($EDITOR) or apply a hub's values.yaml (Secret `hub`).
    Config {
        /// show, edit or apply.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Silence an alert in the cluster's Alertmanager.
    Silence {
        /// Cluster.
        cluster: String,
        /// Alert name or fingerprint (see `get alerts`).
        alert: String,
        /// How long (2h, 30m).
        #[arg(long = "for", default_value = "2h", value_name = "DURATION", value_parser = hubdeck_core::duration::parse)]
        duration: std::time::Duration,
        /// Why (recorded in the silence and the audit log).
        #[arg(short = 'm', long = "comment")]
        comment: String,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// List a cluster's Alertmanager silences, or expire one (`--expire ID`).
    Silences {
        /// Cluster.
        cluster: String,
        /// End this silence now.
        #[arg(long, value_name = "ID")]
        expire: Option<String>,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Wait until a hub is ready (or has no pending servers).
    Wait {
        /// Only `hub` for now.
        #[arg(value_enum)]
        what: WaitWhat,
        /// CLUSTER/HUB.
        hub: crate::fleet::HubRef,
        /// Wait for hub and proxy ready (the default).
        #[arg(long)]
        ready: bool,
        /// Wait until no user server is pending.
        #[arg(long)]
        no_pending: bool,
        /// Give up after (5m).
        #[arg(long = "for", default_value = "5m", value_name = "DURATION", value_parser = hubdeck_core::duration::parse)]
        wait_for: std::time::Duration,
    },
    /// Run a runbook: actions, waits and assertions, in order, stopping at the first failure.
    Run {
        /// The runbook (YAML).
        runbook: PathBuf,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Record the fleet's changes (and the audit log's actions) to a file, without a console.
    Record {
        /// Stop after this long (8h, 90m); default: until interrupted.
        #[arg(long = "for", value_name = "DURATION", value_parser = hubdeck_core::duration::parse)]
        duration: Option<std::time::Duration>,
        /// Write to this file instead of recordings/ in the state directory.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Open a recording: the console on the fleet as it was (read-only), or, with a command,
    /// print the fleet at a moment (`get`) or the changes of a window (`changes`).
    Replay(ReplayArgs),
    /// Print a pod's log: a user's server (CLUSTER/HUB/USER[/SERVER]) or, with --component, a
    /// hub component's running pod (CLUSTER/HUB).
    Logs(LogsArgs),
    /// Open a shell (bash, else sh) in a user's server (CLUSTER/HUB/USER[/SERVER]) or, with
    /// --component, a hub component's running pod (CLUSTER/HUB); or run the command after `--`.
    /// Exits with the remote command's status. Checked (read-only, RBAC) and audited.
    Exec(ExecArgs),
    /// Show the audit log.
    Audit {
        /// Only the last N records.
        #[arg(long, default_value_t = 50)]
        last: usize,
    },
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

/// `--yes` / `--dry-run`, shared by every mutation.
#[derive(Debug, Clone, Copy, Args)]
pub struct ConfirmArgs {
    /// Do it without asking (required for every mutation in headless mode).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Plan and check (read-only, RBAC, preconditions) but change nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
}

/// Many hubs at once: which (a selector over `get hubs` fields) and the waves they go in.
#[derive(Debug, Clone, Args)]
pub struct WaveArgs {
    /// Act on every hub whose `get hubs` fields match (`cluster=leap`, `chart=daskhub`), in
    /// waves: staging hubs first, each wave gated on its hubs settling healthy.
    #[arg(short = 'l', long, value_name = "SELECTOR", value_parser = parse_selector, conflicts_with = "hub")]
    pub selector: Option<Selector>,
    /// The waves to run, in order (default: fleet.toml's `[waves] order`, else staging,prod).
    #[arg(
        long,
        value_name = "W1,W2",
        value_delimiter = ',',
        requires = "selector"
    )]
    pub waves: Option<Vec<String>>,
    /// How long a wave's hubs must stay healthy, with no new derived alert, before the next.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = hubdeck_core::duration::parse)]
    pub settle: std::time::Duration,
    /// How long after its last action a wave may take to settle before the rollout stops.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = hubdeck_core::duration::parse)]
    pub wave_timeout: std::time::Duration,
    /// How many of a wave's hubs are acted on at once (default: fleet.toml's `[waves]
    /// parallel`, else 4); after a hub's action fails no other starts.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: Option<u16>,
}

/// What `restart` restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RestartWhat {
    /// The hub Deployment.
    Hub,
    /// The proxy Deployment (drops open connections).
    Proxy,
}

/// What `scale` scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScaleWhat {
    /// The hub Deployment (0 or 1).
    Hub,
    /// The user-placeholder StatefulSet.
    Placeholders,
}

/// What `stop` stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StopWhat {
    /// User servers.
    Server,
    /// A user's running dask clusters (dask-gateway's DaskClusters, spec.active set to false).
    Dask,
}

/// What `wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WaitWhat {
    /// A hub.
    Hub,
}

/// `hubdeck config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the hub's values.yaml, credentials as placeholders that `apply` puts back.
    Show {
        /// CLUSTER/HUB.
        hub: crate::fleet::HubRef,
        /// Print the credentials themselves (for you to see, not to keep in files).
        #[arg(long)]
        show_secrets: bool,
    },
    /// Edit values.yaml in $EDITOR (credentials as placeholders), then apply it (with --yes or
    /// after the diff is confirmed).
    Edit {
        /// CLUSTER/HUB.
        hub: crate::fleet::HubRef,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Apply a values.yaml file to the hub.
    Apply {
        /// CLUSTER/HUB.
        hub: crate::fleet::HubRef,
        /// The new values.yaml, as `config show` wrote it (its first line records the version
        /// it was read at; the edit is applied only over that version).
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Apply a file that records no version, over whatever the Secret holds now.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Apply a JSON merge patch (RFC 7386, JSON or YAML) to the values.yaml of a hub, or of many
    /// hubs (-l) in waves; each hub's diff is shown, and each write guarded by the version read.
    Patch {
        /// CLUSTER/HUB (or -l for many).
        #[arg(required_unless_present = "selector")]
        hub: Option<crate::fleet::HubRef>,
        /// The patch file, `-` for standard input (`{singleuser: {memory: {limit: 8G}}}`;
        /// null removes a key).
        #[arg(long, value_name = "FILE")]
        merge_patch: PathBuf,
        #[command(flatten)]
        waves: WaveArgs,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
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

/// `hubdeck replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A recording file, or a recordings directory (its files in time order).
    pub file: PathBuf,
    /// The moment: RFC 3339 (2026-12-01T03:10:00Z) or a clock time of the recording's day
    /// (03:10, local time). Default: the console opens at the start, `get` prints the end.
    #[arg(long, value_name = "TIME", conflicts_with = "between")]
    pub at: Option<String>,
    /// A window, for `changes` and `--export`.
    #[arg(long, num_args = 2, value_names = ["T1", "T2"])]
    pub between: Option<Vec<String>>,
    /// Write a recording of just the `--between` window to this file.
    #[arg(long, value_name = "OUT", requires = "between")]
    pub export: Option<PathBuf>,
    /// What to print; none opens the console.
    #[command(subcommand)]
    pub command: Option<ReplayCommand>,
}

/// What `hubdeck replay` prints.
#[derive(Debug, Subcommand)]
pub enum ReplayCommand {
    /// The fleet at `--at`, as `hubdeck get` prints the live one.
    Get(GetArgs),
    /// Every change, action and gap of the `--between` window, oldest first.
    Changes,
}

/// `hubdeck logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// CLUSTER/HUB/USER[/SERVER], or CLUSTER/HUB with --component.
    pub target: String,
    /// The hub component whose running pod to read.
    #[arg(long, value_enum, value_name = "COMPONENT")]
    pub component: Option<HubComponent>,
    /// Container (default: the pod's first).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// The container's previous run (after a crash or an OOM kill).
    #[arg(short = 'p', long)]
    pub previous: bool,
    /// Keep printing new lines.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only lines newer than this (10m, 2h).
    #[arg(long, value_name = "DURATION", value_parser = hubdeck_core::duration::parse)]
    pub since: Option<std::time::Duration>,
    /// Lines of history to start with.
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub tail: u32,
}

/// `hubdeck exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// CLUSTER/HUB/USER[/SERVER], or CLUSTER/HUB with --component.
    pub target: String,
    /// The hub component whose running pod to open.
    #[arg(long, value_enum, value_name = "COMPONENT")]
    pub component: Option<HubComponent>,
    /// Container (default: the pod's default container, as kubectl picks it).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Plan and check (read-only, RBAC, the pod and container running) but open nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The command and its arguments, after `--` (default: the container's shell).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Hub components `logs --component` and `exec --component` reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HubComponent {
    /// The JupyterHub process.
    Hub,
    /// configurable-http-proxy.
    Proxy,
    /// The user scheduler.
    UserScheduler,
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
