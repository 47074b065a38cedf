//! The one table a run prints: metrics as rows, scales as columns, targets on the right.

use crate::{Figures, Scale};

fn num(f: &Figures, key: &str) -> Option<f64> {
    f.get(key)?.parse().ok()
}

fn fmt(v: Option<f64>, unit: &str, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}{unit}"))
}

fn mb(f: &Figures, key: &str) -> String {
    fmt(num(f, key).map(|kb| kb / 1024.0), " MB", 0)
}

fn ms(f: &Figures, key: &str) -> String {
    let v = num(f, key);
    let digits = if v.is_some_and(|v| v < 10.0) { 2 } else { 0 };
    fmt(v, " ms", digits)
}

/// `a - b`, scaled, with a sign.
fn delta(f: &Figures, a: &str, b: &str, scale: f64, unit: &str) -> String {
    match (num(f, a), num(f, b)) {
        (Some(a), Some(b)) => format!("{:+.2}{unit}", (a - b) * scale),
        _ => "-".into(),
    }
}

fn pair(f: &Figures, a: &str, b: &str) -> String {
    let short = |k| ms(f, k).trim_end_matches(" ms").to_string();
    if f.contains_key(a) {
        format!("{} / {} ms", short(a), short(b))
    } else {
        "-".into()
    }
}

type Cell = fn(&Figures) -> String;

/// (label, cell, target); a row without a cell is a section heading.
fn rows() -> Vec<(&'static str, Option<Cell>, &'static str)> {
    vec![
        (
            "sim startup (separate process)",
            Some(|f| fmt(num(f, "sim_start_s"), " s", 1)),
            "",
        ),
        ("MODEL (quiet fleet)", None, ""),
        (
            "Kubernetes objects in: Session::start -> all pods",
            Some(|f| ms(f, "objects_ms")),
            "",
        ),
        (
            "complete model: + alerts and every hub's activity",
            Some(|f| ms(f, "model_ms")),
            "",
        ),
        (
            "plain list, slowest cluster alone",
            Some(|f| ms(f, "list_one_ms")),
            "",
        ),
        (
            "plain list, all clusters at once",
            Some(|f| ms(f, "list_all_ms")),
            "",
        ),
        (
            "model / list-all-at-once",
            Some(|f| ratio(f, "model_ms", "list_all_ms")),
            "<= 1.2x @100",
        ),
        ("MEMORY (fresh process)", None, ""),
        (
            "RSS before the session",
            Some(|f| mb(f, "rss_start_kb")),
            "",
        ),
        ("RSS peak (VmHWM)", Some(|f| mb(f, "peak_kb")), ""),
        (
            "RSS steady, model complete",
            Some(|f| mb(f, "steady_kb")),
            "<= 110 MB @100",
        ),
        ("live heap, peak", Some(|f| mb(f, "heap_peak_kb")), ""),
        ("live heap, model complete", Some(|f| mb(f, "heap_kb")), ""),
        (
            "of which Fleet structs (strings shared)",
            Some(|f| mb(f, "model_heap_kb")),
            "",
        ),
        (
            "console binary (tmux 120x40): all clusters ready",
            Some(|f| ms(f, "console_ready_ms")),
            "<= 2 s @100",
        ),
        (
            "console binary: RSS peak / steady",
            Some(|f| {
                format!(
                    "{} / {}",
                    mb(f, "console_peak_kb"),
                    mb(f, "console_steady_kb")
                )
            }),
            "steady <= 110 MB @100",
        ),
        (
            "console binary, exec plugin of 1 s: all ready",
            Some(|f| ms(f, "exec_ready_ms")),
            "<= 1.5 s @30",
        ),
        (
            "exec plugin runs / users",
            Some(|f| {
                format!(
                    "{} / {}",
                    fmt(num(f, "exec_runs"), "", 0),
                    fmt(num(f, "exec_users"), "", 0)
                )
            }),
            "one each",
        ),
        ("METRICS.K8S.IO POLLS (every 30 s, quiet fleet)", None, ""),
        (
            "RSS steady, polls off / on",
            Some(|f| {
                format!(
                    "{} / {}",
                    mb(f, "usage_off_steady_kb"),
                    mb(f, "usage_on_steady_kb")
                )
            }),
            "",
        ),
        (
            "RSS added by the polls",
            Some(|f| {
                delta(
                    f,
                    "usage_on_steady_kb",
                    "usage_off_steady_kb",
                    1.0 / 1024.0,
                    " MB",
                )
            }),
            "<= 10 MB",
        ),
        (
            "live heap added by the polls",
            Some(|f| {
                delta(
                    f,
                    "usage_on_heap_kb",
                    "usage_off_heap_kb",
                    1.0 / 1024.0,
                    " MB",
                )
            }),
            "",
        ),
        (
            "CPU idle, polls off / on",
            Some(|f| {
                format!(
                    "{} / {}",
                    fmt(num(f, "usage_off_idle_cpu"), " %", 2),
                    fmt(num(f, "usage_on_idle_cpu"), " %", 2)
                )
            }),
            "",
        ),
        (
            "CPU added by the polls",
            Some(|f| delta(f, "usage_on_idle_cpu", "usage_off_idle_cpu", 1.0, " %")),
            "<= 1 %",
        ),
        (
            "hubs with usage (polls on)",
            Some(|f| fmt(num(f, "usage_on_hubs_measured"), "", 0)),
            "every hub",
        ),
        ("CPU", None, ""),
        (
            "CPU idle (nothing changes)",
            Some(|f| fmt(num(f, "idle_cpu"), " %", 2)),
            "~0",
        ),
        (
            "CPU idle, console binary",
            Some(|f| fmt(num(f, "console_idle_cpu"), " %", 2)),
            "~0",
        ),
        (
            "complete model under churn",
            Some(|f| ms(f, "churn_model_ms")),
            "",
        ),
        (
            "updates applied under churn",
            Some(|f| fmt(num(f, "churn_rate"), "/s", 0)),
            "= sim rate",
        ),
        (
            "CPU under churn (headless Session)",
            Some(|f| fmt(num(f, "churn_cpu"), " %", 1)),
            "",
        ),
        ("LATENCY sim change -> model (p50 / p95)", None, ""),
        (
            "pod DELETE, quiet",
            Some(|f| pair(f, "lat_quiet_p50_ms", "lat_quiet_p95_ms")),
            "",
        ),
        (
            "pod DELETE, churning",
            Some(|f| pair(f, "lat_churn_p50_ms", "lat_churn_p95_ms")),
            "",
        ),
        (
            "on screen, churning: p95 + mean frame",
            Some(screen),
            "< 100 ms",
        ),
        ("TUI 120x40", None, ""),
        ("App::new over the model", Some(|f| ms(f, "app_new_ms")), ""),
        (
            "Hubs pane frame, first / cached",
            Some(|f| pair(f, "hubs_first_ms", "hubs_cached_ms")),
            "cached < 2 ms",
        ),
        (
            "Servers pane frame, first / cached",
            Some(|f| pair(f, "servers_first_ms", "servers_cached_ms")),
            "cached < 2 ms",
        ),
        (
            "console, churning: frames/s",
            Some(|f| fmt(num(f, "console_churn_fps"), "", 1)),
            "<= 83",
        ),
        (
            "console, churning: frame mean / max",
            Some(|f| {
                pair(
                    f,
                    "console_churn_frame_mean_ms",
                    "console_churn_frame_max_ms",
                )
            }),
            "",
        ),
        (
            "console, churning: bytes to terminal",
            Some(|f| kbs(f, "console_churn_bytes_per_s")),
            "",
        ),
        (
            "console, churning: CPU",
            Some(|f| fmt(num(f, "console_churn_cpu"), " %", 1)),
            "",
        ),
        (
            "console, quiet: bytes to terminal",
            Some(|f| kbs(f, "console_idle_bytes_per_s")),
            "",
        ),
        (
            "console, quiet: CPU",
            Some(|f| fmt(num(f, "console_idle_cpu"), " %", 2)),
            "~0",
        ),
        ("GET SERVERS -O JSON", None, ""),
        (
            "in-process, model complete",
            Some(|f| ms(f, "get_json_ms")),
            "< 1 s @100k",
        ),
        (
            "output size",
            Some(|f| fmt(num(f, "get_json_bytes").map(|b| b / 1e6), " MB", 1)),
            "",
        ),
        (
            "CLI whole run (connect, list, print)",
            Some(|f| ms(f, "cli_ms")),
            "",
        ),
        ("CLI max RSS", Some(|f| mb(f, "cli_rss_kb")), ""),
        ("BASELINE kubectl get pods -A -o json", None, ""),
        (
            "every context, one after another",
            Some(|f| ms(f, "kubectl_seq_ms")),
            "",
        ),
        (
            "every context, all at once",
            Some(|f| ms(f, "kubectl_par_ms")),
            "",
        ),
        (
            "kubectl max RSS (one process)",
            Some(|f| mb(f, "kubectl_rss_kb")),
            "",
        ),
    ]
}

