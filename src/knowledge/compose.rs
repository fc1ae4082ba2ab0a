//! Stage 5 — composition: the text answer a clinician reads. It is grounded: every sentence
//! is a statement's own text or one of the fixed templates below around it, and every claim
//! carries its own citation. Nothing is generated.
//!
//! Templates, in the order they can appear:
//! - `Read “surgicle” as “surgical”.` for each correction; `Not understood: “Abs”.`;
//! - an abstention's message, then the nearest statement, labelled as such;
//! - `The sources give approximately 25%, not about half.` when the question states a
//!   figure the best statement contradicts (and likewise `common, not rare`);
//! - `Yes.` for a yes/no question only when the best statement states everything asked;
//!   otherwise a yes/no question opens with `The sources say:`;
//! - `On X: …` / `On Y: the sources do not cover it.` for each side of "X or Y";
//! - a list's opening with `(k of n listed)` whenever not all its items are shown, and
//!   `“pain” left out, as asked` for an exclusion.

use crate::corpus::Statement;

use super::question::{ConceptKind, Question};
use super::rank::{coverage, Scored};
use super::shape::numeric_figure;
use super::{Hit, Reply};

/// At most this many statements make up a short answer (a whole list is shown whole).
const CLAIMS: usize = 3;
/// A statement joins the answer when it scores at least this share of the best one.
const NEAR_BEST: f32 = 0.75;
/// Figures closer than this (percentage points) agree.
const FIGURE_TOLERANCE: f32 = 5.0;

/// The composed text answer for a reply (see the module documentation).
pub(crate) fn compose(reply: &Reply<'_>) -> String {
    let q = &reply.question;
    let mut lines: Vec<String> = Vec::new();
    for c in &q.corrections {
        lines.push(format!(
            "Read \u{201c}{}\u{201d} as \u{201c}{}\u{201d}.",
            c.from, c.to
        ));
    }
    if let Some((said, why)) = &reply.other_ask {
        lines.push(format!("On \u{201c}{said}\u{201d}: {}", why.message()));
    }
    if let Some(a) = &reply.abstention {
        lines.push(a.message());
        if let Some(h) = reply.hits.first() {
            lines.push(format!(
                "Nearest in the sources ({}), which does not answer the question: {}",
                h.statement.section_path(),
                claim(h.statement, None)
            ));
        }
        return lines.join("\n");
    }
    let aside = q.set_aside();
    if !aside.is_empty() {
        let named: Vec<&str> = aside.iter().map(|c| c.said.as_str()).collect();
        lines.push(format!(
            "The sources do not cover {}; the answer below leaves {} out.",
            named.join(", "),
            if named.len() == 1 { "it" } else { "them" }
        ));
    }
    if !q.not_understood.is_empty() {
        let words: Vec<String> = q
            .not_understood
            .iter()
            .map(|w| format!("\u{201c}{w}\u{201d}"))
            .collect();
        lines.push(format!(
            "Not understood: {}; the answer below leaves {} out.",
            words.join(", "),
            if words.len() == 1 { "it" } else { "them" }
        ));
    }
    let Some(top) = reply.hits.first() else {
        return lines.join("\n");
    };
    if !reply.sides.is_empty() {
        lines.extend(reply.sides.iter().map(|(said, best)| match best {
            Some(s) => format!("On {said}: {}: {}", s.section_path(), claim(s, None)),
            None => format!("On {said}: the sources do not cover it."),
        }));
        return lines.join("\n");
    }
    let premise = premise(q, top.statement);
    let claims = if let Some((lead, items)) = &reply.list {
        vec![whole_list(q, *lead, items)]
    } else {
        // One line per list (its items with their own citations), one per statement else.
        let chosen = chosen(reply);
        let mut groups: Vec<Vec<&Statement>> = Vec::new();
        for s in chosen {
            let same = |o: &&Statement| {
                o.lead_in.is_some() && o.lead_in == s.lead_in && o.section == s.section
            };
            match groups.iter_mut().find(|g| g.first().is_some_and(&same)) {
                Some(g) => g.push(s),
                None => groups.push(vec![s]),
            }
        }
        groups
            .iter()
            .map(|g| {
                let first = g[0];
                let n = list_size(reply, first);
                let Some(lead) = first.lead_in.as_ref().filter(|_| g.len() > 1) else {
                    return format!(
                        "{}: {}",
                        first.section_path(),
                        claim(first, n.map(|n| (1, n)))
                    );
                };
                let items: Vec<String> = g.iter().map(|s| item(s)).collect();
                let shown = match n {
                    Some(n) if g.len() < n => format!(" ({} of {n} listed)", g.len()),
                    _ => String::new(),
                };
                format!(
                    "{}: {}{shown}: {}.",
                    first.section_path(),
                    lead.trim_end_matches(':'),
                    items.join("; ")
                )
            })
            .collect()
    };
    if let Some(p) = &premise {
        lines.push(p.clone());
    } else if q.yes_no {
        // A contradicting word the premise did not correct is not stated either.
        let direct = !q.qualified
            && q.contrary.is_none()
            && reply
                .top_scored
                .as_ref()
                .is_some_and(|s| states_all(q, s, top.statement, &reply.hedges));
        lines.push(if direct { "Yes." } else { "The sources say:" }.to_string());
    }
    match claims.as_slice() {
        [one] if lines.last().is_some_and(|l| l == "Yes.") => {
            if let Some(l) = lines.last_mut() {
                *l = format!("Yes. {one}");
            }
        }
        [one] => lines.push(one.clone()),
        many => lines.extend(many.iter().map(|c| format!("- {c}"))),
    }
    lines.join("\n")
}

