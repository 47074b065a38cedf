//! A values document as a tree of nodes whose scalars know their exact byte range in the
//! source, built from `saphyr-parser`'s events and their spans.
//!
//! The parser's spans are the starting point, not the last word: they count characters, they
//! include a node's properties (`&anchor !!tag`), a quoted scalar's span may run on over
//! trailing blanks and a comment, and a block scalar's span starts at its content, after the
//! `|`/`>` header, and runs on over trailing line breaks. [`parse`] turns each into the range
//! a placeholder may replace: a plain scalar's text, a quoted scalar from its opening quote to
//! its closing one, a block scalar from its indicator to the end of its last content line
//! (the anchor and tag in front stay, the line break after stays).

use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

/// How deep collections may nest. Deeper documents are refused rather than risking the stack
/// of the recursive walks; a real values.yaml nests less than twenty levels.
pub(super) const MAX_DEPTH: usize = 200;

/// One scalar of the document, keys included.
#[derive(Debug, Clone)]
pub(super) struct Scalar {
    /// The value as the parser read it (quotes and escapes resolved, blocks folded).
    pub value: String,
    pub style: ScalarStyle,
    /// The resolved tag (`tag:yaml.org,2002:str` for `!!str`), if one was written.
    pub tag: Option<String>,
    /// The bytes a placeholder may replace.
    pub range: Range<usize>,
    /// 1-based line of `range.start`.
    pub line: usize,
    /// Whether the scalar sits inside a flow collection (`[…]`, `{…}`).
    pub in_flow: bool,
    /// Leading spaces of the line on which `range.start` sits.
    pub indent: usize,
}

/// A node: scalars are held by index into [`Doc::scalars`].
#[derive(Debug, Clone)]
pub(super) enum Node {
    Scalar {
        id: usize,
        anchor: usize,
    },
    Seq {
        items: Vec<Node>,
        anchor: usize,
    },
    Map {
        pairs: Vec<(Node, Node)>,
        anchor: usize,
    },
    /// An alias (`*name`), with the anchor id it names.
    Alias {
        target: usize,
    },
}

impl Node {
    /// The anchor id the parser gave this node (0: none).
    pub fn anchor(&self) -> usize {
        match self {
            Node::Scalar { anchor, .. } | Node::Seq { anchor, .. } | Node::Map { anchor, .. } => {
                *anchor
            }
            Node::Alias { .. } => 0,
        }
    }
}

/// A parsed document.
#[derive(Debug, Clone)]
pub(super) struct Doc {
    /// The root node; `None` for a stream without a document (empty, or comments only).
    pub root: Option<Node>,
    pub scalars: Vec<Scalar>,
}

/// Why a text could not be read as a values document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ParseError {
    /// The YAML parser refused it; the reason is the parser's (a fixed text).
    Syntax { line: usize, reason: String },
    /// A second document in the stream.
    MultipleDocuments { line: usize },
    /// Collections nested deeper than [`MAX_DEPTH`].
    TooDeep { line: usize },
    /// A scalar's text was not where the parser's span said; redacting it would be a guess.
    Unlocatable { line: usize },
}

/// 1-based line numbers of byte offsets: YAML's line breaks are `\n`, `\r\n` and `\r`.
#[derive(Debug, Clone)]
pub(super) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(src: &str) -> Self {
        let bytes = src.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        Lines { starts }
    }

    /// The 1-based line of byte `at`.
    pub fn line(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at).max(1)
    }

    /// The byte offset at which the line holding `at` starts.
    pub fn line_start(&self, at: usize) -> usize {
        let i = self.line(at) - 1;
        self.starts.get(i).copied().unwrap_or(0)
    }
}

/// Parses `src` into a [`Doc`]. Errors carry the 1-based line they concern.
pub(super) fn parse(src: &str) -> Result<Doc, ParseError> {
    let events = events(src)?;
    // Character index -> byte offset (the parser counts characters).
    let bytes_at: Vec<usize> = src
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(src.len()))
        .collect();
    let lines = Lines::new(src);
    let mut b = Builder {
        src,
        events,
        bytes_at,
        lines,
        pos: 0,
        last_end: 0,
        flow: 0,
        scalars: Vec::new(),
    };
    let root = b.stream()?;
    Ok(Doc {
        root,
        scalars: b.scalars,
    })
}

