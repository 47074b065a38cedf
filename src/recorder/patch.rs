//! A pod update as the fields that changed. Churn is mostly the same pods flipping ready,
//! restarting or changing phase; writing each as its whole `PodInfo` (names, owner, image,
//! times) made an hour of 2,000 updates a second cost ~300 MB. A patch names the pod by a
//! number (`pod_ids`) and carries only what differs from the version the fleet held.
//!
//! Encoding: `mask varint | the masked fields in bit order, each as MessagePack`. A pod that
//! differs in any field a patch cannot carry (its key, release, component, owner, or a field
//! added to `PodInfo` later) is written whole instead: `diff` checks that applying the patch
//! gives the new pod back exactly.

use std::sync::Arc;

use hubdeck_core::fleet::{PodInfo, PodPhase, Requests, Termination};
use jiff::Timestamp;
use serde::de::DeserializeOwned;

/// The fields that changed, `None` where a field kept its value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodPatch {
    phase: Option<PodPhase>,
    ready: Option<bool>,
    restarts: Option<u32>,
    reason: Option<Option<Arc<str>>>,
    node: Option<Option<Arc<str>>>,
    started: Option<Option<Timestamp>>,
    created: Option<Option<Timestamp>>,
    image: Option<Option<Arc<str>>>,
    requests: Option<Requests>,
    last_termination: Option<Option<Box<Termination>>>,
}

fn changed<T: PartialEq + Clone>(old: &T, new: &T) -> Option<T> {
    (old != new).then(|| new.clone())
}

impl PodPatch {
    /// What turns `old` into `new`; `None` when it cannot (the pod is then written whole).
    pub fn diff(old: &PodInfo, new: &PodInfo) -> Option<PodPatch> {
        let patch = PodPatch {
            phase: changed(&old.phase, &new.phase),
            ready: changed(&old.ready, &new.ready),
            restarts: changed(&old.restarts, &new.restarts),
            reason: changed(&old.reason, &new.reason),
            node: changed(&old.node, &new.node),
            started: changed(&old.started, &new.started),
            created: changed(&old.created, &new.created),
            image: changed(&old.image, &new.image),
            requests: changed(&old.requests, &new.requests),
            last_termination: changed(&old.last_termination, &new.last_termination),
        };
        let mut back = old.clone();
        patch.apply(&mut back);
        (back == *new).then_some(patch)
    }

    /// Applies the patch to the pod it was made against.
    pub fn apply(&self, p: &mut PodInfo) {
        fn set<T: Clone>(field: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                *field = v.clone();
            }
        }
        set(&mut p.phase, &self.phase);
        set(&mut p.ready, &self.ready);
        set(&mut p.restarts, &self.restarts);
        set(&mut p.reason, &self.reason);
        set(&mut p.node, &self.node);
        set(&mut p.started, &self.started);
        set(&mut p.created, &self.created);
        set(&mut p.image, &self.image);
        set(&mut p.requests, &self.requests);
        set(&mut p.last_termination, &self.last_termination);
    }

    /// Folds `later` in: applying the result is applying `self`, then `later` (a patch only
    /// sets fields, so the later value of a field wins).
    pub fn merge(&mut self, later: PodPatch) {
        fn take<T>(field: &mut Option<T>, v: Option<T>) {
            if v.is_some() {
                *field = v;
            }
        }
        take(&mut self.phase, later.phase);
        take(&mut self.ready, later.ready);
        take(&mut self.restarts, later.restarts);
        take(&mut self.reason, later.reason);
        take(&mut self.node, later.node);
        take(&mut self.started, later.started);
        take(&mut self.created, later.created);
        take(&mut self.image, later.image);
        take(&mut self.requests, later.requests);
        take(&mut self.last_termination, later.last_termination);
    }

    /// Each field's name and whether the patch sets it, in bit order (the encoding's mask).
    fn present(&self) -> [(&'static str, bool); 10] {
        [
            ("phase", self.phase.is_some()),
            ("ready", self.ready.is_some()),
            ("restarts", self.restarts.is_some()),
            ("reason", self.reason.is_some()),
            ("node", self.node.is_some()),
            ("started", self.started.is_some()),
            ("created", self.created.is_some()),
            ("image", self.image.is_some()),
            ("requests", self.requests.is_some()),
            ("last_termination", self.last_termination.is_some()),
        ]
    }

    /// The names of the fields it sets, space-separated (for figures and messages).
    pub fn fields(&self) -> String {
        let names: Vec<&str> = self
            .present()
            .into_iter()
            .filter_map(|(n, set)| set.then_some(n))
            .collect();
        names.join(" ")
    }

    /// Appends the encoding (see the module's doc).
    pub fn encode(&self, buf: &mut Vec<u8>) {
        put_varint(buf, self.mask());
        self.encode_values(buf);
    }

    /// The fields it sets, a bit each in `present`'s order.
    pub fn mask(&self) -> u64 {
        self.present()
            .iter()
            .enumerate()
            .fold(0u64, |m, (i, (_, p))| if *p { m | 1 << i } else { m })
    }

    /// Appends the values of the fields it sets, in bit order, without the mask.
    pub fn encode_values(&self, buf: &mut Vec<u8>) {
        // Encoding owned model values into memory cannot fail.
        macro_rules! put {
            ($($f:ident),*) => {$(
                if let Some(v) = &self.$f {
                    let _ = rmp_serde::encode::write(buf, v);
                }
            )*};
        }
        put!(
            phase,
            ready,
            restarts,
            reason,
            node,
            started,
            created,
            image,
            requests,
            last_termination
        );
    }

    /// Reads an encoding; the error says what is wrong with it.
    pub fn decode(mut bytes: &[u8]) -> Result<PodPatch, String> {
        let mask = take_varint(&mut bytes)?;
        let p = PodPatch::decode_values(mask, &mut bytes)?;
        if !bytes.is_empty() {
            return Err(format!("{} bytes after a pod patch", bytes.len()));
        }
        Ok(p)
    }

    /// Reads the values `mask` announces from the front of `bytes`.
    pub fn decode_values(mask: u64, bytes: &mut &[u8]) -> Result<PodPatch, String> {
        if mask >> 10 != 0 {
            return Err(format!("pod patch with unknown fields (mask {mask:#x})"));
        }
        let mut p = PodPatch::default();
        let mut bit = 0;
        fn field<T: DeserializeOwned>(
            bytes: &mut &[u8],
            mask: u64,
            bit: &mut u32,
        ) -> Result<Option<T>, String> {
            let here = mask & (1 << *bit) != 0;
            *bit += 1;
            if !here {
                return Ok(None);
            }
            rmp_serde::from_read(&mut *bytes)
                .map(Some)
                .map_err(|e| format!("pod patch: {e}"))
        }
        p.phase = field(bytes, mask, &mut bit)?;
        p.ready = field(bytes, mask, &mut bit)?;
        p.restarts = field(bytes, mask, &mut bit)?;
        p.reason = field(bytes, mask, &mut bit)?;
        p.node = field(bytes, mask, &mut bit)?;
        p.started = field(bytes, mask, &mut bit)?;
        p.created = field(bytes, mask, &mut bit)?;
        p.image = field(bytes, mask, &mut bit)?;
        p.requests = field(bytes, mask, &mut bit)?;
        p.last_termination = field(bytes, mask, &mut bit)?;
        Ok(p)
    }
}

