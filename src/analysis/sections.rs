//! Section segmentation: finds headers ("Family History:", "## Plan", "PMH:") from the
//! note-structure data file and says which section every byte of the note is in.

use std::ops::Range;

use crate::corpus::rules::{NoteStructure, SectionEffect};
use crate::text::{trim, trim_start, without_line_break};

/// One section of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Index into the structure's section kinds; `None` for an unrecognised Markdown heading.
    pub kind: Option<usize>,
    /// What the section does to mentions in it.
    pub effect: SectionEffect,
    /// The header as written (without '#' marks and colon).
    pub header: Range<usize>,
    /// Where the section's content starts (after the header's colon, or the next line).
    pub body_start: usize,
    /// The section, from its header to the next header.
    pub range: Range<usize>,
}

/// The section open at a point of a note: what analysing the text that follows needs to
/// know about the past. Small and comparable, so that a cached analysis of a piece of a
/// note can be reused when the piece starts in the same state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenSection {
    /// What the section does to mentions in it.
    pub effect: SectionEffect,
    /// Opened by a Markdown heading (runs to the next header) rather than a label.
    pub markdown: bool,
    /// Whether content has followed the header yet.
    pub content_seen: bool,
    /// Opened by a label with its content on the same line ("FHx: mother with SSc"): such
    /// a section also ends at the next label-shaped line ("Social: …", "Hands: …").
    pub inline: bool,
}

/// A header line, as found by [`Sectioner::step`]; ranges relative to the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLine {
    /// Index into the structure's section kinds; `None` for an unrecognised Markdown heading.
    pub kind: Option<usize>,
    /// What the section does to mentions in it.
    pub effect: SectionEffect,
    /// The header as written.
    pub header: Range<usize>,
    /// Where the section's content starts.
    pub body: usize,
}

/// What one line does to the section state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The line is a header and opens a section (closing any open one).
    Header(HeaderLine),
    /// The line is blank and closes the open section before it.
    Close,
    /// Nothing changes.
    Continue,
}

/// Finds section headers in notes.
#[derive(Debug, Clone)]
pub struct Sectioner {
    /// Header text (lower case) → kind index.
    headers: rustc_hash::FxHashMap<String, usize>,
    effects: Vec<SectionEffect>,
}

impl Sectioner {
    /// Prepares the header table.
    pub fn new(structure: &NoteStructure) -> Sectioner {
        // The first kind to list a header keeps it.
        let mut headers = rustc_hash::FxHashMap::default();
        for (i, s) in structure.sections.iter().enumerate() {
            for h in &s.headers {
                headers.entry(h.to_lowercase()).or_insert(i);
            }
        }
        Sectioner {
            headers,
            effects: structure.sections.iter().map(|s| s.effect).collect(),
        }
    }

    /// The sections of `text`, in order. Text before the first header is in no section.
    pub fn sections(&self, text: &str) -> Vec<Section> {
        self.sections_from(text, None).0
    }

    /// The sections of `text`, a piece of a note that starts inside the section `entry`
    /// (its state and header), and the section still open at the end of the piece. The
    /// entry section, if any, comes first, with its header as given and its body starting
    /// at 0.
    pub fn sections_from(
        &self,
        text: &str,
        entry: Option<(OpenSection, Range<usize>)>,
    ) -> (Vec<Section>, Option<OpenSection>) {
        let mut out = Vec::new();
        let lines = crate::text::lines_inclusive(text);
        let open = self.sections_into(text, lines, entry, &mut out);
        (out, open)
    }