/// Whether a statement says directly what a yes/no question asks: it states every concept
/// asked about (a plain word in its own text, a named thing there or in its heading), it
/// gives the kind of answer asked for, the question holds no word that no statement uses,
/// and the statement does not hedge ("may", "proposed").
fn states_all(q: &Question, s: &Scored, statement: &Statement, hedges: &[String]) -> bool {
    let hedged = |text: &str| {
        text.split(|c: char| !c.is_alphanumeric())
            .any(|w| hedges.iter().any(|h| h.eq_ignore_ascii_case(w)))
    };
    coverage(q, s) >= 0.999
        && q.unstated.is_empty()
        && !hedged(&statement.text)
        && !statement.lead_in.as_deref().is_some_and(hedged)
        && q.concepts
            .iter()
            .zip(s.in_text.iter().zip(&s.matched))
            .all(|(c, (&text, &any))| {
                c.topic || c.excluded || text || (any && c.kind != ConceptKind::Word)
            })
}

/// The statements close to the best one, in rank order. A list's opening is a header, never
/// a claim of its own, when the list has items.
fn chosen<'a>(reply: &Reply<'a>) -> Vec<&'a Statement> {
    let opens_items =
        |s: &Statement| s.is_lead_in() && reply.opens.get(&s.id).is_some_and(|&n| n > 0);
    let claims: Vec<&Hit<'a>> = reply
        .hits
        .iter()
        .filter(|h| !opens_items(h.statement))
        .collect();
    let Some(top) = claims.first() else {
        return Vec::new();
    };
    // "Which site is most common?": the statement saying "most common" is the answer; the
    // sites near it are not.
    if reply
        .top_scored
        .as_ref()
        .is_some_and(|s| s.states_comparison)
        && reply.hits.first().map(|h| &h.statement.id) == Some(&top.statement.id)
    {
        return vec![top.statement];
    }
    claims
        .iter()
        .take(CLAIMS)
        .filter(|h| h.score >= top.score * NEAR_BEST)
        .map(|h| h.statement)
        .collect()
}

/// One claim: the statement's text (after its list's opening, with how much of that list
/// is shown) and its own citation.
fn claim(s: &Statement, shown_of: Option<(usize, usize)>) -> String {
    let body = body(s);
    let text = match (&s.lead_in, shown_of) {
        (Some(l), Some((k, n))) if k < n => format!(
            "{} ({k} of {n} listed): {}",
            l.trim_end_matches(':'),
            inline(&body)
        ),
        (Some(l), _) => format!("{l} {}", inline(&body)),
        (None, _) => body,
    };
    format!("{text} {}.", s.source_label())
}

/// A statement's words as a claim: a list opening shown as a claim says that nothing follows
/// it in the source.
fn body(s: &Statement) -> String {
    if s.is_lead_in() {
        format!(
            "{} (the source lists nothing under it)",
            s.text.trim_end_matches(':')
        )
    } else {
        s.text.trim_end_matches('.').to_string()
    }
}

/// A statement shown as an item of its list: lower-cased first letter, its own citation.
fn item(s: &Statement) -> String {
    format!("{} {}", inline(&body(s)), s.source_label())
}

/// How many items the list a statement belongs to has, if it is an item of one.
fn list_size(reply: &Reply<'_>, s: &Statement) -> Option<usize> {
    s.lead_in.as_ref()?;
    reply.list_len.get(&s.id).copied()
}

