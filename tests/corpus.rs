//! The corpus against its seed, corpus error reporting, and the on-disk index life cycle
//! (build, open, stale, corrupt, refuse a foreign directory).

use std::path::{Path, PathBuf};

use calcinosis_ls::corpus::Corpus;
use calcinosis_ls::index::{KnowledgeIndex, Provenance, MARKER};
use calcinosis_ls::knowledge::Knowledge;

/// The seed as given, kept in the repository so that the comparison runs everywhere.
fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/seed/calcinosis-statements.txt")
}

/// Where the project's shared inputs sit when the repository is checked out beside them
/// (CI, the developers' machines); a user's clone has nothing there.
fn shared_seed_path() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    repo.parent()
        .unwrap_or(repo)
        .join("shared/seed/calcinosis-statements.txt")
}

#[test]
fn the_repository_seed_copy_matches_the_shared_seed_where_present() {
    let Ok(shared) = std::fs::read_to_string(shared_seed_path()) else {
        eprintln!(
            "skipped: {} is not beside this checkout (only CI and developers have it); \
             the corpus is still checked against the copy in corpus/seed/",
            shared_seed_path().display()
        );
        return;
    };
    let copy = std::fs::read_to_string(seed_path()).unwrap();
    assert!(
        copy == shared,
        "the shared seed changed: copy it to corpus/seed/ and update corpus/statements.md"
    );
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
    let seed = std::fs::read_to_string(seed_path()).unwrap();
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
        if s.cited_by_list {
            // The citation written after the list's last item cites this item too.
            assert!(citations.is_empty(), "{text:?} has its own citation");
            assert!(!s.citations.is_empty());
        } else {
            assert_eq!(s.citations, citations, "citations differ for {text:?}");
        }
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
    write(
        extra.path(),
        "more.md",
        "# More\n- Tendon sheaths can hold deposits [9]\n",
    );
    let changed = Corpus::load(&[extra.path().to_path_buf()], false).unwrap();
    let rebuilt = KnowledgeIndex::open_or_rebuild(&changed, &ix).unwrap();
    assert!(
        matches!(rebuilt.provenance(), Provenance::Rebuilt(why) if why.contains("stale")),
        "{:?}",
        rebuilt.provenance()
    );
    drop(rebuilt);

    // Corrupt: damage every file tantivy wrote in the current generation; the index is
    // rebuilt, not crashed on. (Its stamp is left: a generation whose stamp is damaged too
    // cannot be told from someone else's folder, and is left alone.)
    for entry in std::fs::read_dir(generation(&ix)).unwrap().flatten() {
        if entry.file_name() != ".calcinosis-ls-stamp" {
            std::fs::write(entry.path(), b"garbage").unwrap();
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
        kb.search("tendon sheaths", 1).unwrap()[0]
            .statement
            .citations,
        vec![9]
    );

    // Each rebuild replaced the previous generation: only the current one is left.
    let generations = || -> Vec<_> {
        std::fs::read_dir(&ix)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("gen-"))
            .collect()
    };
    assert_eq!(generations().len(), 1, "{:?}", generations());

    // A garbled marker is reported and rebuilt too. Its record of what this program made
    // is lost with it, so the previous generation is left alone, and named.
    let previous = generation(&ix);
    std::fs::write(ix.join(MARKER), "{not json").unwrap();
    let again = KnowledgeIndex::open_or_rebuild(&changed, &ix).unwrap();
    let name = previous.file_name().unwrap().to_str().unwrap();
    assert!(
        matches!(again.provenance(), Provenance::Rebuilt(why)
            if why.contains("unreadable") && why.contains("left alone") && why.contains(name)),
        "{:?}",
        again.provenance()
    );
    assert!(previous.is_dir());
    assert_eq!(generations().len(), 2, "{:?}", generations());
}

/// The directory the marker names as the current index generation.
fn generation(ix: &Path) -> std::path::PathBuf {
    let marker: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ix.join(MARKER)).unwrap()).unwrap();
    ix.join(marker["generation"].as_str().unwrap())
}

/// Every file under `dir` with its bytes, to show a directory survived unchanged.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Regression: a directory holding a tantivy `meta.json` was taken for our index, and
/// everything else in it (notes, a source tree) deleted on "rebuild".
#[test]
fn index_dir_with_foreign_meta_json_survives_byte_for_byte() {
    let corpus = Corpus::embedded().unwrap();
    let foreign = tempfile::tempdir().unwrap();
    write(foreign.path(), "meta.json", "{\"segments\": []}");
    write(foreign.path(), "notes.txt", "precious");
    std::fs::create_dir_all(foreign.path().join("src/deep")).unwrap();
    write(&foreign.path().join("src/deep"), "main.rs", "fn main() {}");
    let before = snapshot(foreign.path());
    for attempt in [
        KnowledgeIndex::open_or_rebuild(&corpus, foreign.path()),
        KnowledgeIndex::build_in_dir(&corpus, foreign.path()),
    ] {
        let err = attempt.unwrap_err().to_string();
        assert!(
            err.contains("not empty and holds no calcinosis-ls index")
                && err.contains("nothing was changed"),
            "{err}"
        );
    }
    assert_eq!(snapshot(foreign.path()), before);

    // A file where a directory is expected: a clear refusal, not "File exists".
    let file = foreign.path().join("notes.txt");
    let err = KnowledgeIndex::open_or_rebuild(&corpus, &file)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is a file, not a directory"), "{err}");
    assert_eq!(snapshot(foreign.path()), before);
}

