//! Kubernetes resource quantities, read as apimachinery's `resource.Quantity` reads them: the
//! one parser for requests, limits, allocatable and metrics.k8s.io usage. `250m`, `1.5`,
//! `128974848`, `123456Ki`, `1Gi`, `2e3`, and metrics-server's nanocores (`100n`) and
//! microcores (`5u`) all parse; whole units are rounded up, as `Quantity.Value()` and
//! `MilliValue()` round, so `100n` of CPU is 1 millicore (what `kubectl top` shows).
//!
//! Grammar: `[+-] digits [. digits] suffix`, the suffix one of the binary SI `Ki Mi Gi Ti Pi Ei`,
//! the decimal SI `n u m "" k M G T P E`, or a decimal exponent `e`/`E` with a signed integer.
//! Negative quantities are no resource amounts: they are refused like malformed ones.

/// How many significant digits are kept; further ones only round the result up.
const MAX_DIGITS: u32 = 36;
/// Decimal exponents beyond this saturate (no quantity a cluster reports comes near).
const MAX_EXP10: i64 = 400;

/// A parsed non-negative quantity: `mantissa × 10^exp10 × 2^exp2`, plus whether digits past
/// [`MAX_DIGITS`] were dropped (then the true value is a little larger).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parsed {
    mantissa: u128,
    exp10: i64,
    exp2: u32,
    inexact: bool,
}

/// Parses a quantity; `None` when it is malformed or negative.
fn parse(s: &str) -> Option<Parsed> {
    let s = s.trim();
    let (negative, rest) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') {
        return None;
    }
    let (exp10, exp2) = suffix_scale(suffix)?;
    let mut p = Parsed {
        mantissa: 0,
        exp10,
        exp2,
        inexact: false,
    };
    let mut digits = 0u32;
    for (i, c) in int.bytes().chain(frac.bytes()).enumerate() {
        let d = u128::from(c - b'0');
        let in_fraction = i >= int.len();
        if digits >= MAX_DIGITS {
            // Dropped: an integer digit still counts as a power of ten.
            p.inexact |= d != 0;
            if !in_fraction {
                p.exp10 += 1;
            }
            continue;
        }
        if p.mantissa > 0 || d > 0 {
            digits += 1;
        }
        p.mantissa = p.mantissa * 10 + d;
        if in_fraction {
            p.exp10 -= 1;
        }
    }
    if negative && (p.mantissa > 0 || p.inexact) {
        return None;
    }
    Some(p)
}

/// The scale a suffix stands for: (power of ten, power of two).
fn suffix_scale(suffix: &str) -> Option<(i64, u32)> {
    Some(match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => {
            let exp = suffix.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let magnitude = digits.parse::<i64>().unwrap_or(MAX_EXP10).min(MAX_EXP10);
            let e = if exp.starts_with('-') {
                -magnitude
            } else {
                magnitude
            };
            (e, 0)
        }
    })
}

impl Parsed {
    /// The value in units of `10^unit`, rounded up, saturating at `u64::MAX`.
    fn ceil_in(self, unit: i64) -> u64 {
        if self.mantissa == 0 && !self.inexact {
            return 0;
        }
        let Some(m) = self.mantissa.checked_mul(1u128 << self.exp2) else {
            return u64::MAX;
        };
        let e = self.exp10 - unit;
        if e >= 0 {
            let scaled = u32::try_from(e)
                .ok()
                .and_then(|e| 10u128.checked_pow(e))
                .and_then(|p| m.checked_mul(p));
            let whole = scaled.map_or(u64::MAX, |v| u64::try_from(v).unwrap_or(u64::MAX));
            // Dropped digits make the value a little larger than a whole number.
            return if self.inexact {
                whole.saturating_add(1)
            } else {
                whole
            };
        }
        let Some(divisor) = u32::try_from(-e).ok().and_then(|e| 10u128.checked_pow(e)) else {
            // Smaller than one unit, and not zero.
            return 1;
        };
        let whole = m / divisor;
        let up = m % divisor != 0 || self.inexact;
        u64::try_from(whole)
            .unwrap_or(u64::MAX)
            .saturating_add(u64::from(up))
    }
}

