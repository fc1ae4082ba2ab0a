//! The corpus against its seed, corpus error reporting, and the on-disk index life cycle
//! (build, open, stale, corrupt, refuse a foreign directory).

use std::path::{Path, PathBuf};

use calcinosis_ls::corpus::Corpus;
use calcinosis_ls::index::{KnowledgeIndex, Provenance, MARKER};
use calcinosis_ls::knowledge::Knowledge;

fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/calcinosis-statements.txt")
}

/// Splits a seed line into its text and trailing citation numbers ("… overlap syndromes. 1").
fn seed_statement(line: &str) -> (String, Vec<u32>) {
    let body = line.strip_prefix("- ").unwrap_or(line).trim();
    let re = regex::Regex::new(r"^(.*?)\s+(\d+(?:,\s*\d+)*)$").unwrap();
    match re.captures(body) {
        // "25%" and similar stay text: citations are the last run of bare numbers.
        Some(c) => (
            c[1].to_string(),
            c[2].split(',').map(|n| n.trim().parse().unwrap()).collect(),
        ),
        None => (body.to_string(), Vec::new()),
    }
}

#[test]
fn every_seed_statement_is_in_the_corpus_with_section_and_citations() {
    let Ok(seed) = std::fs::read_to_string(seed_path()) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ../shared/seed beside the repo"
        );
        eprintln!("skipped: {} not found", seed_path().display());
        return;
    };
    let corpus = Corpus::embedded().unwrap();
    let titles: Vec<&str> = corpus
        .headings
        .iter()
        .map(|h| h.path.last().unwrap().as_str())
        .collect();
    let mut statements = corpus.statements.iter();
    let mut heading = "";
    let mut seen_headings = Vec::new();
    let mut count = 0;
    for line in seed.lines().filter(|l| !l.trim().is_empty()) {
        if titles.contains(&line.trim()) {
            heading = line.trim();
            seen_headings.push(heading);
            continue;
        }
        let (text, citations) = seed_statement(line);
        let s = statements
            .next()
            .unwrap_or_else(|| panic!("seed line {line:?} missing from the corpus"));
        assert_eq!(s.text, text, "wording differs for seed line {line:?}");
        assert_eq!(s.citations, citations, "citations differ for {text:?}");
        assert_eq!(
            s.section.last().map(String::as_str),
            Some(heading),
            "section differs for {text:?}"
        );
        count += 1;
    }
    assert!(
        statements.next().is_none(),
        "the corpus has statements the seed does not"
    );
    assert_eq!(
        seen_headings, titles,
        "headings (including empty ones) differ from the seed"
    );
    assert_eq!(count, corpus.statements.len());
    // Ids are unique and stable in form.
    let mut ids: Vec<&str> = corpus.statements.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids[0], "conditions-associated-with-calcinosis/1");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), corpus.statements.len());
    // Example section path from the issue.
    let ssc = corpus
        .statements
        .iter()
        .find(|s| s.text.starts_with("Affects approximately 25%"))
        .unwrap();
    assert_eq!(
        ssc.section_path(),
        "Primary Connective Tissue Disease Associations › Systemic Sclerosis"
    );
    assert_eq!(ssc.citations, vec![2]);
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn a_broken_user_corpus_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "extra.md",
        "# Extra\n\n- fine [1]\n- broken [1, two]\n",
    );
    let err = Corpus::load(&[dir.path().to_path_buf()], false)
        .unwrap_err()
        .to_string();
    let file = dir.path().join("extra.md");
    assert_eq!(
        err,
        format!(
            "{}:4: citation list '[1, two]' must be numbers separated by commas, like [1, 4]",
            file.display()
        )
    );

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "lexicon.toml",
        "[[term]]\nname = \"Raynaud\"\ncategory = \"disease\"\n",
    );
    let err = Corpus::load(&[dir.path().to_path_buf()], false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lexicon.toml:2: 'Raynaud' already names 'Raynaud's phenomenon'"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.md"), b"# A\n- ok\n- \xff\xfe\n").unwrap();
    let err = Corpus::load(&[dir.path().to_path_buf()], false)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("bad.md:3: not valid UTF-8: save the file as UTF-8"),
        "{err}"
    );
}

