//! Who is calling (bearer token → identity) and what they may do: admin may do everything,
//! read-only may get/list/watch, a namespace editor holds the `edit` ClusterRole through a
//! RoleBinding in each of its namespaces and nothing cluster-wide. Requests, access reviews and
//! rules reviews are all answered from the same rules (`rbac`).

use std::sync::Mutex;

use serde_json::{Value, json};

use super::rbac::{self, Rule};
use super::status::ApiError;

/// The identity a kubeconfig carries for the simulated clusters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// Full access (the default kubeconfig).
    Admin,
    /// get/list/watch only; every mutation is 403.
    ReadOnly,
    /// Bound to the `edit` ClusterRole by a RoleBinding in each of `namespaces`: it may read and
    /// change those namespaces; anything cluster-wide or elsewhere is 403, as on a real cluster
    /// with one RoleBinding per hub namespace.
    NamespaceEditor {
        /// The user name the API server reports.
        user: String,
        /// Where it holds `edit`.
        namespaces: Vec<String>,
    },
}

impl Identity {
    /// A user holding `edit` in `namespaces` only.
    pub fn namespace_editor(user: &str, namespaces: &[&str]) -> Self {
        Identity::NamespaceEditor {
            user: user.to_string(),
            namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The user name the API server reports (and records).
    pub fn user(&self) -> &str {
        match self {
            Identity::Admin => "admin",
            Identity::ReadOnly => "readonly",
            Identity::NamespaceEditor { user, .. } => user,
        }
    }

    /// The rules that apply in `namespace` (None: at the cluster scope).
    pub(crate) fn rules(&self, namespace: Option<&str>) -> Vec<Rule> {
        let mut out: Vec<Rule> = rbac::BASIC_USER.to_vec();
        match self {
            Identity::Admin => out.extend_from_slice(rbac::ADMIN),
            Identity::ReadOnly => out.extend_from_slice(rbac::READ_ALL),
            Identity::NamespaceEditor { namespaces, .. } => {
                if namespace.is_some_and(|ns| namespaces.iter().any(|n| n == ns)) {
                    out.extend_from_slice(rbac::EDIT);
                }
            }
        }
        out
    }

    /// Whether this identity may `verb` the `resource` (`pods`, `pods/log`) of `group` in
    /// `namespace` (None: cluster-wide).
    pub fn allows(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        self.rules(namespace)
            .iter()
            .any(|r| r.grants(verb, group, resource))
    }

    /// The RoleBinding that grants a namespace editor its rights in `namespace`.
    fn binding(&self, namespace: &str) -> String {
        format!("{}-edit/{namespace}", self.user())
    }
}

/// The per-cluster bearer tokens.
#[derive(Debug)]
pub(crate) struct Tokens {
    pub admin: String,
    pub readonly: String,
    /// Namespace editors, given a token the first time a kubeconfig is written for them.
    editors: Mutex<Vec<(String, Identity)>>,
}

fn random_token(prefix: &str) -> String {
    let s: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect();
    format!("{prefix}-{s}")
}

impl Tokens {
    /// Fresh random tokens (not derived from the fleet seed: they are credentials, if toy ones).
    pub fn random() -> Self {
        Tokens {
            admin: random_token("admin"),
            readonly: random_token("readonly"),
            editors: Mutex::new(Vec::new()),
        }
    }

    fn editors(&self) -> std::sync::MutexGuard<'_, Vec<(String, Identity)>> {
        self.editors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The token of an identity (a namespace editor gets one on first use).
    pub fn of(&self, id: &Identity) -> String {
        match id {
            Identity::Admin => self.admin.clone(),
            Identity::ReadOnly => self.readonly.clone(),
            Identity::NamespaceEditor { .. } => {
                let mut editors = self.editors();
                if let Some((t, _)) = editors.iter().find(|(_, e)| e == id) {
                    return t.clone();
                }
                let t = random_token("editor");
                editors.push((t.clone(), id.clone()));
                t
            }
        }
    }

    /// Identifies the caller from an `Authorization` header value.
    pub fn identify(&self, authorization: Option<&str>) -> Option<Identity> {
        self.identify_token(authorization?.strip_prefix("Bearer ")?.trim())
    }

    /// Identifies the caller from a bare token.
    pub fn identify_token(&self, token: &str) -> Option<Identity> {
        if token == self.admin {
            Some(Identity::Admin)
        } else if token == self.readonly {
            Some(Identity::ReadOnly)
        } else {
            self.editors()
                .iter()
                .find(|(t, _)| t == token)
                .map(|(_, id)| id.clone())
        }
    }
}

/// Refuses a request the identity may not make, with the API server's wording.
pub(crate) fn authorize(
    id: &Identity,
    verb: &str,
    group: &str,
    resource: &str,
    name: Option<&str>,
    namespace: Option<&str>,
) -> Result<(), ApiError> {
    if id.allows(verb, group, resource, namespace) {
        return Ok(());
    }
    // The error names the resource without its subresource: `pods "x" is forbidden: ... cannot
    // create resource "pods/exec"`.
    let base = resource.split('/').next().unwrap_or(resource);
    let subject = match name {
        Some(n) => format!("{base} \"{n}\" is forbidden"),
        None => format!("{base} is forbidden"),
    };
    let scope = match namespace {
        Some(ns) => format!(" in the namespace \"{ns}\""),
        None => " at the cluster scope".to_string(),
    };
    let mut e = ApiError::forbidden(format!(
        "{subject}: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{group}\"{scope}",
        id.user()
    ));
    // As the server's StatusDetails: the resource (without subresource) as `kind`.
    let mut details = json!({"kind": resource.split('/').next().unwrap_or(resource)});
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    if let Some(n) = name {
        details["name"] = json!(n);
    }
    e.details = Some(details);
    Err(e)
}

/// Answers a SelfSubjectAccessReview body with `status.allowed` filled in.
pub(crate) fn review(id: &Identity, body: &Value) -> Value {
    let attrs = &body["spec"]["resourceAttributes"];
    let text = |k: &str| attrs[k].as_str().unwrap_or("");
    let verb = text("verb");
    let group = text("group");
    let resource = match text("subresource") {
        "" => text("resource").to_string(),
        sub => format!("{}/{sub}", text("resource")),
    };
    let namespace = Some(text("namespace")).filter(|n| !n.is_empty());
    let allowed = id.allows(verb, group, &resource, namespace);
    let reason = match (id, allowed) {
        (Identity::NamespaceEditor { .. }, true) => format!(
            "RBAC: allowed by RoleBinding \"{}\" of ClusterRole \"edit\" to User \"{}\"",
            id.binding(namespace.unwrap_or("")),
            id.user()
        ),
        // kube-apiserver's RBAC authorizer gives no reason for a denial.
        (Identity::NamespaceEditor { .. }, false) => String::new(),
        (_, true) => format!("hubdeck-sim: user \"{}\" may {verb} {resource}", id.user()),
        (_, false) => format!(
            "hubdeck-sim: user \"{}\" is read-only (get, list, watch); {verb} on {resource} is not allowed",
            id.user()
        ),
    };
    let mut out = review_shell(body, "SelfSubjectAccessReview");
    out["status"] = json!({"allowed": allowed});
    // RBAC only allows or has no opinion; `denied` is for authorizers that refuse outright.
    if !matches!(id, Identity::NamespaceEditor { .. }) {
        out["status"]["denied"] = json!(!allowed);
    }
    if !reason.is_empty() {
        out["status"]["reason"] = json!(reason);
    }
    out
}

/// Answers a SelfSubjectRulesReview: the rules the identity holds in `spec.namespace`, which
/// kube-apiserver requires.
pub(crate) fn rules_review(id: &Identity, body: &Value) -> Result<Value, ApiError> {
    let namespace = body["spec"]["namespace"].as_str().unwrap_or("");
    if namespace.is_empty() {
        return Err(ApiError::bad_request(
            "no namespace on request: spec.namespace: Required value",
        ));
    }
    let rules: Vec<Value> = id
        .rules(Some(namespace))
        .into_iter()
        .map(Rule::to_json)
        .collect();
    let mut out = review_shell(body, "SelfSubjectRulesReview");
    out["status"] = json!({
        "resourceRules": rules,
        "nonResourceRules": rbac::non_resource_rules(),
        "incomplete": false,
    });
    Ok(out)
}

/// The request body, as the server returns a review: apiVersion, kind, metadata it set.
fn review_shell(body: &Value, kind: &str) -> Value {
    let mut out = body.clone();
    if !out.is_object() {
        out = json!({});
    }
    out["apiVersion"] = json!("authorization.k8s.io/v1");
    out["kind"] = json!(kind);
    if !out["metadata"].is_object() {
        out["metadata"] = json!({});
    }
    out["metadata"]["creationTimestamp"] = Value::Null;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_editor_is_refused_cluster_wide_in_the_servers_words() {
        let id = Identity::namespace_editor("ops", &["a"]);
        let e = authorize(&id, "list", "", "pods", None, None).unwrap_err();
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods is forbidden: User \"ops\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
        );
        assert!(authorize(&id, "watch", "", "pods", None, Some("a")).is_ok());
        assert!(authorize(&id, "patch", "apps", "deployments", Some("hub"), Some("a")).is_ok());
        let other = authorize(&id, "get", "", "secrets", Some("hub"), Some("b")).unwrap_err();
        assert!(
            other.message.ends_with("in the namespace \"b\""),
            "{}",
            other.message
        );
    }

    #[test]
    fn access_and_rules_reviews_agree_with_the_requests() {
        let id = Identity::namespace_editor("ops", &["a"]);
        let ssar = |ns: &str| {
            review(
                &id,
                &json!({"spec": {"resourceAttributes": {"verb": "update", "group": "apps",
                    "resource": "deployments", "subresource": "scale", "namespace": ns}}}),
            )
        };
        assert_eq!(ssar("a")["status"]["allowed"], true);
        assert_eq!(ssar("b")["status"]["allowed"], false);
        assert_eq!(ssar("")["status"]["allowed"], false, "cluster-wide");

        let rules = |ns: &str| rules_review(&id, &json!({"spec": {"namespace": ns}})).unwrap();
        let has_pods = |v: &Value| {
            v["status"]["resourceRules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| {
                    r["resources"].as_array().unwrap().contains(&json!("pods"))
                        && r["verbs"].as_array().unwrap().contains(&json!("watch"))
                })
        };
        let a = rules("a");
        assert_eq!(a["kind"], "SelfSubjectRulesReview");
        assert_eq!(a["status"]["incomplete"], false);
        assert!(has_pods(&a));
        assert!(!has_pods(&rules("b")));
        assert!(rules_review(&id, &json!({"spec": {}})).is_err());
    }
}
