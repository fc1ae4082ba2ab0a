//! Python bindings for the calcinosis-ls engine (`calcinosis_ls._calcinosis_ls`).
//!
//! Findings cross into Python as plain dicts with the fields of `check --format json`,
//! plus `start`/`end`: code point offsets, so that `text[f["start"]:f["end"]]` is the
//! mention in Python. Batch calls copy the notes out of Python, release the GIL and analyse
//! on every core (rayon), then build the Python objects in input order.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::exceptions::{PyImportError, PyOSError, PyOverflowError, PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use rayon::prelude::*;

use calcinosis_ls::analysis::{Analysis, Analyzer as Engine};
use calcinosis_ls::corpus::lexicon::Codes;
use calcinosis_ls::corpus::{Corpus, CorpusSource};
use calcinosis_ls::document::Document;
use calcinosis_ls::knowledge::Knowledge;
use calcinosis_ls::limits::{MAX_JOBS, MAX_RESULTS};
use calcinosis_ls::output::omop;
use calcinosis_ls::report::{self, CrestReport};
use calcinosis_ls::Error;

/// Analysers kept for reuse (one per corpus and ad-hoc term list); past this the cache
/// starts afresh, so a program making analysers for ever-new term lists stays bounded.
const CACHED_ENGINES: usize = 32;

/// Knowledge bases (corpus + in-memory index, a few MB each) kept for reuse by `ask`.
const CACHED_KNOWLEDGE: usize = 4;

/// `ask`'s number of statements when none is given, as in the command line.
const DEFAULT_LIMIT: i64 = 5;

/// An integer argument as Python gave it, however large, so that a range check can name it
/// instead of failing with a bare OverflowError.
enum AnyInt {
    /// Within `i64`.
    Fits(i64),
    /// Beyond `i64`: its sign, and its digits as Python writes them.
    TooLarge { negative: bool, shown: String },
}

impl<'py> FromPyObject<'py> for AnyInt {
    fn extract_bound(ob: &Bound<'py, PyAny>) -> PyResult<Self> {
        match ob.extract::<i64>() {
            Ok(v) => Ok(AnyInt::Fits(v)),
            Err(e) if e.is_instance_of::<PyOverflowError>(ob.py()) => Ok(AnyInt::TooLarge {
                negative: ob.lt(0)?,
                // Python refuses to write ints of more than 4,300 digits (sys.int_info).
                shown: ob
                    .str()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|_| "an integer of thousands of digits".to_string()),
            }),
            Err(e) => Err(e),
        }
    }
}

impl AnyInt {
    /// The value as Python wrote it, for messages.
    fn shown(&self) -> String {
        match self {
            AnyInt::Fits(v) => v.to_string(),
            AnyInt::TooLarge { shown, .. } => shown.clone(),
        }
    }

    /// The value when it lies in `min..=max`; else a ValueError saying the range, as the
    /// command line does for the same option ("limit must be between 1 and 100, got 0").
    fn within(&self, name: &str, min: usize, max: usize) -> PyResult<usize> {
        match self {
            AnyInt::Fits(v) => match usize::try_from(*v) {
                Ok(v) if (min..=max).contains(&v) => Ok(v),
                _ => Err(self.out_of_range(name, min, max)),
            },
            AnyInt::TooLarge { .. } => Err(self.out_of_range(name, min, max)),
        }
    }

    fn out_of_range(&self, name: &str, min: usize, max: usize) -> PyErr {
        PyValueError::new_err(format!(
            "{name} must be between {min} and {max}, got {}",
            self.shown()
        ))
    }

    /// The value when it is at least `min`, saturated at `usize::MAX`; else a ValueError.
    fn at_least(&self, name: &str, min: usize) -> PyResult<usize> {
        let value = match self {
            AnyInt::Fits(v) => usize::try_from(*v).ok(),
            AnyInt::TooLarge {
                negative: false, ..
            } => Some(usize::MAX),
            AnyInt::TooLarge { negative: true, .. } => None,
        };
        match value {
            Some(v) if v >= min => Ok(v),
            _ => Err(PyValueError::new_err(format!(
                "{name} must be at least {min}, got {}",
                self.shown()
            ))),
        }
    }
}

/// The `corpus` argument: one directory (a `str` or `os.PathLike`) or a sequence of them,
/// each extending the built-in corpus, as the command line's repeatable `--corpus DIR` does.
#[derive(Default)]
struct CorpusDirs(Vec<PathBuf>);

