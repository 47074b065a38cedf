//! Exec credential plugins at fleet scale: the console binary against the same fleet, but with a
//! kubeconfig whose users get their tokens from a plugin that takes 1 s per run (as
//! gke-gcloud-auth-plugin or `aws eks get-token` do). Measures the time until every cluster is
//! ready and how often the plugin ran.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hubdeck_sim::exec_plugin::CountingPlugin;
use serde_yaml_ng::Value;

use crate::Figures;

/// What one plugin run takes.
const PLUGIN_TIME: Duration = Duration::from_secs(1);

/// Runs the console binary with every user of `kubeconfig` turned into an exec plugin user;
/// records `exec_*` figures in `f`.
pub fn console(kubeconfig: &Path, clusters: usize, dir: &Path, window: Duration, f: &mut Figures) {
    let plugin_dir = dir.join("exec-plugin");
    let written = std::fs::create_dir_all(&plugin_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            CountingPlugin::write(&plugin_dir, PLUGIN_TIME, Duration::from_secs(900))
                .map_err(|e| e.to_string())
        })
        .and_then(|plugin| {
            let out = plugin_dir.join("exec.kubeconfig");
            with_exec_users(kubeconfig, plugin.command(), &out).map(|()| (plugin, out))
        });
    let (plugin, exec_kubeconfig) = match written {
        Ok(w) => w,
        Err(e) => return eprintln!("bench:   exec plugin kubeconfig: {e}"),
    };
    let mut g = Figures::new();
    crate::tty::console(&exec_kubeconfig, clusters, dir, window, &mut g);
    if let Some(ms) = g.get("console_ready_ms") {
        f.insert("exec_ready_ms".into(), ms.clone());
    }
    if let Some(kb) = g.get("console_steady_kb") {
        f.insert("exec_steady_kb".into(), kb.clone());
    }
    let runs = plugin.runs();
    let mut users: Vec<&String> = runs.iter().collect();
    users.sort();
    users.dedup();
    f.insert("exec_runs".into(), runs.len().to_string());
    f.insert("exec_users".into(), users.len().to_string());
}

/// Rewrites the sim's kubeconfig: each user's token comes from `plugin USER TOKEN` instead, and
/// the servers lose the token kubectl needs in their URL, so the plugin's token is the one used.
fn with_exec_users(kubeconfig: &Path, plugin: &Path, out: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(kubeconfig).map_err(|e| e.to_string())?;
    let mut doc: Value = serde_yaml_ng::from_str(&text).map_err(|e| e.to_string())?;
    let command = Value::from(PathBuf::from(plugin).display().to_string());
    for user in seq(&mut doc, "users") {
        let name = user.get("name").cloned().unwrap_or(Value::Null);
        let token = user
            .get("user")
            .and_then(|u| u.get("token"))
            .cloned()
            .unwrap_or(Value::Null);
        let exec: Value = serde_yaml_ng::from_str(
            "{apiVersion: client.authentication.k8s.io/v1beta1, interactiveMode: Never}",
        )
        .map_err(|e| e.to_string())?;
        let mut exec = exec;
        exec["command"] = command.clone();
        exec["args"] = Value::Sequence(vec![name, token]);
        let mut spec = serde_yaml_ng::Mapping::new();
        spec.insert("exec".into(), exec);
        user["user"] = Value::Mapping(spec);
    }
    for cluster in seq(&mut doc, "clusters") {
        if let Some(server) = cluster["cluster"]["server"].as_str()
            && let Some((base, _token)) = server.split_once("/_token/")
        {
            cluster["cluster"]["server"] = Value::from(base.to_string());
        }
    }
    let text = serde_yaml_ng::to_string(&doc).map_err(|e| e.to_string())?;
    std::fs::write(out, text).map_err(|e| e.to_string())
}

fn seq<'a>(doc: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    doc.get_mut(key)
        .and_then(Value::as_sequence_mut)
        .into_iter()
        .flatten()
}