/// A whole list: its opening, then every item with its own citation.
fn whole_list(q: &Question, lead: Option<&Statement>, items: &[&Statement]) -> String {
    let section = items.first().map(|s| s.section_path()).unwrap_or_default();
    let opening = lead
        .map(|l| l.text.clone())
        .or_else(|| items.first().and_then(|s| s.lead_in.clone()))
        .unwrap_or_default();
    let listed: Vec<String> = items.iter().map(|s| item(s)).collect();
    let left_out: Vec<String> = q
        .concepts
        .iter()
        .filter(|c| c.excluded)
        .map(|c| format!("\u{201c}{}\u{201d}", c.said))
        .collect();
    let note = if left_out.is_empty() {
        String::new()
    } else {
        format!(" ({} left out, as asked)", left_out.join(", "))
    };
    format!(
        "{section}: {}{note}: {}.",
        opening.trim_end_matches(':'),
        listed.join("; ")
    )
}

/// A figure or frequency word in the question that the best statement contradicts.
fn premise(q: &Question, s: &Statement) -> Option<String> {
    if let Some(asked) = &q.figure {
        let (given, percent) = statement_figure(&s.text)?;
        if (percent - asked.percent).abs() > FIGURE_TOLERANCE {
            return Some(format!("The sources give {given}, not {}.", asked.said));
        }
        return None;
    }
    let contrary = q.contrary.as_ref()?;
    let lower = s.text.to_lowercase();
    let says = lower
        .split(|c: char| !c.is_alphanumeric())
        .collect::<Vec<_>>();
    let at = says
        .iter()
        .position(|w| contrary.instead.iter().any(|i| i == w))?;
    // "less common" or "not common" agrees with "rare": no correction.
    let qualified = at > 0 && matches!(says[at - 1], "less" | "un" | "not" | "rarely");
    (!qualified).then(|| format!("The sources say {}, not {}.", says[at], contrary.said))
}

/// A statement's figure with the word qualifying it ("approximately 25%").
fn statement_figure(text: &str) -> Option<(String, f32)> {
    let f = numeric_figure(text)?;
    let at = text.find(&f.said)?;
    let before = text[..at].trim_end();
    let qualifier = before.rsplit(' ').next().filter(|w| {
        matches!(
            w.to_ascii_lowercase().as_str(),
            "approximately" | "about" | "around" | "nearly" | "roughly" | "over" | "under"
        )
    });
    Some(match qualifier {
        Some(w) => (format!("{w} {}", f.said), f.percent),
        None => (f.said, f.percent),
    })
}

