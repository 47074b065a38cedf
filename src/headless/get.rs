//! `hubdeck get clusters|hubs|servers|alerts|events|nodes`.

use std::io::Write;

use jiff::Timestamp;

use super::output::{Format, write_rows};
use super::rows::{alert_row, cluster_node_rows, cluster_row, event_row, hub_row, server_row};
use super::selector::Selector;
use crate::fleet::{Fleet, HubRef, HubState};

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Clusters and their connection state.
    Clusters,
    /// Hubs (z2jh releases) with derived health.
    Hubs,
    /// User servers.
    Servers,
    /// Firing alerts, Alertmanager's and derived.
    Alerts,
    /// Warning events of hub namespaces.
    Events,
    /// Nodes by pool, with what the hubs run on them.
    Nodes,
}

impl Kind {
    /// The listing's name, as typed after `get`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Clusters => "clusters",
            Self::Hubs => "hubs",
            Self::Servers => "servers",
            Self::Alerts => "alerts",
            Self::Events => "events",
            Self::Nodes => "nodes",
        }
    }

    /// The JSON keys of its rows: what a selector may name (`tests/get.rs` pins them to the
    /// rows' serialized form).
    pub fn fields(self) -> &'static [&'static str] {
        use super::rows::fields;
        match self {
            Self::Clusters => fields::CLUSTER,
            Self::Hubs => fields::HUB,
            Self::Servers => fields::SERVER,
            Self::Alerts => fields::ALERT,
            Self::Events => fields::EVENT,
            Self::Nodes => fields::NODE,
        }
    }

    /// Refuses a selector naming a field this listing's rows lack.
    pub fn check(self, selector: &Selector) -> Result<(), String> {
        selector.check_fields(self.name(), self.fields())
    }
}

/// Narrowing of a listing.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Only this hub.
    pub hub: Option<HubRef>,
    /// Field conditions on the printed rows.
    pub selector: Selector,
}

impl Filter {
    fn cluster_ok(&self, name: &str) -> bool {
        self.cluster.as_deref().is_none_or(|c| c == name)
            && self.hub.as_ref().is_none_or(|h| h.cluster == name)
    }

    fn hub_ok(&self, h: &HubState) -> bool {
        self.cluster_ok(h.id.cluster.as_str()) && self.hub.as_ref().is_none_or(|r| r.matches(&h.id))
    }

    fn namespace_ok(&self, cluster: &str, ns: Option<&str>) -> bool {
        self.cluster_ok(cluster) && self.hub.as_ref().is_none_or(|r| ns == Some(r.hub.as_str()))
    }
}

/// Prints one listing; returns the number of rows.
pub fn get(
    fleet: &Fleet,
    kind: Kind,
    filter: &Filter,
    format: Format,
    out: &mut impl Write,
    now: Timestamp,
) -> std::io::Result<usize> {
    let sel = &filter.selector;
    match kind {
        Kind::Clusters => write_rows(
            out,
            format,
            fleet
                .clusters()
                .filter(|c| filter.cluster_ok(c.id.as_str()))
                .map(|c| cluster_row(fleet, c))
                .filter(|r| sel.matches(r)),
            now,
        ),
        Kind::Hubs => write_rows(
            out,
            format,
            fleet
                .clusters()
                .flat_map(|c| c.hubs.values().map(move |h| (c, h)))
                .filter(|(_, h)| filter.hub_ok(h))
                .map(|(c, h)| hub_row(c, h, now))
                .filter(|r| sel.matches(r)),
            now,
        ),
        Kind::Servers => {
            let rows = fleet.hubs().filter(|h| filter.hub_ok(h)).flat_map(|h| {
                let mut pods: Vec<_> = h.servers().collect();
                pods.sort_by(|a, b| {
                    a.owner
                        .as_ref()
                        .map(|o| (&o.user, &o.server))
                        .cmp(&b.owner.as_ref().map(|o| (&o.user, &o.server)))
                });
                pods.into_iter().map(move |p| server_row(h, p, now))
            });
            write_rows(out, format, rows.filter(|r| sel.matches(r)), now)
        }
        Kind::Alerts => write_rows(
            out,
            format,
            fleet
                .alerts()
                .filter(|(c, a)| filter.namespace_ok(c.id.as_str(), a.namespace.as_deref()))
                .map(|(c, a)| alert_row(c, a))
                .filter(|r| sel.matches(r)),
            now,
        ),
        Kind::Events => {
            let rows = fleet.clusters().flat_map(|c| {
                let hub_namespaces: std::collections::HashSet<&str> =
                    c.hubs.keys().map(|k| &*k.namespace).collect();
                c.events
                    .iter()
                    .rev()
                    .filter(move |e| hub_namespaces.contains(&*e.key.namespace))
                    .filter(|e| filter.namespace_ok(c.id.as_str(), Some(&e.key.namespace)))
                    .map(move |e| event_row(c, e))
            });
            write_rows(out, format, rows.filter(|r| sel.matches(r)), now)
        }
        Kind::Nodes => {
            let rows = fleet
                .clusters()
                .filter(|c| filter.cluster_ok(c.id.as_str()))
                .flat_map(|c| cluster_node_rows(c, filter.hub.as_ref()));
            write_rows(out, format, rows.filter(|r| sel.matches(r)), now)
        }
    }
}
