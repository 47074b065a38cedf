//! Which namespaces a cluster is watched in when its identity may not list cluster-wide (a
//! RoleBinding to `edit` per hub namespace is the common case): the candidates are fleet.toml's
//! `namespaces`, the namespaces of its `[cluster.hubs.<ns>]` entries and the kubeconfig
//! context's namespace; a SelfSubjectRulesReview per candidate says which kinds may be listed
//! and watched there.

use std::sync::Arc;

use k8s_openapi::api::authorization::v1::{
    ResourceRule, SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use super::targets::ClusterTarget;
use super::watch::WatchKind;

/// One namespace hubdeck may read, and the kinds it may list and watch there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceAccess {
    /// The namespace.
    pub namespace: Arc<str>,
    /// Kinds to watch in it.
    pub kinds: Vec<WatchKind>,
}

/// The namespaces to try, in name order without repeats.
pub fn candidates(target: &ClusterTarget) -> Vec<String> {
    let mut out: Vec<String> = target
        .namespaces
        .iter()
        .chain(target.hubs.keys())
        .chain(target.context_namespace.iter())
        .filter(|n| !n.is_empty())
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What one namespace's rules review answered.
pub type Review = Result<(Vec<ResourceRule>, bool), String>;

/// Asks the API server what this identity may do in `namespace`: its resource rules and
/// whether the list is incomplete (an authorizer that cannot enumerate its rules).
pub async fn review(client: &kube::Client, namespace: &str) -> Review {
    let body = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.to_string()),
        },
        ..SelfSubjectRulesReview::default()
    };
    let answer = Api::<SelfSubjectRulesReview>::all(client.clone())
        .create(&PostParams::default(), &body)
        .await
        .map_err(|e| {
            format!(
                "selfsubjectrulesreviews in namespace \"{namespace}\": {}",
                super::watch::one_line(&e)
            )
        })?;
    let status = answer.status.unwrap_or_default();
    Ok((status.resource_rules, status.incomplete))
}

/// Reviews every candidate of `target` and decides the scope, after listing `forbidden`
/// cluster-wide was refused.
pub async fn discover(
    client: &kube::Client,
    target: &ClusterTarget,
    forbidden: WatchKind,
) -> Result<Vec<NamespaceAccess>, String> {
    let names = candidates(target);
    let reviews = futures::future::join_all(names.iter().map(|ns| review(client, ns))).await;
    decide(forbidden, names.into_iter().zip(reviews).collect())
}

/// What a namespace discovery found: the namespaces to watch, or why there are none.
pub type Found = Result<Vec<NamespaceAccess>, String>;

/// Looks for readable namespaces in a task of its own, so the probe keeps its rhythm.
pub fn start_discovery(
    client: &kube::Client,
    target: &ClusterTarget,
    forbidden: WatchKind,
) -> tokio::sync::oneshot::Receiver<Found> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (client, target) = (client.clone(), target.clone());
    tokio::spawn(async move {
        let _ = tx.send(discover(&client, &target, forbidden).await);
    });
    rx
}

/// The discovery's answer once it is in; pending while there is none.
pub async fn recv_discovery(
    rx: &mut Option<tokio::sync::oneshot::Receiver<Found>>,
) -> Option<Found> {
    match rx {
        Some(rx) => Some(
            rx.await
                .unwrap_or_else(|_| Err("namespace discovery ended".into())),
        ),
        None => std::future::pending().await,
    }
}

/// The namespaces whose pods may be listed and watched, each with the kinds that may; an error
/// saying what was tried when there is none. A review that failed, or that says its rules are
/// incomplete without granting pods, leaves the namespace to its watches to find out.
pub fn decide(
    forbidden: WatchKind,
    reviews: Vec<(String, Review)>,
) -> Result<Vec<NamespaceAccess>, String> {
    let refused = format!("listing {} cluster-wide is forbidden", forbidden.resource());
    if reviews.is_empty() {
        return Err(format!(
            "{refused} and there is no namespace to try: name them in fleet.toml \
             (namespaces = [...]) or set the context's namespace"
        ));
    }
    let tried: Vec<String> = reviews.iter().map(|(n, _)| n.clone()).collect();
    let readable: Vec<NamespaceAccess> = reviews
        .into_iter()
        .filter_map(|(ns, review)| {
            let kinds = match review {
                Ok((rules, incomplete)) => {
                    let kinds: Vec<WatchKind> = ALL_KINDS
                        .into_iter()
                        .filter(|k| may_watch(&rules, *k))
                        .collect();
                    match kinds.contains(&WatchKind::Pods) {
                        true => kinds,
                        false if incomplete => ALL_KINDS.to_vec(),
                        false => return None,
                    }
                }
                Err(_) => ALL_KINDS.to_vec(),
            };
            Some(NamespaceAccess {
                namespace: ns.into(),
                kinds,
            })
        })
        .collect();
    if readable.is_empty() {
        return Err(format!(
            "{refused} and pods may not be listed and watched in any namespace tried ({})",
            tried.join(", ")
        ));
    }
    Ok(readable)
}

/// A failing watch in a cluster's reason: `pods: …`, or `pods in namespace "x": …` for a
/// watch of one namespace.
pub fn failure_line(kind: WatchKind, namespace: Option<&str>, error: &str) -> String {
    match namespace {
        None => format!("{}: {error}", kind.label()),
        Some(ns) => format!("{} in namespace \"{ns}\": {error}", kind.label()),
    }
}

const ALL_KINDS: [WatchKind; 7] = [
    WatchKind::Deployments,
    WatchKind::StatefulSets,
    WatchKind::Pods,
    WatchKind::Events,
    WatchKind::PodEvents,
    WatchKind::DaskPods,
    WatchKind::DaskClusters,
];