/// Lower-cases the first letter of a list item shown inline, unless it starts an acronym.
pub(crate) fn inline(text: &str) -> String {
    let mut cs = text.chars();
    match (cs.next(), cs.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            let mut out = a.to_lowercase().to_string();
            out.push_str(&text[a.len_utf8()..]);
            out
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kb;

    fn text(q: &str) -> String {
        test_kb().ask(q, 5).unwrap().short_answer()
    }

    #[test]
    fn a_side_is_stated_by_its_own_name_not_a_broader_one() {
        // dcSSc is searched under "systemic sclerosis", but "25 % of systemic sclerosis"
        // says nothing of dcSSc.
        let t = text("Is calcinosis more frequent in lcSSc or in dcSSc?");
        assert!(t.contains("On dcSSc: the sources do not cover it."), "{t}");
        assert!(t.contains("On lcSSc: "), "{t}");
    }

    #[test]
    fn a_word_contrary_to_the_statements_is_corrected() {
        let t = text("Does calcinosis in JDM mean the disease is quiescent?");
        assert!(
            t.starts_with("The sources say active, not quiescent."),
            "{t}"
        );
        let t = text("Is calcinosis restricted to the skin?");
        assert!(t.starts_with("The sources say:"), "{t}");
        assert!(t.contains("intramuscular"), "{t}");
    }

    #[test]
    fn yes_only_when_a_statement_says_so() {
        let t = text("Is calcinosis a common complication in juvenile dermatomyositis?");
        assert!(t.starts_with("Yes. "), "{t}");
        assert!(
            t.contains("Common complication in juvenile dermatomyositis (JDM)"),
            "{t}"
        );
        // "only" makes the claim absolute: never a bare yes.
        let t = text("Does calcinosis only occur in the fingers?");
        assert!(!t.contains("Yes"), "{t}");
        assert!(t.starts_with("The sources say:"), "{t}");
    }

    #[test]
    fn a_false_premise_is_corrected() {
        let t = text("Do about half of patients with systemic sclerosis get calcinosis?");
        assert!(
            t.starts_with("The sources give approximately 25%, not about half."),
            "{t}"
        );
        assert!(!t.contains("Yes"), "{t}");
        let t = text("Is calcinosis rare in juvenile dermatomyositis?");
        assert!(t.starts_with("The sources say common, not rare."), "{t}");
        let t = text("Is calcinosis linked to a shorter course of scleroderma?");
        assert!(t.starts_with("The sources say longer, not shorter."), "{t}");
        assert!(t.contains("longer disease duration"), "{t}");
        // Fractions in words are figures too; "abnormal" meets the statement's "normal".
        let t = text("Do two thirds of SSc patients develop calcinosis?");
        assert!(
            t.starts_with("The sources give approximately 25%, not two thirds."),
            "{t}"
        );
        let t = text("Is phosphate metabolism deranged in dystrophic calcinosis?");
        assert!(
            t.starts_with("The sources say normal, not deranged."),
            "{t}"
        );
    }

    #[test]
    fn what_no_statement_states_never_gets_a_bare_yes() {
        for q in [
            // A body part no statement names.
            "Can calcium lumps grow in the arm?",
            "I have a hard lump near my hip joint, could that be calcinosis?",
            // A change or a cause the statements do not state in those words.
            "Does calcinosis get worse the longer you have scleroderma?",
            // A contradicting word the best statement does not correct.
            "Is it associated with early, short disease in scleroderma?",
        ] {
            let t = text(q);
            assert!(!t.starts_with("Yes"), "{q}: {t}");
            assert!(t.starts_with("The sources say"), "{q}: {t}");
        }
    }

    #[test]
    fn a_superlative_is_answered_by_the_statement_saying_it() {
        let t = text("Which site is most commonly affected by calcinosis?");
        assert!(
            t.contains("(1 of 6 listed): subcutaneous tissues (most common)"),
            "{t}"
        );
        assert!(!t.contains("spinal"), "{t}");
        // "How common" asks for a frequency, not a comparison: both figures stay.
        let t = text("How common is calcinosis in SSc?");
        assert!(
            t.contains("approximately 25%") && t.contains("Most commonly"),
            "{t}"
        );
    }

    #[test]
    fn a_lead_in_never_stands_for_its_whole_list() {
        let t = text("Is dystrophic calcification a mechanism of calcinosis?");
        assert!(t.contains("(1 of 5 listed)"), "{t}");
        // The lead-in's own wording asked: what it opens is the answer, all of it.
        let t = text("What mechanisms have been proposed for calcinosis?");
        assert!(!t.contains(" listed)"), "{t}");
        for item in [
            "local tissue trauma",
            "vascular hypoxia",
            "dystrophic calcification",
        ] {
            assert!(t.contains(item), "{item}: {t}");
        }
    }

    #[test]
    fn each_claim_has_its_own_citation() {
        // Every line of a multi-statement answer ends with its own citation.
        let t = text("Ca deposits in SSc pts: which Abs are assoc?");
        for line in t.lines().filter(|l| l.starts_with("- ")) {
            assert!(line.ends_with("of the seed document)."), "{line}");
        }
        // A list item cited after the list's last item shows that citation.
        let t = text("Are digital ulcers associated with calcinosis in SSc?");
        assert!(
            t.contains("digital ulcers (source 2 of the seed document)"),
            "{t}"
        );
        assert!(!t.contains("no citation in source"), "{t}");
    }

    #[test]
    fn each_side_of_a_comparison() {
        let t = text("Is calcinosis more frequent in SSc or in dermatomyositis?");
        let sides: Vec<&str> = t.lines().filter(|l| l.starts_with("On ")).collect();
        assert_eq!(sides.len(), 2, "{t}");
        let t = text("Calcinosis in lupus vs SSc?");
        assert!(t.contains("On lupus: the sources do not cover it."), "{t}");
        assert!(t.contains("On SSc: "), "{t}");
    }

    #[test]
    fn corrections_and_exclusions_are_said() {
        let t = text("What are the surgicle options for calcinosis?");
        assert!(
            t.starts_with("Read \u{201c}surgicle\u{201d} as \u{201c}surgical\u{201d}."),
            "{t}"
        );
        let t = text("What complications can calcinosis cause besides pain?");
        assert!(t.contains("\u{201c}pain\u{201d} left out, as asked"), "{t}");
        assert!(!t.contains("pain and disability"), "{t}");
    }
}
