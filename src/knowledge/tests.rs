//! Tests of the knowledge base as a whole: what hover, completion and `ask` get from it.

use super::*;

fn kb() -> Knowledge {
    Knowledge::in_memory(Corpus::embedded().unwrap()).unwrap()
}

#[test]
fn search_ranks_jdm_statements_first() {
    let kb = kb();
    let hits = kb
        .search(
            "what is calcinosis associated with in juvenile dermatomyositis",
            5,
        )
        .unwrap();
    let top: Vec<&str> = hits
        .iter()
        .take(3)
        .map(|h| h.statement.text.as_str())
        .collect();
    assert!(top.iter().all(|t| t.contains("JDM")), "{top:#?}");
    let hits = kb.search("anticentromere", 3).unwrap();
    assert_eq!(hits[0].statement.text, "Positive anticentromere antibody");
    assert_eq!(
        hits[0].statement.section.last().unwrap(),
        "Systemic Sclerosis"
    );
}

#[test]
fn lookup_ranks_by_role() {
    let kb = kb();
    let calcinosis = kb.corpus().lexicon.find("calcinosis").unwrap();
    // Found in a note, calcinosis is a CREST feature: the CREST statement comes first.
    let hits = kb.lookup(calcinosis, 3).unwrap();
    assert!(
        hits[0].statement.text.contains("CREST syndrome"),
        "{:?}",
        hits[0].statement.text
    );
    let sites = kb.lookup_in_role(calcinosis, Some("site"), 3).unwrap();
    assert_eq!(sites[0].statement.section, vec!["Anatomical Distribution"]);
    let treat = kb.lookup_in_role(calcinosis, Some("treatment"), 3).unwrap();
    assert!(treat[0].statement.text.to_lowercase().contains("treatment"));
    assert!(hits
        .iter()
        .chain(&sites)
        .chain(&treat)
        .all(|h| !h.statement.text.ends_with("through:")));
}

#[test]
fn every_terms_first_statement_states_it() {
    let kb = kb();
    let key = |s: &str| form_key(s).replace('\'', "");
    for (id, t) in kb.corpus().lexicon.terms().iter().enumerate() {
        let hits = kb.lookup(id, 1).unwrap();
        let Some(h) = hits.first() else { continue };
        let s = h.statement;
        let hay = key(&format!("{} {}", s.text, s.section_path()));
        let forms: Vec<String> = std::iter::once(&t.name)
            .chain(&t.synonyms)
            .chain(&t.abbreviations)
            .chain(t.query.iter())
            .map(|f| key(f))
            .collect();
        let stated = forms.iter().any(|f| {
            hay.contains(f.as_str())
                || f.split(' ')
                    .filter(|w| w.len() > 3)
                    .any(|w| hay.contains(w))
        });
        assert!(stated, "{}: {:?}", t.name, s.text);
        assert!(!s.text.ends_with("through:"), "{}", t.name);
    }
}

#[test]
fn ask_understands_answers_and_abstains() {
    let kb = kb();
    let r = kb.ask("how is calcinosis treated", 5).unwrap();
    assert!(r.answered);
    assert!(
        r.hits[0].statement.text.starts_with("Surgical excision"),
        "{:?}",
        r.hits[0].statement.text
    );
    let r = kb.ask("Tx of calcinosis?", 5).unwrap();
    assert!(r.hits[0].statement.text.starts_with("Surgical excision"));
    // A disease narrows the answer type; it does not take over.
    let r = kb
        .ask(
            "what complications does calcinosis cause in scleroderma?",
            5,
        )
        .unwrap();
    assert_eq!(r.hits[0].statement.section, vec!["Clinical Implications"]);
    // The whole list when the question asks for it.
    let r = kb.ask("where does calcinosis occur", 5).unwrap();
    let (_, items) = r.list.as_ref().expect("whole list");
    assert_eq!(items.len(), 6);
    assert!(r
        .short_answer()
        .starts_with("Anatomical Distribution: Calcinosis can present"));
    // Not covered: said so, with JSON-visible flags.
    let r = kb.ask("does calcinosis occur in lupus?", 5).unwrap();
    assert!(!r.answered);
    assert_eq!(r.confidence, 0.0);
    assert!(r
        .short_answer()
        .starts_with("The sources do not cover lupus."));
    assert!(r
        .short_answer()
        .contains("Other Connective Tissue Diseases"));
    assert!(r.hits.iter().all(|h| !h.answered));
    // An empty heading is never an answer.
    let r = kb.ask("how is calcinosis diagnosed", 5).unwrap();
    assert!(!r.answered);
    assert!(r.short_answer().contains("Diagnostic Approaches"));
    assert!(r
        .hits
        .iter()
        .all(|h| !h.statement.text.ends_with("through:")));
    // Typos in ordinary words.
    let r = kb.ask("whre does calcinosis ocur", 5).unwrap();
    assert_eq!(r.hits[0].statement.section, vec!["Anatomical Distribution"]);
}

#[test]
fn follow_ups_refer_to_the_previous_question() {
    let kb = kb();
    let q = kb
        .follow_up(
            "how common is calcinosis in systemic sclerosis?",
            "and in dermatomyositis?",
        )
        .unwrap();
    assert!(
        q.contains("dermatomyositis") && !q.contains("systemic sclerosis"),
        "{q}"
    );
    assert!(q.contains("how common"), "{q}");
    assert_eq!(
        kb.follow_up(
            "how common is calcinosis in SSc?",
            "where does calcinosis occur?"
        ),
        None
    );
}

#[test]
fn lookup_finds_term_statements() {
    let kb = kb();
    let rp = kb.corpus().lexicon.find("RP").unwrap();
    let hits = kb.lookup(rp, 3).unwrap();
    assert!(hits[0].statement.text.contains("Raynaud's phenomenon"));
    let jdm = kb.corpus().lexicon.find("JDM").unwrap();
    let hits = kb.lookup(jdm, 5).unwrap();
    assert!(hits.len() >= 3);
    assert!(hits
        .iter()
        .take(3)
        .all(|h| h.statement.text.contains("JDM")));
}
