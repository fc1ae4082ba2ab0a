"""Type stubs for the compiled engine (see the package docstring)."""

import os
from typing import TYPE_CHECKING, Iterable, Literal, Optional, Sequence, TypedDict, Union

if TYPE_CHECKING:
    import pyarrow  # optional: only Analyzer.analyze_arrow needs it

__version__: str

StrPath = Union[str, "os.PathLike[str]"]
Corpus = Union[StrPath, Sequence[StrPath], None]
"""Corpus directories extending the built-in corpus, as the CLI's ``--corpus DIR``: one
directory or a sequence of them (read afresh on each call that takes one). A missing
directory raises FileNotFoundError, a file NotADirectoryError (both OSError, with the CLI's
message ``cannot load the corpus: DIR: …``); a mistake in a corpus file raises ValueError
naming the file and line."""

Assertion = Literal["present", "negated", "possible", "historical", "hypothetical", "family"]
Category = Literal[
    "disease",
    "crest-feature",
    "clinical-feature",
    "antibody",
    "site",
    "complication",
    "mechanism",
    "treatment",
    "ad-hoc",
]
CrestLetter = Literal["C", "R", "E", "S", "T"]

class Position(TypedDict):
    line: int
    """0-based line."""
    character: int
    """0-based column in UTF-16 code units, as in LSP."""

class Range(TypedDict):
    start: Position
    end: Position

class Codes(TypedDict, total=False):
    """The term's standard codes; a system is absent when the lexicon gives no code in it."""

    icd10cm: str
    """ICD-10-CM, with its dot: ``"I73.00"``."""
    snomedct: str
    """A SNOMED CT concept id."""

class _FindingValue(TypedDict, total=False):
    value: str
    """A lexicon ``pattern``'s ``value`` group ("1:640"): present only when there is one,
    as in ``check --format json``."""

class Finding(_FindingValue):
    range: Range
    start: int
    """Code point offset of the mention in the note: ``text[start:end]``."""
    end: int
    text: str
    """The mention as written."""
    term: str
    """The lexicon term's name (or the ad-hoc term)."""
    category: Category
    crest: Optional[CrestLetter]
    assertion: Assertion
    trigger: Optional[str]
    """The cue that decided the assertion: a trigger phrase, a label value or a header."""
    misspelling: bool
    lay: bool
    """The words are a lay description of the term ("difficulty swallowing")."""
    codes: Codes
    """``check --format json``'s ``codes``: ``{"icd10cm": "I73.00"}``, ``{}`` for none."""

class CrestSummary(TypedDict):
    present: list[CrestLetter]
    """Documented for the patient, now or in the past."""
    possible: list[CrestLetter]
    negated: list[CrestLetter]

class Answer(TypedDict):
    id: str
    section: str
    text: str
    citations: list[int]
    file: str
    line: int
    score: float
    answered: bool
    """False when the sources do not cover the question: the row is only the nearest."""
    confidence: float
    sources: list[str]
    lead_in: Optional[str]
    answer: str
    """The composed answer to the whole question (the same on every row)."""
    corrections: list[tuple[str, str]]
    not_understood: list[str]

class FindingsTable(TypedDict):
    """Findings of many notes as columns; ``note`` is the index of the note in the input."""

    note: list[int]
    start: list[int]
    end: list[int]
    line: list[int]
    character: list[int]
    text: list[str]
    term: list[str]
    category: list[Category]
    crest: list[Optional[CrestLetter]]
    assertion: list[Assertion]
    trigger: list[Optional[str]]
    icd10cm: list[Optional[str]]
    snomedct: list[Optional[str]]
    value: list[Optional[str]]
    """A lexicon ``pattern``'s ``value`` group, or None."""
    misspelling: list[bool]
    lay: list[bool]

class Analyzer:
    """A note analyser with a fixed set of ad-hoc terms and corpus. Thread-safe; reuse one.

    ``jobs`` (batch methods) is the number of threads, at least 1 (ValueError otherwise),
    at most 256 as in ``check --jobs`` (more is taken as 256); default: every core."""

    def __init__(self, terms: Sequence[str] = (), *, corpus: Corpus = None) -> None: ...
    @property
    def terms(self) -> list[str]: ...
    @property
    def corpus(self) -> list["os.PathLike[str]"]:
        """The corpus directories extending the built-in corpus (empty: built-in only)."""
    def analyze(self, text: str) -> list[Finding]:
        """The findings in one note, in note order."""
    def crest_summary(self, text: str) -> CrestSummary:
        """The CREST summary of one note."""
    def analyze_batch(
        self, texts: Sequence[str], *, jobs: Optional[int] = None
    ) -> list[list[Finding]]:
        """The findings of each note, in input order; parallel, without the GIL."""
    def analyze_table(
        self, texts: Sequence[str], *, jobs: Optional[int] = None
    ) -> FindingsTable:
        """The findings of many notes as columns, for ``pandas.DataFrame``."""
    def omop_csv(
        self,
        texts: Sequence[str],
        note_ids: Sequence[int],
        *,
        concepts: Union[str, "os.PathLike[str]", None] = None,
        first_id: int = 1,
        jobs: Optional[int] = None,
    ) -> str:
        """OMOP CDM v5.4 NOTE_NLP rows as ``check --format omop`` writes them: CSV with its
        header; ``note_ids[i]`` is the ``note_id`` of ``texts[i]``, ``note_nlp_id`` counts from
        ``first_id``; ``concepts`` is the ``--omop-concepts`` file (vocabulary,code,concept_id)."""
    def analyze_arrow(
        self, texts: Iterable[str], *, jobs: Optional[int] = None
    ) -> "pyarrow.RecordBatch":
        """The findings of many notes as a ``pyarrow.RecordBatch`` with
        :meth:`analyze_table`'s columns (ints int64; text large_string, ``crest`` and
        ``trigger`` nullable; flags bool), built from buffers: no Python object per finding
        or value. ``texts`` may be any iterable of str (one str is a TypeError); runs of
        notes are analysed while the next are read. pyarrow is optional: without it, an
        ImportError saying so."""
    def crest_summary_batch(
        self, texts: Sequence[str], *, jobs: Optional[int] = None
    ) -> list[CrestSummary]:
        """The CREST summary of each note, in input order."""

def analyze(text: str, terms: Sequence[str] = (), *, corpus: Corpus = None) -> list[Finding]:
    """The findings in ``text``: lexicon terms (misspellings included) and ``terms``,
    each with what the note asserts about it."""

def crest_summary(text: str, *, corpus: Corpus = None) -> CrestSummary:
    """Which CREST features the note documents, only suggests, or denies."""

def analyze_batch(
    texts: Sequence[str],
    terms: Sequence[str] = (),
    *,
    jobs: Optional[int] = None,
    corpus: Corpus = None,
) -> list[list[Finding]]:
    """The findings of each note, in input order, analysed on every core (``jobs``
    threads, 1 to 256) without holding the GIL."""

def ask(question: str, limit: int = 5, *, corpus: Corpus = None) -> list[Answer]:
    """Source statements that answer ``question``, best first; ``answered`` is False (and
    ``answer`` says "The sources do not cover …") when the sources do not cover it.
    ``limit`` is 1 to 100, as ``ask --limit`` (ValueError otherwise, however large);
    ``corpus`` extends the built-in corpus, as ``--corpus``."""
