//! Warm start: the console opens on the last recording's fleet, every row marked stale with
//! its age, and the live lists replace it cluster by cluster.

use super::*;
use crate::recorder::{Budget, Recorder, RecorderConfig, Target};

fn recorded(dir: &std::path::Path) {
    let (mut tap, recorder) = Recorder::start(RecorderConfig {
        target: Target::Dir {
            dir: dir.to_path_buf(),
            budget: Budget {
                max_bytes: 10 << 20,
                max_age: std::time::Duration::from_secs(86_400),
                roll_every: std::time::Duration::from_secs(3600),
            },
        },
        snapshot_every: jiff::SignedDuration::from_mins(10),
        audit_log: None,
    })
    .unwrap();
    tap.after_apply(&fleet(), Timestamp::now());
    drop(tap);
    assert_eq!(recorder.finish(), None);
}

fn lines_with<'a>(screen: &'a str, word: &str) -> Vec<&'a str> {
    screen.lines().filter(|l| l.contains(word)).collect()
}

#[test]
fn a_warm_start_shows_the_recorded_rows_as_stale_until_each_cluster_lists() {
    let dir = tempfile::tempdir().unwrap();
    recorded(dir.path());
    let warm =
        crate::recorder::warm::from_dir(dir.path(), &["leap", "nasa"], Thresholds::default())
            .expect("the recording is read");
    let mut app = App::new(opts(), warm);
    let first = screen(&mut app);
    // Every hub as recorded, the down one still down, each marked stale with its age.
    for hub in ["staging", "prod", "science"] {
        let row = line_with(&first, hub);
        assert!(row.contains("stale: recorded"), "{row}\n{first}");
    }
    assert!(line_with(&first, "prod").contains("DOWN"), "{first}");

    // leap lists: its rows are live (its prod hub is gone), nasa's are still the recording's.
    let now = Timestamp::now();
    app.apply_updates(healthy_hub("leap", "staging", &["ada"]), now);
    let second = screen(&mut app);
    assert!(!line_with(&second, "staging").contains("stale"), "{second}");
    assert!(lines_with(&second, "prod").is_empty(), "{second}");
    assert!(
        line_with(&second, "science").contains("stale: recorded"),
        "{second}"
    );

    // A connecting cluster is still shown from the recording; once it lists, nothing is stale.
    let nasa = ClusterId::new("nasa");
    app.apply_updates(
        vec![FleetUpdate::Status {
            cluster: nasa.clone(),
            status: crate::fleet::ClusterStatus::Connecting,
        }],
        now,
    );
    assert!(line_with(&screen(&mut app), "science").contains("stale"));
    app.apply_updates(healthy_hub("nasa", "science", &["carl"]), now);
    let last = screen(&mut app);
    assert!(lines_with(&last, "stale").is_empty(), "{last}");
    assert!(line_with(&last, "science").contains("ok"), "{last}");
}
