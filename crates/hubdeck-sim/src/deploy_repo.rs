//! The demo's deployment repository, in 2i2c's layout (`config/clusters/<cluster>/cluster.yaml`
//! with made-up providers and domains), matching the simulated fleet except where a newcomer
//! should see drift: one hub the fleet runs is left out (undeclared), one declared hub runs
//! nowhere (missing), and one hub is declared a daskhub.

use std::io;
use std::path::Path;

use serde_json::json;

use super::SimFleet;

/// The hub the repository declares but no cluster runs.
pub const MISSING_HUB: &str = "workshop";

/// Where the drift is, so tests and docs can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// `cluster/hub` the fleet runs but the repository leaves out.
    pub undeclared: String,
    /// `cluster/hub` the repository declares but the fleet does not run.
    pub missing: String,
    /// `cluster/hub` declared with `helm_chart: daskhub`.
    pub daskhub: String,
}

/// Writes the repository under `dir` and says where its drift is.
pub fn write(fleet: &SimFleet, dir: &Path) -> io::Result<Drift> {
    let clusters = fleet.clusters();
    let mut drift = Drift {
        undeclared: String::new(),
        missing: String::new(),
        daskhub: String::new(),
    };
    for (i, c) in clusters.iter().enumerate() {
        let mut hubs = c.hub_namespaces();
        hubs.sort();
        if i == 0
            && let Some(left_out) = hubs.pop()
        {
            drift.undeclared = format!("{}/{left_out}", c.name());
        }
        let mut items: Vec<serde_json::Value> = hubs
            .iter()
            .map(|h| {
                let daskhub = c.daskhub().as_deref() == Some(h.as_str());
                if daskhub {
                    drift.daskhub = format!("{}/{h}", c.name());
                }
                json!({
                    "name": h,
                    "display_name": format!("{} {}", c.name(), h),
                    "domain": super::ingress::domain(c.name(), h),
                    "helm_chart": if daskhub { "daskhub" } else { "basehub" },
                    "helm_chart_values_files": ["common.values.yaml", format!("{h}.values.yaml"),
                        format!("enc-{h}.secret.values.yaml")],
                })
            })
            .collect();
        if i == 1.min(clusters.len() - 1) && drift.missing.is_empty() {
            drift.missing = format!("{}/{MISSING_HUB}", c.name());
            items.push(json!({
                "name": MISSING_HUB,
                "display_name": format!("{} workshop", c.name()),
                "domain": super::ingress::domain(c.name(), MISSING_HUB),
                "helm_chart": "basehub",
                "helm_chart_values_files": ["common.values.yaml", "workshop.values.yaml"],
            }));
        }
        let provider = c.provider();
        let mut doc = json!({"name": c.name(), "provider": provider, "hubs": items});
        let block = match provider {
            "gcp" => Some(json!({"key": "enc-deployer-credentials.secret.json",
                "project": format!("{}-demo", c.name()), "cluster": c.name(), "zone": "us-central1"})),
            "aws" => Some(json!({"key": "enc-deployer-credentials.secret.json",
                "clusterType": "eks", "clusterName": c.name(), "region": "us-west-2"})),
            "azure" => Some(json!({"key": "enc-deployer-credentials.secret.json",
                "resource_group": format!("{}-rg", c.name()), "cluster": c.name()})),
            _ => None,
        };
        if let Some(b) = block {
            doc[provider] = b;
        }
        let folder = dir.join("config").join("clusters").join(c.name());
        std::fs::create_dir_all(&folder)?;
        let text = serde_yaml_ng::to_string(&doc).map_err(io::Error::other)?;
        std::fs::write(folder.join("cluster.yaml"), text)?;
    }
    Ok(drift)
}
