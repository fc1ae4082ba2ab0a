//! `ask` quality on the project's five question sets (`tests/data/questions.tsv`, written for
//! issue 12, `tests/data/questions-2.tsv`, written blind for issue 20,
//! `tests/data/questions-3.tsv`, ordinary words and nearby uncovered topics,
//! `tests/data/questions-4.tsv`, written blind in clinicians' styles, and
//! `tests/data/questions-5.tsv`, written blind in note-writers', patients' and teachers'
//! styles): MRR@5, hit@1,
//! recall@5 and abstention precision/recall for the ranking, next to a plain BM25 baseline
//! over the same statements (no lexicon, no vocabulary). Failures are printed for the `dev`
//! split only: the `held` split is never tuned on. `cargo test --test ask -- --nocapture`
//! prints the table recorded in BENCHMARKS.md.
//!
//! The composition golden suite (`tests/data/golden/answers.golden`) pins the full text
//! answer of every question in `tests/data/answers.txt`: rewrite it with `GOLDEN=update` after
//! a deliberate change, and read the diff as a clinician would.

use calcinosis_ls::corpus::Corpus;
use calcinosis_ls::knowledge::Knowledge;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

struct Q {
    set: &'static str,
    split: String,
    kind: String,
    text: String,
    relevant: Vec<String>,
}

fn questions() -> Vec<Q> {
    let one = include_str!("data/questions.tsv")
        .lines()
        .map(|l| ("set 1", l, 4));
    let two = include_str!("data/questions-2.tsv")
        .lines()
        .map(|l| ("set 2", l, 5));
    let three = include_str!("data/questions-3.tsv")
        .lines()
        .map(|l| ("set 3", l, 5));
    let four = include_str!("data/questions-4.tsv")
        .lines()
        .map(|l| ("set 4", l, 5));
    let five = include_str!("data/questions-5.tsv")
        .lines()
        .map(|l| ("set 5", l, 5));
    let six = include_str!("data/questions-6.tsv")
        .lines()
        .map(|l| ("set 6", l, 5));
    let seven = include_str!("data/questions-7.tsv")
        .lines()
        .map(|l| ("set 7", l, 5));
    one.chain(two)
        .chain(three)
        .chain(four)
        .chain(five)
        .chain(six)
        .chain(seven)
        .filter(|(_, l, _)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(set, l, columns)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), columns, "bad line {l:?}");
            Q {
                set,
                split: f[0].into(),
                kind: f[1].into(),
                text: f[2].into(),
                relevant: if f[3] == "-" {
                    Vec::new()
                } else {
                    f[3].split(',').map(str::to_string).collect()
                },
            }
        })
        .collect()
}

/// One system's output for one question: ranked ids, and whether it answered.
struct Out {
    ids: Vec<String>,
    answered: bool,
}

#[derive(Default, Debug)]
struct Metrics {
    answerable: usize,
    rr: f64,
    hit1: usize,
    recall: f64,
    unanswerable: usize,
    flagged_right: usize,
    flagged_wrong: usize,
}

impl Metrics {
    fn add(&mut self, q: &Q, o: &Out) {
        if q.relevant.is_empty() {
            self.unanswerable += 1;
            if !o.answered {
                self.flagged_right += 1;
            }
            return;
        }
        self.answerable += 1;
        if !o.answered {
            self.flagged_wrong += 1;
        }
        let top5 = &o.ids[..o.ids.len().min(5)];
        if let Some(r) = top5.iter().position(|id| q.relevant.contains(id)) {
            self.rr += 1.0 / (r + 1) as f64;
            if r == 0 {
                self.hit1 += 1;
            }
        }
        let found = q.relevant.iter().filter(|id| top5.contains(id)).count();
        self.recall += found as f64 / q.relevant.len().min(5) as f64;
    }

    fn mrr(&self) -> f64 {
        self.rr / self.answerable.max(1) as f64
    }

    fn row(&self, name: &str) -> String {
        let flagged = self.flagged_right + self.flagged_wrong;
        let precision = if flagged == 0 {
            1.0
        } else {
            self.flagged_right as f64 / flagged as f64
        };
        format!(
            "| {name} | {:.3} | {}/{} | {:.3} | {:.2} ({}/{}) | {:.2} ({}/{}) | {} |",
            self.mrr(),
            self.hit1,
            self.answerable,
            self.recall / self.answerable.max(1) as f64,
            precision,
            self.flagged_right,
            flagged,
            self.flagged_right as f64 / self.unanswerable.max(1) as f64,
            self.flagged_right,
            self.unanswerable,
            self.flagged_wrong,
        )
    }
}

