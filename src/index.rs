//! The full-text index over statements and terms (tantivy, BM25, English stemming).
//!
//! Two modes: built in RAM from the corpus at start-up (the default), or written to a
//! directory and reopened later. An on-disk index carries a marker file with the corpus
//! fingerprint it was built from; [`KnowledgeIndex::open_or_rebuild`] rebuilds an index that
//! is missing, stale or corrupt instead of failing, and says why.

use std::path::{Path, PathBuf};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    TokenStream,
};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::corpus::{Corpus, SCHEMA_VERSION};
use crate::error::{Error, Result};

/// Name of the marker file written beside an on-disk index.
pub const MARKER: &str = "calcinosis-index.json";
const ANALYZER: &str = "clinical";

/// The indexed fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// `statement` or `term`.
    pub kind: Field,
    /// Statement id, or `term:<name>`.
    pub id: Field,
    /// Section path (statements) or category (terms).
    pub section: Field,
    /// Statement text, or the term's names and description.
    pub text: Field,
    /// The lead-in line of the statement's list.
    pub lead_in: Field,
    /// Citations as written, e.g. `1, 4`.
    pub citations: Field,
    /// 1-based source line.
    pub line: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let fields = Fields {
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_text_field("id", STRING | STORED),
        section: b.add_text_field("section", text.clone()),
        text: b.add_text_field("text", text.clone()),
        lead_in: b.add_text_field("lead_in", text),
        citations: b.add_text_field("citations", STORED),
        line: b.add_u64_field("line", STORED),
    };
    (b.build(), fields)
}

/// The analyzer used for indexing and queries: words, lower case, English stop words
/// dropped, English stemming ("associated" and "association" meet).
pub fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

/// How an index was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// Built in memory.
    InMemory,
    /// Opened from disk, up to date.
    Opened,
    /// Rebuilt on disk, for the reason given.
    Rebuilt(String),
}

/// A ready-to-query index. Clones share the index (tantivy's handles are reference-counted).
#[derive(Clone)]
pub struct KnowledgeIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    provenance: Provenance,
}

impl std::fmt::Debug for KnowledgeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeIndex")
            .field("provenance", &self.provenance)
            .finish()
    }
}

fn tv(path: Option<&Path>) -> impl Fn(tantivy::TantivyError) -> Error + '_ {
    move |e| Error::Index {
        path: path.map(Path::to_path_buf),
        message: e.to_string(),
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    fingerprint: String,
    schema_version: u32,
    documents: u64,
    built_by: String,
}

