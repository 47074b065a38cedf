//! A daskhub's users' dask clusters in the console: the DASK cell and detail line of their
//! server, and `K` planning the stop through the action layer.

use crate::fleet::fixtures::dask_gateway;

use super::actions::acting_app_over;
use super::{buffer, fleet, line_with, now, press, screen, text_of};

fn dask_fleet() -> crate::fleet::Fleet {
    let mut f = fleet();
    f.apply_all(
        dask_gateway("leap", "prod", &[("dora", 3), ("dora", 2)]),
        now(),
    );
    f
}

#[test]
fn a_users_dask_clusters_show_beside_their_server() {
    let (mut app, _feeds, _dir) = acting_app_over(false, dask_fleet());
    press(&mut app, "3");
    let s = text_of(&buffer(&mut app, 200, 30));
    assert!(s.contains("DASK"), "{s}");
    assert!(line_with(&s, "dora").contains("2/5"), "{s}");
    assert!(!line_with(&s, "eve").contains("2/5"), "{s}");
    // dora's row is the first: its detail names the clusters and workers.
    press(&mut app, "<enter>");
    let s = screen(&mut app);
    assert!(
        line_with(&s, "Dask").contains("2 clusters, 5 workers"),
        "{s}"
    );
}

#[test]
fn k_plans_stopping_the_users_dask_clusters() {
    let (mut app, _feeds, _dir) = acting_app_over(false, dask_fleet());
    press(&mut app, "3K");
    let s = screen(&mut app);
    assert!(
        s.contains("Confirm: stop 2 dask clusters of leap/prod/dora"),
        "{s}"
    );
    assert!(s.contains("set spec.active of DaskCluster"), "{s}");
    assert!(s.contains("explicit confirmation"), "{s}");
    press(&mut app, "<esc>");

    // A user without dask clusters: the resolver says so, no dialog.
    press(&mut app, "<down>K");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
}

#[test]
fn k_is_refused_in_readonly() {
    let (mut app, _feeds, _dir) = acting_app_over(true, dask_fleet());
    press(&mut app, "3K");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(s.contains("read-only"), "{s}");
}
