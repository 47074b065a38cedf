//! How errors read: one line, the error and then each cause not already in its text
//! (reqwest, hyper and kube hide the cause behind "error sending request").

/// Installs color-eyre's report and panic hooks, once per process. A second
/// `color_eyre::install` fails, and building that failure's report captures and symbolizes a
/// backtrace when `RUST_BACKTRACE` is set: with debug info that maps ~80 MB of DWARF and
/// costs a noticeable pause at startup, for nothing.
pub fn install_hooks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Err(e) = color_eyre::install() {
            eprintln!("hubdeck: {e}");
        }
    });
}

/// An error and its causes on one line.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = String::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = next {
        // kube's API error prints the whole Status as Debug, once per layer that wraps it:
        // what a person needs is the HTTP status, the reason and the server's message.
        let (text, stop) = match cause.downcast_ref::<kube::Error>() {
            Some(kube::Error::Api(status)) => (status_line(status), true),
            _ => (cause.to_string(), false),
        };
        if !s.contains(&text) {
            if !s.is_empty() {
                s.push_str(": ");
            }
            s.push_str(&text);
        }
        if stop {
            break;
        }
        next = cause.source();
    }
    s.replace('\n', " ")
}

/// `HTTP 403 Forbidden: pods is forbidden: User "x" cannot list resource "pods" ...`.
pub fn status_line(status: &kube::core::Status) -> String {
    let reason = if status.reason.is_empty() {
        "Failure"
    } else {
        &status.reason
    };
    format!(
        "HTTP {} {reason}: {}",
        status.code,
        hubdeck_core::text::clip(&status.message, 400)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_error_is_one_short_line_without_a_debug_dump() {
        let status = kube::core::Status {
            code: 403,
            reason: "Forbidden".into(),
            message: "pods is forbidden: User \"edit\" cannot list resource \"pods\" in API group \"\" at the cluster scope".into(),
            ..kube::core::Status::default()
        };
        let e = kube::Error::Api(Box::new(status));
        let line = one_line(&e);
        assert!(
            line.starts_with("HTTP 403 Forbidden: pods is forbidden"),
            "{line}"
        );
        assert!(!line.contains("Status {"), "{line}");
        assert_eq!(line.matches("pods is forbidden").count(), 1, "{line}");
    }
}
