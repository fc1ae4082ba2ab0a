"""calcinosis-ls for Python: find calcinosis and CREST terms in clinical notes, and what
each note asserts about them (present, negated, possible, historical, hypothetical, family).

The engine is the Rust library behind the ``calcinosis-ls`` language server and CLI; the
findings are the objects of ``calcinosis-ls check --format json``, plus ``start``/``end``
code point offsets into the note.

>>> import calcinosis_ls
>>> [(f["text"], f["assertion"]) for f in calcinosis_ls.analyze("Denies Raynaud's.")]
[("Raynaud's", 'negated')]

Batch calls (:func:`analyze_batch`, :meth:`Analyzer.analyze_table`,
:meth:`Analyzer.analyze_arrow`) release the GIL and use every core. Columns come as a dict
of lists (``analyze_table``) or, when pyarrow is installed (optional), as a
``pyarrow.RecordBatch`` built from buffers (``analyze_arrow``). Nothing is logged, stored or sent: note text stays in the process.
"""

from ._calcinosis_ls import (
    Analyzer,
    __version__,
    analyze,
    analyze_batch,
    ask,
    crest_summary,
)

__all__ = [
    "Analyzer",
    "__version__",
    "analyze",
    "analyze_batch",
    "ask",
    "crest_summary",
]