impl<'py> FromPyObject<'py> for CorpusDirs {
    fn extract_bound(ob: &Bound<'py, PyAny>) -> PyResult<Self> {
        // A str is a sequence too (of letters): it is one directory.
        if ob.is_instance_of::<PyString>() || ob.hasattr(intern!(ob.py(), "__fspath__"))? {
            return Ok(CorpusDirs(vec![ob.extract()?]));
        }
        Ok(CorpusDirs(ob.extract()?))
    }
}

/// The Python exception for a corpus that cannot be loaded, with the command line's message
/// ("cannot load the corpus: DIR: No such file or directory (os error 2)"). A directory or
/// file the OS refused is an OSError whose errno picks the subclass (FileNotFoundError,
/// NotADirectoryError, PermissionError); a mistake inside a corpus file is a ValueError
/// naming the file and line. Corpus files are the user's sources, never note text.
fn corpus_error(e: Error) -> PyErr {
    let message = format!("cannot load the corpus: {e}");
    match &e {
        Error::Io { error, .. } => match error.raw_os_error() {
            Some(errno) => PyOSError::new_err((errno, message)),
            None => PyOSError::new_err(message),
        },
        _ => PyValueError::new_err(message),
    }
}

/// The built-in corpus, loaded once per process.
fn embedded() -> PyResult<Arc<Corpus>> {
    static CORPUS: OnceLock<Result<Arc<Corpus>, String>> = OnceLock::new();
    CORPUS
        .get_or_init(|| Corpus::embedded().map(Arc::new).map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot load the corpus: {e}")))
}

/// The corpus a call names: the built-in one, or the built-in one extended by `dirs`, read
/// afresh on each call (as each run of the command line does), so edits to the files show.
fn corpus(py: Python<'_>, dirs: &CorpusDirs) -> PyResult<Arc<Corpus>> {
    if dirs.0.is_empty() {
        return embedded();
    }
    let source = CorpusSource {
        dirs: dirs.0.clone(),
        replace: false,
    };
    py.allow_threads(|| source.load())
        .map(Arc::new)
        .map_err(corpus_error)
}

/// Analysers by corpus and ad-hoc term list: building one compiles automata (milliseconds),
/// so calls with the same corpus (the same fingerprint) and terms share one.
fn engine(corpus: &Corpus, terms: &[String]) -> PyResult<Arc<Engine>> {
    type Key = (String, Vec<String>);
    static ENGINES: OnceLock<Mutex<HashMap<Key, Arc<Engine>>>> = OnceLock::new();
    let cache = ENGINES.get_or_init(Default::default);
    let key = (corpus.fingerprint().to_string(), terms.to_vec());
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = map.get(&key) {
        return Ok(e.clone());
    }
    let e = Arc::new(Engine::with_ad_hoc_terms(corpus, terms));
    if map.len() >= CACHED_ENGINES {
        map.clear();
    }
    map.insert(key, e.clone());
    Ok(e)
}

/// The knowledge base of a corpus (its index built in memory), shared by calls on the same
/// corpus.
fn knowledge(py: Python<'_>, corpus: Arc<Corpus>) -> PyResult<Arc<Knowledge>> {
    static KNOWLEDGE: OnceLock<Mutex<HashMap<String, Arc<Knowledge>>>> = OnceLock::new();
    let cache = KNOWLEDGE.get_or_init(Default::default);
    let key = corpus.fingerprint().to_string();
    if let Some(kb) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(kb.clone());
    }
    // Built without the lock (and the GIL): other threads keep answering meanwhile.
    let kb = py
        .allow_threads(|| Knowledge::in_memory(Corpus::clone(&corpus)))
        .map(Arc::new)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot build the index: {e}")))?;
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CACHED_KNOWLEDGE {
        map.clear();
    }
    map.insert(key, kb.clone());
    Ok(kb)
}

/// One finding, owned, so that it can be built without the GIL.
struct Found {
    start: usize,
    end: usize,
    line: u32,
    character: u32,
    end_line: u32,
    end_character: u32,
    text: String,
    term: String,
    category: &'static str,
    crest: Option<&'static str>,
    assertion: &'static str,
    trigger: Option<String>,
    misspelling: bool,
    /// A lay description of the term ("difficulty swallowing").
    lay: bool,
    /// The term's standard codes (ICD-10-CM, SNOMED CT), where the lexicon gives them.
    codes: Codes,
    /// A term pattern's `value` group ("1:640"), where there is one.
    value: Option<String>,
}

/// A note's findings and CREST summary, owned.
struct NoteResult {
    findings: Vec<Found>,
    crest: CrestReport,
}