/// All events of `src`, or the first error with its line.
fn events(src: &str) -> Result<Vec<(Event<'_>, Span)>, ParseError> {
    let mut out = Vec::new();
    for item in Parser::new_from_str(src) {
        match item {
            Ok(ev) => out.push(ev),
            Err(e) => return Err(syntax(&e)),
        }
    }
    Ok(out)
}

fn syntax(e: &ScanError) -> ParseError {
    let info = e.info();
    // The one parser message that quotes the input ("unexpected character: `@'") loses the
    // quote: an error message never carries text of the document.
    let reason = match info.split_once(": `") {
        Some((head, _)) => head.to_string(),
        None => info.to_string(),
    };
    ParseError::Syntax {
        line: e.marker().line().max(1),
        reason,
    }
}

struct Builder<'a> {
    src: &'a str,
    events: Vec<(Event<'a>, Span)>,
    bytes_at: Vec<usize>,
    lines: Lines,
    pos: usize,
    /// The byte offset up to which the source has been accounted for by earlier events: a
    /// block scalar's header lies after it.
    last_end: usize,
    /// Depth of flow collections around the current event.
    flow: usize,
    scalars: Vec<Scalar>,
}

impl<'a> Builder<'a> {
    fn byte(&self, char_index: usize) -> usize {
        self.bytes_at
            .get(char_index)
            .copied()
            .unwrap_or(self.src.len())
    }

    fn span_bytes(&self, span: &Span) -> Range<usize> {
        let start = self.byte(span.start.index());
        let end = self.byte(span.end.index()).max(start);
        start..end
    }

    fn line_of_span(&self, span: &Span) -> usize {
        self.lines.line(self.byte(span.start.index()))
    }

    fn advance(&mut self, to: usize) {
        self.last_end = self.last_end.max(to);
    }

