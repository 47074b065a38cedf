//! Kubernetes quantities: every case of `tests/corpus/quantities/cases.txt` reads as written
//! there, whole amounts round-trip through every suffix, and no input panics (generated from the
//! corpus and from noise).

use hubdeck_core::quantity::{bytes, cpu_milli, milli, units};
use proptest::prelude::*;

fn cases() -> Vec<(String, Option<(u64, u64)>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/quantities/cases.txt"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            // The quantity is everything before the expectations (one case has a space).
            let (q, rest) = match l.rsplit_once(" invalid") {
                Some((q, "")) => (q.to_string(), None),
                _ => {
                    let mut parts: Vec<&str> = l.rsplitn(3, ' ').collect();
                    parts.reverse();
                    let [q, m, u] = parts[..] else {
                        panic!("bad case line {l:?}")
                    };
                    let saturated = |s: &str| s.parse::<u128>().unwrap().min(u128::from(u64::MAX));
                    (
                        q.to_string(),
                        Some((saturated(m) as u64, saturated(u) as u64)),
                    )
                }
            };
            (q, rest)
        })
        .collect()
}

#[test]
fn every_corpus_case_reads_as_written() {
    let cases = cases();
    assert!(cases.len() >= 20, "the corpus is missing cases");
    for (q, want) in cases {
        let got = milli(&q).zip(units(&q));
        assert_eq!(got, want, "{q:?}");
    }
}

fn seed() -> impl Strategy<Value = String> {
    let seeds: Vec<String> = cases().into_iter().map(|(q, _)| q).collect();
    prop_oneof![
        (0..seeds.len(), ".{0,3}", 0usize..8).prop_map(move |(i, noise, at)| {
            let mut s = seeds[i].clone();
            let at = s.char_indices().map(|(i, _)| i).nth(at).unwrap_or(s.len());
            s.insert_str(at, &noise);
            s
        }),
        "[-+0-9.eEnumkKMGTPi ]{0,24}",
        ".{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_input_panics_and_milli_is_never_below_units(s in seed()) {
        if let (Some(m), Some(u)) = (milli(&s), units(&s)) {
            // Both round up the same value: ceil(1000 v) lies in (1000 (ceil(v) - 1), 1000 ceil(v)].
            let (m, u) = (u128::from(m), u128::from(u));
            prop_assert!(m == u128::from(u64::MAX) || (m + 1000 > u * 1000 && m <= u * 1000),
                "{s:?}: milli {m}, units {u}");
        }
        let _ = (cpu_milli(&s), bytes(&s));
    }

    #[test]
    fn whole_amounts_round_trip_through_every_suffix(n in 0u64..1_000_000) {
        prop_assert_eq!(cpu_milli(&format!("{n}m")), Some(n as u32));
        prop_assert_eq!(cpu_milli(&format!("{n}")), Some((n * 1000) as u32));
        prop_assert_eq!(bytes(&format!("{n}Ki")), Some(n << 10));
        prop_assert_eq!(bytes(&format!("{n}Mi")), Some(n << 20));
        prop_assert_eq!(bytes(&format!("{n}k")), Some(n * 1000));
        prop_assert_eq!(bytes(&format!("{n}e3")), Some(n * 1000));
        // Nanocores round up to the next millicore.
        prop_assert_eq!(cpu_milli(&format!("{n}n")), Some(n.div_ceil(1_000_000) as u32));
        prop_assert_eq!(cpu_milli(&format!("{n}u")), Some(n.div_ceil(1000) as u32));
    }
}