/// Code point offsets for sorted-or-not byte offsets of `text`, in one walk.
fn code_points(text: &str, bytes: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..bytes.len()).collect();
    order.sort_unstable_by_key(|&i| bytes[i]);
    let mut out = vec![0; bytes.len()];
    let (mut at, mut count) = (0usize, 0usize);
    for i in order {
        let b = bytes[i].min(text.len());
        count += text[at..b.max(at)].chars().count();
        at = b.max(at);
        out[i] = count;
    }
    out
}

/// Calls `each` with every finding of `text`, in note order, and its code point start and
/// end; returns the note's CREST summary. Both the owned findings ([`run`]) and the Arrow
/// columns ([`ArrowColumns::push_note`]) are made from it.
fn each_finding(
    engine: &Engine,
    text: &str,
    mut each: impl FnMut(&report::FindingReport<'_>, usize, usize),
) -> CrestReport {
    let analysis: Analysis = engine.analyze(text);
    let doc = Document::new(text.to_string());
    let found = report::findings(engine, &doc, &analysis);
    let offsets: Vec<usize> = found
        .iter()
        .flat_map(|f| [f.bytes.start, f.bytes.end])
        .collect();
    let cps = code_points(text, &offsets);
    for (i, f) in found.iter().enumerate() {
        each(f, cps[2 * i], cps[2 * i + 1]);
    }
    CrestReport::from(&analysis.crest)
}

fn run(engine: &Engine, text: &str) -> NoteResult {
    let mut findings = Vec::new();
    let crest = each_finding(engine, text, |f, start, end| {
        findings.push(Found {
            start,
            end,
            line: f.range.start.line,
            character: f.range.start.character,
            end_line: f.range.end.line,
            end_character: f.range.end.character,
            text: f.text.to_string(),
            term: f.term.to_string(),
            category: f.category,
            crest: f.crest,
            assertion: f.assertion,
            trigger: f.trigger.map(str::to_string),
            misspelling: f.misspelling,
            lay: f.lay,
            codes: f.codes.clone(),
            value: f.value.map(str::to_string),
        })
    });
    NoteResult { findings, crest }
}

fn position<'py>(py: Python<'py>, line: u32, character: u32) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "line"), line)?;
    d.set_item(intern!(py, "character"), character)?;
    Ok(d)
}

fn finding_dict<'py>(py: Python<'py>, f: &Found) -> PyResult<Bound<'py, PyDict>> {
    let range = PyDict::new(py);
    range.set_item(intern!(py, "start"), position(py, f.line, f.character)?)?;
    range.set_item(
        intern!(py, "end"),
        position(py, f.end_line, f.end_character)?,
    )?;
    let d = PyDict::new(py);
    d.set_item(intern!(py, "range"), range)?;
    d.set_item(intern!(py, "start"), f.start)?;
    d.set_item(intern!(py, "end"), f.end)?;
    d.set_item(intern!(py, "text"), &f.text)?;
    d.set_item(intern!(py, "term"), &f.term)?;
    d.set_item(intern!(py, "category"), f.category)?;
    d.set_item(intern!(py, "crest"), f.crest)?;
    d.set_item(intern!(py, "assertion"), f.assertion)?;
    d.set_item(intern!(py, "trigger"), f.trigger.as_deref())?;
    d.set_item(intern!(py, "misspelling"), f.misspelling)?;
    d.set_item(intern!(py, "lay"), f.lay)?;
    // As `check --format json` writes it: only when there is one.
    if let Some(v) = &f.value {
        d.set_item(intern!(py, "value"), v)?;
    }
    // As `check --format json` writes them: a system left out when the term has no code.
    let codes = PyDict::new(py);
    if let Some(c) = &f.codes.icd10cm {
        codes.set_item(intern!(py, "icd10cm"), c)?;
    }
    if let Some(c) = &f.codes.snomedct {
        codes.set_item(intern!(py, "snomedct"), c)?;
    }
    d.set_item(intern!(py, "codes"), codes)?;
    Ok(d)
}

fn crest_dict<'py>(py: Python<'py>, c: &CrestReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "present"), &c.present)?;
    d.set_item(intern!(py, "possible"), &c.possible)?;
    d.set_item(intern!(py, "negated"), &c.negated)?;
    Ok(d)
}

fn findings_list<'py>(py: Python<'py>, r: &NoteResult) -> PyResult<Bound<'py, PyList>> {
    let items = r
        .findings
        .iter()
        .map(|f| finding_dict(py, f))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// Analyses `texts` without the GIL, on `jobs` threads (default: every core). `jobs` is at