    fn stream(&mut self) -> Result<Option<Node>, ParseError> {
        let mut root = None;
        let mut documents = 0;
        while self.pos < self.events.len() {
            let (ev, span) = &self.events[self.pos];
            let span = *span;
            match ev {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(ParseError::MultipleDocuments {
                            line: self.line_of_span(&span),
                        });
                    }
                    self.pos += 1;
                    let r = self.span_bytes(&span);
                    self.advance(r.end);
                    root = Some(self.node(0)?);
                }
                _ => {
                    self.pos += 1;
                    let r = self.span_bytes(&span);
                    self.advance(r.end);
                }
            }
        }
        Ok(root)
    }

    fn node(&mut self, depth: usize) -> Result<Node, ParseError> {
        let Some((ev, span)) = self.events.get(self.pos) else {
            return Err(ParseError::Syntax {
                line: self.lines.line(self.src.len()),
                reason: "unexpected end of the document".to_string(),
            });
        };
        let span = *span;
        let line = self.line_of_span(&span);
        if depth > MAX_DEPTH {
            return Err(ParseError::TooDeep { line });
        }
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let value = value.to_string();
                let style = *style;
                let anchor = *anchor;
                let tag = tag.as_ref().map(|t| format!("{}{}", t.handle, t.suffix));
                let has_props = anchor != 0 || tag.is_some();
                self.pos += 1;
                let scalar = self.scalar(value, style, tag, has_props, &span)?;
                self.advance(scalar.range.end);
                self.scalars.push(scalar);
                Ok(Node::Scalar {
                    id: self.scalars.len() - 1,
                    anchor,
                })
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let is_seq = matches!(ev, Event::SequenceStart(..));
                let anchor = *anchor;
                self.pos += 1;
                let r = self.span_bytes(&span);
                let flow = !r.is_empty() && self.src[..r.end].ends_with(['[', '{']);
                self.advance(r.end);
                if flow {
                    self.flow += 1;
                }
                let node = if is_seq {
                    let mut items = Vec::new();
                    while !self.at_end_event() {
                        items.push(self.node(depth + 1)?);
                    }
                    Node::Seq { items, anchor }
                } else {
                    let mut pairs = Vec::new();
                    while !self.at_end_event() {
                        let k = self.node(depth + 1)?;
                        let v = self.node(depth + 1)?;
                        pairs.push((k, v));
                    }
                    Node::Map { pairs, anchor }
                };
                // The end event.
                if let Some((_, end_span)) = self.events.get(self.pos) {
                    let end = self.span_bytes(end_span).end;
                    self.advance(end);
                }
                self.pos += 1;
                if flow {
                    self.flow -= 1;
                }
                Ok(node)
            }
            Event::Alias(anchor) => {
                let anchor = *anchor;
                self.pos += 1;
                let r = self.span_bytes(&span);
                self.advance(r.end);
                Ok(Node::Alias { target: anchor })
            }
            _ => Err(ParseError::Syntax {
                line,
                reason: "unexpected event".to_string(),
            }),
        }
    }

    fn at_end_event(&self) -> bool {
        matches!(
            self.events.get(self.pos),
            None | Some((Event::SequenceEnd | Event::MappingEnd, _))
        )
    }

    /// Locates a scalar's replaceable bytes from the parser's span.
    fn scalar(
        &self,
        value: String,
        style: ScalarStyle,
        tag: Option<String>,
        has_props: bool,
        span: &Span,
    ) -> Result<Scalar, ParseError> {
        let src = self.src;
        let raw = self.span_bytes(span);
        let unlocatable = || ParseError::Unlocatable {
            line: self.lines.line(raw.start),
        };
        let start = if has_props {
            skip_properties(src, raw.start)
        } else {
            raw.start
        };
        let range = match style {
            ScalarStyle::Plain => {
                if has_props && start > raw.end {
                    // An empty scalar after its properties (`key: !!str`).
                    raw.end..raw.end
                } else {
                    let end = trim_back(src, start, raw.end);
                    start..end
                }
            }
            ScalarStyle::SingleQuoted => {
                let end = single_quoted_end(src, start).ok_or_else(unlocatable)?;
                start..end
            }
            ScalarStyle::DoubleQuoted => {
                let end = double_quoted_end(src, start).ok_or_else(unlocatable)?;
                start..end
            }
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let from = if has_props { start } else { self.last_end };
                let indicator = block_indicator(src, from).ok_or_else(unlocatable)?;
                let header_end = line_end(src, indicator);
                let content_end = trim_back(src, indicator, raw.end.max(indicator));
                indicator..content_end.max(header_end)
            }
        };
        if range.end > src.len() || !src.is_char_boundary(range.start) {
            return Err(unlocatable());
        }
        let line = self.lines.line(range.start);
        let line_start = self.lines.line_start(range.start);
        let indent = src[line_start..range.start]
            .bytes()
            .take_while(|&b| b == b' ')
            .count();
        Ok(Scalar {
            value,
            style,
            tag,
            range,
            line,
            in_flow: self.flow > 0,
            indent,
        })
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Moves `end` back over blanks and line breaks, not before `start`.
fn trim_back(src: &str, start: usize, end: usize) -> usize {
    let bytes = src.as_bytes();
    let mut e = end.min(bytes.len());
    while e > start && is_blank(bytes[e - 1]) {
        e -= 1;
    }
    e
}

/// The end of the line holding `at`, before its line break.
fn line_end(src: &str, at: usize) -> usize {
    src[at..].find(['\n', '\r']).map_or(src.len(), |i| at + i)
}

/// Skips blanks, line breaks, comments and node properties (`&anchor`, `!tag`, `!<verbatim>`)
/// from `at`.
fn skip_properties(src: &str, mut at: usize) -> usize {
    let bytes = src.as_bytes();
    loop {
        match bytes.get(at) {
            Some(&b) if is_blank(b) => at += 1,
            Some(b'#') => at = line_end(src, at),
            Some(b'&' | b'!') => {
                while at < bytes.len() && !is_blank(bytes[at]) {
                    at += 1;
                }
            }
            _ => return at,
        }
    }
}

