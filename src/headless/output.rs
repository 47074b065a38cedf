//! Printing rows as a table, JSON or YAML. JSON is streamed item by item, so 100,000 servers
//! never sit in memory twice.

use std::io::{self, Write};

use hubdeck_core::text::age;
use jiff::Timestamp;
use serde::Serialize;

use super::rows::{AlertRow, ClusterRow, EventRow, HubRow, ServerRow};

/// Output format of headless commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// The table with more columns, where a listing has more (as kubectl's `-o wide`).
    Wide,
    /// `{"kind": "...List", "items": [...]}`, stable and documented.
    Json,
    /// The same structure as YAML.
    Yaml,
}

/// A row that can be shown as a table line.
pub trait TableRow: Serialize {
    /// The list kind in JSON/YAML (`ServerList`, ...).
    const KIND: &'static str;
    /// Column headers.
    fn header() -> &'static [&'static str];
    /// Cells, in header order.
    fn cells(&self, now: Timestamp) -> Vec<String>;
    /// Columns `-o wide` adds after the others.
    fn wide_header() -> &'static [&'static str] {
        &[]
    }
    /// Cells of those columns.
    fn wide_cells(&self, _now: Timestamp) -> Vec<String> {
        Vec::new()
    }
}

/// Writes one document as JSON (pretty) or YAML; a table has no document form.
pub fn write_document(
    out: &mut dyn Write,
    format: Format,
    doc: &serde_json::Value,
) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, doc)?;
            writeln!(out)
        }
        Format::Yaml => out.write_all(
            serde_yaml_ng::to_string(doc)
                .map_err(io::Error::other)?
                .as_bytes(),
        ),
        Format::Table | Format::Wide => Ok(()),
    }
}

/// Writes rows in the chosen format.
pub fn write_rows<R: TableRow>(
    out: &mut impl Write,
    format: Format,
    rows: impl Iterator<Item = R>,
    now: Timestamp,
) -> io::Result<usize> {
    match format {
        Format::Json => {
            write!(
                out,
                "{{\"apiVersion\":\"hubdeck/v1\",\"kind\":\"{}\",\"items\":[",
                R::KIND
            )?;
            let mut n = 0;
            for row in rows {
                if n > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(b"\n")?;
                serde_json::to_writer(&mut *out, &row)?;
                n += 1;
            }
            out.write_all(b"\n]}\n")?;
            Ok(n)
        }
        Format::Yaml => {
            let items: Vec<R> = rows.collect();
            let n = items.len();
            let doc =
                serde_json::json!({"apiVersion": "hubdeck/v1", "kind": R::KIND, "items": items});
            let text = serde_yaml_ng::to_string(&doc).map_err(io::Error::other)?;
            out.write_all(text.as_bytes())?;
            Ok(n)
        }
        Format::Table | Format::Wide => {
            let wide = format == Format::Wide;
            let cells: Vec<Vec<String>> = rows
                .map(|r| {
                    let mut c = r.cells(now);
                    if wide {
                        c.extend(r.wide_cells(now));
                    }
                    c
                })
                .collect();
            let mut header = R::header().to_vec();
            if wide {
                header.extend_from_slice(R::wide_header());
            }
            let header = &header[..];
            let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
            for row in &cells {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(unicode_width::UnicodeWidthStr::width(c.as_str()));
                }
            }
            let line = |out: &mut dyn Write, row: &[&str]| -> io::Result<()> {
                let mut s = String::new();
                for (i, (c, w)) in row.iter().zip(&widths).enumerate() {
                    s.push_str(c);
                    if i + 1 < row.len() {
                        let pad = w - unicode_width::UnicodeWidthStr::width(*c);
                        s.extend(std::iter::repeat_n(' ', pad + 2));
                    }
                }
                writeln!(out, "{}", s.trim_end())
            };
            line(out, header)?;
            for row in &cells {
                let refs: Vec<&str> = row.iter().map(String::as_str).collect();
                line(out, &refs)?;
            }
            Ok(cells.len())
        }
    }
}

/// Text from a cluster made safe for a table cell (the one sanitizer, as the console uses).
pub fn clean(s: &str) -> String {
    hubdeck_core::text::sanitize(s).into_owned()
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "-".into(), clean)
}

