//! Who is calling (bearer token → identity) and what they may do: admin may do everything,
//! read-only may get/list/watch. Answers SelfSubjectAccessReviews from the same policy.

use serde_json::{Value, json};

use super::status::ApiError;

/// The identity a kubeconfig carries for the simulated clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Full access (the default kubeconfig).
    Admin,
    /// get/list/watch only; every mutation is 403.
    ReadOnly,
}

impl Identity {
    /// The user name the API server reports (and records).
    pub fn user(self) -> &'static str {
        match self {
            Identity::Admin => "admin",
            Identity::ReadOnly => "readonly",
        }
    }

    /// Whether this identity may perform `verb`.
    pub fn allows(self, verb: &str) -> bool {
        match self {
            Identity::Admin => true,
            Identity::ReadOnly => matches!(verb, "get" | "list" | "watch"),
        }
    }
}

/// The per-cluster bearer tokens.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub admin: String,
    pub readonly: String,
}

impl Tokens {
    /// Fresh random tokens (not derived from the fleet seed: they are credentials, if toy ones).
    pub fn random() -> Self {
        let tok = |p: &str| {
            let s: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(32)
                .collect();
            format!("{p}-{s}")
        };
        Tokens {
            admin: tok("admin"),
            readonly: tok("readonly"),
        }
    }

    /// The token of an identity.
    pub fn of(&self, id: Identity) -> &str {
        match id {
            Identity::Admin => &self.admin,
            Identity::ReadOnly => &self.readonly,
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
            None
        }
    }
}

/// Refuses a request the identity may not make, with the API server's wording.
pub(crate) fn authorize(
    id: Identity,
    verb: &str,
    group: &str,
    resource: &str,
    name: Option<&str>,
    namespace: Option<&str>,
) -> Result<(), ApiError> {
    if id.allows(verb) {
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
    Err(ApiError::forbidden(format!(
        "{subject}: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{group}\"{scope}",
        id.user()
    )))
}

/// Answers a SelfSubjectAccessReview body with `status.allowed` filled in.
pub(crate) fn review(id: Identity, body: &Value) -> Value {
    let attrs = &body["spec"]["resourceAttributes"];
    let verb = attrs["verb"].as_str().unwrap_or("");
    let resource = attrs["resource"].as_str().unwrap_or("");
    let allowed = id.allows(verb);
    let reason = if allowed {
        format!("hubdeck-sim: user \"{}\" may {verb} {resource}", id.user())
    } else {
        format!(
            "hubdeck-sim: user \"{}\" is read-only (get, list, watch); {verb} on {resource} is not allowed",
            id.user()
        )
    };
    let mut out = body.clone();
    if !out.is_object() {
        out = json!({});
    }
    out["apiVersion"] = json!("authorization.k8s.io/v1");
    out["kind"] = json!("SelfSubjectAccessReview");
    if !out["metadata"].is_object() {
        out["metadata"] = json!({});
    }
    out["metadata"]["creationTimestamp"] = Value::Null;
    out["status"] = json!({"allowed": allowed, "denied": !allowed, "reason": reason});
    out
}
