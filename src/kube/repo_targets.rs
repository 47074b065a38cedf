//! The clusters of a deployment repository, each matched to a kubeconfig context: the one
//! fleet.toml names for it, else the one whose name or cluster name is the repository's
//! cluster name or the provider's (with the names gcloud and the AWS CLI write). A declared
//! cluster no context matches stays in the fleet, shown with the reason, never dropped.

use std::sync::Arc;

use kube::config::Kubeconfig;

use super::targets::{ClusterTarget, TargetError, contexts, expand_home, read_kubeconfig, target};
use crate::config::fleet_file::{ClusterEntry, FleetFile};
use crate::config::fleet_repo::{DeployRepo, RepoCluster};

/// The names a context for `c` may carry, most specific first.
fn wanted_names(c: &RepoCluster) -> Vec<String> {
    let mut names = vec![c.name.clone()];
    if let Some(p) = &c.provider_cluster {
        names.push(p.clone());
        if let Some((project, zone)) = &c.gcp {
            // `gcloud container clusters get-credentials` names context and cluster so.
            names.push(format!("gke_{project}_{zone}_{p}"));
        }
    }
    names.dedup();
    names
}

/// The contexts of `kc` that point at `c`.
fn matching(kc: &Kubeconfig, c: &RepoCluster) -> Vec<String> {
    let names = wanted_names(c);
    let eks_suffix = c
        .provider_cluster
        .as_ref()
        .filter(|_| c.provider == "aws")
        .map(|p| format!(":cluster/{p}"));
    kc.contexts
        .iter()
        .filter(|ctx| {
            let cluster = ctx.context.as_ref().map(|x| x.cluster.as_str()).unwrap_or("");
            names.iter().any(|n| *n == ctx.name || n == cluster)
                // `aws eks update-kubeconfig` names both by the cluster's ARN.
                || eks_suffix
                    .as_ref()
                    .is_some_and(|s| ctx.name.ends_with(s.as_str()) || cluster.ends_with(s.as_str()))
        })
        .map(|ctx| ctx.name.clone())
        .collect()
}

/// The clusters of the repository (filtered by `only`), then the fleet file's clusters that
/// the repository does not declare.
pub fn from_repo(
    repo: &DeployRepo,
    file: Option<&FleetFile>,
    only: &[String],
    active: impl Fn() -> Result<Kubeconfig, TargetError>,
) -> Result<Vec<ClusterTarget>, TargetError> {
    let entries: &[ClusterEntry] = file.map_or(&[], |f| f.clusters.as_slice());
    // A repository without a kubeconfig still lists its clusters (each unmatched).
    let active_kc = Arc::new(active().unwrap_or_default());
    let mut out = Vec::new();
    for c in &repo.clusters {
        if !only.is_empty() && !only.contains(&c.name) {
            continue;
        }
        let entry = entries
            .iter()
            .find(|e| e.display_name() == Some(c.name.as_str()));
        let kc = match entry.and_then(|e| e.kubeconfig.as_ref()) {
            Some(path) => Arc::new(read_kubeconfig(&expand_home(path))?),
            None => active_kc.clone(),
        };
        let mut t = match entry.and_then(|e| e.context.as_deref()) {
            Some(context) => {
                if !kc.contexts.iter().any(|x| x.name == context) {
                    return Err(TargetError::UnknownContext {
                        wanted: context.to_string(),
                        available: contexts(&kc),
                    });
                }
                target(&kc, &c.name, context)
            }
            None => match matching(&kc, c).as_slice() {
                [one] => target(&kc, &c.name, one),
                found => {
                    let mut t = target(&kc, &c.name, "");
                    t.unmatched = Some(unmatched(c, found));
                    t
                }
            },
        };
        t.provider = entry
            .and_then(|e| e.provider.clone())
            .or_else(|| Some(c.provider.clone()));
        if let Some(e) = entry {
            t.readonly = e.readonly;
            t.alertmanager_url = e.alertmanager_url.clone();
            t.ignore_namespaces = e.ignore_namespaces.clone();
            t.namespaces = e.namespaces.clone();
            t.hubs = e.hubs.clone();
        }
        t.declared = Some(c.hubs.clone());
        out.push(t);
    }
    if let Some(file) = file {
        let rest = FleetFile {
            clusters: entries
                .iter()
                .filter(|e| {
                    !repo
                        .clusters
                        .iter()
                        .any(|c| e.display_name() == Some(c.name.as_str()))
                })
                .cloned()
                .collect(),
            ..file.clone()
        };
        let only_rest: Vec<String> = only
            .iter()
            .filter(|o| !repo.clusters.iter().any(|c| &c.name == *o))
            .cloned()
            .collect();
        if only.is_empty() || !only_rest.is_empty() {
            out.extend(super::targets::from_fleet_file(&rest, &only_rest, || {
                Ok((*active_kc).clone())
            })?);
        }
    }
    if let Some(wanted) = only.iter().find(|o| !out.iter().any(|t| &t.name == *o)) {
        return Err(TargetError::UnknownContext {
            wanted: wanted.clone(),
            available: repo.clusters.iter().map(|c| c.name.clone()).collect(),
        });
    }
    Ok(out)
}

