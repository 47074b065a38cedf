//! End-to-end tests of the simulated fleet through the real kube client (and plain HTTP where a
//! raw view of the wire helps), and of the fake Alertmanager and hub APIs over plain HTTP.

pub(super) use std::time::Duration;

pub(super) use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
pub(super) use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
pub(super) use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
pub(super) use k8s_openapi::api::core::v1::{Event, Pod, Secret};
pub(super) use kube::api::{
    Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams,
};
pub(super) use kube::config::{KubeConfigOptions, Kubeconfig};
pub(super) use kube::runtime::watcher;
pub(super) use kube::{Client, Config};
pub(super) use serde_json::json;

pub(super) use super::*;

mod events;
mod exec;
mod fake_alertmanager;
mod fake_hub;
mod fleet;
mod kubectl;
mod metrics;
mod nodes;
mod objects;
mod portforward;
mod restarts;
mod strict;
mod watches;
mod wire;

pub(super) async fn client_for(path: &Path, context: &str) -> Client {
    let kc = Kubeconfig::read_from(path).unwrap();
    let opts = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let cfg = Config::from_custom_kubeconfig(kc, &opts).await.unwrap();
    Client::try_from(cfg).unwrap()
}

pub(super) async fn small() -> (SimFleet, SimCluster, Client) {
    let fleet = SimFleet::start(FleetSpec::small()).await.unwrap();
    let c = fleet.clusters()[0].clone();
    let client = client_for(fleet.kubeconfig_path(), c.name()).await;
    (fleet, c, client)
}

pub(super) fn api_code(e: kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub(super) async fn next_matching<S, T>(stream: &mut S, mut f: impl FnMut(&T) -> bool) -> T
where
    S: futures::Stream<Item = T> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let item = stream.next().await.expect("stream ended");
            if f(&item) {
                return item;
            }
        }
    })
    .await
    .expect("timed out waiting for a matching item")
}
