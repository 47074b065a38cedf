//! Glue between the command line and the modules: which clusters (demo, fleet file or
//! kubeconfig), then the chosen command.

mod commands;
mod config_cmd;
mod console;
mod exec_cmd;
mod logs_cmd;
mod record_cmd;
mod replay_cmd;
pub mod rollout_cmd;

use std::io::Write;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, eyre};

use crate::action::{Request, ServerRef};
use crate::cli::{
    Cli, Command, ConfirmArgs, GetArgs, Global, RestartWhat, ScaleWhat, SimArgs, StopWhat,
};
use crate::config::fleet_file::FleetFile;
use crate::config::fleet_repo;
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::headless::exit;
use crate::headless::get::Kind;
use crate::headless::get::{Filter, get};
use crate::headless::session::{Needs, Session};
use crate::kube::{ClusterTarget, repo_targets, targets};
use hubdeck_sim::{FleetSpec, Scenario, SimFleet};

/// Where the clusters come from for this run; keeps the demo fleet alive while it is used.
pub struct Fleetwide {
    /// Clusters to watch.
    pub targets: Vec<ClusterTarget>,
    /// The embedded demo fleet, when `--demo`.
    pub demo: Option<SimFleet>,
    /// The demo's deployment repository, written for this run.
    pub demo_repo: Option<tempfile::TempDir>,
    /// How hubs are reached from outside: the system's resolver and roots, except in the demo,
    /// whose made-up domains are pinned to the sim's ingress and its CA.
    pub network: crate::outside::Network,
}

/// Spec of the demo fleet the flags ask for.
pub fn demo_spec(global: &Global) -> FleetSpec {
    let mut spec = FleetSpec::demo();
    if let Some((c, h, s)) = global.demo_scale {
        spec.clusters = c;
        spec.hubs = h;
        spec.servers = s;
    }
    spec
}

