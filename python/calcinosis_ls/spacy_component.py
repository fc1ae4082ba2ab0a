"""A spaCy pipeline component: ``nlp.add_pipe("calcinosis_ls")``.

It adds each mention calcinosis-ls finds in a ``Doc`` as an entity (``doc.ents``), or as a
span in ``doc.spans["calcinosis_ls"]`` when the doc already has entities (``target``:
``"auto"``, the default; ``"ents"`` or ``"spans"`` to choose). Each span gets the extension
attributes medspaCy's ConText and negspacy users already read, as strict booleans (never
None): ``is_negated``, ``is_uncertain`` (possible), ``is_historical``, ``is_hypothetical``,
``is_family``; and ``crest`` (the letter or None), ``term`` (the lexicon term), ``codes``
(``{"icd10cm": …}``) and ``assertion``. The label is the term's category in upper case
(``CREST_FEATURE``, ``DISEASE``…).

spaCy is an optional extra (``pip install "calcinosis-ls[spacy]"``); the factory is
registered through the ``spacy_factories`` entry point, so spaCy finds it without an import.
The component runs the whole engine on ``doc.text``: it replaces a ConText step, and needs
no sentencizer or NER before it.
"""

from typing import Literal

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from . import Analyzer

#: The boolean attributes, by the assertion that sets each.
FLAGS = {
    "negated": "is_negated",
    "possible": "is_uncertain",
    "historical": "is_historical",
    "hypothetical": "is_hypothetical",
    "family": "is_family",
}

#: The other attributes (None where a mention has none).
VALUES = ("crest", "term", "codes", "assertion")

#: Where mentions go when the doc has no entities yet, and the span group otherwise.
DEFAULT_SPANS_KEY = "calcinosis_ls"


def _extensions():
    # medspaCy may have made the flags already (default False, as here): keep its.
    for flag in FLAGS.values():
        if not Span.has_extension(flag):
            Span.set_extension(flag, default=False)
    for name in VALUES:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


class CalcinosisLs:
    """The component; ``terms`` are ad-hoc target phrases, as ``check --term``."""

    def __init__(
        self,
        nlp: Language,
        name: str = "calcinosis_ls",
        target: Literal["auto", "ents", "spans"] = "auto",
        spans_key: str = DEFAULT_SPANS_KEY,
        terms: tuple = (),
    ):
        if target not in ("auto", "ents", "spans"):
            raise ValueError('target must be "auto", "ents" or "spans"')
        _extensions()
        self.name = name
        self.target = target
        self.spans_key = spans_key
        self.analyzer = Analyzer(list(terms))

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for f in self.analyzer.analyze(doc.text):
            label = f["category"].upper().replace("-", "_")
            # Mentions are whole words, so a token boundary is there but for tokenizer
            # quirks ("Raynaud's" split mid-word): widen to whole tokens then.
            span = doc.char_span(f["start"], f["end"], label=label, alignment_mode="expand")
            if span is None:
                continue
            for assertion, flag in FLAGS.items():
                span._.set(flag, f["assertion"] == assertion)
            span._.set("crest", f["crest"])
            span._.set("term", f["term"])
            span._.set("codes", dict(f["codes"]))
            span._.set("assertion", f["assertion"])
            spans.append(span)
        use_ents = self.target == "ents" or (self.target == "auto" and not doc.ents)
        if use_ents:
            # Entities may not overlap: the longest mention wins, as in the engine.
            doc.ents = filter_spans(list(doc.ents) + spans)
        else:
            doc.spans[self.spans_key] = spans
        return doc


# Registered when this module is imported, which the `spacy_factories` entry point does.
# (No `Language.has_factory` guard: it would look the entry point up, i.e. this module,
# while it is being imported.)
@Language.factory(
    "calcinosis_ls",
    default_config={"target": "auto", "spans_key": DEFAULT_SPANS_KEY, "terms": []},
)
def make_component(
    nlp: Language, name: str, target: str, spans_key: str, terms: list
) -> CalcinosisLs:
    """The factory spaCy calls: ``nlp.add_pipe("calcinosis_ls", config={...})``."""
    return CalcinosisLs(nlp, name, target=target, spans_key=spans_key, terms=tuple(terms))