/// least 1 (a ValueError otherwise) and, as in the command line's `check --jobs`, at most
/// `MAX_JOBS`: more threads only cost memory and start-up time.
fn batch(
    py: Python<'_>,
    engine: Arc<Engine>,
    texts: Vec<String>,
    jobs: Option<AnyInt>,
) -> PyResult<Vec<NoteResult>> {
    on_pool(py, jobs, move || {
        texts.par_iter().map(|t| run(&engine, t)).collect()
    })
}

/// Runs `work` without the GIL on a pool of `jobs` threads (default: rayon's, every core),
/// `jobs` checked as [`batch`] says.
fn on_pool<T: Send>(
    py: Python<'_>,
    jobs: Option<AnyInt>,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    let pool = pool(jobs)?;
    Ok(py.allow_threads(move || match pool {
        Some(p) => p.install(work),
        None => work(),
    }))
}

/// A pool of `jobs` threads, `jobs` checked as [`batch`] says; `None`: rayon's (every core).
fn pool(jobs: Option<AnyInt>) -> PyResult<Option<rayon::ThreadPool>> {
    let jobs = match jobs {
        None => None,
        Some(n) => Some(n.at_least("jobs", 1)?.min(MAX_JOBS)),
    };
    match jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(Some)
            .map_err(|e| PyRuntimeError::new_err(e.to_string())),
        None => Ok(None),
    }
}

/// Notes `analyze_arrow` copies out of Python before handing them to the pool: the pool
/// analyses each run while the next is copied (copying the notes under the GIL was a
/// quarter of a batch of short notes, BENCHMARKS.md "Short notes and the Python batch").
const ARROW_CHUNK_NOTES: usize = 512;

/// Column-oriented findings of many notes: one list per field, `note` = input index.
fn table<'py>(py: Python<'py>, results: &[NoteResult]) -> PyResult<Bound<'py, PyDict>> {
    let n: usize = results.iter().map(|r| r.findings.len()).sum();
    let mut note = Vec::with_capacity(n);
    let all = || results.iter().flat_map(|r| r.findings.iter());
    for (i, r) in results.iter().enumerate() {
        note.extend(std::iter::repeat_n(i, r.findings.len()));
    }
    let d = PyDict::new(py);
    d.set_item("note", note)?;
    d.set_item("start", all().map(|f| f.start).collect::<Vec<_>>())?;
    d.set_item("end", all().map(|f| f.end).collect::<Vec<_>>())?;
    d.set_item("line", all().map(|f| f.line).collect::<Vec<_>>())?;
    d.set_item("character", all().map(|f| f.character).collect::<Vec<_>>())?;
    d.set_item("text", all().map(|f| f.text.as_str()).collect::<Vec<_>>())?;
    d.set_item("term", all().map(|f| f.term.as_str()).collect::<Vec<_>>())?;
    d.set_item("category", all().map(|f| f.category).collect::<Vec<_>>())?;
    d.set_item("crest", all().map(|f| f.crest).collect::<Vec<_>>())?;
    d.set_item("assertion", all().map(|f| f.assertion).collect::<Vec<_>>())?;
    d.set_item(
        "trigger",
        all().map(|f| f.trigger.as_deref()).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "icd10cm",
        all()
            .map(|f| f.codes.icd10cm.as_deref())
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "snomedct",
        all()
            .map(|f| f.codes.snomedct.as_deref())
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "value",
        all().map(|f| f.value.as_deref()).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "misspelling",
        all().map(|f| f.misspelling).collect::<Vec<_>>(),
    )?;
    d.set_item("lay", all().map(|f| f.lay).collect::<Vec<_>>())?;
    Ok(d)
}

/// The columns of [`arrow_batch`], in order: [`table`]'s fields.
const ARROW_COLUMNS: [&str; 16] = [
    "note",
    "start",
    "end",
    "line",
    "character",
    "text",
    "term",
    "category",
    "crest",
    "assertion",
    "trigger",
    "icd10cm",
    "snomedct",
    "value",
    "misspelling",
    "lay",
];

/// What to say when pyarrow is missing: it is optional, and the dict of lists needs nothing.
const NO_PYARROW: &str = "analyze_arrow needs pyarrow (pip install pyarrow); \
                          analyze_table returns the same columns as a dict of lists";

/// Arrow validity (or boolean) bits, least significant bit first, as Arrow lays them out.
fn bits(values: impl Iterator<Item = bool>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, v) in values.enumerate() {
        if i % 8 == 0 {
            out.push(0);
        }
        if v {
            if let Some(last) = out.last_mut() {
                *last |= 1 << (i % 8);
            }
        }
    }
    out
}

/// One Arrow column's buffers, in Arrow's layout: validity bits (absent: no nulls), then
/// the values (int64 or bool bits), or the offsets and the bytes (large_string).
struct ArrowColumn {
    kind: &'static str,
    buffers: Vec<Option<Vec<u8>>>,
}

