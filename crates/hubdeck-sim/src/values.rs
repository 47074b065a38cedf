//! The hub Secret z2jh writes: `values.yaml` (the chart values the hub reads) and the
//! `hub.config.*` / `hub.services.<name>.apiToken` keys, with realistic content.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};

use super::generate::Hub;

/// The credentials a z2jh hub's values carry (the chart copies them into the values it
/// stores, so a console that shows values must hide them).
pub(crate) struct Credentials {
    proxy_token: String,
    client_secret: String,
    api_token: String,
}

/// A realistic z2jh values file for a hub, credentials included.
pub(crate) fn values_yaml(hub: &Hub, image: &str, creds: &Credentials) -> String {
    let (repo, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
    format!(
        r#"nameOverride: ""
fullnameOverride: {override_}
hub:
  config:
    JupyterHub:
      authenticator_class: github
      admin_access: true
    Authenticator:
      admin_users:
        - yuvipanda
        - choldgraf
      allowed_users: []
    GitHubOAuthenticator:
      oauth_callback_url: https://{ns}.example-hubs.org/hub/oauth_callback
      client_id: {ns}-github-app
      client_secret: {client_secret}
      allowed_organizations:
        - 2i2c-org
  services:
    hubdeck:
      admin: true
      apiToken: "{api_token}"
proxy:
  secretToken: "{proxy_token}"
singleuser:
  image:
    name: {repo}
    tag: "{tag}"
  memory:
    limit: 4G
    guarantee: 2G
  cpu:
    limit: 2
    guarantee: 0.5
  profileList:
    - display_name: "Small: 2 GB RAM"
      default: true
      kubespawner_override:
        mem_guarantee: 2G
        mem_limit: 4G
    - display_name: "Large: 8 GB RAM"
      kubespawner_override:
        mem_guarantee: 8G
        mem_limit: 16G
scheduling:
  userScheduler:
    enabled: true
  userPlaceholder:
    enabled: true
    replicas: 2
cull:
  enabled: true
  timeout: 3600
  every: 300
  maxAge: 0
"#,
        override_ = if hub.prefix.is_empty() {
            "\"\""
        } else {
            "null"
        },
        ns = hub.namespace,
        client_secret = creds.client_secret,
        api_token = creds.api_token,
        proxy_token = creds.proxy_token,
    )
}

pub(crate) fn secret(hub: &Hub, image: &str, rng: &mut fastrand::Rng) -> Value {
    let hex = |rng: &mut fastrand::Rng, n: usize| -> String {
        (0..n).map(|_| format!("{:x}", rng.u8(..16))).collect()
    };
    let mut data = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        data.insert(k.to_string(), ByteString(v.into_bytes()));
    };
    let creds = Credentials {
        proxy_token: hex(rng, 64),
        client_secret: hex(rng, 40),
        api_token: hex(rng, 32),
    };
    put("values.yaml", values_yaml(hub, image, &creds));
    put("hub.config.JupyterHub.cookie_secret", hex(rng, 64));
    put("hub.config.CryptKeeper.keys", hex(rng, 64));
    put("hub.services.hubdeck.apiToken", creds.api_token.clone());
    let s = Secret {
        data: Some(data),
        type_: Some("Opaque".into()),
        ..Default::default()
    };
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["metadata"] = json!({"name": hub.object("hub"), "namespace": hub.namespace,
        "labels": hub.labels("hub")});
    v
}