#[test]
fn a_user_corpus_extends_or_replaces_the_default() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "local.md",
        "# Local Practice\n\n- Calcinosis clinic runs on Tuesdays [7]\n",
    );
    let extended = Corpus::load(&[dir.path().to_path_buf()], false).unwrap();
    let base = Corpus::embedded().unwrap();
    assert_eq!(extended.statements.len(), base.statements.len() + 1);
    assert_ne!(extended.fingerprint(), base.fingerprint());
    let kb = Knowledge::in_memory(extended).unwrap();
    assert_eq!(
        kb.search("tuesday clinic", 1).unwrap()[0]
            .statement
            .citations,
        vec![7]
    );
    // Replacing needs the data files too; the error says which.
    let err = Corpus::load(&[dir.path().to_path_buf()], true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("the corpus has no lexicon.toml"), "{err}");
}

#[test]
fn on_disk_index_build_open_stale_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let ix = dir.path().join("index");
    let corpus = Corpus::embedded().unwrap();
    let built = KnowledgeIndex::open_or_rebuild(&corpus, &ix).unwrap();
    assert!(matches!(built.provenance(), Provenance::Rebuilt(why) if why.contains("no index")));
    assert!(ix.join(MARKER).is_file());
    let opened = KnowledgeIndex::open_or_rebuild(&corpus, &ix).unwrap();
    assert_eq!(opened.provenance(), &Provenance::Opened);
    let kb = Knowledge::with_index(corpus.clone(), opened);
    assert_eq!(
        kb.search("anticentromere", 1).unwrap()[0].statement.text,
        "Positive anticentromere antibody"
    );

    // Stale: the corpus changed.
    let extra = tempfile::tempdir().unwrap();
    write(extra.path(), "more.md", "# More\n- Another statement [9]\n");
    let changed = Corpus::load(&[extra.path().to_path_buf()], false).unwrap();
    let rebuilt = KnowledgeIndex::open_or_rebuild(&changed, &ix).unwrap();
    assert!(
        matches!(rebuilt.provenance(), Provenance::Rebuilt(why) if why.contains("stale")),
        "{:?}",
        rebuilt.provenance()
    );
    drop(rebuilt);

    // Corrupt: damage every index file; the index is rebuilt, not crashed on.
    for entry in std::fs::read_dir(&ix).unwrap().flatten() {
        let p = entry.path();
        if p.file_name().is_some_and(|n| n != MARKER) && p.is_file() {
            std::fs::write(&p, b"garbage").unwrap();
        }
    }
    let repaired = KnowledgeIndex::open_or_rebuild(&changed, &ix).unwrap();
    assert!(
        matches!(repaired.provenance(), Provenance::Rebuilt(why) if why.contains("corrupt")),
        "{:?}",
        repaired.provenance()
    );
    let kb = Knowledge::with_index(
        changed.clone(),
        KnowledgeIndex::open_or_rebuild(&changed, &ix).unwrap(),
    );
    assert_eq!(
        kb.search("another statement", 1).unwrap()[0]
            .statement
            .citations,
        vec![9]
    );

    // A garbled marker is reported and rebuilt too.
    std::fs::write(ix.join(MARKER), "{not json").unwrap();
    let again = KnowledgeIndex::open_or_rebuild(&changed, &ix).unwrap();
    assert!(matches!(again.provenance(), Provenance::Rebuilt(why) if why.contains("unreadable")));

    // A directory holding someone else's files is never wiped.
    let foreign = tempfile::tempdir().unwrap();
    write(foreign.path(), "thesis.docx", "precious");
    let err = KnowledgeIndex::open_or_rebuild(&corpus, foreign.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not empty and holds no calcinosis-ls index"),
        "{err}"
    );
    assert!(foreign.path().join("thesis.docx").is_file());
}
