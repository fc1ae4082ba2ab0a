//! The full-text index over statements and terms (tantivy, BM25, English stemming).
//!
//! Two modes: built in RAM from the corpus at start-up (the default), or written to a
//! directory and reopened later. An on-disk index carries a marker file with the corpus
//! fingerprint it was built from; [`KnowledgeIndex::open_or_rebuild`] rebuilds an index that
//! is missing, stale or corrupt instead of failing, and says why.

use std::path::Path;

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

use crate::corpus::Corpus;
use crate::error::{Error, Result};

mod store;

pub use store::{BUILT_ON_REQUEST, MARKER};
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

impl KnowledgeIndex {
    /// Builds the index in memory.
    pub fn in_memory(corpus: &Corpus) -> Result<KnowledgeIndex> {
        let index = Index::create_in_ram(schema().0);
        Self::fill(index, corpus, None, Provenance::InMemory)
    }

    /// Builds the index into `dir` (created if needed), replacing an index of ours already
    /// there. Refuses a file, and a non-empty directory that holds no index of ours.
    pub fn build_in_dir(corpus: &Corpus, dir: &Path) -> Result<KnowledgeIndex> {
        store::build(corpus, dir, None)
    }

    /// Opens the index in `dir` if it matches `corpus`; otherwise (missing, stale, corrupt)
    /// builds it there. The returned provenance says which happened and why. See
    /// [`store`] for what is (and is never) written or deleted.
    pub fn open_or_rebuild(corpus: &Corpus, dir: &Path) -> Result<KnowledgeIndex> {
        store::open_or_build(corpus, dir)
    }

    /// Wraps an opened index after checking it: our schema, `documents` documents, every
    /// stored document readable (a damaged segment fails here, not mid-session).
    fn verified(
        index: Index,
        documents: u64,
        provenance: Provenance,
    ) -> std::result::Result<KnowledgeIndex, String> {
        let describe = |e: tantivy::TantivyError| format!("index is corrupt ({e})");
        index.tokenizers().register(ANALYZER, analyzer());
        let (expected, fields) = schema();
        if index.schema() != expected {
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
            provenance,
        };
        let searcher = ix.reader.searcher();
        if searcher.num_docs() != documents {
            return Err(format!(
                "index holds {} documents, its marker says {documents}",
                searcher.num_docs()
            ));
        }
        for reader in searcher.segment_readers() {
            crate::cancel::checkpoint().map_err(|e| e.to_string())?;
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
        corpus: &Corpus,
        path: Option<&Path>,
        provenance: Provenance,
    ) -> Result<KnowledgeIndex> {
        let fields = schema().1;
        index.tokenizers().register(ANALYZER, analyzer());
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, 15_000_000)
            .map_err(tv(path))?;
        for s in &corpus.statements {
            crate::cancel::checkpoint()?;
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
            crate::cancel::checkpoint()?;
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

/// Query building for `ask`'s ranking: a concept is given as alternatives, each a sequence of
/// roots, and each root stands for the index stems that share it (see `knowledge::text`).
impl KnowledgeIndex {
    /// A query for any of a concept's alternatives (all roots of one alternative required),
    /// each root as any of its stems in text (weight 1), lead-in (0.5) or heading (0.7);
    /// `None` when no alternative has every root in the index.
    pub fn concept_query<'s>(
        &self,
        alts: &[Vec<String>],
        stems_of: impl Fn(&str) -> Option<&'s [String]>,
        weight: f32,
    ) -> Option<Box<dyn Query>> {
        let f = self.fields;
        let mut alt_qs: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for alt in alts {
            let mut musts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for r in alt {
                let Some(stems) = stems_of(r) else {
                    break;
                };
                let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for s in stems {
                    for (field, w) in [(f.text, 1.0), (f.lead_in, 0.5), (f.section, 0.7)] {
                        let q = TermQuery::new(
                            Term::from_field_text(field, s),
                            IndexRecordOption::WithFreqs,
                        );
                        any.push((Occur::Should, boost(Box::new(q), w * weight)));
                    }
                }
                musts.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
            if musts.len() == alt.len() && !musts.is_empty() {
                alt_qs.push((Occur::Should, Box::new(BooleanQuery::new(musts))));
            }
        }
        (!alt_qs.is_empty()).then(|| Box::new(BooleanQuery::new(alt_qs)) as Box<dyn Query>)
    }

    /// One optional clause per stem, in `field`.
    pub fn stems_clauses<'s>(
        stems: impl IntoIterator<Item = &'s String>,
        field: Field,
    ) -> Vec<(Occur, Box<dyn Query>)> {
        stems
            .into_iter()
            .map(|s| {
                let q = TermQuery::new(
                    Term::from_field_text(field, s),
                    IndexRecordOption::WithFreqs,
                );
                (Occur::Should, Box::new(q) as Box<dyn Query>)
            })
            .collect()
    }
}

/// Boosts a query.
pub fn boost(q: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, by))
}