/// An int64 column being filled.
#[derive(Default)]
struct Int64s(Vec<u8>);

impl Int64s {
    fn push(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_ne_bytes());
    }

    fn finish(self) -> ArrowColumn {
        ArrowColumn {
            kind: "int64",
            buffers: vec![None, Some(self.0)],
        }
    }
}

/// A bool column being filled (one byte per value until [`Bools::finish`] packs the bits).
#[derive(Default)]
struct Bools(Vec<bool>);

impl Bools {
    fn finish(self) -> ArrowColumn {
        ArrowColumn {
            kind: "bool_",
            buffers: vec![None, Some(bits(self.0.into_iter()))],
        }
    }
}

/// A `large_string` column being filled (64-bit offsets: a batch's text may pass 2 GiB);
/// `None` values are nulls.
struct Strings {
    valid: Vec<bool>,
    offsets: Vec<u8>,
    data: Vec<u8>,
}

impl Default for Strings {
    fn default() -> Strings {
        Strings::new()
    }
}

impl Strings {
    fn new() -> Strings {
        Strings {
            valid: Vec::new(),
            offsets: 0i64.to_ne_bytes().to_vec(),
            data: Vec::new(),
        }
    }

    fn push(&mut self, v: Option<&str>) {
        self.valid.push(v.is_some());
        self.data
            .extend_from_slice(v.unwrap_or_default().as_bytes());
        self.offsets
            .extend_from_slice(&(self.data.len() as i64).to_ne_bytes());
    }

    /// Appends `other`'s values (its offsets moved past this column's bytes).
    fn append(&mut self, other: Strings) {
        let base = self.data.len() as i64;
        self.valid.extend(other.valid);
        self.data.extend_from_slice(&other.data);
        for end in other.offsets.chunks_exact(8).skip(1) {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(end);
            self.offsets
                .extend_from_slice(&(i64::from_ne_bytes(raw) + base).to_ne_bytes());
        }
    }

    fn finish(self) -> ArrowColumn {
        let validity = (!self.valid.iter().all(|&v| v)).then(|| bits(self.valid.into_iter()));
        ArrowColumn {
            kind: "large_string",
            buffers: vec![validity, Some(self.offsets), Some(self.data)],
        }
    }
}

/// The buffers of [`arrow_batch`]'s columns, in [`ARROW_COLUMNS`]' order, being filled.
/// Each worker fills one for its run of notes, as it analyses them (so the findings are
/// dropped there too); the calling thread only appends them, in order.
#[derive(Default)]
struct ArrowColumns {
    rows: usize,
    ints: [Int64s; 5],
    strings: [Strings; 9],
    flags: [Bools; 2],
}

impl ArrowColumns {
    /// Analyses the note at `note` in the input and adds its findings, straight from the
    /// report (no owned copy of each finding's strings).
    fn push_note(&mut self, note: usize, engine: &Engine, text: &str) {
        each_finding(engine, text, |f, start, end| {
            self.rows += 1;
            for (col, v) in self.ints.iter_mut().zip([
                note as i64,
                start as i64,
                end as i64,
                i64::from(f.range.start.line),
                i64::from(f.range.start.character),
            ]) {
                col.push(v);
            }
            for (col, v) in self.strings.iter_mut().zip([
                Some(f.text),
                Some(f.term),
                Some(f.category),
                f.crest,
                Some(f.assertion),
                f.trigger,
                f.codes.icd10cm.as_deref(),
                f.codes.snomedct.as_deref(),
                f.value,
            ]) {
                col.push(v);
            }
            self.flags[0].0.push(f.misspelling);
            self.flags[1].0.push(f.lay);
        });
    }

    /// Appends the columns of the notes after these.
    fn append(&mut self, other: ArrowColumns) {
        self.rows += other.rows;
        for (a, b) in self.ints.iter_mut().zip(other.ints) {
            a.0.extend_from_slice(&b.0);
        }
        for (a, b) in self.strings.iter_mut().zip(other.strings) {
            a.append(b);
        }
        for (a, b) in self.flags.iter_mut().zip(other.flags) {
            a.0.extend(b.0);
        }
    }

    fn finish(self) -> (usize, Vec<ArrowColumn>) {
        let columns = self
            .ints
            .into_iter()
            .map(Int64s::finish)
            .chain(self.strings.into_iter().map(Strings::finish))
            .chain(self.flags.into_iter().map(Bools::finish))
            .collect();
        (self.rows, columns)
    }
}