fn ours(kb: &Knowledge, q: &str) -> Out {
    let r = kb.ask(q, 5).unwrap();
    if std::env::var_os("ASK_DEBUG").is_some() {
        let c: Vec<String> = r
            .question
            .concepts
            .iter()
            .map(|c| format!("{}:{:?}:{}:{:.2}", c.label, c.kind, c.statements, c.weight))
            .collect();
        println!(
            "  {q:?} → {:?} {c:?} {:?} {:?}",
            r.question.text, r.question.answer_types, r.abstention
        );
    }
    Out {
        ids: r.hits.iter().map(|h| h.statement.id.clone()).collect(),
        answered: r.answered,
    }
}

/// Plain BM25: the question's words (index analyzer) over statement text only.
fn bm25(kb: &Knowledge, q: &str) -> Out {
    let ix = kb.index();
    let f = ix.fields();
    let clauses: Vec<(Occur, Box<dyn Query>)> = ix
        .tokens(q)
        .into_iter()
        .map(|t| {
            let q = TermQuery::new(
                tantivy::Term::from_field_text(f.text, &t),
                IndexRecordOption::WithFreqs,
            );
            (Occur::Should, Box::new(q) as Box<dyn Query>)
        })
        .collect();
    if clauses.is_empty() {
        return Out {
            ids: Vec::new(),
            answered: false,
        };
    }
    let ids: Vec<String> = ix
        .search("statement", Box::new(BooleanQuery::new(clauses)), 5)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    Out {
        answered: !ids.is_empty(),
        ids,
    }
}

#[test]
fn question_set_quality() {
    let kb = Knowledge::in_memory(Corpus::embedded().unwrap()).unwrap();
    let qs = questions();
    assert!(qs.len() >= 250, "{} questions", qs.len());
    let mut table = vec![
        "| split | system | MRR@5 | hit@1 | recall@5 | abstention precision | abstention recall | answerable flagged |".to_string(),
        "| --- | --- | --- | --- | --- | --- | --- | --- |".to_string(),
    ];
    let mut dev_ours = Metrics::default();
    let mut held_ours = Metrics::default();
    let mut held_two = Metrics::default();
    let mut held_three = Metrics::default();
    let mut held_four = Metrics::default();
    let mut held_five = Metrics::default();
    let mut held_six = Metrics::default();
    let mut held_seven = Metrics::default();
    for (set, split) in [
        ("set 1", "dev"),
        ("set 1", "held"),
        ("set 2", "dev"),
        ("set 2", "held"),
        ("set 3", "dev"),
        ("set 3", "held"),
        ("set 4", "dev"),
        ("set 4", "held"),
        ("set 5", "dev"),
        ("set 5", "held"),
        ("set 6", "dev"),
        ("set 6", "held"),
        ("set 7", "dev"),
        ("set 7", "held"),
    ] {
        let mut m = Metrics::default();
        let mut b = Metrics::default();
        for q in qs.iter().filter(|q| q.split == split && q.set == set) {
            let o = ours(&kb, &q.text);
            m.add(q, &o);
            b.add(q, &bm25(&kb, &q.text));
            let rank = o.ids.iter().take(5).position(|id| q.relevant.contains(id));
            let wrong = if q.relevant.is_empty() {
                o.answered
            } else {
                rank != Some(0) || !o.answered
            };
            if split == "dev" && wrong {
                println!(
                    "MISS [{}] {:?} → {:?} answered={} want {:?}",
                    q.kind,
                    q.text,
                    &o.ids[..o.ids.len().min(3)],
                    o.answered,
                    &q.relevant[..q.relevant.len().min(3)]
                );
            }
        }
        table.push(m.row(&format!("{set} {split} | ranking")));
        table.push(b.row(&format!("{set} {split} | plain BM25")));
        match (set, split) {
            ("set 1", "dev") => dev_ours = m,
            ("set 1", "held") => held_ours = m,
            ("set 2", "held") => held_two = m,
            ("set 3", "held") => held_three = m,
            ("set 4", "held") => held_four = m,
            ("set 5", "held") => held_five = m,
            ("set 6", "held") => held_six = m,
            ("set 7", "held") => held_seven = m,
            _ => {}
        }
    }
    println!("{}", table.join("\n"));
    // Floors well under what the ranking reaches, so that a regression fails loudly.
    assert!(dev_ours.mrr() >= 0.8, "dev MRR@5 {:.3}", dev_ours.mrr());
    assert!(held_ours.mrr() >= 0.75, "held MRR@5 {:.3}", held_ours.mrr());
    assert!(
        held_two.mrr() >= 0.85,
        "set 2 held MRR@5 {:.3}",
        held_two.mrr()
    );
    assert!(
        held_three.mrr() >= 0.8,
        "set 3 held MRR@5 {:.3}",
        held_three.mrr()
    );
    assert!(
        held_four.mrr() >= 0.78,
        "set 4 held MRR@5 {:.3}",
        held_four.mrr()
    );
    assert!(
        held_five.mrr() >= 0.72,
        "set 5 held MRR@5 {:.3}",
        held_five.mrr()
    );
    assert!(
        held_six.mrr() >= 0.85,
        "set 6 held MRR@5 {:.3}",
        held_six.mrr()
    );
    assert!(
        held_seven.mrr() >= 0.8,
        "set 7 held MRR@5 {:.3}",
        held_seven.mrr()
    );
    assert_eq!(
        dev_ours.flagged_wrong, 0,
        "answerable dev questions flagged"
    );
}

