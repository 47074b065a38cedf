//! Finding a cluster's Alertmanager Service by its labels.

use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::ListParams;

use super::error::AlertsError;
use super::transport::ServiceRef;

/// Label selectors an Alertmanager Service carries, most specific first: the current
/// prometheus-community charts (2i2c's `support-alertmanager`), the old `prometheus` chart,
/// and plain `app=alertmanager` deployments.
const SELECTORS: &[&str] = &[
    "app.kubernetes.io/name=alertmanager",
    "app=prometheus,component=alertmanager",
    "app=alertmanager",
];

/// Namespaces tried one by one when the identity may not list Services cluster-wide.
const USUAL_NAMESPACES: &[&str] = &["support", "monitoring", "prometheus"];

/// The port Alertmanager serves its API on by default.
const DEFAULT_PORT: u16 = 9093;

/// Finds the cluster's Alertmanager Service. `None` means the cluster has no alert source,
/// which is not an error. When Services may not be listed cluster-wide, the usual namespaces,
/// the client's default one and `also` (the namespaces hubdeck watches) are searched one by one.
pub async fn discover_alertmanager(
    client: &kube::Client,
    also: &[String],
) -> Result<Option<ServiceRef>, AlertsError> {
    let all: Api<Service> = Api::all(client.clone());
    match find_in(&all).await {
        Err(AlertsError::Http { status: 403, .. }) => {}
        other => return other,
    }
    let mut namespaces: Vec<&str> = USUAL_NAMESPACES.to_vec();
    for ns in std::iter::once(client.default_namespace()).chain(also.iter().map(String::as_str)) {
        if !namespaces.contains(&ns) {
            namespaces.push(ns);
        }
    }
    for ns in namespaces {
        let api: Api<Service> = Api::namespaced(client.clone(), ns);
        match find_in(&api).await {
            Ok(Some(found)) => return Ok(Some(found)),
            Ok(None) | Err(AlertsError::Http { status: 403, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

async fn find_in(api: &Api<Service>) -> Result<Option<ServiceRef>, AlertsError> {
    for selector in SELECTORS {
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(kube_error)?;
        if let Some(best) = list.items.iter().filter_map(candidate).min() {
            return Ok(Some(best.1));
        }
    }
    Ok(None)
}

/// A Service worth proxying to, with its preference rank (lower is better): the `support`
/// namespace first, headless Services (the operator's `alertmanager-operated`) last.
fn candidate(svc: &Service) -> Option<((bool, bool, String, String), ServiceRef)> {
    let namespace = svc.metadata.namespace.clone()?;
    let name = svc.metadata.name.clone()?;
    let spec = svc.spec.as_ref()?;
    let ports = spec.ports.as_ref()?;
    let by_name = |n: &str| ports.iter().find(|p| p.name.as_deref() == Some(n));
    let port = ports
        .iter()
        .find(|p| p.port == i32::from(DEFAULT_PORT))
        .or_else(|| by_name("http"))
        .or_else(|| by_name("web"))
        .or_else(|| by_name("http-web"))
        .or(ports.first())?;
    let port = u16::try_from(port.port).ok()?;
    let headless = spec.cluster_ip.as_deref() == Some("None");
    let rank = (
        namespace != "support",
        headless,
        namespace.clone(),
        name.clone(),
    );
    Some((
        rank,
        ServiceRef {
            namespace,
            name,
            port,
        },
    ))
}

fn kube_error(e: kube::Error) -> AlertsError {
    let at = "discovery".to_string();
    match e {
        kube::Error::Api(status) => AlertsError::Http {
            at,
            status: status.code,
            body: status.message.clone(),
        },
        other => AlertsError::Unreachable {
            at,
            cause: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(ns: &str, name: &str, cluster_ip: &str, ports: &[(&str, i32)]) -> Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": ns, "name": name},
            "spec": {
                "clusterIP": cluster_ip,
                "ports": ports.iter().map(|(n, p)| serde_json::json!({"name": n, "port": p})).collect::<Vec<_>>(),
            }
        }))
        .unwrap()
    }

    #[test]
    fn support_namespace_and_api_port_are_preferred() {
        let services = [
            service("monitoring", "am", "10.0.0.2", &[("web", 80)]),
            service(
                "support",
                "support-alertmanager",
                "10.0.0.3",
                &[("reloader", 8080), ("http", 9093)],
            ),
            service("support", "alertmanager-operated", "None", &[("web", 9093)]),
        ];
        let best = services.iter().filter_map(candidate).min().unwrap().1;
        assert_eq!(best.to_string(), "support/support-alertmanager:9093");
        let other = candidate(&services[0]).unwrap().1;
        assert_eq!(other.port, 80);
    }
}
