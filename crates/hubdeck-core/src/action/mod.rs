//! The action model: every mutation hubdeck can make is an [`Action`] value, built from a
//! [`Request`] by the one [`resolve`], expanded into the [`Plan`] every front end shows, and run
//! by the application's runner through the [`ports`] traits.

mod dask;
mod effect;
mod error;
mod exec;
pub mod merge;
mod model;
mod plan;
mod pod_ref;
pub mod ports;
mod request;
mod resolve;
pub mod values;

pub use dask::{DASK_CLUSTERS, DASK_GROUP, stop_call as stop_dask_call};
pub use effect::effect_visible;
pub use error::{ActionError, ResolveError};
pub use exec::{SHELLS, quote_command};
pub use model::{Action, ApiCall, Confirm, Matcher, Plan, ServerTarget, Step, Via};
pub use plan::{escape_path, stop_path};
pub use pod_ref::{BoundPod, PodSource, bind_pod, component_name, component_pod};
pub use ports::{ExecEnd, ExecSpec, HubConfig};
pub use request::{Request, ServerRef};
pub use resolve::{find_hub, idle_servers, resolve, silence_matchers};

#[cfg(test)]
mod dask_tests;
#[cfg(test)]
mod exec_tests;
#[cfg(test)]
mod tests;