    /// [`Sectioner::sections_from`] into `out` (cleared first), reusing its allocation,
    /// over `lines`: `text`'s lines as [`crate::text::lines_inclusive`] gives them (a caller
    /// that needs them more than once finds them once).
    pub fn sections_into<'t>(
        &self,
        text: &'t str,
        lines: impl Iterator<Item = &'t str>,
        entry: Option<(OpenSection, Range<usize>)>,
        out: &mut Vec<Section>,
    ) -> Option<OpenSection> {
        out.clear();
        let mut open = None;
        if let Some((o, header)) = entry {
            open = Some(o);
            out.push(Section {
                kind: None,
                effect: o.effect,
                header,
                body_start: 0,
                range: 0..text.len(),
            });
        }
        let mut line_start = 0;
        for line in lines {
            match self.step(&mut open, line) {
                Step::Header(h) => {
                    if let Some(prev) = out.last_mut() {
                        prev.range.end = prev.range.end.min(line_start);
                    }
                    out.push(Section {
                        kind: h.kind,
                        effect: h.effect,
                        header: line_start + h.header.start..line_start + h.header.end,
                        body_start: line_start + h.body,
                        range: line_start..text.len(),
                    });
                }
                Step::Close => {
                    if let Some(prev) = out.last_mut() {
                        prev.range.end = line_start;
                    }
                }
                Step::Continue => {}
            }
            line_start += line.len();
        }
        open
    }

    /// Advances the section state over one line (with its line break) and says what the
    /// line did. This is the whole of section segmentation, one line at a time, so that a
    /// note can be analysed piece by piece with the state carried from piece to piece.
    ///
    /// A "Label:" section ends at the first blank line after its content (blank lines
    /// between the label and its content do not end it); a Markdown heading's section runs
    /// to the next heading, since blank lines follow headings.
    pub fn step(&self, open: &mut Option<OpenSection>, line: &str) -> Step {
        if let Some((kind, header, body, markdown)) = self.header(line) {
            let rest = line.get(body..).unwrap_or("");
            let content_seen = !trim(rest).is_empty();
            let s = OpenSection {
                effect: kind.map_or(SectionEffect::None, |k| self.effects[k]),
                markdown,
                content_seen,
                inline: content_seen && !markdown,
            };
            *open = Some(s);
            return Step::Header(HeaderLine {
                kind,
                effect: s.effect,
                header,
                body,
            });
        }
        let Some(s) = open.as_mut() else {
            return Step::Continue;
        };
        if s.markdown {
            return Step::Continue;
        }
        if s.inline && is_label_line(line) {
            *open = None;
            return Step::Close;
        }
        if trim(line).is_empty() {
            if s.content_seen {
                *open = None;
                return Step::Close;
            }
        } else {
            s.content_seen = true;
        }
        Step::Continue
    }

    /// If `line` is a header: its kind, the header's range and where the body starts (all
    /// relative to the line), and whether it is a Markdown heading.
    fn header(&self, line: &str) -> Option<(Option<usize>, Range<usize>, usize, bool)> {
        let content = without_line_break(line);
        let lead = content.len() - trim_start(content).len();
        let rest = &content[lead..];
        // Markdown heading: any heading ends the previous section.
        if let Some(after) = rest.strip_prefix('#') {
            let hashes = 1 + after.chars().take_while(|&c| c == '#').count();
            let title = trim(&rest[hashes..]);
            if hashes <= 6 && rest[hashes..].starts_with(' ') && !title.is_empty() {
                let start =
                    lead + hashes + (rest[hashes..].len() - trim_start(&rest[hashes..]).len());
                let label = title
                    .trim_end_matches([':', '*', ' '])
                    .trim_start_matches('*');
                return Some((
                    self.kind_of(label),
                    start..start + title.len(),
                    content.len(),
                    true,
                ));
            }
            return None;
        }
        // "Label:" (optionally bold) with a known label.
        let unbold = rest.trim_start_matches('*');
        let bold = rest.len() - unbold.len();
        if let Some(colon) = unbold.find(':') {
            let label = trim(unbold[..colon].trim_end_matches('*'));
            if label.len() <= 40 {
                if let Some(kind) = self.kind_of(label) {
                    let mut body = lead + bold + colon + 1;
                    body += content[body..].len() - content[body..].trim_start_matches('*').len();
                    let hs = lead + bold;
                    return Some((Some(kind), hs..hs + label.len(), body, false));
                }
            }
        }
        // A known header alone on its line, in capitals: "FAMILY HISTORY".
        let bare = trim(rest);
        if !bare.is_empty() && bare.len() <= 40 && !bare.chars().any(|c| c.is_lowercase()) {
            if let Some(kind) = self.kind_of(bare) {
                return Some((Some(kind), lead..lead + bare.len(), content.len(), false));
            }
        }
        None
    }

    fn kind_of(&self, label: &str) -> Option<usize> {
        let label = trim(label);
        if label.is_ascii() && label.len() <= 64 {
            // Lower-cased on the stack: this runs for most lines with a colon.
            let mut buf = [0u8; 64];
            let lower = &mut buf[..label.len()];
            lower.copy_from_slice(label.as_bytes());
            lower.make_ascii_lowercase();
            return std::str::from_utf8(lower)
                .ok()
                .and_then(|l| self.headers.get(l).copied());
        }
        self.headers.get(&label.to_lowercase()).copied()
    }
}

/// A header inside a line, as [`Sectioner::inline_headers`] finds it; offsets relative to
/// the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineHeader {
    /// The header label, from its first letter to before its colon.
    pub header: Range<usize>,
    /// What the section does to mentions in it (none for an unknown upper-case header).
    pub effect: SectionEffect,
}

