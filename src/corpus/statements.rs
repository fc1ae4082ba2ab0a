//! Parser for statement files: Markdown headings, one statement per line or bullet, trailing
//! `[1, 4]` citations. The format is documented in `corpus/README.md`.

use crate::error::{Error, Result};

/// One source statement, as written in a corpus file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Statement {
    /// Stable id: the slug of its innermost heading and its ordinal there (`systemic-sclerosis/3`).
    pub id: String,
    /// Heading path from the top, e.g. `["Primary Connective Tissue Disease Associations", "Systemic Sclerosis"]`.
    pub section: Vec<String>,
    /// The line that introduces the list this statement belongs to ("Associated clinical features:").
    pub lead_in: Option<String>,
    /// The statement's words, without bullet and citations.
    pub text: String,
    /// Citation numbers, in the order written.
    pub citations: Vec<u32>,
    /// The file it came from (display name: a path, or `corpus/…` for the embedded corpus).
    pub file: String,
    /// 1-based line in that file.
    pub line: usize,
    /// What each citation refers to, in the order of `citations` (filled when the corpus loads).
    pub sources: Vec<Source>,
    /// The citations are the list's: written once after its last item, they cite every
    /// item of a list whose other items carry none (the seed's convention).
    pub cited_by_list: bool,
    /// A lead-in whose items carry the citations ("Several mechanisms have been proposed…:"):
    /// shown as cited on its items rather than as uncited, since the source does cite them.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub items_cited: bool,
}

/// What one citation number refers to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Source {
    /// The number as written.
    pub number: u32,
    /// The entry of the file's reference list (`[n]: …`), when it has one.
    pub reference: Option<String>,
    /// The document the number belongs to: "the seed document" or the file's name.
    pub document: String,
}

impl Source {
    /// One citation for display: its reference, or "source N of the seed document".
    pub fn label(&self) -> String {
        match &self.reference {
            Some(r) => format!("[{}] {r}", self.number),
            None => format!("source {} of {}", self.number, self.document),
        }
    }
}

/// Citations merged for display, without repeats: references as `[n] text; …`, numbers
/// without one as "sources 1, 2 and 4 of the seed document". Empty when there are none.
pub fn render_sources<'a>(sources: impl IntoIterator<Item = &'a Source>) -> String {
    let mut refs: Vec<&Source> = Vec::new();
    let mut bare: Vec<(&str, Vec<u32>)> = Vec::new();
    for s in sources {
        if s.reference.is_some() {
            if !refs
                .iter()
                .any(|r| r.number == s.number && r.document == s.document)
            {
                refs.push(s);
            }
            continue;
        }
        match bare.iter_mut().find(|(d, _)| *d == s.document) {
            Some((_, nums)) => {
                if !nums.contains(&s.number) {
                    nums.push(s.number);
                }
            }
            None => bare.push((&s.document, vec![s.number])),
        }
    }
    refs.sort_by_key(|r| r.number);
    let mut parts: Vec<String> = refs.iter().map(|r| r.label()).collect();
    for (doc, mut nums) in bare {
        nums.sort_unstable();
        let n: Vec<String> = nums.iter().map(u32::to_string).collect();
        parts.push(match n.len() {
            1 => format!("source {} of {doc}", n[0]),
            _ => format!(
                "sources {} and {} of {doc}",
                n[..n.len() - 1].join(", "),
                n[n.len() - 1]
            ),
        });
    }
    parts.join("; ")
}

impl Statement {
    /// The section path joined for display: `A › B`.
    pub fn section_path(&self) -> String {
        self.section.join(" › ")
    }

    /// Whether this is only the opening of a list ("Calcinosis can be diagnosed through:"):
    /// it says little on its own, so searches rank it below statements with content.
    pub fn is_lead_in(&self) -> bool {
        self.text.ends_with(':') && self.citations.is_empty()
    }

