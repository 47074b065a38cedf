//! A hub API's servers as the changes since the hub's last report in the recording segment
//! (`FleetUpdate::Activity` with its source answering). Each hub's API is polled every minute
//! and reported whenever any server's activity moved: written whole, 600 hubs' reports were a
//! third of an hour of recording, for the one or two servers of each that changed.
//!
//! Body (tag 6, format version 4): `cluster str | namespace str | release str | nstrings varint
//! | nstrings × str | nedits varint | nedits × (keep varint | edit)`, each edit applying to the
//! hub's last report after `keep` of its rows are kept as they were: `0 | flags u8 | [started
//! time] | [last_activity time]` the next row's new state (same user and server), `1 | user
//! str | server sid | flags u8 | times` a row added before it, `2 | n varint` the next `n`
//! rows gone. Rows after the last edit are kept. Flags and times are the activity table's.
//!
//! Writer and reader keep the hub's last report from the segment's snapshot on, each on its
//! own (the writer as two 64-bit hashes a row), so neither depends on how the fleet applies
//! a report; a report is written whole when the writer has none for the hub, when its rows
//! are not sorted by user and server, or when most rows changed.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use hubdeck_core::fleet::{HubId, ServerActivity, SourceState};
use jiff::Timestamp;

use super::activity_table::{flags, put_hub, put_times, take_flags, take_hub, take_state};
use super::patch::{put_varint, take_varint};
use super::table::{
    Strings, count, put_str, put_strings, take_sid, take_str, take_strings, take_u8,
};

const CHANGE: u8 = 0;
const ADD: u8 = 1;
const GONE: u8 = 2;

/// The writer's side: every hub's last report, a row as the hashes of its names and of its
/// state (a few MB at 100,000 servers where a copy of the rows would be a dozen).
#[derive(Debug, Default)]
pub struct Written {
    hubs: HashMap<HubId, Vec<(u64, u64)>>,
}

fn hashes(s: &ServerActivity) -> (u64, u64) {
    // Fixed keys: the same report must give the same encoding in every run.
    let h = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
    (
        h.hash_one((&*s.user, &*s.server)),
        h.hash_one((s.ready, s.pending, s.started, s.last_activity)),
    )
}

fn sorted(servers: &[ServerActivity]) -> bool {
    servers
        .windows(2)
        .all(|w| (&w[0].user, &w[0].server) < (&w[1].user, &w[1].server))
}

impl Written {
    /// Forgets every report (a snapshot follows).
    pub fn reset(&mut self) {
        self.hubs.clear();
    }

    /// Takes a report written whole in, as the base of the hub's next one.
    pub fn note(&mut self, hub: &HubId, source: &SourceState, servers: &[ServerActivity]) {
        if *source == SourceState::Ok {
            self.hubs
                .insert(hub.clone(), servers.iter().map(hashes).collect());
        }
    }

    /// Appends the report as its changes and takes it as the hub's base; `None` (nothing
    /// written, nothing taken) when it is to be written whole.
    pub fn encode(
        &mut self,
        buf: &mut Vec<u8>,
        time: Timestamp,
        hub: &HubId,
        source: &SourceState,
        servers: &[ServerActivity],
    ) -> Option<()> {
        if *source != SourceState::Ok || !sorted(servers) {
            return None;
        }
        let old = self.hubs.get(hub)?;
        let rows: Vec<(u64, u64)> = servers.iter().map(hashes).collect();
        let at: HashMap<u64, usize> = old.iter().enumerate().map(|(i, (k, _))| (*k, i)).collect();
        let base = time.as_second();
        let mut strings = Strings::default();
        let mut edits = Vec::new();
        let mut n = 0usize;
        let mut keep = 0u64;
        let mut next = 0usize;
        let mut edit = |edits: &mut Vec<u8>, keep: &mut u64, what: u8| {
            put_varint(edits, *keep);
            edits.push(what);
            *keep = 0;
            n += 1;
        };
        for (s, (key, state)) in servers.iter().zip(&rows) {
            match at.get(key) {
                Some(&j) if j >= next => {
                    if j > next {
                        edit(&mut edits, &mut keep, GONE);
                        put_varint(&mut edits, (j - next) as u64);
                    }
                    if old[j].1 == *state {
                        keep += 1;
                    } else {
                        edit(&mut edits, &mut keep, CHANGE);
                        edits.push(flags(s));
                        put_times(&mut edits, base, s);
                    }
                    next = j + 1;
                }
                _ => {
                    edit(&mut edits, &mut keep, ADD);
                    put_str(&mut edits, &s.user);
                    put_varint(&mut edits, strings.id(&s.server));
                    edits.push(flags(s));
                    put_times(&mut edits, base, s);
                }
            }
        }
        if next < old.len() {
            edit(&mut edits, &mut keep, GONE);
            put_varint(&mut edits, (old.len() - next) as u64);
        }
        if n > servers.len() / 2 + 1 {
            return None;
        }
        put_hub(buf, hub);
        put_strings(buf, &strings);
        put_varint(buf, n as u64);
        buf.extend_from_slice(&edits);
        self.hubs.insert(hub.clone(), rows);
        Some(())
    }
}

