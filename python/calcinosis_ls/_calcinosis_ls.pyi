"""Type stubs for the compiled engine (see the package docstring)."""

from typing import Literal, Optional, Sequence, TypedDict

__version__: str

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

class Finding(TypedDict):
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
    misspelling: list[bool]

class Analyzer:
    """A note analyser with a fixed set of ad-hoc terms. Thread-safe; reuse one."""

    def __init__(self, terms: Sequence[str] = ()) -> None: ...
    @property
    def terms(self) -> list[str]: ...
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
    def crest_summary_batch(
        self, texts: Sequence[str], *, jobs: Optional[int] = None
    ) -> list[CrestSummary]:
        """The CREST summary of each note, in input order."""

def analyze(text: str, terms: Sequence[str] = ()) -> list[Finding]:
    """The findings in ``text``: lexicon terms (misspellings included) and ``terms``,
    each with what the note asserts about it."""

def crest_summary(text: str) -> CrestSummary:
    """Which CREST features the note documents, only suggests, or denies."""

def analyze_batch(
    texts: Sequence[str], terms: Sequence[str] = (), *, jobs: Optional[int] = None
) -> list[list[Finding]]:
    """The findings of each note, in input order, analysed on every core (``jobs``
    threads) without holding the GIL."""

def ask(question: str, limit: int = 5) -> list[Answer]:
    """Source statements that answer ``question``, best first; ``answered`` is False (and
    ``answer`` says "The sources do not cover …") when the sources do not cover it.
    ``limit`` is 1 to 100 (ValueError otherwise)."""
