//! Identifiers of clusters, hubs and user servers, and the `C/H[/U[/S]]` references users type.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Name of a managed cluster (its kubeconfig context or fleet.toml name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClusterId(pub Arc<str>);

impl ClusterId {
    /// Wraps a cluster name.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self(name.into())
    }

    /// The cluster name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A hub inside one cluster: a z2jh Helm release in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HubKey {
    /// Namespace the release is installed in.
    pub namespace: Arc<str>,
    /// Helm release name (the `release` label).
    pub release: Arc<str>,
}

impl HubKey {
    /// The name people use for the hub: the namespace when it equals the release (the usual
    /// one-hub-per-namespace layout), else `namespace/release`.
    pub fn name(&self) -> String {
        if self.namespace == self.release {
            self.namespace.to_string()
        } else {
            format!("{}/{}", self.namespace, self.release)
        }
    }
}

/// A hub anywhere in the fleet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HubId {
    /// Cluster the hub runs on.
    pub cluster: ClusterId,
    /// Namespace and release inside that cluster.
    #[serde(flatten)]
    pub key: HubKey,
}

impl fmt::Display for HubId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cluster, self.key.name())
    }
}

/// A user server anywhere in the fleet (`server` is empty for the default server).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ServerId {
    /// The hub that spawned it.
    pub hub: HubId,
    /// JupyterHub user name (unescaped).
    pub user: Arc<str>,
    /// Named server, or "" for the default one.
    pub server: Arc<str>,
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.hub, self.user)?;
        if !self.server.is_empty() {
            write!(f, "/{}", self.server)?;
        }
        Ok(())
    }
}

/// A hub reference as typed by a person: `CLUSTER/HUB` where HUB is a namespace, a release, or
/// `namespace/release`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRef {
    /// Cluster name.
    pub cluster: String,
    /// Namespace or release name.
    pub hub: String,
    /// Release, when the reference spelled out `namespace/release`.
    pub release: Option<String>,
}

/// A reference that does not have the expected `C/H` shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a hub reference: expected CLUSTER/HUB")]
pub struct BadRef {
    /// What was typed.
    pub input: String,
}

impl std::str::FromStr for HubRef {
    type Err = BadRef;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || BadRef {
            input: s.to_string(),
        };
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        match parts.as_slice() {
            [c, h] => Ok(Self {
                cluster: (*c).to_string(),
                hub: (*h).to_string(),
                release: None,
            }),
            [c, ns, rel] => Ok(Self {
                cluster: (*c).to_string(),
                hub: (*ns).to_string(),
                release: Some((*rel).to_string()),
            }),
            _ => Err(bad()),
        }
    }
}

impl HubRef {
    /// Whether this reference names the given hub.
    pub fn matches(&self, id: &HubId) -> bool {
        if id.cluster.as_str() != self.cluster {
            return false;
        }
        match &self.release {
            Some(rel) => *id.key.namespace == *self.hub && **rel == *id.key.release,
            None => *id.key.namespace == *self.hub || *id.key.release == *self.hub,
        }
    }
}

impl fmt::Display for HubRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cluster, self.hub)?;
        if let Some(r) = &self.release {
            write!(f, "/{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(c: &str, ns: &str, rel: &str) -> HubId {
        HubId {
            cluster: ClusterId::new(c),
            key: HubKey {
                namespace: ns.into(),
                release: rel.into(),
            },
        }
    }

    #[test]
    fn hub_reference_matches_namespace_or_release() {
        let r: HubRef = "leap/staging".parse().unwrap();
        assert!(r.matches(&hub("leap", "staging", "staging")));
        assert!(r.matches(&hub("leap", "other", "staging")));
        assert!(!r.matches(&hub("leap", "prod", "prod")));
        assert!(!r.matches(&hub("nasa", "staging", "staging")));
        let full: HubRef = "leap/ns/rel".parse().unwrap();
        assert!(full.matches(&hub("leap", "ns", "rel")));
        assert!(!full.matches(&hub("leap", "rel", "ns")));
    }

    #[test]
    fn malformed_hub_references_are_rejected() {
        for bad in ["leap", "leap/", "/x", "a/b/c/d", ""] {
            assert!(bad.parse::<HubRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn hub_shows_namespace_only_when_release_matches() {
        assert_eq!(hub("c", "prod", "prod").to_string(), "c/prod");
        assert_eq!(hub("c", "ns", "alpha").to_string(), "c/ns/alpha");
    }
}