/// Appends `v` as LEB128.
pub fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads a LEB128 number from the front of `bytes`.
pub fn take_varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let Some((&b, rest)) = bytes.split_first() else {
            return Err("payload ends inside a number".into());
        };
        *bytes = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("number longer than 64 bits".into())
}

#[cfg(test)]
mod tests {
    use hubdeck_core::fleet::fixtures::server;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_ready_flip_is_a_few_bytes_and_restores_the_pod() {
        let old = server("prod", "prod", "ada");
        let mut new = old.clone();
        new.ready = !old.ready;
        new.restarts = old.restarts + 1;
        let patch = PodPatch::diff(&old, &new).unwrap();
        let mut buf = Vec::new();
        patch.encode(&mut buf);
        assert!(buf.len() <= 4, "{} bytes", buf.len());
        let mut back = old.clone();
        PodPatch::decode(&buf).unwrap().apply(&mut back);
        assert_eq!(back, new);
    }

    #[test]
    fn fields_a_patch_does_not_carry_make_the_pod_go_whole() {
        let old = server("prod", "prod", "ada");
        let mut new = old.clone();
        new.release = "other".into();
        assert_eq!(PodPatch::diff(&old, &new), None);
    }

    #[test]
    fn every_carried_field_round_trips() {
        let old = server("prod", "prod", "ada");
        let mut new = old.clone();
        new.phase = PodPhase::Failed;
        new.reason = Some("OOMKilled".into());
        new.node = None;
        new.started = None;
        new.created = Some(Timestamp::UNIX_EPOCH);
        new.image = Some("quay.io/x:2".into());
        new.requests.memory_bytes += 1;
        new.last_termination = Some(Box::new(Termination {
            reason: "OOMKilled".into(),
            exit_code: 137,
            finished_at: None,
        }));
        let mut buf = Vec::new();
        PodPatch::diff(&old, &new).unwrap().encode(&mut buf);
        let mut back = old;
        PodPatch::decode(&buf).unwrap().apply(&mut back);
        assert_eq!(back, new);
    }

    fn variant(n: u8) -> PodInfo {
        let mut p = server("prod", "prod", "ada");
        p.ready = n.is_multiple_of(2);
        p.restarts = u32::from(n % 5);
        if n.is_multiple_of(3) {
            p.phase = PodPhase::Failed;
            p.reason = Some(format!("r{n}").into());
        }
        if n.is_multiple_of(4) {
            p.node = None;
            p.image = Some(format!("img:{n}").into());
        }
        p
    }

    proptest! {
        #[test]
        fn a_merged_patch_applies_like_its_patches_in_turn(steps in proptest::collection::vec(any::<u8>(), 1..8)) {
            let base = server("prod", "prod", "ada");
            let mut prev = base.clone();
            let mut turn = base.clone();
            let mut merged = PodPatch::default();
            for n in steps {
                let next = variant(n);
                let patch = PodPatch::diff(&prev, &next).unwrap();
                patch.apply(&mut turn);
                merged.merge(patch);
                prev = next;
            }
            let mut once = base;
            merged.apply(&mut once);
            prop_assert_eq!(&once, &turn);
            prop_assert_eq!(once, prev);
        }

        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = PodPatch::decode(&bytes);
        }

        #[test]
        fn varints_round_trip(v in any::<u64>()) {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            let mut s = &buf[..];
            prop_assert_eq!(take_varint(&mut s).unwrap(), v);
            prop_assert!(s.is_empty());
        }
    }
}
