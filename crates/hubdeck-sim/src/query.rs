//! Query parameters decoded the way kube-apiserver decodes them, in one place, so that every
//! handler of the sim reads `watch`, `follow`, `limit` and the rest alike.
//!
//! The API server turns the query into `ListOptions`, `PodLogOptions` or `DeleteOptions` with
//! apimachinery's parameter codec (`pkg/runtime/conversion.go`):
//!
//! * a boolean (`watch`, `allowWatchBookmarks`, `sendInitialEvents`, `follow`, `previous`,
//!   `timestamps`, ...) is false only when absent, `0`, or `false` in any case; every other value,
//!   even an empty one, is true (`Convert_Slice_string_To_bool`). It is never an error, so
//!   `watch=True` (the Python client) and `watch=1` watch, and so does `watch=f`.
//! * an integer (`limit`, `timeoutSeconds`, `tailLines`, `sinceSeconds`, `limitBytes`,
//!   `gracePeriodSeconds`) goes through `strconv.ParseInt`, and a value it refuses fails the
//!   whole request with 400 Bad Request and Go's message.
//!
//! (`pretty`, which the server reads with `strconv.ParseBool` and whose errors it ignores, only
//! indents JSON; the sim does not read it.)

use super::api::Call;
use super::status::ApiError;

/// The API server's reading of a boolean query parameter (`Convert_Slice_string_To_bool`).
pub(crate) fn flag_value(v: Option<&str>) -> bool {
    match v {
        None => false,
        Some(s) => !(s == "0" || s.eq_ignore_ascii_case("false")),
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`, with its error text on failure.
pub(crate) fn parse_int(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseInt: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.ParseInt: parsing {s:?}: value out of range"))
}

impl Call {
    /// A boolean query parameter, as the API server reads it (see the module doc).
    pub fn flag(&self, key: &str) -> bool {
        flag_value(self.param(key))
    }

    /// An integer query parameter; a value Go cannot parse is a 400, as on a real server.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.param(key)
            .map(|v| parse_int(v).map_err(ApiError::bad_request))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_are_false_only_when_absent_zero_or_false() {
        for v in [
            "true", "True", "TRUE", "1", "t", "f", "F", "yes", "", "maybe",
        ] {
            assert!(flag_value(Some(v)), "{v:?} is true on a real server");
        }
        for v in [
            None,
            Some("0"),
            Some("false"),
            Some("False"),
            Some("FALSE"),
            Some("fAlSe"),
        ] {
            assert!(!flag_value(v), "{v:?} is false on a real server");
        }
    }

    #[test]
    fn integers_fail_with_go_messages() {
        assert_eq!(parse_int("500"), Ok(500));
        assert_eq!(parse_int("-1"), Ok(-1));
        assert_eq!(parse_int("+7"), Ok(7));
        assert_eq!(
            parse_int("abc"),
            Err(r#"strconv.ParseInt: parsing "abc": invalid syntax"#.to_string())
        );
        assert_eq!(
            parse_int(""),
            Err(r#"strconv.ParseInt: parsing "": invalid syntax"#.to_string())
        );
        assert_eq!(
            parse_int("99999999999999999999"),
            Err(
                r#"strconv.ParseInt: parsing "99999999999999999999": value out of range"#
                    .to_string()
            )
        );
    }
}