/// One change to a hub's last report.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// The next row's new state (its names are the row's).
    Change(ServerActivity),
    /// A row added before the next one.
    Add(ServerActivity),
    /// The next rows gone.
    Gone(u64),
}

/// A report as read back, to be made whole against the hub's last one ([`Known`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// The hub.
    pub hub: HubId,
    /// Rows kept, and the edit after them.
    pub edits: Vec<(u64, Edit)>,
}

/// Reads a body back; the error says what is wrong with it.
pub fn decode(mut body: &[u8], time: Timestamp) -> Result<Changes, String> {
    let b = &mut body;
    let base = time.as_second();
    let hub = take_hub(b)?;
    let strings = take_strings(b)?;
    let n = count(b)?;
    let mut edits = Vec::with_capacity(n);
    let none: Arc<str> = Arc::from("");
    for _ in 0..n {
        let keep = take_varint(b)?;
        let edit = match take_u8(b)? {
            CHANGE => {
                let flags = take_flags(b)?;
                Edit::Change(take_state(b, base, flags, none.clone(), none.clone())?)
            }
            ADD => {
                let user = take_str(b)?.into();
                let server = take_sid(b, &strings)?;
                let flags = take_flags(b)?;
                Edit::Add(take_state(b, base, flags, user, server)?)
            }
            GONE => Edit::Gone(take_varint(b)?),
            e => return Err(format!("unknown server edit {e}")),
        };
        edits.push((keep, edit));
    }
    if !body.is_empty() {
        return Err(format!("{} bytes after the last server edit", body.len()));
    }
    Ok(Changes { hub, edits })
}

/// The reader's side: every hub's last report in the segment, whole.
#[derive(Debug, Default, Clone)]
pub struct Known {
    hubs: HashMap<HubId, Vec<ServerActivity>>,
}

impl Known {
    /// Takes a report written whole in, as the base of the hub's next one.
    pub fn note(&mut self, hub: &HubId, source: &SourceState, servers: &[ServerActivity]) {
        if *source == SourceState::Ok {
            self.hubs.insert(hub.clone(), servers.to_vec());
        }
    }