    /// The statement as shown to a reader: its list's lead-in, its text and its citations,
    /// or "(no citation in source)" — never an invented one.
    pub fn cited_text(&self) -> String {
        let lead = self
            .lead_in
            .as_deref()
            .map(|l| format!("{l} "))
            .unwrap_or_default();
        format!("{lead}{} {}", self.text, self.source_label())
    }

    /// The citations for display: "(source 2 of the seed document)", the reference list's
    /// entries where the file has one, or "(no citation in source)" — never an invented one.
    pub fn source_label(&self) -> String {
        if self.citations.is_empty() {
            return if self.items_cited {
                "(cited on its items)".to_string()
            } else {
                "(no citation in source)".to_string()
            };
        }
        if self.sources.len() != self.citations.len() {
            return self.citation_label();
        }
        format!("({})", render_sources(&self.sources))
    }

    /// The citations for display: `[1, 4]`, or an empty string.
    pub fn citation_label(&self) -> String {
        if self.citations.is_empty() {
            String::new()
        } else {
            let nums: Vec<String> = self.citations.iter().map(u32::to_string).collect();
            format!("[{}]", nums.join(", "))
        }
    }
}

/// A heading of a statement file; kept even when no statement sits under it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heading {
    /// The heading path, this heading last.
    pub path: Vec<String>,
    /// The file it came from.
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// What one statement file holds.
#[derive(Debug, Default, Clone)]
pub struct ParsedFile {
    /// Statements in file order; ids are assigned later, across all files.
    pub statements: Vec<Statement>,
    /// Headings in file order.
    pub headings: Vec<Heading>,
    /// The reference list: `[n]: text` lines.
    pub references: Vec<(u32, String)>,
}

