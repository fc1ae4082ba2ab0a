//! Knowledge-base benchmarks: start-up (embedded corpus → ready index and analyser), `ask`
//! and completion latency, index build and query time for a synthetic corpus of 100,000
//! statements, and completion with a 100,000-term user lexicon.
//! Run: `cargo bench --bench knowledge`.

use std::time::{Duration, Instant};

use calcinosis_ls::analysis::Analyzer;
use calcinosis_ls::corpus::{Corpus, SourceFile, EMBEDDED};
use calcinosis_ls::index::KnowledgeIndex;
use calcinosis_ls::knowledge::Knowledge;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let at = |p: f64| ms(v[((v.len() - 1) as f64 * p).round() as usize]);
    format!(
        "p50 {:.3} ms, p99 {:.3} ms (n={})",
        at(0.5),
        at(0.99),
        v.len()
    )
}

const QUESTIONS: &[&str] = &[
    "what is calcinosis associated with in juvenile dermatomyositis",
    "anticentromere",
    "where does calcinosis occur",
    "complications of calcinosis",
    "surgical treatment for symptomatic lesions",
    "mechanisms hypoxia trauma",
    "lcSSc",
    "how common is calcinosis in systemic sclerosis",
    "how is calcinosis treated",
    "Tx of calcinosis?",
    "whre does calcinosis ocur",
    "does calcinosis occur in lupus?",
    "how is calcinosis diagnosed",
    "What complications does calcinosis cause in scleroderma?",
];

/// A corpus of `n` statements: the seed statements recombined under many headings.
fn synthetic_statements(n: usize) -> String {
    let seed = EMBEDDED[0].1;
    let sentences: Vec<&str> = seed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.trim_start_matches(['-', ' ']))
        .collect();
    let words: Vec<&str> = sentences
        .iter()
        .flat_map(|s| s.split_whitespace())
        .collect();
    let mut rng = fastrand::Rng::with_seed(9);
    let mut out = String::with_capacity(n * 120);
    for i in 0..n {
        if i % 50 == 0 {
            out.push_str(&format!("\n# Synthetic section {}\n\n", i / 50));
        }
        let len = rng.usize(6..20);
        let text: Vec<&str> = (0..len).map(|_| words[rng.usize(..words.len())]).collect();
        let text = text.join(" ").replace(['[', ']'], "");
        out.push_str(&format!("- {} [{}]\n", text, rng.u32(1..7)));
    }
    out
}