impl KnowledgeIndex {
    /// Builds the index in memory.
    pub fn in_memory(corpus: &Corpus) -> Result<KnowledgeIndex> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        Self::fill(index, fields, corpus, None, Provenance::InMemory)
    }

    /// Builds the index into `dir` (created if needed), replacing an index already there.
    /// Refuses to touch a non-empty directory that holds no index of ours.
    pub fn build_in_dir(corpus: &Corpus, dir: &Path) -> Result<KnowledgeIndex> {
        Self::build_in_dir_because(corpus, dir, Provenance::Rebuilt("built on request".into()))
    }

    fn build_in_dir_because(
        corpus: &Corpus,
        dir: &Path,
        why: Provenance,
    ) -> Result<KnowledgeIndex> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        clear_index_dir(dir)?;
        let (schema, fields) = schema();
        let index = Index::create_in_dir(dir, schema).map_err(tv(Some(dir)))?;
        let built = Self::fill(index, fields, corpus, Some(dir), why)?;
        let marker = Marker {
            fingerprint: corpus.fingerprint().to_string(),
            schema_version: SCHEMA_VERSION,
            documents: built.reader.searcher().num_docs(),
            built_by: format!("calcinosis-ls {}", env!("CARGO_PKG_VERSION")),
        };
        let json = serde_json::to_string_pretty(&marker).unwrap_or_default();
        std::fs::write(dir.join(MARKER), json).map_err(|e| Error::io(dir.join(MARKER), e))?;
        Ok(built)
    }

    /// Opens the index in `dir` if it matches `corpus`; otherwise (missing, stale, corrupt)
    /// rebuilds it there. The returned provenance says which happened and why.
    pub fn open_or_rebuild(corpus: &Corpus, dir: &Path) -> Result<KnowledgeIndex> {
        match Self::open(corpus, dir) {
            Ok(ix) => Ok(ix),
            Err(reason) => Self::build_in_dir_because(corpus, dir, Provenance::Rebuilt(reason)),
        }
    }

    /// Opens an up-to-date index, or says why it cannot be used.
    fn open(corpus: &Corpus, dir: &Path) -> std::result::Result<KnowledgeIndex, String> {
        let marker_path = dir.join(MARKER);
        let raw = std::fs::read_to_string(&marker_path)
            .map_err(|_| format!("no index at {} yet", dir.display()))?;
        let marker: Marker = serde_json::from_str(&raw)
            .map_err(|e| format!("marker {} is unreadable ({e})", marker_path.display()))?;
        if marker.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "index schema {} is not this binary's schema {SCHEMA_VERSION}",
                marker.schema_version
            ));
        }
        if marker.fingerprint != corpus.fingerprint() {
            return Err("the corpus changed since the index was built (stale fingerprint)".into());
        }
        let describe = |e: tantivy::TantivyError| format!("index is corrupt ({e})");
        let index = Index::open_in_dir(dir).map_err(describe)?;
        index.tokenizers().register(ANALYZER, analyzer());
        let (_, fields) = schema();
        if index.schema() != schema().0 {
            return Err("index schema differs from this binary's".into());
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(describe)?;
        let ix = KnowledgeIndex {
            index,
            reader,
            fields,
            provenance: Provenance::Opened,
        };
        // Read every stored document once: a damaged segment fails here, not mid-session.
        let searcher = ix.reader.searcher();
        if searcher.num_docs() != marker.documents {
            return Err(format!(
                "index holds {} documents, its marker says {}",
                searcher.num_docs(),
                marker.documents
            ));
        }
        for reader in searcher.segment_readers() {
            let store = reader
                .get_store_reader(1)
                .map_err(|e| format!("index is corrupt ({e})"))?;
            for d in store.iter::<TantivyDocument>(reader.alive_bitset()) {
                d.map_err(|e| format!("index is corrupt ({e})"))?;
            }
        }
        let probe = TermQuery::new(
            Term::from_field_text(ix.fields.kind, "statement"),
            IndexRecordOption::Basic,
        );
        searcher
            .search(&probe, &TopDocs::with_limit(1))
            .map_err(describe)?;
        Ok(ix)
    }

    fn fill(
        index: Index,
        fields: Fields,
        corpus: &Corpus,
        path: Option<&Path>,
        provenance: Provenance,
    ) -> Result<KnowledgeIndex> {
        index.tokenizers().register(ANALYZER, analyzer());
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, 15_000_000)
            .map_err(tv(path))?;
        for s in &corpus.statements {
            let cites: Vec<String> = s.citations.iter().map(u32::to_string).collect();
            writer
                .add_document(doc!(
                    fields.kind => "statement",
                    fields.id => s.id.as_str(),
                    fields.section => s.section_path(),
                    fields.text => s.text.as_str(),
                    fields.lead_in => s.lead_in.clone().unwrap_or_default(),
                    fields.citations => cites.join(", "),
                    fields.line => s.line as u64,
                ))
                .map_err(tv(path))?;
        }
        for t in corpus.lexicon.terms() {
            let names = std::iter::once(&t.name)
                .chain(&t.synonyms)
                .chain(&t.abbreviations)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ");
            writer
                .add_document(doc!(
                    fields.kind => "term",
                    fields.id => format!("term:{}", t.name),
                    fields.section => t.category.as_str(),
                    fields.text => format!("{names}. {}", t.description),
                    fields.line => t.line as u64,
                ))
                .map_err(tv(path))?;
        }
        writer.commit().map_err(tv(path))?;
        writer.wait_merging_threads().map_err(tv(path))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tv(path))?;
        Ok(KnowledgeIndex {
            index,
            reader,
            fields,
            provenance,
        })
    }

    /// How this index was obtained.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The fields, for building queries.
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// Tokenises `text` with the index analyzer.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut a = self
            .index
            .tokenizers()
            .get(ANALYZER)
            .unwrap_or_else(analyzer);
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// Every stem the statement fields (text, lead-in, section) hold, with the number of
    /// documents holding it in the text and lead-in fields (the section field counts 0): the
    /// vocabulary that question words are matched and typo-corrected against, read from the
    /// term dictionary without touching a posting list.
    pub fn stems(&self) -> Result<Vec<(String, u64)>> {
        let searcher = self.reader.searcher();
        let mut out: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for reader in searcher.segment_readers() {
            for field in [self.fields.text, self.fields.lead_in, self.fields.section] {
                let inverted = reader.inverted_index(field).map_err(tv(None))?;
                let mut stream = inverted.terms().stream().map_err(|e| tv(None)(e.into()))?;
                while stream.advance() {
                    if let Ok(s) = std::str::from_utf8(stream.key()) {
                        let n = if field == self.fields.section {
                            0
                        } else {
                            u64::from(stream.value().doc_freq)
                        };
                        *out.entry(s.to_string()).or_insert(0) += n;
                    }
                }
            }
        }
        let mut out: Vec<(String, u64)> = out.into_iter().collect();
        out.sort();
        Ok(out)
    }

    /// A query matching `phrase` in `field`: a term query for one token, a phrase query
    /// for several; `None` when the phrase has no indexable words.
    pub fn phrase(&self, field: Field, phrase: &str) -> Option<Box<dyn Query>> {
        let tokens = self.tokens(phrase);
        match tokens.len() {
            0 => None,
            1 => Some(Box::new(TermQuery::new(
                Term::from_field_text(field, &tokens[0]),
                IndexRecordOption::WithFreqs,
            ))),
            _ => Some(Box::new(PhraseQuery::new(
                tokens
                    .iter()
                    .map(|t| Term::from_field_text(field, t))
                    .collect(),
            ))),
        }
    }

    /// How many documents of `kind` match `query` (no scoring, no stored fields read).
    pub fn count(&self, kind: &str, query: Box<dyn Query>) -> Result<usize> {
        let kind_q: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(self.fields.kind, kind),
            IndexRecordOption::Basic,
        ));
        let q = BooleanQuery::new(vec![(Occur::Must, query), (Occur::Must, kind_q)]);
        self.reader
            .searcher()
            .search(&q, &tantivy::collector::Count)
            .map_err(tv(None))
    }

    /// Runs `query` restricted to documents of `kind`; returns `(id, score)` best first.
    pub fn search(
        &self,
        kind: &str,
        query: Box<dyn Query>,
        limit: usize,
    ) -> Result<Vec<(String, f32)>> {
        let kind_q: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(self.fields.kind, kind),
            IndexRecordOption::Basic,
        ));
        let q = BooleanQuery::new(vec![
            (Occur::Must, query),
            (Occur::Must, boost(kind_q, 0.0)),
        ]);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&q, &TopDocs::with_limit(limit.max(1)))
            .map_err(tv(None))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(tv(None))?;
            if let Some(id) = d.get_first(self.fields.id).and_then(|v| v.as_str()) {
                out.push((id.to_string(), score));
            }
        }
        Ok(out)
    }
}

/// Boosts a query.
pub fn boost(q: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, by))
}

/// Removes a previous index of ours from `dir`; refuses a directory with other content.
fn clear_index_dir(dir: &Path) -> Result<()> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let ours_or_readme = |p: &PathBuf| {
        p.file_name()
            .is_some_and(|n| n == "README.md" || n == ".gitignore")
    };
    let removable: Vec<&PathBuf> = entries.iter().filter(|p| !ours_or_readme(p)).collect();
    if removable.is_empty() {
        return Ok(());
    }
    let is_ours = entries
        .iter()
        .any(|p| p.file_name().is_some_and(|n| n == MARKER))
        || entries
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n == "meta.json"));
    if !is_ours {
        return Err(Error::Index {
            path: Some(dir.to_path_buf()),
            message: "the directory is not empty and holds no calcinosis-ls index; \
                      choose an empty or new directory for --index"
                .into(),
        });
    }
    for p in removable {
        let r = if p.is_dir() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
        r.map_err(|e| Error::io(p.clone(), e))?;
    }
    Ok(())
}
