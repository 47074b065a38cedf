//! The RBAC rules each identity holds, written as kube-apiserver's bootstrap policy writes them
//! (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`), and the one matcher that
//! answers requests, SelfSubjectAccessReviews and SelfSubjectRulesReviews alike, so the three
//! never disagree.

use serde_json::{Value, json};

/// One `PolicyRule` (resource part): `*` matches anything, as in RBAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub verbs: &'static [&'static str],
    pub groups: &'static [&'static str],
    pub resources: &'static [&'static str],
}

impl Rule {
    /// Whether this rule grants `verb` on `resource` (`pods` or `pods/log`) of `group`.
    pub fn grants(&self, verb: &str, group: &str, resource: &str) -> bool {
        let any = |list: &[&str], x: &str| list.iter().any(|e| *e == "*" || *e == x);
        any(self.verbs, verb) && any(self.groups, group) && any(self.resources, resource)
    }

    /// The rule as a `ResourceRule` of a SelfSubjectRulesReview status.
    pub fn to_json(self) -> Value {
        json!({"verbs": self.verbs, "apiGroups": self.groups, "resources": self.resources})
    }
}

const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ: &[&str] = &["get", "list", "watch"];

/// Everything (`cluster-admin`).
pub(crate) const ADMIN: &[Rule] = &[Rule {
    verbs: &["*"],
    groups: &["*"],
    resources: &["*"],
}];

/// get/list/watch of everything.
pub(crate) const READ_ALL: &[Rule] = &[Rule {
    verbs: READ,
    groups: &["*"],
    resources: &["*"],
}];

/// `system:basic-user`, bound to every authenticated user cluster-wide: it may ask what it may
/// do.
pub(crate) const BASIC_USER: &[Rule] = &[Rule {
    verbs: &["create"],
    groups: &["authorization.k8s.io"],
    resources: &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
}];

/// The `edit` ClusterRole (with the `view` rules aggregated into it), for the resources the sim
/// serves and their usual neighbours.
pub(crate) const EDIT: &[Rule] = &[
    Rule {
        verbs: WRITE,
        groups: &[""],
        resources: &[
            "pods",
            "pods/attach",
            "pods/proxy",
            "pods/exec",
            "pods/portforward",
        ],
    },
    Rule {
        verbs: &["create"],
        groups: &[""],
        resources: &["pods/eviction"],
    },
    Rule {
        verbs: WRITE,
        groups: &[""],
        resources: &[
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/proxy",
            "persistentvolumeclaims",
            "configmaps",
            "secrets",
            "events",
        ],
    },
    Rule {
        verbs: WRITE,
        groups: &["apps"],
        resources: &[
            "statefulsets",
            "statefulsets/scale",
            "daemonsets",
            "deployments",
            "deployments/scale",
            "deployments/rollback",
            "replicasets",
            "replicasets/scale",
        ],
    },
    Rule {
        verbs: READ,
        groups: &[""],
        resources: &[
            "pods/attach",
            "pods/proxy",
            "pods/exec",
            "pods/portforward",
            "secrets",
            "services/proxy",
        ],
    },
    Rule {
        verbs: READ,
        groups: &[""],
        resources: &[
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "configmaps",
        ],
    },
    Rule {
        verbs: READ,
        groups: &[""],
        resources: &[
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
    },
    Rule {
        verbs: READ,
        groups: &["apps"],
        resources: &[
            "controllerrevisions",
            "statefulsets",
            "statefulsets/status",
            "statefulsets/scale",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/status",
            "deployments/scale",
            "replicasets",
            "replicasets/status",
            "replicasets/scale",
        ],
    },
    // metrics-server's `system:aggregated-metrics-reader`, aggregated into view, edit and admin.
    // Bound per namespace, it grants that namespace's pods; nodes are cluster-scoped.
    Rule {
        verbs: READ,
        groups: &["metrics.k8s.io"],
        resources: &["pods", "nodes"],
    },
];

/// What every user may do without asking for a resource, as `system:discovery` and
/// `system:public-info-viewer` grant.
pub(crate) fn non_resource_rules() -> Value {
    json!([{"verbs": ["get"], "nonResourceURLs": [
        "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
        "/readyz", "/version", "/version/"]}])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(rules: &[Rule], verb: &str, group: &str, resource: &str) -> bool {
        rules.iter().any(|r| r.grants(verb, group, resource))
    }

    #[test]
    fn edit_may_restart_scale_and_read_a_hub_but_not_grant_rbac_or_write_logs() {
        assert!(any(EDIT, "patch", "apps", "deployments"));
        assert!(any(EDIT, "update", "apps", "deployments/scale"));
        assert!(any(EDIT, "watch", "", "pods"));
        assert!(any(EDIT, "get", "", "secrets"));
        assert!(any(EDIT, "create", "", "pods/portforward"));
        assert!(any(EDIT, "get", "", "pods/log"));
        assert!(!any(EDIT, "create", "", "pods/log"));
        assert!(!any(
            EDIT,
            "create",
            "rbac.authorization.k8s.io",
            "rolebindings"
        ));
        assert!(!any(BASIC_USER, "list", "", "pods"));
        assert!(any(ADMIN, "escalate", "rbac.authorization.k8s.io", "roles"));
    }
}