/// Longest inline header label, in bytes: as for a label at the start of a line.
const MAX_INLINE_LABEL_BYTES: usize = 40;

/// Most words in an unknown upper-case inline header ("PAST SURGICAL HISTORY",
/// "PROCEDURE PERFORMED"): longer runs of capitals are shouting, not a header.
const MAX_INLINE_LABEL_WORDS: usize = 5;

impl Sectioner {
    /// Headers that exported notes join into a line after punctuation ("…reflux.,PROCEDURE:
    /// , Informed consent…", "…dysphagia; FAMILY HISTORY: …", "… - PMH: …"): a known header
    /// in any case, or upper-case words, followed by a colon, after `.`, `,`, `;` or ` - `.
    /// A header at the start of the line is left to [`Sectioner::step`].
    /// They are handed to `found` in order, as they are found (a hostile line can hold
    /// millions; nothing is collected here).
    pub fn inline_headers(&self, line: &str, mut found: impl FnMut(InlineHeader)) {
        let bytes = line.as_bytes();
        // A label ends at a colon after its separator: none after the last colon.
        let Some(last_colon) = memchr::memrchr(b':', bytes) else {
            return; // most lines: no label at all
        };
        let scanned = &bytes[..last_colon];
        // The separators, in order: `.`, `,`, `;` found by memchr (a byte-by-byte test of
        // every byte of a long line with a colon was a tenth of a dense note's analysis),
        // and a `-` after a space.
        let mut marks = memchr::memchr3_iter(b'.', b',', b';', scanned).peekable();
        let mut dashes = memchr::memchr_iter(b'-', scanned)
            .filter(|&i| i > 0 && bytes[i - 1] == b' ')
            .peekable();
        // The first colon at or after the label start of the separator being looked at
        // (separators come in order, so it only moves forward).
        let mut colons = memchr::memchr_iter(b':', bytes).peekable();
        loop {
            let i = match (marks.peek(), dashes.peek()) {
                (Some(&m), Some(&d)) if d < m => dashes.next(),
                (Some(_), _) => marks.next(),
                (None, _) => dashes.next(),
            };
            let Some(i) = i else { break };
            // A run of separators is looked at once, from its first mark.
            if i > 0 && matches!(bytes[i - 1], b'.' | b',' | b';') {
                continue;
            }
            // The label starts after the separator run and white space (".,PROCEDURE:").
            let mut s = i + 1;
            while s < bytes.len() && matches!(bytes[s], b' ' | b'\t' | b',' | b'.' | b';') {
                s += 1;
            }
            while colons.next_if(|&c| c < s).is_some() {}
            if !may_start_label(bytes, s, colons.peek().copied()) {
                continue;
            }
            if let Some(h) = self.inline_header_at(line, s) {
                found(h);
            }
        }
    }

    /// The header whose label starts at `s` in `line`, if one does.
    fn inline_header_at(&self, line: &str, s: usize) -> Option<InlineHeader> {
        let window = line.get(s..line.len().min(s + MAX_INLINE_LABEL_BYTES + 1))?;
        let colon = window.find(':')?;
        let label = window[..colon].trim_end();
        let mut chars = label.chars();
        if !chars.next().is_some_and(char::is_alphabetic)
            || !label
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, ' ' | '/' | '&' | '\'' | '-'))
        {
            return None;
        }
        let header = s..s + label.len();
        if let Some(kind) = self.kind_of(label) {
            return Some(InlineHeader {
                header,
                effect: self.effects[kind],
            });
        }
        let letters = label.chars().filter(|c| c.is_alphabetic()).count();
        let shouted = letters >= 2
            && !label.chars().any(char::is_lowercase)
            && label.split_whitespace().count() <= MAX_INLINE_LABEL_WORDS;
        shouted.then_some(InlineHeader {
            header,
            effect: SectionEffect::None,
        })
    }
}

/// The cost filter before [`Sectioner::inline_header_at`]: `false` only where it finds no
/// label at `s` — the first colon at or after `s` (`colon`) farther than
/// `MAX_INLINE_LABEL_BYTES`, an ASCII non-letter first, or, before the colon, an ASCII byte
/// a label cannot hold. Most separators are followed by prose with no colon near: ruled
/// out in a few instructions, without the search for a colon and the checks of the
/// label's characters.
fn may_start_label(bytes: &[u8], s: usize, colon: Option<usize>) -> bool {
    let Some(colon) = colon.filter(|&c| c - s <= MAX_INLINE_LABEL_BYTES) else {
        return false;
    };
    match bytes.get(s) {
        None => return false,
        Some(&b) if b.is_ascii() && !b.is_ascii_alphabetic() => return false,
        Some(_) => {}
    }
    bytes[s..colon].iter().all(|&b| {
        // Letters and the label's signs; white space may end a label before its colon;
        // any other character is left to the full check.
        !b.is_ascii()
            || b.is_ascii_alphabetic()
            || matches!(b, b'/' | b'&' | b'\'' | b'-')
            || crate::text::is_ascii_space(b)
    })
}

