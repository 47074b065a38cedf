//! What a deployment repository declares (2i2c's `config/clusters/<cluster>/cluster.yaml`):
//! the hubs a cluster should run. The store compares it with what the cluster runs, both ways.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The chart a hub is deployed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Chart {
    /// JupyterHub alone.
    Basehub,
    /// JupyterHub with dask-gateway.
    Daskhub,
}

impl Chart {
    /// The chart's name, as the repository spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basehub => "basehub",
            Self::Daskhub => "daskhub",
        }
    }
}

/// One hub of a cluster's `hubs:` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredHub {
    /// `name`: also the namespace it is deployed into.
    pub name: Arc<str>,
    /// `display_name`.
    pub display_name: Option<Arc<str>>,
    /// `domain`: where users reach it.
    pub domain: Option<Arc<str>>,
    /// `helm_chart`.
    pub chart: Chart,
    /// `uptime_check.expected_status` (200 unless the repository says otherwise).
    pub expected_status: u16,
}

/// How a hub stands against the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Declaration {
    /// The cluster's hubs are not declared anywhere hubdeck reads (no repository).
    Unknown,
    /// Declared and running.
    Declared,
    /// Declared, not running on its cluster.
    Missing,
    /// Running, declared nowhere.
    Undeclared,
}

impl Declaration {
    /// Lower-case word for tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "",
            Self::Declared => "declared",
            Self::Missing => "missing",
            Self::Undeclared => "undeclared",
        }
    }
}
