//! Section segmentation: finds headers ("Family History:", "## Plan", "PMH:") from the
//! note-structure data file and says which section every byte of the note is in.

use std::ops::Range;

use crate::corpus::rules::{NoteStructure, SectionEffect};

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

/// Finds section headers in notes.
#[derive(Debug, Clone)]
pub struct Sectioner {
    /// `(header text, kind index)`, longest header first so "family history" beats "family".
    headers: Vec<(String, usize)>,
    effects: Vec<SectionEffect>,
}

impl Sectioner {
    /// Prepares the header table.
    pub fn new(structure: &NoteStructure) -> Sectioner {
        let mut headers: Vec<(String, usize)> = structure
            .sections
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.headers.iter().map(move |h| (h.clone(), i)))
            .collect();
        headers.sort_by_key(|h| std::cmp::Reverse(h.0.len()));
        Sectioner {
            headers,
            effects: structure.sections.iter().map(|s| s.effect).collect(),
        }
    }

    /// The sections of `text`, in order. Text before the first header is in no section.
    pub fn sections(&self, text: &str) -> Vec<Section> {
        let mut out: Vec<Section> = Vec::new();
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            if let Some((kind, header, body)) = self.header(line) {
                let at = line_start;
                if let Some(prev) = out.last_mut() {
                    prev.range.end = at;
                }
                out.push(Section {
                    kind,
                    effect: kind.map_or(SectionEffect::None, |k| self.effects[k]),
                    header: at + header.start..at + header.end,
                    body_start: at + body,
                    range: at..text.len(),
                });
            }
            line_start += line.len();
        }
        // A "Label:" section ends at the first blank line after its content; a Markdown
        // heading's section runs to the next heading (blank lines follow headings).
        for sec in &mut out {
            let line_start = text[..sec.header.start].rfind('\n').map_or(0, |p| p + 1);
            if text[line_start..].trim_start().starts_with('#') {
                continue;
            }
            let body = &text[sec.body_start..sec.range.end];
            let content = body.len() - body.trim_start().len();
            if let Some(blank) = find_blank_line(&body[content..]) {
                sec.range.end = sec.body_start + content + blank;
            }
        }
        out
    }

    /// If `line` is a header: its kind, the header's range and where the body starts (all
    /// relative to the line).
    fn header(&self, line: &str) -> Option<(Option<usize>, Range<usize>, usize)> {
        let content = line.trim_end_matches(['\n', '\r']);
        let lead = content.len() - content.trim_start().len();
        let rest = &content[lead..];
        // Markdown heading: any heading ends the previous section.
        if let Some(after) = rest.strip_prefix('#') {
            let hashes = 1 + after.chars().take_while(|&c| c == '#').count();
            let title = rest[hashes..].trim();
            if hashes <= 6 && rest[hashes..].starts_with(' ') && !title.is_empty() {
                let start =
                    lead + hashes + (rest[hashes..].len() - rest[hashes..].trim_start().len());
                let label = title
                    .trim_end_matches([':', '*', ' '])
                    .trim_start_matches('*');
                return Some((
                    self.kind_of(label),
                    start..start + title.len(),
                    content.len(),
                ));
            }
            return None;
        }
        // "Label:" (optionally bold) with a known label.
        let unbold = rest.trim_start_matches('*');
        let bold = rest.len() - unbold.len();
        if let Some(colon) = unbold.find(':') {
            let label = unbold[..colon].trim_end_matches('*').trim();
            if label.len() <= 40 {
                if let Some(kind) = self.kind_of(label) {
                    let mut body = lead + bold + colon + 1;
                    body += content[body..].len() - content[body..].trim_start_matches('*').len();
                    let hs = lead + bold;
                    return Some((Some(kind), hs..hs + label.len(), body));
                }
            }
        }
        // A known header alone on its line, in capitals: "FAMILY HISTORY".
        let bare = rest.trim();
        if !bare.is_empty() && bare.len() <= 40 && !bare.chars().any(|c| c.is_lowercase()) {
            if let Some(kind) = self.kind_of(bare) {
                return Some((Some(kind), lead..lead + bare.len(), content.len()));
            }
        }
        None
    }

    fn kind_of(&self, label: &str) -> Option<usize> {
        let l = label.trim().to_lowercase();
        self.headers.iter().find(|(h, _)| *h == l).map(|(_, k)| *k)
    }
}

/// Offset of the first blank line (a line of only white space) in `s`, if any.
fn find_blank_line(s: &str) -> Option<usize> {
    let mut offset = 0;
    for line in s.split_inclusive('\n') {
        if offset > 0 && line.trim().is_empty() {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    #[test]
    fn finds_colon_markdown_and_caps_headers() {
        let c = Corpus::embedded().unwrap();
        let s = Sectioner::new(&c.structure);
        let text = "HPI: pain.\nFamily History: mother with SSc\n## Plan\nfollow up\nFAMILY HISTORY\nnone\nSkin: fine\n\nafter\n";
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
            "FAMILY HISTORY\nnone\nSkin: fine\n"
        );
    }
}