/// Finds the `|` or `>` of a block scalar's header from `at`, skipping what may stand between
/// the previous token and the header: blanks, line breaks, comments, the `:`, `-` and `?`
/// indicators, a `---` document start, and properties.
fn block_indicator(src: &str, mut at: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    loop {
        match bytes.get(at)? {
            b'|' | b'>' => return Some(at),
            b if is_blank(*b) => at += 1,
            b':' | b'-' | b'?' => at += 1,
            b'#' => at = line_end(src, at),
            b'&' | b'!' => {
                while at < bytes.len() && !is_blank(bytes[at]) {
                    at += 1;
                }
            }
            _ => return None,
        }
    }
}

/// The byte after the closing quote of a single-quoted scalar opening at `at` (`''` is an
/// escaped quote).
fn single_quoted_end(src: &str, at: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    if bytes.get(at) != Some(&b'\'') {
        return None;
    }
    let mut i = at + 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// The byte after the closing quote of a double-quoted scalar opening at `at`.
fn double_quoted_end(src: &str, at: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(src: &str) -> Vec<(String, String)> {
        let doc = parse(src).unwrap();
        doc.scalars
            .iter()
            .map(|s| (s.value.clone(), src[s.range.clone()].to_string()))
            .collect()
    }

    #[test]
    fn plain_and_quoted_ranges_are_exact() {
        let src =
            "a: plain value  # c\nb: 'it''s' # c\nc: \"dq \\\" x\" # c\nd: [x, 'y' , \"z\" ]\n";
        let r = ranges(src);
        assert_eq!(r[1].1, "plain value");
        assert_eq!(r[3].1, "'it''s'");
        assert_eq!(r[5].1, "\"dq \\\" x\"");
        assert_eq!(r[8].1, "'y'");
        assert_eq!(r[9].1, "\"z\"");
    }

    #[test]
    fn block_ranges_run_from_indicator_to_last_content_line() {
        let src = "k: |-  # c\n  l1\n\n  l2\n\nn: x\n";
        let r = ranges(src);
        assert_eq!(r[1].1, "|-  # c\n  l1\n\n  l2");
        let src = "k: &a !!str >\n  folded\nseq:\n  - |\n    item\n  - x\n";
        let r = ranges(src);
        assert_eq!(r[1].1, ">\n  folded");
        assert_eq!(r[3].1, "|\n    item");
    }

    #[test]
    fn properties_stay_outside_the_range() {
        let src = "a: &x !!str value\nb: !!str\n  next line\n";
        let r = ranges(src);
        assert_eq!(r[1].1, "value");
        assert_eq!(r[3].1, "next line");
    }

    #[test]
    fn multibyte_and_crlf_and_bom() {
        let src = "\u{feff}a: \"été\" # c\r\nb: |\r\n  ünï\r\n  x\r\nc: ok";
        let r = ranges(src);
        assert_eq!(r[1].1, "\"été\"");
        assert_eq!(r[3].1, "|\r\n  ünï\r\n  x");
        assert_eq!(r[5].1, "ok");
    }

    #[test]
    fn flow_context_and_indent_are_recorded() {
        let src = "a:\n  b: [x]\n  c: y\n";
        let doc = parse(src).unwrap();
        let x = doc.scalars.iter().find(|s| s.value == "x").unwrap();
        let y = doc.scalars.iter().find(|s| s.value == "y").unwrap();
        assert!(x.in_flow && !y.in_flow);
        assert_eq!((x.indent, y.indent, y.line), (2, 2, 3));
    }

    #[test]
    fn errors_name_their_line() {
        assert!(matches!(
            parse("a: b\nc: [d\n"),
            Err(ParseError::Syntax { .. })
        ));
        assert_eq!(
            parse("a: 1\n---\nb: 2\n").unwrap_err(),
            ParseError::MultipleDocuments { line: 2 }
        );
        let deep = "[".repeat(MAX_DEPTH + 5) + &"]".repeat(MAX_DEPTH + 5);
        assert!(matches!(parse(&deep), Err(ParseError::TooDeep { .. })));
    }

    #[test]
    fn line_table() {
        let l = Lines::new("a\nb\r\nc\rd");
        assert_eq!((l.line(0), l.line(2), l.line(5), l.line(7)), (1, 2, 3, 4));
    }
}