fn ratio(f: &Figures, a: &str, b: &str) -> String {
    match (num(f, a), num(f, b)) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".into(),
    }
}

fn kbs(f: &Figures, key: &str) -> String {
    fmt(num(f, key).map(|b| b / 1024.0), " KiB/s", 1)
}

fn screen(f: &Figures) -> String {
    match (
        num(f, "lat_churn_p95_ms"),
        num(f, "console_churn_frame_mean_ms"),
    ) {
        (Some(l), Some(fr)) => format!("{:.0} ms", l + fr),
        _ => "-".into(),
    }
}

/// Prints the table for every scale measured.
pub fn print(results: &[(Scale, Figures)], kubectl: bool, note: &str) {
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["clusters / hubs / servers".to_string()];
    head.extend(
        results
            .iter()
            .map(|(s, _)| format!("{}/{}/{}", s.clusters, s.hubs, s.servers)),
    );
    head.push("target".into());
    lines.push(head);
    for (label, cell, target) in rows() {
        let mut line = vec![label.to_string()];
        match cell {
            Some(cell) => line.extend(results.iter().map(|(_, f)| cell(f))),
            None => line.extend(results.iter().map(|_| String::new())),
        }
        line.push(target.to_string());
        if label.starts_with("BASELINE") && !kubectl {
            line[0] = "kubectl: not installed".into();
        }
        lines.push(line);
    }
    let cols = lines[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    println!();
    println!("hubdeck fleet benchmark ({note})");
    for (n, line) in lines.iter().enumerate() {
        let mut s = String::new();
        for (i, cell) in line.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i == 0 || i + 1 == cols {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
            s.push_str("  ");
        }
        println!("{}", s.trim_end());
        if n == 0 {
            println!(
                "{}",
                "-".repeat(widths.iter().sum::<usize>() + 2 * (cols - 1))
            );
        }
    }
    for (s, f) in results {
        for (k, v) in f {
            if k.ends_with("_ok") && v != "true" || k == "error" {
                println!("note: {} clusters: {k} = {v}", s.clusters);
            }
        }
    }
}