/// A user corpus extends the vocabulary and brings its own reference list.
#[test]
fn user_corpus_extends_vocabulary_and_references() {
    use calcinosis_ls::corpus::SourceFile;
    let mut files: Vec<SourceFile> = calcinosis_ls::corpus::Corpus::embedded_files();
    files.push(SourceFile {
        name: "mine/clinic.md".into(),
        text: "# Local Practice\n\n- Calcinosis clinic runs on Tuesdays [1]\n\n[1]: Clinic handbook, 2024.\n".into(),
    });
    files.push(SourceFile {
        name: "mine/vocabulary.toml".into(),
        text: "[[synonyms]]\nwords = [\"tuesdays\", \"weekly clinic day\"]\n".into(),
    });
    let kb = Knowledge::in_memory(Corpus::from_files(files, Vec::new()).unwrap()).unwrap();
    let r = kb.ask("when is the weekly clinic day?", 3).unwrap();
    assert!(r.answered);
    let top = r.hits[0].answer();
    assert_eq!(top.text, "Calcinosis clinic runs on Tuesdays");
    assert_eq!(top.sources, vec!["[1] Clinic handbook, 2024."]);
    assert!(r.short_answer().contains("[1] Clinic handbook, 2024."));
    // The seed has no reference list: its numbers name the seed document.
    let seed = kb.ask("anti-PM/Scl antibody", 1).unwrap();
    assert_eq!(seed.hits[0].statement.text, "Positive anti-PM/Scl antibody");
    assert_eq!(
        seed.hits[0].answer().sources,
        vec!["source 2 of the seed document"]
    );
    assert!(seed.hits[0]
        .statement
        .cited_text()
        .ends_with("(source 2 of the seed document)"));
}

/// The composed text answers, pinned: every question of `tests/data/answers.txt` with the
/// whole text `ask` shows first (corrections, the answer or abstention, citations).
#[test]
fn composed_answers_golden() {
    let kb = Knowledge::in_memory(Corpus::embedded().unwrap()).unwrap();
    let questions: Vec<&str> = include_str!("data/answers.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert!(questions.len() >= 40, "{} questions", questions.len());
    let mut out = String::from(
        "# Composed answers of `ask` (tests/ask.rs). Regenerate with GOLDEN=update after a\n\
         # deliberate change, and read the diff as a clinician would.\n",
    );
    for q in questions {
        let r = kb.ask(q, 5).unwrap();
        out.push_str(&format!(
            "\n## {q}\nanswered: {}\n{}\n",
            r.answered,
            r.short_answer()
        ));
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/golden/answers.golden"
    );
    if std::env::var("GOLDEN").as_deref() == Ok("update") {
        std::fs::write(path, &out).unwrap();
        return;
    }
    let want = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e}; create it with GOLDEN=update cargo test --test ask")
    });
    if want != out {
        for (w, o) in want.lines().zip(out.lines()) {
            if w != o {
                panic!("composed answers differ from the golden file, first at:\n- {w}\n+ {o}\n(GOLDEN=update to accept)");
            }
        }
        panic!("composed answers differ in length from the golden file (GOLDEN=update to accept)");
    }
}