/// Parses one statement file. `file` is the name used in errors and in each statement.
pub fn parse(file: &str, source: &str) -> Result<ParsedFile> {
    let mut out = ParsedFile::default();
    let mut section: Vec<String> = Vec::new();
    // Lead-ins by list depth: index 0 is a paragraph lead-in for top-level bullets.
    let mut lead_ins: Vec<Option<String>> = Vec::new();
    let mut in_comment = false;

    for (idx, raw) in source.lines().enumerate() {
        let line_no = idx + 1;
        let err = |msg: &str| Error::syntax(file, line_no, msg);
        let line = raw.trim_end();
        if in_comment {
            in_comment = !line.contains("-->");
            continue;
        }
        if line.trim_start().starts_with("<!--") {
            in_comment = !line.contains("-->");
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if let Some((n, text)) = reference(line) {
            out.references.push((n, text.to_string()));
            continue;
        }

        if let Some(rest) = line.strip_prefix('#') {
            let level = 1 + rest.chars().take_while(|&c| c == '#').count();
            let title = rest.trim_start_matches('#');
            if !title.starts_with(' ') {
                return Err(err("a heading needs a space after its '#' marks"));
            }
            let title = title.trim();
            if title.is_empty() {
                return Err(err("empty heading: give it a title or remove the line"));
            }
            if level > section.len() + 1 {
                return Err(err(&format!(
                    "heading level {level} skips a level: the heading above is level {}",
                    section.len()
                )));
            }
            section.truncate(level - 1);
            section.push(title.to_string());
            lead_ins.clear();
            out.headings.push(Heading {
                path: section.clone(),
                file: file.to_string(),
                line: line_no,
            });
            continue;
        }

        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        let (depth, body) = if let Some(body) = trimmed.strip_prefix("- ") {
            if indent % 2 != 0 {
                return Err(err("bullets are indented by multiples of two spaces"));
            }
            let depth = indent / 2 + 1;
            if depth > 1 && depth > lead_ins.len() {
                return Err(err(
                    "this bullet is indented deeper than the list it belongs to",
                ));
            }
            (depth, body)
        } else if trimmed == "-" {
            return Err(err("empty bullet: write the statement after '- '"));
        } else {
            if indent != 0 {
                return Err(err(
                    "indented text that is not a bullet: start it with '- ' or remove the indent",
                ));
            }
            (0, trimmed)
        };
        if section.is_empty() {
            return Err(err(
                "statement before the first heading: add a '# Heading' above it",
            ));
        }

        let (text, citations) = split_citations(body).map_err(|m| err(&m))?;
        if text.is_empty() {
            return Err(err("a statement needs words before its citations"));
        }
        // A paragraph ends every open list; a bullet keeps the lead-ins above its depth.
        lead_ins.truncate(depth);
        let lead_in = lead_ins.iter().rev().flatten().next().cloned();
        out.statements.push(Statement {
            id: String::new(),
            section: section.clone(),
            lead_in,
            text: text.to_string(),
            citations,
            file: file.to_string(),
            line: line_no,
            sources: Vec::new(),
            cited_by_list: false,
            items_cited: false,
        });
        let is_lead_in = text.ends_with(':')
            && out
                .statements
                .last()
                .is_some_and(|s| s.citations.is_empty());
        lead_ins.resize(depth, None);
        lead_ins.push(is_lead_in.then(|| text.to_string()));
    }
    cite_lists(&mut out.statements);
    Ok(out)
}

/// Applies the convention that a citation after a list's last item cites the whole list: in
/// a run of items sharing a section and lead-in where only the last carries citations, the
/// others take them too (marked [`Statement::cited_by_list`]). A list whose items are cited
/// one by one is left as written, and nothing is cited that the source does not cite.
fn cite_lists(statements: &mut [Statement]) {
    let mut start = 0;
    while start < statements.len() {
        let same_list = |a: &Statement, b: &Statement| {
            a.lead_in.is_some() && a.lead_in == b.lead_in && a.section == b.section
        };
        let mut end = start + 1;
        while end < statements.len() && same_list(&statements[start], &statements[end]) {
            end += 1;
        }
        let run = &mut statements[start..end];
        if let Some((last, items)) = run.split_last_mut() {
            let only_last_cited = !items.is_empty()
                && !last.citations.is_empty()
                && items
                    .iter()
                    .all(|s| s.citations.is_empty() && !s.text.ends_with(':'));
            if only_last_cited {
                for s in items {
                    s.citations = last.citations.clone();
                    s.cited_by_list = true;
                }
            }
        }
        start = end;
    }
    // A lead-in is cited through its items when any of them carries a citation.
    let cited: std::collections::HashSet<(Vec<String>, String)> = statements
        .iter()
        .filter(|t| !t.citations.is_empty())
        .filter_map(|t| Some((t.section.clone(), t.lead_in.clone()?)))
        .collect();
    for s in statements.iter_mut().filter(|s| s.is_lead_in()) {
        s.items_cited = cited.contains(&(s.section.clone(), s.text.clone()));
    }
}

/// A reference list entry, `[4]: Author. Title. Journal 2020.`, as its number and text.
fn reference(line: &str) -> Option<(u32, &str)> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find("]:")?;
    let n = rest[..close].trim().parse::<u32>().ok()?;
    let text = rest[close + 2..].trim();
    (!text.is_empty()).then_some((n, text))
}

/// Splits `text [1, 4]` into the text and its citation numbers.
fn split_citations(body: &str) -> std::result::Result<(&str, Vec<u32>), String> {
    let body = body.trim();
    let Some(open) = body.strip_suffix(']').and_then(|b| b.rfind('[')) else {
        return Ok((body, Vec::new()));
    };
    let inner = &body[open + 1..body.len() - 1];
    let mut citations = Vec::new();
    for part in inner.split(',') {
        let part = part.trim();
        match part.parse::<u32>() {
            Ok(n) => citations.push(n),
            Err(_) => {
                return Err(format!(
                    "citation list '[{inner}]' must be numbers separated by commas, like [1, 4]"
                ))
            }
        }
    }
    Ok((body[..open].trim_end(), citations))
}