fn main() {
    // Start-up: what the server and every CLI command do before their first answer.
    let mut startup = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let corpus = Corpus::embedded().unwrap();
        let analyzer = Analyzer::new(&corpus);
        let kb = Knowledge::in_memory(corpus).unwrap();
        std::hint::black_box((&analyzer, &kb));
        startup.push(t.elapsed());
    }
    println!(
        "start-up (embedded corpus → index + analyser ready): {}",
        percentiles(startup)
    );

    // The part of start-up that compiles the query vocabulary and term matcher over a ready
    // index (what `ask` added to start-up).
    let mut wrap = Vec::new();
    for _ in 0..20 {
        let corpus = Corpus::embedded().unwrap();
        let index = KnowledgeIndex::in_memory(&corpus).unwrap();
        let t = Instant::now();
        std::hint::black_box(Knowledge::with_index(corpus, index));
        wrap.push(t.elapsed());
    }
    println!(
        "start-up part: term matcher + query vocabulary over a ready index: {}",
        percentiles(wrap)
    );
    let corpus = Corpus::embedded().unwrap();
    let mut matcher = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        std::hint::black_box(calcinosis_ls::matcher::TermMatcher::new(&corpus.lexicon));
        matcher.push(t.elapsed());
    }
    println!(
        "start-up part: term matcher alone: {}",
        percentiles(matcher)
    );

    let kb = Knowledge::in_memory(Corpus::embedded().unwrap()).unwrap();
    let mut ask = Vec::new();
    for _ in 0..200 {
        for q in QUESTIONS {
            let t = Instant::now();
            let reply = kb.ask(q, 5).unwrap();
            std::hint::black_box(reply.short_answer());
            ask.push(t.elapsed());
        }
    }
    println!(
        "ask (understand, rank, compose; 5 results, seed corpus): {}",
        percentiles(ask)
    );
    let calcinosis = kb.corpus().lexicon.find("calcinosis").unwrap();
    let mut lookup = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        std::hint::black_box(kb.lookup(calcinosis, 3).unwrap());
        lookup.push(t.elapsed());
    }
    println!(
        "lookup (hover/definition, 3 results): {}",
        percentiles(lookup)
    );
    let mut complete = Vec::new();
    for _ in 0..500 {
        for p in ["derm", "raynau", "reynaud", "lcs", "telangectas", "an"] {
            let t = Instant::now();
            std::hint::black_box(kb.complete(p, 25));
            complete.push(t.elapsed());
        }
    }
    println!("complete (25 results): {}", percentiles(complete));

    // Scale: 100,000 statements.
    let statements = synthetic_statements(100_000);
    let mut files: Vec<SourceFile> = EMBEDDED
        .iter()
        .filter(|(n, _)| !n.ends_with(".md"))
        .map(|(n, t)| SourceFile {
            name: n.to_string(),
            text: t.to_string(),
        })
        .collect();
    files.push(SourceFile {
        name: "synthetic.md".into(),
        text: statements,
    });
    let t = Instant::now();
    let corpus = Corpus::from_files(files, Vec::new()).unwrap();
    let parsed = t.elapsed();
    let t = Instant::now();
    let big = Knowledge::in_memory(corpus).unwrap();
    let built = t.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let on_disk = Knowledge::on_disk(big.corpus().clone(), dir.path()).unwrap();
    let built_disk = t.elapsed();
    let t = Instant::now();
    let reopened = Knowledge::on_disk(big.corpus().clone(), dir.path()).unwrap();
    let opened = t.elapsed();
    std::hint::black_box((&on_disk, &reopened));
    println!(
        "100,000 statements: parse {:.0} ms, index in RAM {:.0} ms, on disk {:.0} ms, reopen (fingerprint + verify) {:.0} ms",
        ms(parsed),
        ms(built),
        ms(built_disk),
        ms(opened)
    );
    let mut q = Vec::new();
    for _ in 0..50 {
        for question in QUESTIONS {
            let t = Instant::now();
            let reply = big.ask(question, 10).unwrap();
            std::hint::black_box(reply.short_answer());
            q.push(t.elapsed());
        }
    }
    println!(
        "100,000 statements: ask (understand, rank, compose; 10 results): {}",
        percentiles(q)
    );

    // Scale: a user lexicon of 100,000 terms, completion per keystroke.
    let mut lexicon = String::new();
    for i in 0..100_000 {
        lexicon.push_str(&format!(
            "[[term]]\nname = \"zterm{i} syndrome\"\ncategory = \"disease\"\nsynonyms = [\"zt{i} disease\"]\n\n"
        ));
    }
    let mut files: Vec<SourceFile> = EMBEDDED
        .iter()
        .map(|(n, t)| SourceFile {
            name: n.to_string(),
            text: t.to_string(),
        })
        .collect();
    files.push(SourceFile {
        name: "user/lexicon.toml".into(),
        text: lexicon,
    });
    let big = Knowledge::in_memory(Corpus::from_files(files, Vec::new()).unwrap()).unwrap();
    let mut complete = Vec::new();
    for _ in 0..20 {
        for p in ["derm", "raynau", "reynaud", "sclerodema", "zterm999", "an"] {
            let t = Instant::now();
            std::hint::black_box(big.complete(p, 25));
            complete.push(t.elapsed());
        }
    }
    println!(
        "100,000-term lexicon: complete (25 results, typos included): {}",
        percentiles(complete)
    );
}