/// Resolves the clusters: demo fleet, fleet file, or every kubeconfig context.
pub async fn resolve(global: &Global, paths: &Paths) -> Result<Fleetwide> {
    if global.demo || global.demo_scale.is_some() {
        let sim = SimFleet::start(demo_spec(global))
            .await
            .map_err(|e| eyre!("demo fleet: {e}"))?;
        let kc = targets::read_kubeconfig(sim.kubeconfig_path())?;
        let (repo_path, demo_repo) = match &global.fleet_repo {
            Some(dir) => (dir.clone(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("hubdeck-demo-repo-")
                    .tempdir()
                    .wrap_err("demo deployment repository")?;
                hubdeck_sim::deploy_repo::write(&sim, dir.path())
                    .wrap_err("writing the demo deployment repository")?;
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        let repo = fleet_repo::load(&repo_path)?;
        let mut list = repo_targets::from_repo(&repo, None, &global.contexts, || Ok(kc.clone()))?;
        for t in &mut list {
            t.provider = sim.cluster(&t.name).map(|c| c.provider().to_string());
        }
        let network = demo_network(&sim)?;
        return Ok(Fleetwide {
            targets: list,
            demo: Some(sim),
            demo_repo,
            network,
        });
    }
    let fleet_path = global
        .fleet
        .clone()
        .or_else(|| Some(paths.fleet()).filter(|p| p.exists()));
    let file = fleet_path.as_deref().map(FleetFile::load).transpose()?;
    let repo_path = global.fleet_repo.clone().or_else(|| {
        let file = file.as_ref()?;
        let dir = fleet_path.as_deref()?.parent()?;
        file.fleet_repo
            .as_ref()
            .map(|r| dir.join(targets::expand_home(r)))
    });
    if let Some(repo_path) = repo_path {
        let repo = fleet_repo::load(&repo_path)?;
        let list = repo_targets::from_repo(
            &repo,
            file.as_ref(),
            &global.contexts,
            targets::active_kubeconfig,
        )?;
        let network = match (&file, &fleet_path) {
            (Some(f), Some(path)) => f.outside_network(path)?,
            _ => crate::outside::Network::public(),
        };
        return Ok(Fleetwide {
            targets: list,
            demo: None,
            demo_repo: None,
            network,
        });
    }
    let mut network = crate::outside::Network::public();
    let list = match &fleet_path {
        Some(path) => {
            let file = FleetFile::load(path)?;
            network = file.outside_network(path)?;
            let list =
                targets::from_fleet_file(&file, &global.contexts, targets::active_kubeconfig)?;
            if list.is_empty() {
                return Err(eyre!(
                    "fleet file {}: lists no clusters (add a [[cluster]] table with a name or context)",
                    path.display()
                ));
            }
            list
        }
        None => {
            let list = targets::from_kubeconfig(targets::active_kubeconfig()?, &global.contexts)?;
            if list.is_empty() {
                return Err(eyre!(
                    "kubeconfig {}: has no contexts, so there is no cluster to watch",
                    targets::active_kubeconfig_paths()
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            list
        }
    };
    Ok(Fleetwide {
        targets: list,
        demo: None,
        demo_repo: None,
        network,
    })
}

/// The demo's hubs as its users would reach them: every declared domain at the ingress of its
/// sim cluster, trusted through the sim's own CA. Only `--demo` builds this.
fn demo_network(sim: &SimFleet) -> Result<crate::outside::Network> {
    crate::outside::Network::pinned(sim.ingress_domains(), Some(sim.ingress_ca_pem()))
        .map_err(|e| eyre!("demo ingress: {e}"))
}

/// Starts the checks from outside of a session, as the settings say (a failure to build the
/// client is said on stderr; the rest of the command goes on).
pub fn check_outside(
    session: &mut Session,
    settings: &Settings,
    network: &crate::outside::Network,
) {
    let Some(checks) = crate::outside::Checks::from_settings(settings, network.clone()) else {
        return;
    };
    if let Err(e) = session.check_outside(&checks) {
        eprintln!("hubdeck: checks from outside: {e}");
    }
}

/// Runs the parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32> {
    let paths = Paths::discover();
    crate::logging::init(cli.global.log_file.as_deref(), &paths.state)?;
    let settings = Settings::load(&paths.settings())?;
    match cli.command {
        Some(Command::Sim(args)) => sim(args).await,
        Some(Command::Get(args)) => get_cmd(&cli.global, &paths, &settings, args).await,
        Some(Command::Restart {
            what,
            hub,
            waves,
            confirm,
        }) if waves.selector.is_some() => {
            let what = hubdeck_core::rollout::HubAction::Restart {
                proxy: what == RestartWhat::Proxy,
            };
            rollout_cmd::run(&cli.global, &paths, &settings, what, hub, waves, confirm).await
        }
        Some(Command::Scale {
            what,
            hub,
            replicas,
            waves,
            confirm,
        }) if waves.selector.is_some() => {
            let what = hubdeck_core::rollout::HubAction::Scale {
                placeholders: what == ScaleWhat::Placeholders,
                replicas,
            };
            rollout_cmd::run(&cli.global, &paths, &settings, what, hub, waves, confirm).await
        }
        Some(Command::Config {
            command:
                crate::cli::ConfigCommand::Patch {
                    hub,
                    merge_patch,
                    waves,
                    confirm,
                },
        }) => {
            rollout_cmd::patch(
                &cli.global,
                &paths,
                &settings,
                hub,
                &merge_patch,
                waves,
                confirm,
            )
            .await
        }
        Some(
            cmd @ (Command::Restart { .. }
            | Command::Scale { .. }
            | Command::Stop { .. }
            | Command::Silence { .. }),
        ) => match request(&cmd)? {
            Some((request, confirm)) => {
                commands::act(&cli.global, &paths, &settings, request, confirm).await
            }
            None => Ok(exit::USAGE),
        },
        Some(Command::Silences {
            cluster,
            expire,
            confirm,
        }) => commands::silences(&cli.global, &paths, &settings, cluster, expire, confirm).await,
        Some(Command::Config { command }) => {
            config_cmd::config(&cli.global, &paths, &settings, command).await
        }
        Some(Command::Wait {
            what: _,
            hub,
            ready: _,
            no_pending,
            wait_for,
        }) => commands::wait(&cli.global, &paths, &settings, hub, no_pending, wait_for).await,
        Some(Command::Run { runbook, confirm }) => {
            let book = crate::headless::runbook::load(&runbook).map_err(|e| eyre!(e))?;
            let rules = rollout_cmd::wave_rules(&cli.global, &paths)?;
            let (mut session, _fleetwide) =
                commands::session(&cli.global, &paths, &settings, Needs::ALL).await?;
            let runner = commands::runner(&session, &cli.global, &paths, &settings);
            let stdout = std::io::stdout();
            let code = crate::headless::runbook::run(
                &mut session,
                &runner,
                &book,
                &rules,
                commands::runbook_mode(confirm),
                &mut stdout.lock(),
            )
            .await?;
            Ok(code)
        }
        Some(Command::Record { duration, out }) => {
            record_cmd::record(&cli.global, &paths, &settings, duration, out).await
        }
        Some(Command::Replay(args)) if args.command.is_some() || args.export.is_some() => {
            replay_cmd::run(&cli.global, &args)
        }
        Some(Command::Replay(args)) => console::replay(&cli.global, &paths, &settings, &args).await,
        Some(Command::Logs(args)) => logs_cmd::logs(&cli.global, &paths, &settings, args).await,
        Some(Command::Exec(args)) => exec_cmd::exec(&cli.global, &paths, &settings, args).await,
        Some(Command::Audit { last }) => commands::audit(&paths, &cli.global, last),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "hubdeck", &mut std::io::stdout());
            Ok(exit::OK)
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(exit::OK)
        }
        None => {
            let fleetwide = resolve(&cli.global, &paths).await?;
            console::run(&cli.global, &paths, &settings, fleetwide).await
        }
    }
}

async fn sim(args: SimArgs) -> Result<i32> {
    let mut spec = FleetSpec::demo();
    spec.clusters = args.clusters.unwrap_or(spec.clusters);
    spec.hubs = args.hubs.unwrap_or(spec.hubs).max(spec.clusters);
    spec.servers = args.servers.unwrap_or(spec.servers);
    spec.seed = args.seed;
    spec.scenario = args
        .scenario
        .parse::<Scenario>()
        .map_err(|e| eyre!("--scenario {}: {e}", args.scenario))?;
    hubdeck_sim::run_foreground(spec, &args.kubeconfig_out)
        .await
        .map_err(|e| eyre!("sim: {e}"))?;
    Ok(exit::OK)
}

async fn get_cmd(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    args: GetArgs,
) -> Result<i32> {
    if let Err(e) = args.kind.check(&args.selector) {
        eprintln!("hubdeck: {e}");
        return Ok(exit::USAGE);
    }
    let fleetwide = resolve(global, paths).await?;
    let wanted: Vec<ClusterTarget> = fleetwide
        .targets
        .iter()
        .filter(|t| {
            args.cluster.as_deref().is_none_or(|c| c == t.name)
                && args.hub.as_ref().is_none_or(|h| h.cluster == t.name)
        })
        .cloned()
        .collect();
    if wanted.is_empty() {
        let names: Vec<&str> = fleetwide.targets.iter().map(|t| t.name.as_str()).collect();
        let asked = args
            .cluster
            .clone()
            .or_else(|| args.hub.as_ref().map(|h| h.cluster.clone()))
            .unwrap_or_default();
        return Err(eyre!(
            "unknown cluster {asked:?}; available: {}",
            names.join(", ")
        ));
    }
    let timeout = Duration::from_secs(global.timeout.unwrap_or(settings.connect_timeout_secs));
    let poll = crate::sources::Polls::from_settings(settings);
    let mut session =
        Session::start_with(wanted, settings.thresholds(), poll, settings.watch_idle());
    check_outside(&mut session, settings, &fleetwide.network);
    let needs = match args.kind {
        Kind::Clusters => Needs {
            alerts: true,
            activity: false,
            metrics: true,
            outside: false,
        },
        Kind::Alerts => Needs {
            alerts: true,
            outside: true,
            ..Needs::LISTS
        },
        Kind::Servers => Needs {
            alerts: false,
            activity: true,
            metrics: true,
            outside: false,
        },
        Kind::Hubs => Needs {
            metrics: true,
            outside: true,
            ..Needs::LISTS
        },
        Kind::Nodes => Needs {
            metrics: true,
            ..Needs::LISTS
        },
        Kind::Events => Needs::LISTS,
    };
    session.settle_for(timeout, needs).await;
    let filter = Filter {
        cluster: args.cluster.clone(),
        hub: args.hub.clone(),
        selector: args.selector.clone(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = get(
        &session.fleet,
        args.kind,
        &filter,
        global.output,
        &mut out,
        jiff::Timestamp::now(),
    )
    .and_then(|_| out.flush());
    drop(out);
    match written {
        // `| head` closing the pipe is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(exit::OK),
        other => other.wrap_err("writing output")?,
    }
    let mut unread = session.unread();
    if args.kind == Kind::Nodes {
        unread.extend(session.unread_nodes());
    }
    for (cluster, reason) in &unread {
        eprintln!("hubdeck: cluster {cluster}: {reason}");
    }
    drop(fleetwide);
    Ok(if unread.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    })
}

/// The request a mutation command makes, with its confirmation flags; `None` for commands
/// that make none. The CLI's parser in front of the one resolver, as the console's keys are.
pub fn request(command: &Command) -> Result<Option<(Request, ConfirmArgs)>> {
    Ok(Some(match command {
        Command::Restart {
            what,
            hub: Some(hub),
            confirm,
            ..
        } => (
            Request::Restart {
                hub: hub.clone(),
                proxy: *what == RestartWhat::Proxy,
            },
            *confirm,
        ),
        Command::Scale {
            what,
            hub: Some(hub),
            replicas,
            confirm,
            ..
        } => (
            Request::Scale {
                hub: hub.clone(),
                placeholders: *what == ScaleWhat::Placeholders,
                replicas: *replicas,
            },
            *confirm,
        ),
        Command::Stop {
            what: StopWhat::Dask,
            target,
            idle_for,
            confirm,
        } => (stop_dask_request(target, *idle_for)?, *confirm),
        Command::Stop {
            what: StopWhat::Server,
            target,
            idle_for,
            confirm,
        } => (stop_request(target, *idle_for)?, *confirm),
        Command::Silence {
            cluster,
            alert,
            duration,
            comment,
            confirm,
        } => (
            Request::Silence {
                cluster: cluster.clone(),
                alert: alert.clone(),
                duration: *duration,
                comment: comment.clone(),
            },
            *confirm,
        ),
        _ => return Ok(None),
    }))
}

/// `C/H/USER`: whose dask clusters to stop.
fn stop_dask_request(target: &str, idle_for: Option<std::time::Duration>) -> Result<Request> {
    match (target.split('/').collect::<Vec<_>>().as_slice(), idle_for) {
        ([c, h, u], None) if ![c, h, u].iter().any(|p| p.is_empty()) => Ok(Request::StopDask {
            hub: crate::fleet::HubRef {
                cluster: c.to_string(),
                hub: h.to_string(),
                release: None,
            },
            user: u.to_string(),
        }),
        (_, Some(_)) => Err(eyre!("stop dask takes no --idle-for: name the user")),
        _ => Err(eyre!("{target:?}: expected CLUSTER/HUB/USER")),
    }
}

/// `C/H/USER[/SERVER]`, or `C/H` with `--idle-for`.
fn stop_request(target: &str, idle_for: Option<std::time::Duration>) -> Result<Request> {
    let parts: Vec<&str> = target.split('/').collect();
    let hub = |c: &str, h: &str| crate::fleet::HubRef {
        cluster: c.to_string(),
        hub: h.to_string(),
        release: None,
    };
    match (parts.as_slice(), idle_for) {
        ([c, h], Some(idle_for)) => Ok(Request::StopIdle {
            hub: hub(c, h),
            idle_for,
        }),
        ([c, h, u], None) => Ok(Request::StopServers {
            servers: vec![ServerRef {
                hub: hub(c, h),
                user: u.to_string(),
                server: String::new(),
            }],
        }),
        ([c, h, u, s], None) => Ok(Request::StopServers {
            servers: vec![ServerRef {
                hub: hub(c, h),
                user: u.to_string(),
                server: s.to_string(),
            }],
        }),
        _ => Err(eyre!(
            "{target:?}: expected CLUSTER/HUB/USER[/SERVER], or CLUSTER/HUB with --idle-for"
        )),
    }
}
