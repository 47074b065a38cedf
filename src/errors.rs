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
pub fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s.replace('\n', " ")
}
