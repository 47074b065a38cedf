//! A metrics list's pods usage with the pods named by their numbers (`pod_ids`), column by
//! column. A usage round is 100,000 pods' figures; written as a `usage_table`, each row's pod
//! name was most of its bytes, and a round cost a megabyte. Numbered rows sorted by number
//! step by one, memory figures lose the trailing zero bits they all share (metrics-server
//! reports kibibytes), and each column compresses on its own terms.
//!
//! Body (tag 7, format version 4): the usage table's head (`cluster str | at time | fresh_for
//! secs varint | fresh_for nanos varint | scope`) `| shift u8 | nstrings varint | nstrings ×
//! str | n varint | n × id step varint | n × release sid | n × cpu_milli varint | n × memory
//! varint | m varint | m × (namespace sid | name str | release sid | cpu_milli varint | memory
//! varint)`, memory shifted right by `shift` bits: ids ascending (the first step is the id,
//! each next the difference from the one before), then the pods that have no number, named.

use std::sync::Arc;
use std::time::Duration;

use hubdeck_core::fleet::{ClusterId, PodUsage, Sampled, Usage, UsageSample, UsageScope};
use jiff::Timestamp;

use super::patch::put_varint;
use super::pod_ids::{Keys, Numbering};
use super::table::{
    Strings, count, put_id_steps, put_strings, take_id_steps, take_sid, take_strings, take_u8,
};
use super::usage_table::{put_cpu, put_head, put_row, take_cpu, take_head, take_memory, take_row};

/// A sample as read back, to be named against the segment's pod numbers ([`Self::resolve`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NumberedUsage {
    cluster: ClusterId,
    at: Timestamp,
    fresh_for: Duration,
    scope: UsageScope,
    numbered: Vec<(u32, Arc<str>, Usage)>,
    named: Vec<PodUsage>,
}

/// Appends the body of a pods sample, `time` being its group's; `None` (nothing written) when
/// the sample is not of pods or none of its pods has a number.
pub fn encode(
    buf: &mut Vec<u8>,
    time: Timestamp,
    cluster: &ClusterId,
    s: &UsageSample,
    ids: &Numbering,
) -> Option<()> {
    let Sampled::Pods { scope, pods } = &s.of else {
        return None;
    };
    let mut numbered = Vec::with_capacity(pods.len());
    let mut named = Vec::new();
    for p in pods {
        match ids.get(cluster, &p.key) {
            Some(id) => numbered.push((id, p)),
            None => named.push(p),
        }
    }
    if numbered.is_empty() {
        return None;
    }
    // Stable: two figures of one pod keep their order (the store takes the first).
    numbered.sort_by_key(|(id, _)| *id);
    let shift = pods
        .iter()
        .map(|p| p.usage.memory_bytes)
        .filter(|m| *m != 0)
        .map(u64::trailing_zeros)
        .min()
        .unwrap_or(0);
    put_head(buf, time, cluster, s, scope);
    buf.push(shift as u8);
    let mut strings = Strings::default();
    let mut cols = Vec::with_capacity(pods.len() * 8);
    put_varint(&mut cols, numbered.len() as u64);
    put_id_steps(&mut cols, numbered.iter().map(|(id, _)| *id));
    for (_, p) in &numbered {
        put_varint(&mut cols, strings.id(&p.release));
    }
    for (_, p) in &numbered {
        put_cpu(&mut cols, p.usage.cpu_milli);
    }
    for (_, p) in &numbered {
        put_varint(&mut cols, p.usage.memory_bytes >> shift);
    }
    put_varint(&mut cols, named.len() as u64);
    for p in named {
        put_row(&mut cols, &mut strings, p, shift);
    }
    put_strings(buf, &strings);
    buf.extend_from_slice(&cols);
    Some(())
}

/// Reads a body back; the error says what is wrong with it.
pub fn decode(mut body: &[u8], time: Timestamp) -> Result<NumberedUsage, String> {
    let b = &mut body;
    let (cluster, at, fresh_for, scope) = take_head(b, time)?;
    let shift = u32::from(take_u8(b)?);
    if shift > 63 {
        return Err(format!("memory shifted by {shift} bits"));
    }
    let strings = take_strings(b)?;
    let n = count(b)?;
    let ids = take_id_steps(b, n)?;
    let releases = (0..n)
        .map(|_| take_sid(b, &strings))
        .collect::<Result<Vec<_>, _>>()?;
    let cpus = (0..n).map(|_| take_cpu(b)).collect::<Result<Vec<_>, _>>()?;
    let mut numbered = Vec::with_capacity(n);
    for ((id, release), cpu_milli) in ids.into_iter().zip(releases).zip(cpus) {
        let memory_bytes = take_memory(b, shift)?;
        numbered.push((
            id,
            release,
            Usage {
                cpu_milli,
                memory_bytes,
            },
        ));
    }
    let m = count(b)?;
    let named = (0..m)
        .map(|_| take_row(b, &strings, shift))
        .collect::<Result<Vec<_>, _>>()?;
    if !body.is_empty() {
        return Err(format!("{} bytes after the last pod's usage", body.len()));
    }
    Ok(NumberedUsage {
        cluster,
        at,
        fresh_for,
        scope,
        numbered,
        named,
    })
}

