"""The spaCy component in a real ``spacy.blank("en")`` pipeline: found through the
``spacy_factories`` entry point, mentions as ``doc.ents`` (or a span group when entities
are set), medspaCy's ``is_*`` attributes as strict booleans, and a pipeline in which it
replaces a medspaCy-style ConText step for the components after it. spaCy is the wheel's
``spacy`` extra; under CI a missing spaCy fails.
"""

import subprocess
import sys

import pytest

from interop_env import require

try:
    import spacy
    from spacy.language import Language
    from spacy.tokens import Span
except ImportError:  # pragma: no cover - CI installs the extra
    spacy = None

NOTE = (
    "Denies Raynaud's. Possible calcinosis cutis at the elbow. History of sclerodactyly. "
    "Mother has telangiectasia. Return if dysphagia develops. Anticentromere positive."
)

FLAGS = ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family")


@pytest.fixture
def nlp():
    if spacy is None:
        require("spaCy", 'pip install "calcinosis-ls[spacy]"')
    nlp = spacy.blank("en")
    nlp.add_pipe("calcinosis_ls")
    return nlp


def test_the_entry_point_registers_the_factory_without_an_import():
    if spacy is None:
        require("spaCy", 'pip install "calcinosis-ls[spacy]"')
    code = (
        "import sys, spacy\n"
        "nlp = spacy.blank('en'); nlp.add_pipe('calcinosis_ls')\n"
        "assert 'calcinosis_ls' in sys.modules['calcinosis_ls.spacy_component'].__name__\n"
        "print([e.text for e in nlp(\"Denies Raynaud's.\").ents])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[\"Raynaud's\"]"


def test_mentions_are_entities_with_medspacy_attributes(nlp):
    doc = nlp(NOTE)
    by_term = {e._.term: e for e in doc.ents}
    assert set(by_term) >= {
        "Raynaud's phenomenon", "calcinosis", "sclerodactyly", "telangiectasia",
        "esophageal dysfunction", "anticentromere antibody",
    }
    expected = {
        "Raynaud's phenomenon": "is_negated",
        "calcinosis": "is_uncertain",
        "sclerodactyly": "is_historical",
        "telangiectasia": "is_family",
        "esophageal dysfunction": "is_hypothetical",
        "anticentromere antibody": None,
    }
    for term, flag in expected.items():
        e = by_term[term]
        for f in FLAGS:
            value = getattr(e._, f)
            assert value is (f == flag), (term, f, value)
    rp = by_term["Raynaud's phenomenon"]
    assert (rp.text, rp.label_, rp._.crest) == ("Raynaud's", "CREST_FEATURE", "R")
    assert rp._.codes == {"icd10cm": "I73.00"}
    assert by_term["calcinosis"].text == "calcinosis cutis"
    assert by_term["anticentromere antibody"]._.crest is None
    assert by_term["anticentromere antibody"]._.codes == {}


def test_existing_entities_are_kept_and_mentions_go_to_a_span_group():
    if spacy is None:
        require("spaCy", 'pip install "calcinosis-ls[spacy]"')
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "SITE", "pattern": "elbow"}])
    nlp.add_pipe("calcinosis_ls")
    doc = nlp(NOTE)
    assert [e.text for e in doc.ents] == ["elbow"]
    group = doc.spans["calcinosis_ls"]
    assert len(group) >= 6
    assert all(isinstance(getattr(s._, f), bool) for s in group for f in FLAGS)
    # "ents" puts them in doc.ents beside the others, never overlapping.
    nlp2 = spacy.blank("en")
    nlp2.add_pipe("entity_ruler").add_patterns([{"label": "SITE", "pattern": "elbow"}])
    nlp2.add_pipe("calcinosis_ls", config={"target": "ents"})
    assert "elbow" in [e.text for e in nlp2(NOTE).ents]
    assert len(nlp2(NOTE).ents) >= 7


def test_it_replaces_a_context_step_for_the_components_after_it():
    # A medspaCy pipeline reads ConText's attributes downstream (here: a step that keeps
    # the conditions the patient has, as a cohort query would). With calcinosis_ls in
    # ConText's place, the same downstream code runs unchanged.
    if spacy is None:
        require("spaCy", 'pip install "calcinosis-ls[spacy]"')

    if not Language.has_factory("keep_affirmed_for_test"):

        @Language.component("keep_affirmed_for_test")
        def keep_affirmed(doc):
            doc.ents = [
                e for e in doc.ents
                if not (e._.is_negated or e._.is_hypothetical or e._.is_family
                        or e._.is_uncertain)
            ]
            return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("calcinosis_ls")
    nlp.add_pipe("keep_affirmed_for_test")
    doc = nlp(NOTE)
    assert sorted(e._.term for e in doc.ents) == ["anticentromere antibody", "sclerodactyly"]
    assert Span.has_extension("is_negated")
    assert nlp.pipe_names == ["sentencizer", "calcinosis_ls", "keep_affirmed_for_test"]
    # nlp.pipe (batches) gives the same as one doc at a time.
    assert [d.ents[0].text for d in nlp.pipe([NOTE, NOTE])] == ["sclerodactyly"] * 2
