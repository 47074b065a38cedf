//! Object verbs: list, get, create, update (PUT), patch, delete, and the scale subresource, with
//! the API server's preconditions (resourceVersion and uid) and 409/404 answers.

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::access;
use super::api::{Call, Target};
use super::controller::State;
use super::field_validation::{self, Directive};
use super::paging::PageRequest;
use super::patch;
use super::podstatus::set_pod_pending;
use super::resources::Kind;
use super::selectors::{FieldSelector, Filter, LabelSelector};
use super::status::{ApiError, json_response};
use super::store::ensure_object;
use super::validation;

/// Routes a resource request to its verb after the RBAC check.
pub(crate) async fn dispatch(call: Call, t: Target) -> Result<Response, ApiError> {
    let verb = match (&call.method, &t.name) {
        (&Method::GET, None) if call.flag("watch") => "watch",
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, Some(_)) => "delete",
        (&Method::DELETE, None) => "deletecollection",
        _ => return Err(ApiError::method_not_allowed("method not supported")),
    };
    access::authorize(
        &call.identity,
        verb,
        t.kind.group(),
        &t.rbac_resource(),
        t.name.as_deref(),
        t.namespace.as_deref(),
    )?;
    let name = t.name.clone().unwrap_or_default();
    match (verb, t.sub.as_deref()) {
        ("watch", None) => super::watch::watch(&call, t.kind, filter(&call, &t)?),
        ("list", None) => list(&call, &t),
        ("get", Some("log")) if t.kind == Kind::Pod => super::logs::logs(&call, &t).await,
        ("get" | "update" | "patch", Some("scale"))
            if matches!(t.kind, Kind::Deployment | Kind::StatefulSet) =>
        {
            scale(&call, &t, verb)
        }
        ("get", None | Some("status")) => {
            let st = call.cluster.inner.state();
            let obj = st
                .store
                .get(t.kind, t.namespace.as_deref().unwrap_or(""), &name)
                .ok_or_else(|| ApiError::not_found(&t.resource_label(), &name))?;
            if let Some(full) = call.table() {
                let rv = st.store.resource_version();
                let table = super::table::render(t.kind, std::iter::once(obj.as_ref()), rv, full);
                return Ok(json_response(200, table.to_string()));
            }
            Ok(json_response(200, obj.json.clone()))
        }
        ("create", None) => create(&call, &t),
        ("update" | "patch", None | Some("status")) => modify(&call, &t, verb),
        ("delete", None) => delete(&call, &t),
        (_, Some("proxy")) => Err(ApiError::no_route("pod proxy is not simulated")),
        _ => Err(ApiError::method_not_allowed(format!(
            "{verb} is not supported on {}",
            t.rbac_resource()
        ))),
    }
}