impl NumberedUsage {
    /// The sample, its numbered pods named by `keys` (in number order, then the named ones);
    /// the error names a number the segment never gave.
    pub fn resolve(self, keys: &Keys) -> Result<(ClusterId, UsageSample), String> {
        let mut pods = Vec::with_capacity(self.numbered.len() + self.named.len());
        for (id, release, usage) in self.numbered {
            let k = keys
                .get(id)
                .ok_or_else(|| format!("usage of pod number {id}, never written whole"))?;
            pods.push(PodUsage {
                key: k.key.clone(),
                release,
                usage,
            });
        }
        pods.extend(self.named);
        Ok((
            self.cluster,
            UsageSample {
                at: self.at,
                fresh_for: self.fresh_for,
                of: Sampled::Pods {
                    scope: self.scope,
                    pods,
                },
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use hubdeck_core::fleet::fixtures::server;
    use hubdeck_core::fleet::{Delta, FleetUpdate, HubKey};
    use proptest::prelude::*;

    use super::*;

    fn time() -> Timestamp {
        "2026-12-01T03:10:00Z".parse().unwrap()
    }

    /// `n` pods' figures, the ones of `numbered` numbered in the segment (on both sides).
    fn setup(n: usize, numbered: &[usize]) -> (UsageSample, Numbering, Keys) {
        let cluster = ClusterId::new("c");
        let (mut ids, mut keys) = (Numbering::default(), Keys::default());
        for i in numbered {
            let u = FleetUpdate::Pods {
                cluster: cluster.clone(),
                delta: Delta::Upsert(server("ns", "prod", &format!("u{i}"))),
            };
            ids.note(&u);
            keys.note(&u);
        }
        let pods = (0..n)
            .map(|i| PodUsage {
                key: server("ns", "prod", &format!("u{i}")).key,
                release: "prod".into(),
                usage: Usage {
                    cpu_milli: (i * 37 % 1000) as u32,
                    memory_bytes: ((i as u64 * 7919) % 4096 + 1) << 20,
                },
            })
            .collect();
        let sample = UsageSample {
            at: time() - jiff::SignedDuration::from_millis(1500),
            fresh_for: Duration::from_secs(90),
            of: Sampled::Pods {
                scope: UsageScope::Hub(HubKey {
                    namespace: "ns".into(),
                    release: "prod".into(),
                }),
                pods,
            },
        };
        (sample, ids, keys)
    }

    fn pods(s: &UsageSample) -> Vec<PodUsage> {
        let Sampled::Pods { pods, .. } = &s.of else {
            panic!("not pods")
        };
        let mut p = pods.clone();
        p.sort_by(|a, b| a.key.cmp(&b.key));
        p
    }

    #[test]
    fn numbered_and_named_pods_read_back_in_well_under_half_the_table() {
        let numbered: Vec<usize> = (0..300).rev().filter(|i| i % 10 != 3).collect();
        let (s, ids, keys) = setup(300, &numbered);
        let c = ClusterId::new("c");
        let mut buf = Vec::new();
        encode(&mut buf, time(), &c, &s, &ids).unwrap();
        let (cluster, back) = decode(&buf, time()).unwrap().resolve(&keys).unwrap();
        assert_eq!(cluster, c);
        assert_eq!((back.at, back.fresh_for), (s.at, s.fresh_for));
        assert_eq!(pods(&back), pods(&s));
        let mut table = Vec::new();
        super::super::usage_table::encode(&mut table, time(), &c, &s).unwrap();
        assert!(
            buf.len() * 5 < table.len() * 2,
            "{} bytes, {} as a table",
            buf.len(),
            table.len()
        );
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut], time()).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_sample_with_no_numbered_pod_is_left_to_the_table() {
        let (s, ids, _) = setup(20, &[]);
        let mut buf = Vec::new();
        assert_eq!(
            encode(&mut buf, time(), &ClusterId::new("c"), &s, &ids),
            None
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn a_number_the_reader_never_gave_is_an_error() {
        let (s, ids, _) = setup(5, &[0, 1, 2, 3, 4]);
        let mut buf = Vec::new();
        encode(&mut buf, time(), &ClusterId::new("c"), &s, &ids).unwrap();
        let err = decode(&buf, time())
            .unwrap()
            .resolve(&Keys::default())
            .unwrap_err();
        assert!(err.contains("pod number 0"), "{err}");
    }

    proptest! {
        #[test]
        fn any_figures_read_back(
            figures in proptest::collection::vec((any::<u32>(), any::<u64>()), 1..20),
            numbered in proptest::collection::btree_set(0usize..20, 1..20),
        ) {
            let numbered: Vec<usize> = numbered.into_iter().collect();
            let (mut s, ids, keys) = setup(figures.len(), &numbered);
            if let Sampled::Pods { pods, .. } = &mut s.of {
                for (p, (cpu, mem)) in pods.iter_mut().zip(&figures) {
                    p.usage = Usage { cpu_milli: *cpu, memory_bytes: *mem };
                }
            }
            let mut buf = Vec::new();
            if encode(&mut buf, time(), &ClusterId::new("c"), &s, &ids).is_some() {
                let (_, back) = decode(&buf, time()).unwrap().resolve(&keys).unwrap();
                prop_assert_eq!(pods(&back), pods(&s));
            }
        }

        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = decode(&bytes, Timestamp::UNIX_EPOCH);
        }
    }
}
