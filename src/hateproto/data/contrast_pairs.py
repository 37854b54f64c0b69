"""Minimal pairs that teach the contrast between hate and talk about hate (training data).

Content warning: the templates below are hateful on purpose; they exist to train detectors.

A detector trained on benchmarks learns that a group name next to an insult means hate, so
it also flags the posts that reject, quote, report or deny that insult, and positive posts
about the group. This generator writes **families**: a hateful claim about a group and its
twins that differ by a few words --

========================= ===== ===========================================================
``hate``                  1     the claim ("{G} are {insult}.") in many phrasings, questions,
                                opinions, threats, dehumanisation, profanity-laden hate
``hate_negated_positive`` 1     hate phrased with a negation ("{G} are not {human}")
``negated``               0     the claim denied ("{G} are not {insult}")
``counter_quote``         0     the claim quoted to reject it
``counter_reference``     0     the claim referred to and rejected or reported
``positive``              0     a positive statement about the group
``neutral``               0     a neutral mention of the group
``nonprotected``          0     the same abuse aimed at a group that is not protected
                                (professions, fans of a team, objects)
``profanity``             0     swearing with no target
========================= ===== ===========================================================

Each row's group can be swapped for another with the same label (group-swap twins, see
:mod:`hateproto.data.augment`).

**Disjoint from the audit.** The templates, fillers and non-protected targets here are
written apart from :mod:`hateproto.audit` (the functional audit must stay a test, never
training data); ``tests/test_contrast_data.py`` checks that no generated text equals an
audit case and that the fillers share no word with the audit's.

**Splits by template**: within each kind, templates are assigned to ``train`` (80%) or ``dev``
(20%) by the SHA-256 of their id, so the dev split measures phrasings never trained on.

Example:
    >>> data = generate_contrast_pairs("train", per_template=2, seed=0)
    >>> sorted(set(data.metadata["kind"]))[:3]
    ['counter_quote', 'counter_reference', 'hate']
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from hateproto.data.benchmarks import canonical_split
from hateproto.data.keys import hash_fraction
from hateproto.data.types import LabeledTexts

#: Protected groups: plural forms (one drawn per row) and a singular with its article.
GROUP_FORMS: dict[str, tuple[tuple[str, ...], str]] = {
    "women": (("women", "females", "Women", "girls", "wives"), "a woman"),
    "black": (("black people", "Black people", "blacks", "Africans", "black men"), "a black guy"),
    "muslim": (("Muslims", "muslims", "Islamic people", "Arabs", "muslim men"), "a Muslim"),
    "jewish": (("Jews", "jews", "Jewish folks", "the Jewish community"), "a Jewish man"),
    "immigrant": (("immigrants", "refugees", "foreigners", "asylum seekers"), "a refugee"),
    "lgbtq": (("gays", "gay men", "lesbians", "homosexuals", "queers"), "a lesbian"),
    "trans": (("trans people", "trans women", "transgender people", "trans folks"), "a trans guy"),
    "disabled": (
        ("disabled people", "the disabled", "wheelchair users", "autistic people"),
        "an autistic kid",
    ),
    "asian": (("Asians", "Chinese people", "asians", "Koreans"), "a Chinese woman"),
    "latino": (("Mexicans", "Latinos", "Hispanics"), "a Mexican"),
    "hindu": (("Hindus", "Indians", "Sikhs"), "an Indian guy"),
    "roma": (("gypsies", "travellers", "Roma families"), "a traveller"),
}

#: Targets that are not protected characteristics (abuse of them is not hate speech).
NON_PROTECTED_FORMS: tuple[tuple[str, str], ...] = (
    ("lawyers", "a lawyer"),
    ("dentists", "a dentist"),
    ("cyclists", "a cyclist"),
    ("golfers", "a golfer"),
    ("car salesmen", "a car salesman"),
    ("Chelsea fans", "a Chelsea fan"),
    ("film critics", "a film critic"),
    ("journalists", "a journalist"),
    ("CEOs", "a CEO"),
    ("pigeons", "a pigeon"),
    ("wasps", "a wasp"),
    ("Mondays", "a Monday"),
    ("printers", "a printer"),
    ("my coworkers", "my coworker"),
    ("gym bros", "a gym bro"),
)

FILLERS: dict[str, tuple[str, ...]] = {
    "insult": (
        "stupid", "lazy", "dirty", "evil", "inferior", "primitive", "dishonest", "greedy",
        "violent", "degenerate", "ugly", "brainless", "sick in the head", "corrupt", "nasty",
        "gross", "wicked", "trash", "a waste of oxygen", "a burden on society",
    ),
    "dehum": (
        "swine", "insects", "lice", "a plague", "a disease", "savages", "beasts", "termites",
        "locusts", "a cancer", "scum", "filth", "apes", "dogs", "bacteria", "garbage",
        "weeds", "a virus", "monsters", "subhuman trash",
    ),
    "praise": (
        "hardworking", "caring", "smart", "honest", "wonderful", "creative", "brave",
        "friendly", "lovely", "amazing", "strong", "wise", "gentle", "hilarious", "resilient",
        "warm", "clever", "decent", "loyal", "admirable",
    ),
    "harm": (
        "shot", "hanged", "beaten up", "wiped out", "burned alive", "locked in camps",
        "thrown off a bridge", "exterminated", "put down", "stoned", "lynched",
        "deported in cattle trucks",
    ),
    "human": (
        "human", "real people", "proper humans", "fully human", "worth anything",
        "equal to us", "worth saving", "capable of thought",
    ),
    "right": (
        "the vote", "rights", "jobs", "a place in this country", "respect", "to live here",
        "human rights", "to be treated like people", "any dignity", "to raise kids",
    ),
    "swear": ("fucking", "goddamn", "bloody", "damn", "shitty", "fuckin"),
    "rebuke": (
        "That is ignorant and wrong.", "Disgraceful.", "Absolutely not okay.",
        "This is bigotry, plain and simple.", "How is this allowed?", "Shame on them.",
        "I reported it.", "Nobody should have to read that.", "Unbelievable behaviour.",
        "We have to call this out.", "So ashamed of people sometimes.",
        "Talk like that gets people killed.",
    ),
}  # fmt: skip

#: ``kind -> (label, templates)``. Placeholders: {g}/{G} plural group (capitalised), {one}
#: singular with article, {x}/{X} the non-protected target, and every filler name.
TEMPLATES: dict[str, tuple[int, tuple[str, ...]]] = {
    "hate": (
        1,
        (
            "{G} are {insult}.",
            "All {g} are {insult} and always will be.",
            "I think {g} are {insult}, sorry not sorry.",
            "Why are {g} always so {insult}?",
            "{G} are {dehum} and should be treated like it.",
            "Honestly {g} are nothing but {dehum}.",
            "{G} should be {harm}.",
            "Each and every one of those {g} deserves to be {harm}.",
            "I want to see {g} {harm}.",
            "{G} do not belong here. Send them all away.",
            "We would be better off without {g} in this country.",
            "{G} are ruining our neighbourhoods. {insult}, all of them.",
            "Never trust {one}, they are all {insult}.",
            "{One} is always {insult}, it's in their blood.",
            "Keep {g} away from our schools, they are {dehum}.",
            "{swear} {g}, I hate every one of them.",
            "I can't stand {g}. They make me sick.",
            "Am I the only one who finds {g} {insult}?",
            "{G} breed like {dehum}.",
            "Get these {swear} {g} out of my country.",
            "Someone needs to deal with the {g} problem once and for all.",
            "{G} will never be {human}, whatever the law says.",
            "There is nothing lower than {one}.",
            "Hiring {one} was the worst mistake we ever made, they're all {insult}.",
            "Typical {g}, {insult} as usual.",
            "Society would be cleaner if {g} were {harm}.",
            "I'd rather die than live next to {g}.",
            "{G} are a stain on this country.",
        ),
    ),
    "hate_negated_positive": (
        1,
        (
            "{G} are not {human}.",
            "{G} don't deserve {right}.",
            "No {g} should ever get {right}.",
            "I will never accept {g} as {human}.",
            "{G} aren't {praise}, they're {insult}.",
            "There is no such thing as {one} who is {praise}.",
            "{G} will never be welcome here.",
            "I don't see {g} as {human} and I never will.",
        ),
    ),
    "negated": (
        0,
        (
            "{G} are not {insult}.",
            "Not all {g} are {insult}, and honestly none that I know are.",
            "It's false that {g} are {insult}.",
            "{G} aren't {dehum}, they are people like you and me.",
            "No one should say {g} are {dehum}.",
            "{G} should never be {harm}.",
            "Nobody deserves to be {harm}, {g} included.",
            "I don't think {g} are {insult} at all.",
            "{G} do belong here.",
            "Being {one} doesn't make anyone {insult}.",
            "There's nothing wrong with being {one}.",
            "I have never hated {g} and I never will.",
            "{G} deserve {right} like everyone else.",
            "It is not true that {g} are ruining anything.",
        ),
    ),
    "counter_quote": (
        0,
        (
            'Someone just told me "{g} are {insult}". {rebuke}',
            'Saw a post saying "{g} are {dehum}". {rebuke}',
            '"{G} should be {harm}" is the kind of thing I read here every day. {rebuke}',
            'My coworker said "I hate {g}" today. {rebuke}',
            "A guy on the train shouted that {g} are {dehum}. {rebuke}",
            '"{G} don\'t belong here"? {rebuke}',
            'When people say "{g} are {insult}" they are telling on themselves.',
            "The comments here claiming {g} are {insult} are vile. {rebuke}",
            'Graffiti on our street: "{swear} {g} out". {rebuke}',
            'Imagine writing "{g} are {dehum}" and thinking you are the good guy.',
        ),
    ),
    "counter_reference": (
        0,
        (
            "Calling {g} {insult} is just bigotry.",
            "Stop saying {g} are {dehum}. It's dehumanising and wrong.",
            "People who want {g} {harm} should be in prison.",
            "The hatred aimed at {g} online is getting worse. {rebuke}",
            "If you think {g} are {insult}, you need to meet some.",
            "Spreading lies about {g} hurts real families.",
            "It's exhausting to watch {g} get abused for existing.",
            "We should stand up for {g} when they are attacked.",
            "Anyone who calls {one} {dehum} has lost the argument.",
            "I'm tired of bigots attacking {g}. {rebuke}",
            "Threats against {g} must be taken seriously by the police.",
            "Hate against {g} is never acceptable, whatever your politics.",
        ),
    ),
    "positive": (
        0,
        (
            "{G} are {praise}.",
            "I love {g}, they are so {praise}.",
            "{G} are {praise} people and I'm glad they live here.",
            "Meeting {one} today made my week, so {praise}.",
            "Big respect to {g}, always {praise}.",
            "Our team is better because of the {g} in it.",
            "{G} deserve all the happiness in the world.",
            "I'm proud to stand with {g}.",
            "Thank you to the {g} who volunteered at the shelter.",
            "{One} is just as {praise} as anyone else.",
            "Some of the most {praise} people I know are {g}.",
        ),
    ),
    "neutral": (
        0,
        (
            "I know a lot of {g}.",
            "There are many {g} in my town.",
            "{G} make up about a tenth of the workforce.",
            "My sister married {one} last year.",
            "The new report looks at how {g} use public transport.",
            "Which {g} do you follow on here?",
            "A group of {g} opened a bakery downtown.",
            "{One} moved in across the road.",
            "Lots of {g} were at the concert yesterday.",
            "The radio had a show about {g} this morning.",
            "I am {one}.",
            "We talked about {g} in class today.",
        ),
    ),
    "nonprotected": (
        0,
        (
            "{X} are {insult}.",
            "I hate {x}, every single one.",
            "{X} are {dehum}, honestly.",
            "Why are {x} always so {insult}?",
            "{swear} {x}, ruining my day again.",
            "All {x} should be {harm} lol",
            "Can't stand {x}. {swear} nightmare.",
        ),
    ),
    "profanity": (
        0,
        (
            "{swear} hell, my bus is late again.",
            "This {swear} rain won't stop.",
            "Holy shit that was a {swear} amazing game.",
            "Oh fuck, I forgot my charger.",
            "What a {swear} day. I need a drink.",
            "Shit, the oven is on fire.",
            "Fuck yes, we won!",
            "This coffee is {swear} perfect.",
            "Damn, that was close.",
            "I'm so {swear} tired of this heat.",
        ),
    ),
}

SPLITS = ("train", "dev")
"""The generated splits; ``test`` is empty (the functional audit is the test)."""


def template_split(kind: str, index: int) -> str:
    """``train`` (80%) or ``dev`` (20%) for template ``index`` of ``kind``, by hash."""
    return "dev" if hash_fraction(f"{kind}.{index}") < 0.2 else "train"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fields(group: str | None, rng: random.Random) -> dict[str, str]:
    fields = {name: rng.choice(values) for name, values in FILLERS.items()}
    if group is None:
        plural, one = rng.choice(NON_PROTECTED_FORMS)
        fields.update(x=plural, one=one)
    else:
        plurals, one = GROUP_FORMS[group]
        fields.update(g=rng.choice(plurals), one=one)
    for name in list(fields):
        fields[name.upper() if len(name) == 1 else _capitalised(name)] = _capitalised(fields[name])
    return fields


def _render(template: str, fields: dict[str, str]) -> str:
    text = template.format_map(fields)
    return _capitalised(text)


def generate_contrast_pairs(
    split: str = "train", per_template: int = 40, seed: int = 0
) -> LabeledTexts:
    """Generated posts of ``split`` (``train`` or ``dev``; ``test`` is empty): up to
    ``per_template`` distinct renderings of every template of the split (templates that name
    a group cycle through every group).

    Metadata: ``kind``, ``template``, ``target`` (the group key, ``None`` for
    non-protected targets and profanity), ``group`` (same) and ``category`` (= kind).
    """
    split = canonical_split(split)
    rows: list[tuple[str, int, str, str, str | None]] = []
    groups = sorted(GROUP_FORMS)
    for kind, (label, templates) in TEMPLATES.items():
        for index, template in enumerate(templates):
            if template_split(kind, index) != split:
                continue
            rng = random.Random(f"{seed}:{kind}:{index}")
            protected = "{g}" in template.lower() or "{one}" in template.lower()
            for draw in range(per_template):
                group = groups[(draw + index) % len(groups)] if protected else None
                text = _render(template, _fields(group, rng))
                rows.append((text, label, kind, f"{kind}.{index:02d}", group))
    frame = pd.DataFrame(rows, columns=["text", "label", "kind", "template", "target"])
    frame = frame.drop_duplicates("text").reset_index(drop=True)
    meta = frame[["kind", "template", "target"]].assign(
        group=frame["target"], category=frame["kind"]
    )
    return LabeledTexts(
        texts=frame["text"].tolist(),
        labels=frame["label"].to_numpy(np.int64),
        name="contrast_pairs",
        protocol="general",
        split=split,
        metadata=meta,
        notes={"per_template": per_template, "seed": seed},
    )