/// The namespace and selectors a list or watch asked for.
pub(crate) fn filter(call: &Call, t: &Target) -> Result<Filter, ApiError> {
    Ok(Filter {
        namespace: t.namespace.clone(),
        labels: LabelSelector::parse(call.param("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?,
        fields: FieldSelector::parse(t.kind, call.param("fieldSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?,
    })
}

fn list(call: &Call, t: &Target) -> Result<Response, ApiError> {
    let filter = filter(call, t)?;
    let (page, objs) = {
        let st = call.cluster.inner.state();
        let page = PageRequest::from_call(call, st.store.resource_version(), |rv| {
            st.store.resumable(rv)
        })?;
        (page, st.store.list(t.kind, t.namespace.as_deref()))
    };
    if let Some(full) = call.table() {
        let rows = objs.iter().filter(|o| filter.matches(o)).map(AsRef::as_ref);
        let table = super::table::render(t.kind, rows, page.rv, full);
        return Ok(json_response(200, table.to_string()));
    }
    let mut matching = objs.iter().filter(|o| page.wants(o) && filter.matches(o));
    let items: Vec<_> = matching
        .by_ref()
        .take(page.limit.unwrap_or(usize::MAX))
        .collect();
    let next = match items.last() {
        Some(last) if matching.next().is_some() => {
            format!(r#","continue":"{}""#, page.next_token(last))
        }
        _ => String::new(),
    };
    // Assemble the list from the stored JSON without re-serializing each object.
    let mut body = Vec::with_capacity(items.iter().map(|o| o.json.len() + 1).sum::<usize>() + 256);
    body.extend_from_slice(
        format!(
            r#"{{"kind":"{}List","apiVersion":"{}","metadata":{{"resourceVersion":"{}"{next}}},"items":["#,
            t.kind.kind(),
            t.kind.api_version(),
            page.rv,
        )
        .as_bytes(),
    );
    for (i, o) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&o.json);
    }
    body.extend_from_slice(b"]}");
    Ok(json_response(200, body))
}

fn create(call: &Call, t: &Target) -> Result<Response, ApiError> {
    let directive = Directive::of(call, "create")?;
    let mut v = call.body_json()?;
    let decoded = field_validation::decode(t.kind, &mut v, false);
    decoded.check(t.kind, directive)?;
    let ns = t.namespace.clone().unwrap_or_default();
    let meta = ensure_object(&mut v, "metadata");
    if t.kind.namespaced() {
        meta.insert("namespace".into(), json!(ns));
    }
    for k in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
    ] {
        meta.remove(k);
    }
    if meta
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let prefix = meta
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if prefix.is_empty() {
            return Err(ApiError::invalid_object(
                t.kind,
                "",
                &["metadata.name: Required value: name or generateName is required"],
                vec![
                    json!({"reason": "FieldValueRequired", "message": "Required value: name or generateName is required", "field": "metadata.name"}),
                ],
            ));
        }
        let name = format!("{prefix}{}", fastrand::u32(..).wrapping_mul(7919) % 100_000);
        meta.insert("name".into(), json!(name));
    }
    meta.insert("generation".into(), json!(1));
    let name = meta["name"].as_str().unwrap_or("").to_string();
    validation::check_object(t.kind, &v)?;
    super::admission::prepare(t.kind, &mut v);
    let mut st = call.cluster.inner.state();
    if st.store.get(t.kind, &ns, &name).is_some() {
        return Err(ApiError::already_exists(&t.resource_label(), &name));
    }
    if t.kind == Kind::Pod {
        set_pod_pending(&mut v);
    }
    let obj = st.store.put(t.kind, v);
    after_write(&mut st, t.kind, &ns, &name, true);
    let obj = st.store.get(t.kind, &ns, &name).unwrap_or(obj);
    Ok(decoded.warn(directive, json_response(201, obj.json.clone())))
}

/// Side effects of writing a workload or pod: controllers react.
fn after_write(st: &mut State, kind: Kind, ns: &str, name: &str, created: bool) {
    match kind {
        Kind::Deployment | Kind::StatefulSet => st.reconcile(kind, ns, name),
        Kind::DaskCluster => super::dask::reconcile(st, ns, name),
        // `kubectl cordon` patches spec.unschedulable; the node lifecycle controller adds the taint.
        Kind::Node => {
            super::nodes::update(st, name, super::nodes::sync_taints);
        }
        Kind::Pod if created => {
            let delay = std::time::Duration::from_millis(2000);
            st.after(
                delay,
                super::controller::Timed::PodStarts {
                    ns: ns.into(),
                    name: name.into(),
                    fail: false,
                    pulled_in: None,
                },
            );
        }
        _ => {}
    }
}

fn stale(t: &Target, name: &str) -> ApiError {
    ApiError::conflict(
        &t.resource_label(),
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    )
}

/// PUT and PATCH of an object (or its status).
fn modify(call: &Call, t: &Target, verb: &str) -> Result<Response, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let directive = Directive::of(call, verb)?;
    let mut body = call.body_json()?;
    let decoded = if verb == "update" {
        field_validation::decode(t.kind, &mut body, false)
    } else if !call.content_type.starts_with("application/json-patch+json") {
        field_validation::decode(t.kind, &mut body, true)
    } else {
        field_validation::Decoded::default()
    };
    decoded.check(t.kind, directive)?;
    let mut st = call.cluster.inner.state();
    let current = st
        .store
        .get(t.kind, &ns, &name)
        .ok_or_else(|| ApiError::not_found(&t.resource_label(), &name))?;
    let old = current.value();
    let mut new = if verb == "update" {
        body
    } else {
        let mut v = old.clone();
        apply_patch(call, &mut v, &body)?;
        v
    };
    // A resourceVersion in the body is a precondition, for PUT and PATCH alike.
    if let Some(rv) = new["metadata"]["resourceVersion"].as_str()
        && rv != old["metadata"]["resourceVersion"].as_str().unwrap_or("")
    {
        return Err(stale(t, &name));
    }
    if new["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "the name of the object does not match the URL",
        ));
    }
    // Identity fields are the server's.
    let meta = ensure_object(&mut new, "metadata");
    meta.insert("name".into(), json!(name));
    if t.kind.namespaced() {
        meta.insert("namespace".into(), json!(ns));
    }
    for k in [
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
    ] {
        match old["metadata"].get(k) {
            Some(v) => meta.insert(k.into(), v.clone()),
            None => meta.remove(k),
        };
    }
    if t.sub.as_deref() == Some("status") {
        let status = new["status"].clone();
        new = old.clone();
        new["status"] = status;
    } else if !old["status"].is_null() && t.kind != Kind::Namespace {
        new["status"] = old["status"].clone();
    }
    super::admission::prepare(t.kind, &mut new);
    if new["spec"] != old["spec"] {
        let g = old["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
        new["metadata"]["generation"] = json!(g);
    }
    if new == old {
        return Ok(decoded.warn(directive, json_response(200, current.json.clone())));
    }
    validation::check_object(t.kind, &new)?;
    st.store.put(t.kind, new);
    after_write(&mut st, t.kind, &ns, &name, false);
    let obj = st
        .store
        .get(t.kind, &ns, &name)
        .ok_or_else(|| ApiError::not_found(&t.resource_label(), &name))?;
    Ok(decoded.warn(directive, json_response(200, obj.json.clone())))
}

