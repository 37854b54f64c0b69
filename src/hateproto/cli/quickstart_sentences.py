"""The sentences of the main job's demo table (``hateproto quickstart``, issue 30).

Written for the demo, one or two per kind of text a newcomer tries first. None comes from the
functional audit's suite, the generated contrast pairs or any training set
(``tests/test_quickstart.py`` checks the first two; ``benchmarks/quickstart_demo_check.py``
the benchmarks' files), and they were written before the detector scored them: the table shows
each one right or wrong against its expected label, never a selection of the right ones.
Each names the audit functionality it is an example of, whose goal (``hateproto audit``)
covers it.
"""

from __future__ import annotations

from typing import NamedTuple


class DemoSentence(NamedTuple):
    """A demo sentence, its expected label (1 = hate) and the audit functionality it is an
    example of."""

    text: str
    label: int
    kind: str
    functionality: str


DEMO_SENTENCES: tuple[DemoSentence, ...] = (
    DemoSentence(
        "Muslims are liars, every single one of them.", 1, "explicit hate", "derogation_direct"
    ),
    DemoSentence(
        "Funny how the whole street went downhill once the immigrants showed up.",
        1,
        "implicit hate",
        "derogation_implicit",
    ),
    DemoSentence(
        "Those Roma families multiply like cockroaches.", 1, "dehumanisation", "dehumanisation"
    ),
    DemoSentence(
        "If a trans woman walks into my gym again I will break her jaw.",
        1,
        "threat",
        "threat",
    ),
    DemoSentence(
        "Gay men should be kept away from every school in the country.",
        1,
        "call for exclusion",
        "exclusion_call",
    ),
    DemoSentence(
        "Nothing about being Muslim makes a person violent.",
        0,
        "negated hate",
        "negated_hate",
    ),
    DemoSentence(
        "Whoever keeps saying 'Jews control the banks' should read an actual history book.",
        0,
        "counter-speech (quoting hate)",
        "counter_quote",
    ),
    DemoSentence(
        "The jokes my uncle tells about disabled people are cruel, and I told him so.",
        0,
        "counter-speech (naming hate)",
        "counter_reference",
    ),
    DemoSentence(
        "The women on our engineering team are the sharpest people I have worked with.",
        0,
        "positive statement about a group",
        "identity_positive",
    ),
    DemoSentence(
        "The mosque on Elm Street holds an open day for visitors this Saturday.",
        0,
        "neutral statement about a group",
        "identity_neutral",
    ),
    DemoSentence(
        "My fellow queers and I are hosting a picnic in the park on Sunday.",
        0,
        "reclaimed slur",
        "slur_reclaimed",
    ),
    DemoSentence(
        "Fuck, I missed the last bus home again.", 0, "untargeted profanity", "profanity_untargeted"
    ),
)