/// A README and .gitignore (as in the repository's `index/`) may sit beside our index and
/// are kept; a builder that died leaves a `.build-*` directory, recorded in the marker and
/// stamped, that the next build removes. One named so but in no record is left alone.
#[test]
fn index_dir_keeps_readme_and_cleans_only_its_own_leftovers() {
    let corpus = Corpus::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "about this folder");
    write(dir.path(), ".gitignore", "*");
    KnowledgeIndex::build_in_dir(&corpus, dir.path()).unwrap();
    // What a builder that died after making its folder leaves.
    let dead = dir.path().join(".build-dead-1-2");
    std::fs::create_dir(&dead).unwrap();
    write(&dead, ".calcinosis-ls-stamp", "calcinosis-ls dead-1-2\n");
    write(&dead, "meta.json", "{}");
    let mut marker: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(MARKER)).unwrap()).unwrap();
    marker["made"]
        .as_array_mut()
        .unwrap()
        .push(".build-dead-1-2".into());
    write(dir.path(), MARKER, &marker.to_string());
    std::fs::create_dir(dir.path().join(".build-user")).unwrap();
    let rebuilt = KnowledgeIndex::build_in_dir(&corpus, dir.path()).unwrap();
    assert!(
        matches!(rebuilt.provenance(), Provenance::Rebuilt(why) if why.contains(".build-user")),
        "{:?}",
        rebuilt.provenance()
    );
    assert!(!dead.exists());
    assert!(dir.path().join(".build-user").is_dir());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("README.md")).unwrap(),
        "about this folder"
    );
    assert!(dir.path().join(".gitignore").is_file());
}

/// Several builders on one directory at once all succeed and all end with a usable index.
#[test]
fn concurrent_builders_share_one_index_dir() {
    let corpus = Corpus::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ix = dir.path().join("shared-index");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| KnowledgeIndex::open_or_rebuild(&corpus, &ix)))
            .collect();
        for h in handles {
            let opened = h.join().unwrap().unwrap();
            let kb = Knowledge::with_index(corpus.clone(), opened);
            assert!(!kb.search("calcinosis", 1).unwrap().is_empty());
        }
    });
    let opened = KnowledgeIndex::open_or_rebuild(&corpus, &ix).unwrap();
    assert_eq!(opened.provenance(), &Provenance::Opened);
}

/// An index another user built, or one on a read-only mount, is opened (read into memory)
/// rather than failing on tantivy's lock files; a stale one is reported, not half-rebuilt.
/// Tests run as root here, so "read-only" is the immutable attribute (skipped where
/// `chattr` does not work, e.g. on tmpfs).
#[test]
fn a_read_only_index_is_opened_and_a_stale_one_reported() {
    let corpus = Corpus::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ix = dir.path().join("ro");
    KnowledgeIndex::build_in_dir(&corpus, &ix).unwrap();
    let gen = generation(&ix);
    let chattr = |flag: &str| {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(&ix)
            .arg(&gen)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !chattr("+i") {
        eprintln!("skipped: chattr +i is not available here");
        return;
    }
    struct Unfreeze<F: Fn(&str) -> bool>(F);
    impl<F: Fn(&str) -> bool> Drop for Unfreeze<F> {
        fn drop(&mut self) {
            (self.0)("-i");
        }
    }
    let _unfreeze = Unfreeze(chattr);
    if std::fs::write(ix.join("probe"), "x").is_ok() {
        eprintln!("skipped: the immutable attribute does not stop writes here");
        return;
    }
    let opened = KnowledgeIndex::open_or_rebuild(&corpus, &ix).unwrap();
    assert_eq!(opened.provenance(), &Provenance::Opened);
    let kb = Knowledge::with_index(corpus.clone(), opened);
    assert!(!kb.search("elbows", 1).unwrap().is_empty());

    let extra = tempfile::tempdir().unwrap();
    write(
        extra.path(),
        "more.md",
        "# More\n- Tendon sheaths can hold deposits [9]\n",
    );
    let changed = Corpus::load(&[extra.path().to_path_buf()], false).unwrap();
    let err = KnowledgeIndex::open_or_rebuild(&changed, &ix)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stale") && err.contains("not writable"),
        "{err}"
    );
}