fn apply_patch(call: &Call, target: &mut Value, body: &Value) -> Result<(), ApiError> {
    let ct = call.content_type.as_str();
    // Custom resources have no Go struct to take a strategic merge patch against.
    let custom = target["apiVersion"].as_str() == Some("gateway.dask.org/v1alpha1");
    if custom && ct.starts_with("application/strategic-merge-patch+json") {
        return Err(ApiError::unsupported_media(ct));
    }
    if ct.starts_with("application/merge-patch+json")
        || ct.starts_with("application/strategic-merge-patch+json")
        || ct.starts_with("application/apply-patch+yaml")
    {
        patch::merge(target, body);
        Ok(())
    } else if ct.starts_with("application/json-patch+json") {
        patch::json_patch(target, body).map_err(ApiError::invalid)
    } else {
        Err(ApiError::unsupported_media(ct))
    }
}

fn delete(call: &Call, t: &Target) -> Result<Response, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let opts: Value = if call.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&call.body).unwrap_or_else(|_| json!({}))
    };
    let mut st = call.cluster.inner.state();
    let current = st
        .store
        .get(t.kind, &ns, &name)
        .ok_or_else(|| ApiError::not_found(&t.resource_label(), &name))?;
    let cur = current.value();
    let pre = &opts["preconditions"];
    if let Some(rv) = pre["resourceVersion"].as_str()
        && Some(rv) != cur["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::conflict(
            &t.resource_label(),
            &name,
            "the ResourceVersion in the precondition does not match the ResourceVersion in record. The object might have been modified",
        ));
    }
    if let Some(uid) = pre["uid"].as_str()
        && Some(uid) != cur["metadata"]["uid"].as_str()
    {
        return Err(ApiError::conflict(
            &t.resource_label(),
            &name,
            "the UID in the precondition does not match the UID in record. The object might have been deleted and then recreated",
        ));
    }
    let grace = match opts["gracePeriodSeconds"].as_i64() {
        Some(g) => Some(g),
        None => call.int("gracePeriodSeconds")?,
    };
    let out = match t.kind {
        Kind::Pod => st.delete_pod(&ns, &name, grace).unwrap_or(cur),
        kind => {
            let gone = st.store.remove(kind, &ns, &name).map_or(cur, |o| o.value());
            if matches!(kind, Kind::Deployment | Kind::StatefulSet) {
                // Cascade: a deleted workload takes its pods with it.
                let owned: Vec<String> = st
                    .store
                    .list(Kind::Pod, Some(&ns))
                    .iter()
                    .filter(|p| {
                        p.value()["metadata"]["ownerReferences"][0]["name"]
                            .as_str()
                            .is_some_and(|o| o == name || o.starts_with(&format!("{name}-")))
                    })
                    .map(|p| p.name.to_string())
                    .collect();
                for p in owned {
                    st.store.remove(Kind::Pod, &ns, &p);
                }
            }
            gone
        }
    };
    Ok(json_response(200, out.to_string()))
}

/// The autoscaling/v1 Scale view of a workload.
fn scale_of(wl: &Value) -> Value {
    let labels = wl["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let m = &wl["metadata"];
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]},
        "spec": {"replicas": wl["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {"replicas": wl["status"]["replicas"].as_i64().unwrap_or(0), "selector": labels},
    })
}

fn scale(call: &Call, t: &Target, verb: &str) -> Result<Response, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let mut st = call.cluster.inner.state();
    let current = st
        .store
        .get(t.kind, &ns, &name)
        .ok_or_else(|| ApiError::not_found(&t.resource_label(), &name))?;
    let mut wl = current.value();
    let mut sc = scale_of(&wl);
    if verb == "get" {
        return Ok(json_response(200, sc.to_string()));
    }
    let body = call.body_json()?;
    if verb == "update" {
        sc = body;
    } else {
        apply_patch(call, &mut sc, &body)?;
    }
    if let Some(rv) = sc["metadata"]["resourceVersion"].as_str()
        && rv != wl["metadata"]["resourceVersion"].as_str().unwrap_or("")
    {
        return Err(stale(t, &name));
    }
    let replicas = sc["spec"]["replicas"]
        .as_i64()
        .filter(|r| *r >= 0)
        .ok_or_else(|| ApiError::invalid("spec.replicas: must be a non-negative integer"))?;
    if wl["spec"]["replicas"].as_i64() != Some(replicas) {
        wl["spec"]["replicas"] = json!(replicas);
        let g = wl["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
        wl["metadata"]["generation"] = json!(g);
        st.store.put(t.kind, wl);
        st.reconcile(t.kind, &ns, &name);
    }
    let wl = st
        .store
        .get(t.kind, &ns, &name)
        .map(|o| o.value())
        .unwrap_or_default();
    Ok(json_response(200, scale_of(&wl).to_string()))
}
