//! Watches and faults through kube's watcher: appear/disappear, 410 re-list, outages.

use super::*;

#[tokio::test]
async fn watcher_sees_started_server_appear_and_stopped_one_disappear() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let cfg = watcher::Config::default().labels("component=singleuser-server");
    let mut stream = watcher(pods, cfg).boxed();
    let _ = next_matching(&mut stream, |e| matches!(e, Ok(watcher::Event::InitDone))).await;
    let name = c.start_server(&ns, "Ada.Lovelace@example.org", "gpu");
    assert_eq!(name, "jupyter--41da-2e-4covelace-40example-2eorg--gpu");
    let _ = next_matching(
        &mut stream,
        |e| matches!(e, Ok(watcher::Event::Apply(p)) if p.metadata.name.as_deref() == Some(&name)),
    )
    .await;
    assert!(c.stop_server(&ns, "Ada.Lovelace@example.org", "gpu"));
    let _ = next_matching(
        &mut stream,
        |e| matches!(e, Ok(watcher::Event::Delete(p)) if p.metadata.name.as_deref() == Some(&name)),
    )
    .await;
    fleet.shutdown().await;
}

#[tokio::test]
async fn expired_resource_version_makes_kube_watcher_relist() {
    let (fleet, c, client) = small().await;
    let hubs = c.hub_namespaces();
    let pods: Api<Pod> = Api::namespaced(client, &hubs[0]);
    let mut stream = watcher(pods, watcher::Config::default()).boxed();
    let _ = next_matching(&mut stream, |e| matches!(e, Ok(watcher::Event::InitDone))).await;
    // A change elsewhere moves the cluster's resourceVersion past the watcher's.
    c.start_server(&hubs[1], "someone-else", "");
    c.restart_expiring();
    let err = next_matching(&mut stream, Result::is_err).await;
    assert!(format!("{err:?}").contains("410"), "{err:?}");
    let _ = next_matching(&mut stream, |e| matches!(e, Ok(watcher::Event::Init))).await;
    let _ = next_matching(&mut stream, |e| matches!(e, Ok(watcher::Event::InitDone))).await;
    fleet.shutdown().await;
}

#[tokio::test]
async fn down_cluster_refuses_and_comes_back_on_the_same_url() {
    let (fleet, c, client) = small().await;
    let pods: Api<Pod> = Api::all(client);
    let url = c.url();
    pods.list(&ListParams::default()).await.unwrap();
    c.go_down().await;
    assert!(pods.list(&ListParams::default()).await.is_err());
    assert!(tokio::net::TcpStream::connect(c.inner.addr).await.is_err());
    c.come_back().await;
    assert_eq!(c.url(), url);
    assert!(
        !pods
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn lists_come_in_pages_that_add_up_to_the_whole() {
    let (fleet, c, client) = small().await;
    let pods: Api<Pod> = Api::all(client.clone());
    let name = |p: &Pod| p.metadata.name.clone().unwrap_or_default();
    let whole: Vec<String> = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(name)
        .collect();
    assert!(whole.len() > 4, "{whole:?}");
    let mut paged = Vec::new();
    let mut lp = ListParams::default().limit(2);
    let mut versions = std::collections::BTreeSet::new();
    loop {
        let page = pods.list(&lp).await.unwrap();
        assert!(page.items.len() <= 2);
        versions.insert(page.metadata.resource_version.clone());
        paged.extend(page.items.iter().map(name));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => lp = lp.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(paged, whole);
    assert_eq!(
        versions.len(),
        1,
        "every page is at the first page's version"
    );

    let mut stream = watcher(pods.clone(), watcher::Config::default().page_size(3)).boxed();
    let mut listed = 0;
    while let Some(e) = stream.next().await {
        match e.unwrap() {
            watcher::Event::InitApply(_) => listed += 1,
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(listed, whole.len());

    // A token from before the history was lost is expired: the client lists again.
    let first = pods.list(&ListParams::default().limit(2)).await.unwrap();
    let token = first.metadata.continue_.unwrap();
    c.start_server(&c.hub_namespaces()[0], "zed", "");
    c.restart_expiring();
    let err = pods
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap_err();
    assert_eq!(api_code(err), 410);
    fleet.shutdown().await;
}