/// Human memory size: "512Mi", "2Gi".
pub fn mem(bytes: u64) -> String {
    const GI: u64 = 1 << 30;
    const MI: u64 = 1 << 20;
    if bytes == 0 {
        "-".into()
    } else if bytes.is_multiple_of(GI) {
        format!("{}Gi", bytes / GI)
    } else {
        format!("{}Mi", bytes / MI)
    }
}

/// CPU in use: `250m`, or `-` without fresh metrics.
fn used_cpu(m: Option<u32>) -> String {
    m.map_or_else(|| "-".into(), |m| format!("{m}m"))
}

/// Memory in use, in the units of `mem` (`0Mi` below a mebibyte, not `-`).
fn used_mem(b: Option<u64>) -> String {
    match b {
        None => "-".into(),
        Some(b) if b < 1 << 20 => "0Mi".into(),
        Some(b) => mem(b),
    }
}

/// `87%` of the limit, `87%r` of the request (no limit).
pub fn percent(p: Option<f64>, of: Option<&str>) -> String {
    match (p, of) {
        (Some(p), Some("request")) => format!("{p:.0}%r"),
        (Some(p), _) => format!("{p:.0}%"),
        (None, _) => "-".into(),
    }
}

impl TableRow for ClusterRow {
    const KIND: &'static str = "ClusterList";
    fn header() -> &'static [&'static str] {
        &[
            "CLUSTER",
            "PROVIDER",
            "STATUS",
            "LATENCY",
            "HUBS",
            "SERVERS",
            "ALERTS",
            "ALERTMANAGER",
            "METRICS",
            "SCOPE",
            "REASON",
        ]
    }
    fn cells(&self, _: Timestamp) -> Vec<String> {
        vec![
            clean(&self.name),
            opt(&self.provider),
            self.status.into(),
            self.latency_ms.map_or("-".into(), |l| format!("{l}ms")),
            self.hubs.to_string(),
            self.servers.to_string(),
            self.alerts.to_string(),
            self.alert_source.into(),
            self.metrics.into(),
            clean(&self.scope),
            opt(&self.reason),
        ]
    }
}

impl TableRow for HubRow {
    const KIND: &'static str = "HubList";
    fn header() -> &'static [&'static str] {
        &[
            "CLUSTER",
            "HUB",
            "HEALTH",
            "HUB-READY",
            "PROXY",
            "SERVERS",
            "PENDING",
            "PLACEHOLDERS",
            "CPU-USED",
            "MEM-USED",
            "OUTSIDE",
            "REASON",
        ]
    }
    fn cells(&self, _: Timestamp) -> Vec<String> {
        vec![
            clean(&self.cluster),
            clean(&self.hub),
            self.health.into(),
            opt(&self.hub_ready),
            opt(&self.proxy_ready),
            self.servers_ready.to_string(),
            self.servers_pending.to_string(),
            opt(&self.placeholders),
            used_cpu(self.cpu_used_millis),
            used_mem(self.memory_used_bytes),
            self.outside
                .as_ref()
                .map_or("-".into(), |o| o.brief.clone()),
            match (self.declared == Some("undeclared"), self.reason.is_empty()) {
                (true, true) => "undeclared: not in the deployment repository".into(),
                (true, false) => format!("undeclared; {}", clean(&self.reason)),
                (false, true) => "-".into(),
                (false, false) => clean(&self.reason),
            },
        ]
    }
}