/// The findings of many notes as a `pyarrow.RecordBatch` with [`table`]'s columns: ints as
/// int64, text as large_string (`crest` and `trigger` nullable), flags as bool. `pa` is the
/// pyarrow module.
fn arrow_batch<'py>(
    py: Python<'py>,
    pa: &Bound<'py, PyModule>,
    rows: usize,
    columns: Vec<ArrowColumn>,
) -> PyResult<Bound<'py, PyAny>> {
    let from_buffers = pa
        .getattr(intern!(py, "Array"))?
        .getattr(intern!(py, "from_buffers"))?;
    let py_buffer = pa.getattr(intern!(py, "py_buffer"))?;
    let mut arrays = Vec::with_capacity(columns.len());
    for c in columns {
        let buffers = c
            .buffers
            .iter()
            .map(|b| match b {
                Some(bytes) => py_buffer.call1((PyBytes::new(py, bytes),)).map(Some),
                None => Ok(None),
            })
            .collect::<PyResult<Vec<_>>>()?;
        arrays.push(from_buffers.call1((pa.call_method0(c.kind)?, rows, buffers))?);
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "names"), PyList::new(py, ARROW_COLUMNS)?)?;
    pa.getattr(intern!(py, "RecordBatch"))?.call_method(
        intern!(py, "from_arrays"),
        (arrays,),
        Some(&kwargs),
    )
}

/// A note analyser with a fixed set of ad-hoc terms and corpus; reuse one for many calls.
#[pyclass(frozen, module = "calcinosis_ls")]
struct Analyzer {
    engine: Arc<Engine>,
    terms: Vec<String>,
    corpus: Vec<PathBuf>,
}

