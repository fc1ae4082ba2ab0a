//! The corpus's structure as the ranking sees it: its lists (an opening line and its items),
//! its empty headings, and what is known about each statement (its roots in text, lead-in and
//! heading), computed on first use.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::corpus::lexicon::Category;
use crate::corpus::{Corpus, Statement};
use crate::matcher::TermMatcher;

use super::text::TextAnalysis;
use super::vocabulary::{matches_at, Lexis};

/// A list of the corpus: its opening line (if it is a statement) and its items, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct List {
    pub(crate) lead: Option<usize>,
    pub(crate) items: Vec<usize>,
}

/// A heading under which the sources list nothing (or only a list opening with no items).
#[derive(Debug, Clone)]
pub(crate) struct Empty {
    pub(crate) path: Vec<String>,
    pub(crate) roots: Vec<String>,
    pub(crate) opening: Option<usize>,
}

/// What is known about one statement for ranking, computed on first use.
#[derive(Debug, Clone)]
pub(crate) struct Feats {
    /// Every root of text, lead-in and section: most alternatives fail on their first root.
    pub(crate) all: HashSet<String>,
    pub(crate) text: Vec<String>,
    /// The roots of the text with the words of multi-word disease names blanked: what it
    /// states in words of its own.
    pub(crate) free: Vec<String>,
    pub(crate) lead: Vec<String>,
    pub(crate) section: Vec<String>,
    /// It gives a figure: a number, a percentage, or a share in words from the
    /// vocabulary's `[[figure]]` ("nearly all joints" answers "how many joints").
    pub(crate) digit: bool,
    /// A list opening with no items and nothing to say on its own ("Other approaches:").
    pub(crate) bare: bool,
}

/// Builds the corpus's lists: items share their section and lead-in.
pub(crate) fn lists(statements: &[Statement]) -> (Vec<Option<usize>>, Vec<List>) {
    let mut by_key: HashMap<(String, String), usize> = HashMap::new();
    let mut lists: Vec<List> = Vec::new();
    let mut list_of = vec![None; statements.len()];
    for (i, s) in statements.iter().enumerate() {
        let key = match (&s.lead_in, s.is_lead_in()) {
            (_, true) => (s.section_path(), s.text.clone()),
            (Some(l), false) => (s.section_path(), l.clone()),
            (None, false) => continue,
        };
        let id = *by_key.entry(key).or_insert_with(|| {
            lists.push(List::default());
            lists.len() - 1
        });
        if s.is_lead_in() && lists[id].lead.is_none() {
            lists[id].lead = Some(i);
        } else {
            lists[id].items.push(i);
        }
        list_of[i] = Some(id);
    }
    (list_of, lists)
}

/// Headings with nothing under them but, at most, one list opening without items.
pub(crate) fn empties(
    corpus: &Corpus,
    lists: &[List],
    list_of: &[Option<usize>],
    ta: &TextAnalysis,
) -> Vec<Empty> {
    // Per heading path: how many statements sit under it, and the first of them.
    let mut under: HashMap<&[String], (usize, usize, bool)> = HashMap::new();
    for (i, s) in corpus.statements.iter().enumerate() {
        let empty_opening = s.is_lead_in() && list_of[i].is_none_or(|l| lists[l].items.is_empty());
        for depth in 1..=s.section.len() {
            let e = under.entry(&s.section[..depth]).or_insert((0, i, true));
            e.0 += 1;
            e.2 &= empty_opening;
        }
    }
    corpus
        .headings
        .iter()
        .filter_map(|h| {
            let opening = match under.get(h.path.as_slice()) {
                None => None,
                Some(&(1, i, true)) => Some(i),
                Some(_) => return None,
            };
            Some(Empty {
                roots: h.path.last().map(|t| ta.roots(t)).unwrap_or_default(),
                path: h.path.clone(),
                opening,
            })
        })
        .collect()
}
impl Lexis {
    /// What is known about statement `i` for ranking, worked out on first use. The term
    /// matcher finds the disease names in its text: their words say nothing of their own.
    pub(crate) fn feats(&self, corpus: &Corpus, matcher: &TermMatcher, i: usize) -> &Feats {
        self.feats[i].get_or_init(|| {
            let s = &corpus.statements[i];
            let text = self.ta.roots(&s.text);
            // Disease names of more than one word ("limited cutaneous systemic sclerosis").
            let names: Vec<Range<usize>> = matcher
                .find(&s.text)
                .into_iter()
                .filter(|m| corpus.lexicon.term(m.term).category == Category::Disease)
                .filter(|m| s.text[m.range.clone()].contains(char::is_whitespace))
                .map(|m| m.range)
                .collect();
            let words = self.ta.words(&s.text);
            let free = words
                .iter()
                .filter_map(|w| {
                    let named = names
                        .iter()
                        .any(|r| w.range.start >= r.start && w.range.end <= r.end);
                    let root = w.root.as_ref()?;
                    Some(if named { String::new() } else { root.clone() })
                })
                .collect();
            let items = self.list_of[i]
                .map(|l| self.lists[l].lead == Some(i) && !self.lists[l].items.is_empty())
                .unwrap_or(false);
            let content = words
                .iter()
                .filter(|w| !self.ignore.contains(&w.lower))
                .filter_map(|w| w.root.as_ref())
                .filter(|r| !self.is_topic_root(r))
                .count();
            let lead: Vec<String> = s
                .lead_in
                .as_deref()
                .map(|l| self.ta.roots(l))
                .unwrap_or_default();
            let section: Vec<String> = s.section.iter().flat_map(|h| self.ta.roots(h)).collect();
            Feats {
                all: text.iter().chain(&lead).chain(&section).cloned().collect(),
                lead,
                section,
                digit: s.text.chars().any(|c| c.is_ascii_digit() || c == '%')
                    || (0..words.len())
                        .any(|at| self.figure_words.iter().any(|p| matches_at(&words, at, p))),
                bare: s.is_lead_in() && !items && content <= 2,
                text,
                free,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kb;

    #[test]
    fn lists_and_empty_headings_of_the_seed() {
        let kb = test_kb();
        let lx = &kb.lexis;
        let titles: Vec<&str> = lx
            .empties
            .iter()
            .filter_map(|e| e.path.last().map(String::as_str))
            .collect();
        assert!(
            titles.contains(&"Other Connective Tissue Diseases"),
            "{titles:?}"
        );
        assert!(titles.contains(&"Diagnostic Approaches"), "{titles:?}");
        assert!(!titles.contains(&"Treatment Challenges"), "{titles:?}");
        // Every list's items share their lead-in; the anatomical list has six.
        let st = &test_kb().corpus().statements;
        let anat = lx
            .lists
            .iter()
            .find(|l| {
                l.lead
                    .is_some_and(|i| st[i].text.starts_with("Calcinosis can present"))
            })
            .expect("anatomical list");
        assert_eq!(anat.items.len(), 6);
        // A bare opening says nothing on its own.
        let other = st
            .iter()
            .position(|s| s.text == "Other approaches:")
            .unwrap();
        assert!(lx.feats(&kb.corpus, &kb.matcher, other).bare);
    }
}