/// Whether the rules grant both `list` and `watch` of the kind (by one rule or two).
fn may_watch(rules: &[ResourceRule], kind: WatchKind) -> bool {
    let (group, resource) = match kind {
        WatchKind::Deployments => ("apps", "deployments"),
        WatchKind::StatefulSets => ("apps", "statefulsets"),
        WatchKind::Pods | WatchKind::DaskPods => ("", "pods"),
        WatchKind::DaskClusters => (hubdeck_core::action::DASK_GROUP, "daskclusters"),
        WatchKind::Events | WatchKind::PodEvents => ("", "events"),
        WatchKind::Nodes => ("", "nodes"),
    };
    let matches =
        |list: &Option<Vec<String>>, x: &str| list.iter().flatten().any(|e| e == "*" || e == x);
    let grants = |verb: &str| {
        rules.iter().any(|r| {
            // A rule naming objects grants only those: not a list of them all.
            r.resource_names.as_ref().is_none_or(Vec::is_empty)
                && r.verbs.iter().any(|v| v == "*" || v == verb)
                && matches(&r.api_groups, group)
                && matches(&r.resources, resource)
        })
    };
    grants("list") && grants("watch")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> ResourceRule {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ResourceRule {
            verbs: v(verbs),
            api_groups: Some(v(groups)),
            resources: Some(v(resources)),
            resource_names: None,
        }
    }

    fn edit() -> Vec<ResourceRule> {
        vec![
            rule(
                &["create"],
                &["authorization.k8s.io"],
                &["selfsubjectrulesreviews"],
            ),
            rule(
                &["get", "list", "watch"],
                &[""],
                &["pods", "services", "events"],
            ),
            rule(
                &["get", "list", "watch"],
                &["apps"],
                &["deployments", "statefulsets"],
            ),
        ]
    }

    #[test]
    fn namespaces_with_pods_readable_are_chosen_with_their_kinds() {
        let only_pods = vec![
            rule(&["list"], &[""], &["pods"]),
            rule(&["watch"], &[""], &["pods"]),
        ];
        let got = decide(
            WatchKind::Pods,
            vec![
                ("a".into(), Ok((edit(), false))),
                ("b".into(), Ok((vec![], false))),
                ("c".into(), Ok((only_pods, false))),
            ],
        )
        .unwrap();
        let names: Vec<&str> = got.iter().map(|n| &*n.namespace).collect();
        assert_eq!(names, ["a", "c"]);
        // `edit` grants no dask-gateway custom resources: their watch is left out there.
        assert_eq!(got[0].kinds, ALL_KINDS[..6]);
        assert_eq!(got[1].kinds, [WatchKind::Pods, WatchKind::DaskPods]);
    }

    #[test]
    fn get_only_or_named_objects_do_not_make_a_namespace_watchable() {
        let get_only = vec![rule(&["get"], &["*"], &["*"])];
        let mut named = rule(&["*"], &[""], &["pods"]);
        named.resource_names = Some(vec!["hub-0".into()]);
        let err = decide(
            WatchKind::Pods,
            vec![
                ("a".into(), Ok((get_only, false))),
                ("b".into(), Ok((vec![named], false))),
            ],
        )
        .unwrap_err();
        assert!(err.contains("(a, b)"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn a_forbidden_namespace_watch_reads_as_one_short_line() {
        let status = kube::core::Status {
            code: 403,
            reason: "Forbidden".into(),
            message: "pods is forbidden: User \"ops\" cannot watch resource \"pods\" in API group \"\" in the namespace \"x\"".into(),
            ..kube::core::Status::default()
        };
        let e = kube::Error::Api(Box::new(status));
        let line = failure_line(
            WatchKind::Pods,
            Some("x"),
            &super::super::watch::one_line(&e),
        );
        assert!(
            line.starts_with(
                "pods in namespace \"x\": HTTP 403 Forbidden: pods is forbidden: User \"ops\""
            ),
            "{line}"
        );
        assert!(!line.contains('\n') && !line.contains("Status {"), "{line}");
        assert!(line.len() < 200, "{line}");
    }

    #[test]
    fn no_candidates_says_where_to_name_them() {
        let err = decide(WatchKind::Events, Vec::new()).unwrap_err();
        assert!(
            err.starts_with("listing events cluster-wide is forbidden"),
            "{err}"
        );
        assert!(err.contains("namespaces = [...]"), "{err}");
    }

    #[test]
    fn an_unanswered_or_incomplete_review_leaves_it_to_the_watches() {
        let got = decide(
            WatchKind::Pods,
            vec![
                ("a".into(), Err("HTTP 404 NotFound".into())),
                ("b".into(), Ok((vec![], true))),
            ],
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|n| n.kinds == ALL_KINDS));
    }

    #[test]
    fn candidates_merge_fleet_file_hub_entries_and_context_namespace() {
        let kc = kube::config::Kubeconfig::from_yaml(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1'}\n\
             users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: k\n  context: {cluster: k, user: u, namespace: d}\n",
        )
        .unwrap();
        let mut t = super::super::targets::from_kubeconfig(kc, &[])
            .unwrap()
            .remove(0);
        assert_eq!(t.context_namespace.as_deref(), Some("d"));
        t.namespaces = vec!["b".into(), "a".into()];
        t.hubs.insert("c".into(), Default::default());
        t.hubs.insert("a".into(), Default::default());
        assert_eq!(candidates(&t), ["a", "b", "c", "d"]);
    }
}
