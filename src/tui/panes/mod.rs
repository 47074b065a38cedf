//! Panes: what fills the body of the screen. Table panes are a [`RowSource`] (one per file)
//! inside the shared [`TablePane`]; detail and logs are panes of their own.

pub mod alerts;
pub mod clusters;
pub mod detail;
pub mod events;
pub mod hubs;
pub mod logs;
pub mod node_cells;
pub mod node_loads;
pub mod nodes;
pub mod server_detail;
pub mod servers;

use std::sync::Arc;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;

use crate::config::keymap::{Command, Context};
use crate::config::theme::Theme;
use crate::fleet::{ClusterId, Fleet, HubId, ObjectKey};

use super::app::Target;
use super::trends::Trends;
use super::widgets::input::LineInput;
use super::{DescribeRequest, LogRequest};

pub use super::widgets::table::TablePane;

/// What panes read while handling keys and drawing.
pub struct Ctx<'a> {
    /// The fleet.
    pub fleet: &'a Fleet,
    /// Styles.
    pub theme: &'a Theme,
    /// The console's clock (set by updates and ticks; fixed in tests).
    pub now: Timestamp,
    /// Observed trends.
    pub trends: &'a Trends,
}

/// Where a drill-down goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Open {
    /// Hubs of one cluster.
    Hubs(ClusterId),
    /// Servers of one hub.
    Servers(HubId),
    /// Servers on one node of a cluster.
    NodeServers(ClusterId, Arc<str>),
    /// Servers on the nodes of one pool of a cluster.
    PoolServers(ClusterId, Arc<str>),
    /// The nodes of a cluster, this one selected.
    Node(ClusterId, Arc<str>),
    /// A hub's summary plus its hub Deployment's description.
    HubDetail(HubId),
    /// Local sections (cluster, alert, event) plus, optionally, a remote description.
    Detail {
        /// Breadcrumb text.
        title: String,
        /// Sections known locally.
        sections: Vec<(String, Vec<(String, String)>)>,
        /// Object to describe through the services.
        describe: Option<DescribeRequest>,
        /// What a shell opened from the detail goes into (a user server), if anything.
        target: Option<Target>,
        /// What Enter opens from the detail (a server's node).
        link: Option<Box<Open>>,
    },
    /// A pod log.
    Logs(LogRequest),
}

/// What a pane asks of the app after a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not for this pane.
    Ignored,
    /// Handled; redraw.
    Handled,
    /// Push a pane.
    Open(Open),
    /// Replace this pane by another (the same view of something else).
    Reopen(Open),
    /// A cluster mutation on a target (the app checks and routes it).
    Mutation(Command, Target),
    /// Tell the person something.
    Toast(String),
}

/// A pane of the console.
pub trait Pane {
    /// Breadcrumb segment.
    fn crumb(&self) -> String;
    /// Keymap context looked up first while this pane has the keyboard.
    fn context(&self) -> Context;
    /// Runs a command.
    fn handle(&mut self, cmd: Command, ctx: &Ctx) -> Outcome;
    /// Draws into `area`.
    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx);
    /// The line being typed (filter, search), if any.
    fn input(&mut self) -> Option<&mut LineInput> {
        None
    }
    /// Called when the typed line changed, was accepted (`done`) or cancelled (`cancel`).
    fn input_changed(&mut self, _done: bool, _cancel: bool) {}
    /// Drains I/O answers without blocking; returns whether anything changed (a spinner
    /// turning counts).
    fn poll(&mut self) -> bool {
        false
    }
    /// What actions would act on now (the selected row), if anything.
    fn selection(&mut self, _ctx: &Ctx) -> Option<Target> {
        None
    }
    /// Forgets marked rows (after an action on them was confirmed).
    fn clear_marks(&mut self) {}
    /// Clears an active filter; returns whether there was one.
    fn clear_filter(&mut self) -> bool {
        false
    }
}

/// A pod a log can be asked for: (cluster, namespace/name).
pub fn log_request(cluster: &ClusterId, key: &ObjectKey) -> LogRequest {
    LogRequest {
        cluster: cluster.clone(),
        namespace: key.namespace.to_string(),
        pod: key.name.to_string(),
        container: None,
        tail_lines: 500,
        follow: true,
        previous: false,
    }
}