fn unmatched(c: &RepoCluster, found: &[String]) -> String {
    let file = c.file.display();
    if found.is_empty() {
        format!(
            "{file}: no kubeconfig context for cluster {:?} (looked for contexts or clusters named {}); \
             set `context` in its fleet.toml [[cluster]] entry",
            c.name,
            wanted_names(c).join(", ")
        )
    } else {
        format!(
            "{file}: cluster {:?} matches several kubeconfig contexts ({}); set `context` in its \
             fleet.toml [[cluster]] entry",
            c.name,
            found.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fleet_repo::parse;
    use std::path::Path;

    fn repo(files: &[&str]) -> DeployRepo {
        DeployRepo {
            root: "repo".into(),
            clusters: files
                .iter()
                .enumerate()
                .map(|(i, t)| parse(t, Path::new(&format!("c{i}/cluster.yaml"))).unwrap())
                .collect(),
        }
    }

    fn kubeconfig(contexts: &[(&str, &str)]) -> Kubeconfig {
        let clusters: Vec<String> = contexts
            .iter()
            .map(|(_, c)| format!("- name: {c}\n  cluster: {{server: \"https://{c}.example\"}}\n"))
            .collect();
        let ctxs: Vec<String> = contexts
            .iter()
            .map(|(n, c)| format!("- name: \"{n}\"\n  context: {{cluster: \"{c}\", user: u}}\n"))
            .collect();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{}contexts:\n{}users:\n- name: u\n  user: {{token: t}}\n",
            clusters.concat(),
            ctxs.concat()
        );
        Kubeconfig::from_yaml(&text).unwrap()
    }

    const LEAP: &str = "name: leap\nprovider: gcp\ngcp: {project: leap-pangeo, cluster: leap-cluster, zone: us-central1}\nhubs:\n  - {name: staging, helm_chart: daskhub}\n";
    const NASA: &str = "name: nasa\nprovider: aws\naws: {clusterName: nasa-eks}\nhubs:\n  - {name: prod, helm_chart: basehub}\n";
    const LOST: &str = "name: lost\nprovider: azure\nazure: {cluster: lost-aks}\nhubs: []\n";

    #[test]
    fn contexts_are_found_by_the_names_the_providers_clis_write() {
        let kc = kubeconfig(&[
            (
                "gke_leap-pangeo_us-central1_leap-cluster",
                "gke_leap-pangeo_us-central1_leap-cluster",
            ),
            (
                "arn:aws:eks:us-west-2:123:cluster/nasa-eks",
                "arn:aws:eks:us-west-2:123:cluster/nasa-eks",
            ),
            ("unrelated", "unrelated"),
        ]);
        let t = from_repo(&repo(&[LEAP, NASA, LOST]), None, &[], || Ok(kc.clone())).unwrap();
        let got: Vec<(&str, &str, bool)> = t
            .iter()
            .map(|t| (t.name.as_str(), t.context.as_str(), t.unmatched.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                ("leap", "gke_leap-pangeo_us-central1_leap-cluster", false),
                ("nasa", "arn:aws:eks:us-west-2:123:cluster/nasa-eks", false),
                ("lost", "", true),
            ]
        );
        assert_eq!(t[0].provider.as_deref(), Some("gcp"));
        assert_eq!(t[0].declared.as_ref().unwrap()[0].name.as_ref(), "staging");
        let why = t[2].unmatched.as_deref().unwrap();
        assert!(
            why.starts_with("c2/cluster.yaml: no kubeconfig context for cluster \"lost\""),
            "{why}"
        );
        assert!(why.contains("lost, lost-aks"), "{why}");
    }

    #[test]
    fn fleet_toml_names_the_context_and_adds_its_own_clusters() {
        let kc = kubeconfig(&[("ctx-a", "a"), ("ctx-b", "b"), ("other", "other")]);
        let file = FleetFile::parse(
            "[[cluster]]\nname = \"leap\"\ncontext = \"ctx-b\"\nreadonly = true\n\n[[cluster]]\nname = \"extra\"\ncontext = \"other\"\n",
            Path::new("fleet.toml"),
        )
        .unwrap();
        let t = from_repo(&repo(&[LEAP]), Some(&file), &[], || Ok(kc.clone())).unwrap();
        let got: Vec<(&str, &str, bool, bool)> = t
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.context.as_str(),
                    t.readonly,
                    t.declared.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("leap", "ctx-b", true, true),
                ("extra", "other", false, false)
            ]
        );
    }

    #[test]
    fn two_matching_contexts_are_named_not_guessed_between() {
        let kc = kubeconfig(&[("leap", "x"), ("leap-admin", "leap-cluster")]);
        let t = from_repo(&repo(&[LEAP]), None, &[], || Ok(kc.clone())).unwrap();
        let why = t[0].unmatched.as_deref().unwrap();
        assert!(
            why.contains("matches several kubeconfig contexts (leap, leap-admin)"),
            "{why}"
        );
    }
}