#[pymethods]
impl Analyzer {
    #[new]
    #[pyo3(
        signature = (terms = Vec::new(), *, corpus = CorpusDirs::default()),
        text_signature = "(terms=(), *, corpus=None)"
    )]
    fn new(py: Python<'_>, terms: Vec<String>, corpus: CorpusDirs) -> PyResult<Analyzer> {
        let loaded = self::corpus(py, &corpus)?;
        Ok(Analyzer {
            engine: engine(&loaded, &terms)?,
            terms,
            corpus: corpus.0,
        })
    }

    /// The ad-hoc terms this analyser finds besides the lexicon.
    #[getter]
    fn terms(&self) -> Vec<String> {
        self.terms.clone()
    }

    /// The corpus directories extending the built-in corpus (empty: the built-in one alone).
    #[getter]
    fn corpus(&self) -> Vec<PathBuf> {
        self.corpus.clone()
    }

    /// The findings in one note.
    fn analyze<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyList>> {
        findings_list(py, &run(&self.engine, text))
    }

    /// The CREST summary of one note.
    fn crest_summary<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyDict>> {
        crest_dict(py, &CrestReport::from(&self.engine.analyze(text).crest))
    }

    /// The findings of each note, in input order, analysed in parallel without the GIL.
    #[pyo3(signature = (texts, *, jobs = None))]
    fn analyze_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        jobs: Option<AnyInt>,
    ) -> PyResult<Vec<Bound<'py, PyList>>> {
        let results = batch(py, self.engine.clone(), texts, jobs)?;
        results.iter().map(|r| findings_list(py, r)).collect()
    }

    /// The findings of many notes as columns (one list per field, `note` = input index),
    /// ready for `pandas.DataFrame`; analysed in parallel without the GIL.
    #[pyo3(signature = (texts, *, jobs = None))]
    fn analyze_table<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        jobs: Option<AnyInt>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let results = batch(py, self.engine.clone(), texts, jobs)?;
        table(py, &results)
    }

    /// OMOP CDM v5.4 `NOTE_NLP` rows of many notes, as `check --format omop` writes them: CSV
    /// text with its header, `note_ids[i]` the `note_id` of `texts[i]`, `note_nlp_id`
    /// counting from `first_id`; `concepts` is the `--omop-concepts` file. Analysed in
    /// parallel without the GIL.
    #[pyo3(signature = (texts, note_ids, *, concepts = None, first_id = 1, jobs = None))]
    fn omop_csv(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        note_ids: Vec<i32>,
        concepts: Option<PathBuf>,
        first_id: u32,
        jobs: Option<AnyInt>,
    ) -> PyResult<String> {
        if texts.len() != note_ids.len() {
            return Err(PyValueError::new_err(format!(
                "texts and note_ids must be as long: {} notes, {} ids",
                texts.len(),
                note_ids.len()
            )));
        }
        if first_id == 0 || first_id > i32::MAX as u32 {
            return Err(PyValueError::new_err(
                "first_id must be between 1 and 2147483647 (note_nlp_id is a 32-bit key)",
            ));
        }
        let map = match concepts {
            None => omop::ConceptMap::default(),
            Some(path) => {
                use calcinosis_ls::fsread::{read, Links};
                let shown = path.display().to_string();
                let bytes = read(&path, omop::MAX_CONCEPTS_FILE_BYTES, Links::Follow)
                    .map_err(|e| PyOSError::new_err(format!("concepts: {shown} {e}")))?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    PyValueError::new_err(format!("concepts: {shown} is not UTF-8 text"))
                })?;
                omop::ConceptMap::parse(&text)
                    .map_err(|e| PyValueError::new_err(format!("concepts: {shown} {e}")))?
            }
        };
        let run = omop::RunFields::now(map);
        let engine = self.engine.clone();
        let rows: Vec<Vec<u8>> = on_pool(py, jobs, move || {
            texts
                .par_iter()
                .zip(note_ids.par_iter())
                .map(|(text, &id)| {
                    let analysis = engine.analyze(text);
                    let doc = Document::new(text.clone());
                    let found = report::findings(&engine, &doc, &analysis);
                    let mut out = Vec::new();
                    omop::write_rows(doc.text(), &found, id, &run, &mut out);
                    out
                })
                .collect()
        })?;
        let mut out = omop::HEADER.as_bytes().to_vec();
        let mut numbers = omop::RowNumbers::after(first_id - 1);
        for r in &rows {
            numbers
                .write(r, &mut out)
                .map_err(|e| PyOverflowError::new_err(e.to_string()))?;
        }
        // Rows are made from UTF-8 text and ASCII punctuation.
        String::from_utf8(out).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The findings of many notes as a `pyarrow.RecordBatch` with `analyze_table`'s columns,
    /// built from buffers (no Python object per finding or value); analysed in parallel
    /// without the GIL. pyarrow is optional: without it, an ImportError that says so.
    #[pyo3(signature = (texts, *, jobs = None))]
    fn analyze_arrow<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        jobs: Option<AnyInt>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // Refused before the work, not after it.
        let pa = py
            .import("pyarrow")
            .map_err(|_| PyImportError::new_err(NO_PYARROW))?;
        if texts.is_instance_of::<PyString>() {
            // A str is a sequence of one-letter notes: surely a mistake.
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "texts must be a sequence of notes (str), not one str: wrap it in a list",
            ));
        }
        let pool = pool(jobs)?;
        let (tx, rx) = std::sync::mpsc::channel::<(usize, ArrowColumns)>();
        // Hands a run of notes to the pool, which never touches a Python object.
        let spawn = |run: Vec<String>, first: usize| {
            let tx = tx.clone();
            let engine = self.engine.clone();
            let job = move || {
                let mut cols = ArrowColumns::default();
                for (i, t) in run.iter().enumerate() {
                    cols.push_note(first + i, &engine, t);
                }
                let _ = tx.send((first, cols));
            };
            match &pool {
                Some(p) => p.spawn(job),
                None => rayon::spawn(job),
            }
        };
        let mut run = Vec::with_capacity(ARROW_CHUNK_NOTES);
        let (mut first, mut runs) = (0, 0usize);
        for item in texts.try_iter()? {
            run.push(item?.extract::<String>()?);
            if run.len() == ARROW_CHUNK_NOTES {
                spawn(std::mem::take(&mut run), first);
                first += ARROW_CHUNK_NOTES;
                runs += 1;
            }
        }
        if !run.is_empty() {
            spawn(run, first);
            runs += 1;
        }
        drop(tx);
        let (rows, columns) = py
            .allow_threads(move || {
                let mut parts: Vec<(usize, ArrowColumns)> = rx.iter().take(runs).collect();
                // The pool is dropped here, its work done, without the GIL.
                drop(pool);
                if parts.len() != runs {
                    // A worker panicked: its notes are missing, and a batch is never partial.
                    return None;
                }
                parts.sort_unstable_by_key(|(first, _)| *first);
                let mut parts = parts.into_iter().map(|(_, cols)| cols);
                let mut all = parts.next().unwrap_or_default();
                for part in parts {
                    all.append(part);
                }
                Some(all.finish())
            })
            .ok_or_else(|| {
                PyRuntimeError::new_err("the analysis failed (a bug in calcinosis-ls)")
            })?;
        arrow_batch(py, &pa, rows, columns)
    }

    /// The CREST summary of each note, in input order, in parallel without the GIL.
    #[pyo3(signature = (texts, *, jobs = None))]
    fn crest_summary_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        jobs: Option<AnyInt>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let results = batch(py, self.engine.clone(), texts, jobs)?;
        results.iter().map(|r| crest_dict(py, &r.crest)).collect()
    }

    fn __repr__(&self) -> String {
        if self.corpus.is_empty() {
            format!("Analyzer(terms={:?})", self.terms)
        } else {
            format!("Analyzer(terms={:?}, corpus={:?})", self.terms, self.corpus)
        }
    }
}

