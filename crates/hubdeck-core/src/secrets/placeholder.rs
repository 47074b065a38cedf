//! The placeholder that stands in for a credential, and its fingerprint.
//!
//! Written as a YAML double-quoted scalar on one line:
//!
//! ```yaml
//! proxy:
//!   secretToken: "<redacted proxy.secretToken sha256:3fa9c2d1>"
//! ```
//!
//! Double-quoted because that is the one scalar style that reads as a string in every place a
//! credential can sit: a block mapping value, a block or flow list item, a flow mapping value,
//! after `&anchor`/`!tag` properties, and in place of a multi-line block scalar, whatever the
//! path holds (`:`, `#`, `[`, `,`, quotes and non-ASCII keys are escaped inside the quotes).
//! A plain scalar would break in flow lists (`[a, b]`) on the `[0]` of an index, and on a
//! key with `: ` or ` #` in it. The text names the field (a person sees what was hidden,
//! [`super::restore`] sees that it still stands where it was) and a fingerprint (restore sees
//! that the Secret still holds the same value). `<redacted … sha256:…>` is distinct from the
//! `<redacted>` people write in examples, so those are left alone.

use sha2::{Digest, Sha256};

/// How every placeholder opens.
pub(super) const OPEN: &str = "<redacted ";
const FP_TAG: &str = " sha256:";
/// Hex digits of the fingerprint.
pub(super) const FP_LEN: usize = 8;

/// The first 8 hex digits of SHA-256 over a domain tag, the field's path and its value.
///
/// The path is hashed in so that one token used in two places does not show as the same
/// fingerprint (which would tell a reader the two are equal). 32 bits are plenty to tell a
/// rotated value from the one redacted; they also let someone who already guesses a weak
/// password confirm the guess, which is why only credentials' fingerprints, never their
/// values, leave this module, and why z2jh's generated tokens (32 random bytes) are the norm.
pub(super) fn fingerprint(path: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"hubdeck-redact-v1\0");
    h.update(path.as_bytes());
    h.update(b"\0");
    h.update(value.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(FP_LEN);
    for b in digest.iter().take(FP_LEN / 2) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The placeholder's value (what a YAML parser reads).
pub(super) fn value(path: &str, fingerprint: &str) -> String {
    format!("{OPEN}{path}{FP_TAG}{fingerprint}>")
}

/// The placeholder as YAML source: the value, double-quoted.
pub(super) fn source(path: &str, fingerprint: &str) -> String {
    double_quote(&value(path, fingerprint))
}

/// The path and fingerprint of a placeholder value, if `v` is exactly one.
pub(super) fn parse(v: &str) -> Option<(&str, &str)> {
    let inner = v.strip_prefix(OPEN)?.strip_suffix('>')?;
    let (path, fp) = inner.rsplit_once(FP_TAG)?;
    let hex = fp.len() == FP_LEN && fp.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (hex && !path.is_empty() && !path.contains(['\n', '\r'])).then_some((path, fp))
}

/// Whether `s` holds something that looks like a placeholder, exact or altered: `<redacted `
/// followed on the same line by `sha256:`. Looser than [`parse`] on purpose: a placeholder
/// with a character changed must not pass for a new credential.
pub(super) fn looks_like(s: &str) -> bool {
    let mut rest = s;
    while let Some(i) = rest.find(OPEN) {
        let after = &rest[i + OPEN.len()..];
        let line = after.split(['\n', '\r']).next().unwrap_or("");
        if line.contains("sha256:") {
            return true;
        }
        rest = after;
    }
    false
}

/// `s` as a YAML double-quoted scalar on one line: `\` and `"` escaped, line breaks and
/// every other control, bidi or invisible format character as an escape.
pub(super) fn double_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c.is_control() || is_format(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{n:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Invisible format characters, bidi controls and the byte-order mark.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_short_stable_and_path_bound() {
        let a = fingerprint("proxy.secretToken", "abc");
        assert_eq!(a.len(), 8);
        assert_eq!(a, fingerprint("proxy.secretToken", "abc"));
        assert_ne!(a, fingerprint("hub.cookieSecret", "abc"));
        assert_ne!(a, fingerprint("proxy.secretToken", "abd"));
    }

    #[test]
    fn value_and_parse_round_trip() {
        let v = value("hub.config.CryptKeeper.keys[0]", "0123abcd");
        assert_eq!(
            v,
            "<redacted hub.config.CryptKeeper.keys[0] sha256:0123abcd>"
        );
        assert_eq!(
            parse(&v),
            Some(("hub.config.CryptKeeper.keys[0]", "0123abcd"))
        );
        assert_eq!(parse("<redacted x sha256:0123abc>"), None);
        assert_eq!(parse("<redacted x sha256:0123ABCD>"), None);
        assert_eq!(parse("<redacted>"), None);
        assert!(looks_like("<redacted x sha256:0123abc"));
        assert!(looks_like("pre <redacted x sha256:zz> post"));
        assert!(!looks_like("<redacted>"));
        assert!(!looks_like("<redacted \n sha256:"));
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(
            double_quote("a\"b\\c\nd\u{1b}\u{202e}"),
            r#""a\"b\\c\nd\x1b\u202e""#
        );
    }
}