impl TableRow for ServerRow {
    const KIND: &'static str = "ServerList";
    fn header() -> &'static [&'static str] {
        &[
            "CLUSTER",
            "HUB",
            "USER",
            "SERVER",
            "PHASE",
            "READY",
            "RESTARTS",
            "AGE",
            "CPU-REQ",
            "MEM-REQ",
            "CPU-USED",
            "MEM-USED",
            "MEM%",
            "NODE",
            "LAST-ACTIVITY",
        ]
    }
    fn cells(&self, now: Timestamp) -> Vec<String> {
        // Why it waits, as its events tell it, else the pod's own reason.
        let phase = match self.why.as_ref().or(self.reason.as_ref()) {
            Some(r) => format!("{} ({})", self.phase, clean(r)),
            None => self.phase.into(),
        };
        vec![
            clean(&self.cluster),
            clean(&self.hub),
            clean(&self.user),
            if self.server.is_empty() {
                "-".into()
            } else {
                clean(&self.server)
            },
            phase,
            if self.ready {
                "yes".into()
            } else {
                "no".into()
            },
            self.restarts.to_string(),
            age(now, self.started),
            format!("{}m", self.cpu_m),
            mem(self.memory_bytes),
            used_cpu(self.cpu_used_millis),
            used_mem(self.memory_used_bytes),
            percent(self.memory_percent, self.memory_percent_of),
            opt(&self.node),
            self.last_activity
                .map_or("-".into(), |t| format!("{} ago", age(now, Some(t)))),
        ]
    }
}

impl TableRow for AlertRow {
    const KIND: &'static str = "AlertList";
    fn header() -> &'static [&'static str] {
        &[
            "CLUSTER", "SEVERITY", "ALERT", "HUB", "POD", "ORIGIN", "SINCE", "SILENCED", "SUMMARY",
        ]
    }
    fn cells(&self, now: Timestamp) -> Vec<String> {
        vec![
            clean(&self.cluster),
            self.severity.into(),
            clean(&self.name),
            opt(&self.hub),
            opt(&self.pod),
            match self.origin {
                crate::fleet::AlertOrigin::Alertmanager => "alertmanager".into(),
                crate::fleet::AlertOrigin::Derived => "derived".into(),
            },
            age(now, self.since),
            if self.silenced_by.is_empty() {
                "-".into()
            } else {
                "yes".into()
            },
            clean(&self.summary),
        ]
    }
}

impl TableRow for EventRow {
    const KIND: &'static str = "EventList";
    fn header() -> &'static [&'static str] {
        &[
            "CLUSTER",
            "NAMESPACE",
            "LAST-SEEN",
            "OBJECT",
            "REASON",
            "COUNT",
            "MESSAGE",
        ]
    }
    fn cells(&self, now: Timestamp) -> Vec<String> {
        vec![
            clean(&self.cluster),
            clean(&self.namespace),
            age(now, self.last_seen),
            clean(&self.object),
            clean(&self.reason),
            self.count.to_string(),
            clean(&self.message),
        ]
    }
}

impl TableRow for crate::action::AuditRecord {
    const KIND: &'static str = "AuditList";
    fn header() -> &'static [&'static str] {
        &[
            "TIME", "USER", "IDENTITY", "CLUSTER", "ACTION", "TARGET", "OUTCOME", "DETAIL",
        ]
    }
    fn cells(&self, _: Timestamp) -> Vec<String> {
        vec![
            self.time.strftime("%Y-%m-%d %H:%M:%S").to_string(),
            clean(&self.os_user),
            clean(&self.identity),
            clean(&self.cluster),
            clean(&self.action),
            clean(&self.target),
            clean(&self.outcome),
            if self.detail.is_empty() {
                "-".into()
            } else {
                clean(&self.detail)
            },
        ]
    }
}

impl TableRow for crate::alerts::Silence {
    const KIND: &'static str = "SilenceList";
    fn header() -> &'static [&'static str] {
        &["ID", "STATE", "ENDS", "CREATED-BY", "MATCHERS", "COMMENT"]
    }
    fn cells(&self, _: Timestamp) -> Vec<String> {
        let matchers: Vec<String> = self
            .matchers
            .iter()
            .map(|m| {
                let op = match (m.is_equal, m.is_regex) {
                    (true, false) => "=",
                    (false, false) => "!=",
                    (true, true) => "=~",
                    (false, true) => "!~",
                };
                format!("{}{op}{:?}", m.name, m.value)
            })
            .collect();
        vec![
            self.id.clone(),
            format!("{:?}", self.state).to_lowercase(),
            self.ends.strftime("%Y-%m-%d %H:%M").to_string(),
            clean(&self.created_by),
            clean(&matchers.join(",")),
            clean(&self.comment),
        ]
    }
}