/// Whether `line` starts with a short label and a colon ("Social: …", "Hands:", "R hand:"),
/// whether or not the label is a known header.
fn is_label_line(line: &str) -> bool {
    let t = trim_start(line).trim_start_matches('*');
    let Some(colon) = t.get(..t.len().min(32)).and_then(|h| h.find(':')) else {
        return false;
    };
    let label = t[..colon].trim_end_matches('*').trim_end();
    label.chars().next().is_some_and(char::is_alphabetic)
        && label.split(' ').count() <= 3
        && label
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '/' | '&' | '-' | '\'' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    /// The separators found by memchr and the label filter find exactly what the byte loop
    /// over every separator, without the filter, found.
    #[test]
    fn inline_headers_equal_the_byte_by_byte_scan() {
        let corpus = Corpus::embedded().unwrap();
        let sectioner = Sectioner::new(&corpus.structure);
        let by_byte = |line: &str| {
            let bytes = line.as_bytes();
            let mut out = Vec::new();
            if memchr::memchr(b':', bytes).is_none() {
                return out;
            }
            for (i, &b) in bytes.iter().enumerate() {
                let dash = b == b'-' && i > 0 && bytes[i - 1] == b' ';
                if !(matches!(b, b'.' | b',' | b';') || dash) {
                    continue;
                }
                if i > 0 && matches!(bytes[i - 1], b'.' | b',' | b';') {
                    continue;
                }
                let mut s = i + 1;
                while s < bytes.len() && matches!(bytes[s], b' ' | b'\t' | b',' | b'.' | b';') {
                    s += 1;
                }
                out.extend(sectioner.inline_header_at(line, s));
            }
            out
        };
        let mut rng = fastrand::Rng::with_seed(31);
        let pieces = [
            "Plan",
            "PLAN",
            "Family History",
            "FH",
            "social",
            "a",
            "É",
            "é",
            "1",
            " ",
            "  ",
            "\t",
            "\n",
            ":",
            ": ",
            ".",
            ",",
            ";",
            " - ",
            "-",
            "/",
            "&",
            "'",
            "*",
            "(",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ];
        for _ in 0..20_000 {
            let line = crate::text::random_text(&mut rng, &pieces, 0..20);
            let mut got = Vec::new();
            sectioner.inline_headers(&line, |h| got.push(h));
            assert_eq!(got, by_byte(&line), "{line:?}");
        }
    }

    #[test]
    fn finds_colon_markdown_and_caps_headers() {
        let c = Corpus::embedded().unwrap();
        let s = Sectioner::new(&c.structure);
        let text = "HPI: pain.\nFamily History: mother with SSc\n## Plan\nfollow up\nFAMILY HISTORY\nnone\nSocial worker: fine\n\nafter\n";
        let secs = s.sections(text);
        assert_eq!(secs.len(), 4);
        assert_eq!(&text[secs[1].header.clone()], "Family History");
        assert_eq!(secs[1].effect, SectionEffect::Family);
        assert_eq!(
            &text[secs[1].body_start..secs[1].range.end],
            " mother with SSc\n"
        );
        assert_eq!(&text[secs[2].header.clone()], "Plan");
        assert_eq!(secs[3].effect, SectionEffect::Family);
        assert_eq!(
            &text[secs[3].range.clone()],
            "FAMILY HISTORY\nnone\nSocial worker: fine\n"
        );
    }

    #[test]
    fn an_inline_label_section_ends_at_the_next_label_line() {
        let c = Corpus::embedded().unwrap();
        let s = Sectioner::new(&c.structure);
        let text = "FHx: sister with lupus\nmother with RA\nHands: calcinosis\nFamily History:\nMother: SSc\nSister: RP\n";
        let secs = s.sections(text);
        assert_eq!(secs[0].effect, SectionEffect::Family);
        assert_eq!(
            &text[secs[0].range.clone()],
            "FHx: sister with lupus\nmother with RA\n"
        );
        // A header on its own line keeps its sub-labels.
        let last = secs.last().unwrap();
        assert_eq!(
            &text[last.range.clone()],
            "Family History:\nMother: SSc\nSister: RP\n"
        );
        assert!(is_label_line("R hand: ok"));
        assert!(!is_label_line("Denies RP and dysphagia today: see below"));
        assert!(!is_label_line("12:30 seen"));
    }
}