/// The findings in `text`: one dict per mention, in note order.
#[pyfunction]
#[pyo3(
    signature = (text, terms = Vec::new(), *, corpus = CorpusDirs::default()),
    text_signature = "(text, terms=(), *, corpus=None)"
)]
fn analyze<'py>(
    py: Python<'py>,
    text: &str,
    terms: Vec<String>,
    corpus: CorpusDirs,
) -> PyResult<Bound<'py, PyList>> {
    let loaded = self::corpus(py, &corpus)?;
    let engine = engine(&loaded, &terms)?;
    findings_list(py, &run(&engine, text))
}

/// The CREST summary of `text`.
#[pyfunction]
#[pyo3(
    signature = (text, *, corpus = CorpusDirs::default()),
    text_signature = "(text, *, corpus=None)"
)]
fn crest_summary<'py>(
    py: Python<'py>,
    text: &str,
    corpus: CorpusDirs,
) -> PyResult<Bound<'py, PyDict>> {
    let loaded = self::corpus(py, &corpus)?;
    let engine = engine(&loaded, &[])?;
    crest_dict(py, &CrestReport::from(&engine.analyze(text).crest))
}

/// The findings of each note in `texts`, in order, analysed on every core without the GIL.
#[pyfunction]
#[pyo3(
    signature = (texts, terms = Vec::new(), *, jobs = None, corpus = CorpusDirs::default()),
    text_signature = "(texts, terms=(), *, jobs=None, corpus=None)"
)]
fn analyze_batch<'py>(
    py: Python<'py>,
    texts: Vec<String>,
    terms: Vec<String>,
    jobs: Option<AnyInt>,
    corpus: CorpusDirs,
) -> PyResult<Vec<Bound<'py, PyList>>> {
    let loaded = self::corpus(py, &corpus)?;
    let engine = engine(&loaded, &terms)?;
    let results = batch(py, engine, texts, jobs)?;
    results.iter().map(|r| findings_list(py, r)).collect()
}

/// Source statements that answer `question`, best first, each row with the reply's shape on
/// every surface: whether the sources answer it (`answered`, `confidence`), what each
/// citation refers to (`sources`), the list's opening (`lead_in`), and the composed answer
/// (`answer`: "The sources do not cover …" when they do not). `limit` is 1 to 100, as in
/// the command line; `corpus` extends the built-in corpus as `--corpus` does.
#[pyfunction]
#[pyo3(
    signature = (question, limit = AnyInt::Fits(DEFAULT_LIMIT), *, corpus = CorpusDirs::default()),
    text_signature = "(question, limit=5, *, corpus=None)"
)]
fn ask<'py>(
    py: Python<'py>,
    question: &str,
    limit: AnyInt,
    corpus: CorpusDirs,
) -> PyResult<Bound<'py, PyList>> {
    // Checked before any work, as the command line checks its options before it runs.
    let limit = limit.within("limit", 1, MAX_RESULTS)?;
    let kb = knowledge(py, self::corpus(py, &corpus)?)?;
    let reply = py
        .allow_threads(|| kb.ask(question, limit))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let rows = reply
        .rows()
        .into_iter()
        .map(|a| {
            let d = PyDict::new(py);
            d.set_item("id", a.id)?;
            d.set_item("section", a.section)?;
            d.set_item("text", a.text)?;
            d.set_item("citations", a.citations)?;
            d.set_item("file", a.file)?;
            d.set_item("line", a.line)?;
            d.set_item("score", a.score)?;
            d.set_item("answered", a.answered)?;
            d.set_item("confidence", a.confidence)?;
            d.set_item("sources", a.sources)?;
            d.set_item("lead_in", a.lead_in)?;
            d.set_item("answer", a.answer.unwrap_or_default())?;
            let corrections: Vec<(String, String)> = a
                .corrections
                .iter()
                .map(|c| (c.from.clone(), c.to.clone()))
                .collect();
            d.set_item("corrections", corrections)?;
            d.set_item("not_understood", a.not_understood)?;
            Ok(d)
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, rows)
}

#[pymodule]
fn _calcinosis_ls(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Analyzer>()?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(crest_summary, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_batch, m)?)?;
    m.add_function(wrap_pyfunction!(ask, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