/// A quantity in whole units (bytes, cores), rounded up; `None` if malformed or negative.
pub fn units(s: &str) -> Option<u64> {
    parse(s).map(|p| p.ceil_in(0))
}

/// A quantity in thousandths (millicores), rounded up; `None` if malformed or negative.
pub fn milli(s: &str) -> Option<u64> {
    parse(s).map(|p| p.ceil_in(-3))
}

/// A quantity in billionths (nanocores), rounded up; `None` if malformed or negative. Sums of
/// metrics-server's per-container nanocores are exact in it; round once, at the end.
pub fn nano(s: &str) -> Option<u64> {
    parse(s).map(|p| p.ceil_in(-9))
}

/// CPU in millicores, saturating at `u32::MAX`: what the model keeps.
pub fn cpu_milli(s: &str) -> Option<u32> {
    milli(s).map(|m| u32::try_from(m).unwrap_or(u32::MAX))
}

/// Memory in bytes.
pub fn bytes(s: &str) -> Option<u64> {
    units(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_reads_cores_millicores_and_metrics_servers_nanocores() {
        assert_eq!(cpu_milli("250m"), Some(250));
        assert_eq!(cpu_milli("1.5"), Some(1500));
        assert_eq!(cpu_milli("2"), Some(2000));
        assert_eq!(cpu_milli("0.5"), Some(500));
        assert_eq!(cpu_milli("2e3"), Some(2_000_000));
        assert_eq!(
            cpu_milli("12345678n"),
            Some(13),
            "rounded up as MilliValue()"
        );
        assert_eq!(cpu_milli("100n"), Some(1));
        assert_eq!(cpu_milli("1500u"), Some(2));
        assert_eq!(cpu_milli("0"), Some(0));
        assert_eq!(cpu_milli("0n"), Some(0));
        assert_eq!(cpu_milli("+3"), Some(3000));
        assert_eq!(nano("12345678n"), Some(12_345_678));
        assert_eq!(nano("250m"), Some(250_000_000));
    }

    #[test]
    fn memory_reads_binary_and_decimal_suffixes_and_exponents() {
        assert_eq!(bytes("128974848"), Some(128_974_848));
        assert_eq!(bytes("123456Ki"), Some(123_456 * 1024));
        assert_eq!(bytes("1Gi"), Some(1 << 30));
        assert_eq!(bytes("1.5Gi"), Some(3 << 29));
        assert_eq!(bytes("512Mi"), Some(512 << 20));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("129e6"), Some(129_000_000));
        assert_eq!(
            bytes("1E3"),
            Some(1000),
            "E followed by digits is an exponent"
        );
        assert_eq!(
            bytes("1E"),
            Some(1_000_000_000_000_000_000),
            "E alone is exa"
        );
        assert_eq!(bytes("1e-3"), Some(1), "rounded up");
        assert_eq!(bytes(".5Ki"), Some(512));
        assert_eq!(bytes("8Ei"), Some(8 << 60));
    }

    #[test]
    fn malformed_or_negative_quantities_are_refused() {
        for bad in [
            "", "m", "Ki", "1.2.3", "1e", "1e+", "1ee3", "1Kb", "1 Gi", "abc", "-1", "-0.5Gi",
            "1i", "0x10", "∞",
        ] {
            assert_eq!(bytes(bad), None, "{bad:?}");
            assert_eq!(cpu_milli(bad), None, "{bad:?}");
        }
        assert_eq!(bytes("-0"), Some(0));
    }

    #[test]
    fn huge_quantities_saturate_instead_of_overflowing() {
        assert_eq!(
            bytes("999999999999999999999999999999999999999999Ei"),
            Some(u64::MAX)
        );
        assert_eq!(bytes("1e400"), Some(u64::MAX));
        assert_eq!(bytes("1e99999999999999999999"), Some(u64::MAX));
        assert_eq!(cpu_milli("5e9"), Some(u32::MAX));
        assert_eq!(bytes("1e-400"), Some(1), "tiny, not zero");
        let long = format!("1.{}1", "0".repeat(60));
        assert_eq!(bytes(&long), Some(2), "dropped digits still round up");
    }
}