/// Lower-case, ASCII-only slug of a heading: `Systemic Sclerosis` → `systemic-sclerosis`.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("section");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_lead_ins_and_citations() {
        let src = "# A\n\nIntro:\n\n- one [1, 4]\n- group:\n  - sub\n  - last [2]\n- after [3]\n\n## B\n- x\n";
        let f = parse("t.md", src).unwrap();
        let s = &f.statements;
        assert_eq!(s[0].text, "Intro:");
        assert_eq!(s[1].citations, vec![1, 4]);
        assert_eq!(s[1].lead_in.as_deref(), Some("Intro:"));
        assert_eq!(s[3].lead_in.as_deref(), Some("group:"));
        assert_eq!(s[4].citations, vec![2]);
        assert_eq!(s[5].lead_in.as_deref(), Some("Intro:"));
        assert_eq!(s[6].section, vec!["A", "B"]);
        assert_eq!(s[6].lead_in, None);
        assert_eq!(f.headings.len(), 2);
        assert!(f.references.is_empty());
        // "sub" takes the citation written after its list's last item.
        assert_eq!(s[3].citations, vec![2]);
        assert!(s[3].cited_by_list && !s[4].cited_by_list);
        // Items cited one by one, or a paragraph, are left as written.
        assert!(!s[1].cited_by_list && s[6].citations.is_empty());
        // A lead-in is shown as cited on its items, never as uncited, when they are cited.
        assert!(s[0].items_cited && s[0].source_label() == "(cited on its items)");
        assert!(!s[6].items_cited && s[6].source_label() == "(no citation in source)");
    }

    #[test]
    fn a_list_cited_item_by_item_keeps_its_gaps() {
        let f = parse("t.md", "# A\nL:\n- a [1]\n- b\n- c [2]\n").unwrap();
        let s = &f.statements;
        assert!(s[2].citations.is_empty(), "b is not cited in the source");
    }

    #[test]
    fn reference_lists_and_source_labels() {
        let f = parse(
            "t.md",
            "# A\n- x [2, 1]\n\n[1]: Smith J. Calcinosis. 2020\n",
        )
        .unwrap();
        assert_eq!(f.statements.len(), 1);
        assert_eq!(
            f.references,
            vec![(1, "Smith J. Calcinosis. 2020".to_string())]
        );
        let seed = |n| Source {
            number: n,
            reference: None,
            document: "the seed document".into(),
        };
        assert_eq!(
            render_sources(&[seed(4), seed(1), seed(4)]),
            "sources 1 and 4 of the seed document"
        );
        let r = Source {
            number: 1,
            reference: Some("Smith 2020".into()),
            document: "t.md".into(),
        };
        assert_eq!(
            render_sources(&[seed(2), r]),
            "[1] Smith 2020; source 2 of the seed document"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("c.md", "# A\n- fine [1]\n- bad [1, x]\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.md:3: citation list '[1, x]' must be numbers separated by commas, like [1, 4]"
        );
        let e = parse("c.md", "text first\n").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("c.md:1: statement before the first heading"));
        let e = parse("c.md", "# A\n### C\n").unwrap_err();
        assert!(e.to_string().starts_with("c.md:2: heading level 3 skips"));
        let e = parse("c.md", "# A\n   - odd\n").unwrap_err();
        assert!(e.to_string().starts_with("c.md:2: bullets are indented"));
        let e = parse("c.md", "# A\n- [2]\n").unwrap_err();
        assert!(e.to_string().starts_with("c.md:2: a statement needs words"));
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Systemic Sclerosis"), "systemic-sclerosis");
        assert_eq!(
            slug("Clinical Pitfalls and Caveats"),
            "clinical-pitfalls-and-caveats"
        );
        assert_eq!(slug("§"), "section");
    }
}