    /// The report `c` stands for, taken as the hub's base; the error says why it cannot be
    /// made (a damaged recording).
    pub fn resolve(&mut self, c: Changes) -> Result<Vec<ServerActivity>, String> {
        let Some(old) = self.hubs.get(&c.hub) else {
            return Err(format!(
                "changes to {}'s servers, never written whole",
                c.hub
            ));
        };
        let past = || format!("changes to {}'s servers past its last report", c.hub);
        let mut rows = old.iter();
        let mut out = Vec::with_capacity(old.len() + c.edits.len());
        for (keep, edit) in c.edits {
            for _ in 0..keep {
                out.push(rows.next().ok_or_else(past)?.clone());
            }
            match edit {
                Edit::Change(mut s) => {
                    let was = rows.next().ok_or_else(past)?;
                    s.user = was.user.clone();
                    s.server = was.server.clone();
                    out.push(s);
                }
                Edit::Add(s) => out.push(s),
                Edit::Gone(n) => {
                    for _ in 0..n {
                        rows.next().ok_or_else(past)?;
                    }
                }
            }
        }
        out.extend(rows.cloned());
        self.hubs.insert(c.hub, out.clone());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use hubdeck_core::fleet::{ClusterId, HubKey, PendingAction};
    use proptest::prelude::*;

    use super::*;

    fn hub() -> HubId {
        HubId {
            cluster: ClusterId::new("c"),
            key: HubKey {
                namespace: "ns".into(),
                release: "prod".into(),
            },
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap()
    }

    fn server(i: usize, touched: i64) -> ServerActivity {
        ServerActivity {
            user: format!("user{i:03}@uni.edu").into(),
            server: if i.is_multiple_of(7) { "gpu" } else { "" }.into(),
            ready: !i.is_multiple_of(5),
            pending: i.is_multiple_of(11).then_some(PendingAction::Spawn),
            started: (!i.is_multiple_of(13)).then(|| t(-(i as i64) * 60)),
            last_activity: Some(t(touched)),
        }
    }

    /// Writes `reports` in turn as the writer would, reads them back as the reader would.
    fn round_trip(reports: &[Vec<ServerActivity>]) -> (Vec<Vec<ServerActivity>>, Vec<usize>) {
        let (mut w, mut k) = (Written::default(), Known::default());
        let mut back = Vec::new();
        let mut sizes = Vec::new();
        for r in reports {
            let mut buf = Vec::new();
            let got = match w.encode(&mut buf, t(0), &hub(), &SourceState::Ok, r) {
                Some(()) => k.resolve(decode(&buf, t(0)).unwrap()).unwrap(),
                None => {
                    w.note(&hub(), &SourceState::Ok, r);
                    k.note(&hub(), &SourceState::Ok, r);
                    buf.clear();
                    r.clone()
                }
            };
            sizes.push(buf.len());
            back.push(got);
        }
        (back, sizes)
    }

    #[test]
    fn one_touched_server_of_two_hundred_is_a_few_bytes() {
        let before: Vec<_> = (0..200).map(|i| server(i, -600)).collect();
        let mut after = before.clone();
        after[120].last_activity = Some(t(0));
        let (back, sizes) = round_trip(&[before.clone(), after.clone()]);
        assert_eq!(back, [before, after]);
        assert!((1..40).contains(&sizes[1]), "{} bytes", sizes[1]);
    }

    #[test]
    fn added_gone_and_changed_servers_read_back() {
        let before: Vec<_> = (0..60).map(|i| server(i, -600)).collect();
        let mut after: Vec<_> = before
            .iter()
            .filter(|s| !s.user.starts_with("user01") && &*s.user != "user059@uni.edu")
            .cloned()
            .collect();
        after.push(server(70, -5));
        after.insert(0, server(0, 0));
        after.remove(1);
        after[3].ready = !after[3].ready;
        after[4].pending = Some(PendingAction::Stop);
        after[5].started = None;
        let (back, sizes) = round_trip(&[before.clone(), after.clone()]);
        assert_eq!(back, [before, after]);
        assert!(sizes[1] > 0, "written whole");
    }

    #[test]
    fn a_report_the_writer_has_no_base_for_or_that_changed_throughout_goes_whole() {
        let mut w = Written::default();
        let before: Vec<_> = (0..10).map(|i| server(i, -600)).collect();
        let mut buf = Vec::new();
        assert_eq!(
            w.encode(&mut buf, t(0), &hub(), &SourceState::Ok, &before),
            None
        );
        w.note(&hub(), &SourceState::Ok, &before);
        let all: Vec<_> = (0..10).map(|i| server(i, 0)).collect();
        assert_eq!(
            w.encode(&mut buf, t(0), &hub(), &SourceState::Ok, &all),
            None
        );
        let failing = SourceState::Failing {
            error: "503".into(),
        };
        assert_eq!(w.encode(&mut buf, t(0), &hub(), &failing, &[]), None);
        let mut unsorted = before.clone();
        unsorted.swap(0, 1);
        assert_eq!(
            w.encode(&mut buf, t(0), &hub(), &SourceState::Ok, &unsorted),
            None
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn changes_to_a_hub_the_reader_never_saw_are_an_error() {
        let mut w = Written::default();
        let rows: Vec<_> = (0..10).map(|i| server(i, -600)).collect();
        w.note(&hub(), &SourceState::Ok, &rows);
        let mut next = rows.clone();
        next[2].ready = !next[2].ready;
        let mut buf = Vec::new();
        w.encode(&mut buf, t(0), &hub(), &SourceState::Ok, &next)
            .unwrap();
        let err = Known::default()
            .resolve(decode(&buf, t(0)).unwrap())
            .unwrap_err();
        assert!(err.contains("c/ns/prod"), "{err}");
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut], t(0)).is_err(), "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn any_sequence_of_reports_reads_back(
            reports in proptest::collection::vec(
                proptest::collection::btree_map(0usize..40, -3i64..3, 0..30),
                1..6,
            ),
        ) {
            let reports: Vec<Vec<ServerActivity>> = reports
                .into_iter()
                .map(|m| m.into_iter().map(|(i, t)| server(i, t)).collect())
                .collect();
            let (back, _) = round_trip(&reports);
            prop_assert_eq!(back, reports);
        }

        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = decode(&bytes, Timestamp::UNIX_EPOCH);
        }
    }
}
