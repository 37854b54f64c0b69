"""Native German, French and Spanish minimal pairs (training data), as :mod:`.contrast_pairs`.

Content warning: the templates below are hateful on purpose; they exist to train detectors.

The same families and kinds as the English generator (``hate``, ``hate_negated_positive``,
``negated``, ``counter_quote``, ``counter_reference``, ``positive``, ``neutral``,
``nonprotected``, ``profanity``; label 1 for the first two), written from scratch in each
language rather than translated, so that a multilingual detector learns the contrast between
hate and talk about hate in that language. The hateful kind covers direct and implicit
derogation, dehumanisation, threats and calls for violence, exclusion, hate phrased as a
question, hate that refers by pronoun to a group named in the sentence before, and (every
fifth rendering of every template, any kind) a spelling-obfuscated variant
(:func:`hateproto.data.spelling.obfuscate`), so that obfuscation alone never means hate.

**Frame twins.** Every hateful template (``hate``, ``hate_negated_positive``) has one or two
non-hateful twins (:func:`language_twins`; rows of kind ``positive_twin``, label 0) that keep
its frame and most of its words but say something positive or supportive about the group
("Dieses Land wäre besser dran ohne {g}" -> "Dieses Land wäre besser dran, wenn mehr {g} in
der Politik wären"), so that a detector cannot learn a sentence frame as hate.

**Agreement.** Every group (and non-protected target) has one or more form variants; a variant
maps placeholder names to text and carries a grammatical gender (``_gen``: ``m`` or ``f``):

* German: ``{g}`` bare plural ("Muslime"), ``{die}`` plural with article (nominative and
  accusative: "die Muslime"), ``{dat}`` dative plural ("den Muslimen"), ``{one}`` indefinite
  singular ("ein Muslim");
* French: ``{les}``, ``{des}``, ``{aux}``, ``{de}`` ("de musulmans", "d'immigrés"), ``{nu}``
  (bare plural), ``{one}``, ``{ils}`` / ``{eux}`` / ``{tous}`` (pronouns by gender);
* Spanish: ``{los}``, ``{a_los}``, ``{de_los}``, ``{nu}``, ``{one}``, ``{ellos}``, ``{todos}``.

A filler or a template may hold ``m|f`` alternatives (fillers: the whole value; templates:
``[masculine|feminine]``), resolved by the variant's gender. Every placeholder also has a
capitalised twin (``{Die}``, ``{Les}``, ``{Ellos}``).

**Disjoint from the audit.** Templates, fillers and targets are written apart from
:mod:`hateproto.audit.languages` (a test set); ``tests/test_contrast_pairs_languages.py``
checks that no generated text equals an audit case after :func:`normalise_text`.

**Splits by template**: as English, ``train`` (80%) or ``dev`` (20%) by the hash of
``<language>:<kind>`` and the template index (:func:`.contrast_pairs.template_split`); a frame
twin is in the split of the template it mirrors, so a frame is never hate in one split and
twin in the other.

Example:
    >>> data = generate_language_contrast_pairs("de", "train", per_template=2)
    >>> data.notes["language"], sorted(set(data.metadata["kind"]))[:2]
    ('de', ['counter_quote', 'counter_reference'])
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hateproto.data.benchmarks import canonical_split
from hateproto.data.contrast_pairs import _capitalised, template_split
from hateproto.data.spelling import obfuscate
from hateproto.data.types import LabeledTexts
from hateproto.errors import DataError

Forms = Mapping[str, str]


@dataclass(frozen=True)
class PairLanguage:
    """One language's generator: groups, non-protected targets, fillers and templates."""

    code: str
    groups: Mapping[str, tuple[Forms, ...]]
    non_protected: tuple[Forms, ...]
    fillers: Mapping[str, tuple[str, ...]]
    templates: Mapping[str, tuple[int, tuple[str, ...]]]


def _de(g: str, die: str, dat: str, one: str) -> Forms:
    return {"g": g, "die": die, "dat": dat, "one": one, "_gen": "m"}


def _fr(gen: str, les: str, one: str, de: str | None = None) -> Forms:
    """French forms from ``les X`` (``des``/``aux``/``de`` derived; ``de`` elided before a
    vowel unless given)."""
    nu = les.removeprefix("les ")
    if de is None:
        de = ("d'" if nu[:1].lower() in "aeiouéèêh" else "de ") + nu
    return {
        "les": les,
        "des": "des " + nu,
        "aux": "aux " + nu,
        "de": de,
        "nu": nu,
        "one": one,
        "ils": "ils" if gen == "m" else "elles",
        "eux": "eux" if gen == "m" else "elles",
        "tous": "tous" if gen == "m" else "toutes",
        "_gen": gen,
    }


def _es(gen: str, los: str, one: str) -> Forms:
    """Spanish forms from ``los X`` / ``las X``."""
    nu = los.split(" ", 1)[1]
    return {
        "los": los,
        "a_los": "a " + los,
        "de_los": "de " + los,
        "nu": nu,
        "one": one,
        "ellos": "ellos" if gen == "m" else "ellas",
        "todos": "todos" if gen == "m" else "todas",
        "_gen": gen,
    }


# ------------------------------------------------------------------------------ German
_GERMAN = PairLanguage(
    code="de",
    groups={
        "women": (
            _de("Frauen", "die Frauen", "den Frauen", "eine Frau"),
            _de("Weiber", "die Weiber", "den Weibern", "ein Weib"),
        ),
        "black": (
            _de("Schwarze", "die Schwarzen", "den Schwarzen", "ein Schwarzer"),
            _de("Afrikaner", "die Afrikaner", "den Afrikanern", "ein Afrikaner"),
        ),
        "muslim": (
            _de("Muslime", "die Muslime", "den Muslimen", "ein Muslim"),
            _de("Moslems", "die Moslems", "den Moslems", "ein Moslem"),
        ),
        "jewish": (_de("Juden", "die Juden", "den Juden", "ein Jude"),),
        "immigrant": (
            _de("Flüchtlinge", "die Flüchtlinge", "den Flüchtlingen", "ein Flüchtling"),
            _de("Migranten", "die Migranten", "den Migranten", "ein Migrant"),
            _de("Asylbewerber", "die Asylbewerber", "den Asylbewerbern", "ein Asylbewerber"),
        ),
        "lgbtq": (
            _de("Schwule", "die Schwulen", "den Schwulen", "ein Schwuler"),
            _de("Lesben", "die Lesben", "den Lesben", "eine Lesbe"),
            _de("Homosexuelle", "die Homosexuellen", "den Homosexuellen", "ein Homosexueller"),
        ),
        "trans": (
            _de("Transmenschen", "die Transmenschen", "den Transmenschen", "ein Transmensch"),
            _de("trans Frauen", "die trans Frauen", "den trans Frauen", "eine trans Frau"),
        ),
        "disabled": (
            _de("Behinderte", "die Behinderten", "den Behinderten", "ein Behinderter"),
            _de(
                "Rollstuhlfahrer",
                "die Rollstuhlfahrer",
                "den Rollstuhlfahrern",
                "ein Rollstuhlfahrer",
            ),
        ),
        "roma": (
            _de("Roma", "die Roma", "den Roma", "eine Romni"),
            _de("Sinti und Roma", "die Sinti und Roma", "den Sinti und Roma", "ein Sinto"),
        ),
        "asian": (
            _de("Asiaten", "die Asiaten", "den Asiaten", "ein Asiate"),
            _de("Chinesen", "die Chinesen", "den Chinesen", "ein Chinese"),
        ),
        "turkish": (
            _de("Türken", "die Türken", "den Türken", "ein Türke"),
            _de("Deutschtürken", "die Deutschtürken", "den Deutschtürken", "ein Deutschtürke"),
        ),
        "arab": (_de("Araber", "die Araber", "den Arabern", "ein Araber"),),
    },
    non_protected=(
        _de("Zahnärzte", "die Zahnärzte", "den Zahnärzten", "ein Zahnarzt"),
        _de("Radfahrer", "die Radfahrer", "den Radfahrern", "ein Radfahrer"),
        _de("Anwälte", "die Anwälte", "den Anwälten", "ein Anwalt"),
        _de("Taxifahrer", "die Taxifahrer", "den Taxifahrern", "ein Taxifahrer"),
        _de("Schalke-Fans", "die Schalke-Fans", "den Schalke-Fans", "ein Schalke-Fan"),
        _de("Tauben", "die Tauben", "den Tauben", "eine Taube"),
        _de("Wespen", "die Wespen", "den Wespen", "eine Wespe"),
        _de("Drucker", "die Drucker", "den Druckern", "ein Drucker"),
        _de("Montage", "die Montage", "den Montagen", "ein Montag"),
        _de("Autoverkäufer", "die Autoverkäufer", "den Autoverkäufern", "ein Autoverkäufer"),
        _de("Filmkritiker", "die Filmkritiker", "den Filmkritikern", "ein Filmkritiker"),
        _de(
            "Fitnessstudio-Typen",
            "die Fitnessstudio-Typen",
            "den Fitnessstudio-Typen",
            "ein Fitnessstudio-Typ",
        ),
    ),
    fillers={
        "insult": (
            "faul",
            "verlogen",
            "rückständig",
            "hinterhältig",
            "kriminell",
            "kulturlos",
            "strohdumm",
            "gierig",
            "gewalttätig",
            "verdorben",
            "unbrauchbar",
            "verkommen",
            "ekelerregend",
            "heimtückisch",
            "schmuddelig",
            "unterbelichtet",
            "schmierig",
            "nichtsnutzig",
        ),
        "dehum": (
            "Kanalratten",
            "Blutsauger",
            "Schaben",
            "Untiere",
            "Affen",
            "Schädlinge",
            "Läuse",
            "Heuschrecken",
            "Würmer",
            "Bakterien",
            "Zecken",
            "Bestien",
            "Schweine",
            "Wanzen",
        ),
        "harm": (
            "erschossen",
            "aufgehängt",
            "vergast",
            "verprügelt",
            "abgeknallt",
            "angezündet",
            "weggesperrt",
            "ausgerottet",
            "totgeschlagen",
            "an die Wand gestellt",
        ),
        "harm_inf": (
            "erschießen",
            "aufhängen",
            "vergasen",
            "verprügeln",
            "abknallen",
            "anzünden",
            "einsperren",
            "ausrotten",
            "totschlagen",
            "ertränken",
        ),
        "praise": (
            "fleißig",
            "offenherzig",
            "gescheit",
            "ehrlich",
            "bewundernswert",
            "kreativ",
            "mutig",
            "freundlich",
            "engagiert",
            "humorvoll",
            "zuverlässig",
            "gutherzig",
            "begabt",
            "anständig",
            "liebenswert",
            "großzügig",
        ),
        "human": (
            "Menschen",
            "Mitmenschen",
            "Mitbürger",
            "Menschen wie wir",
            "Menschen wie du und ich",
        ),
        "right": (
            "das Wahlrecht",
            "die Staatsbürgerschaft",
            "das Sorgerecht",
            "das Aufenthaltsrecht",
            "die Grundrechte",
            "den Schutz des Staates",
            "die Arbeitserlaubnis",
        ),
        "scheiss": ("Scheiß", "Drecks", "verdammte", "verfickte"),
        "fluch": (
            "Verdammt",
            "Scheiße",
            "Mist",
            "Verflucht",
            "Fuck",
            "Kacke",
            "Verdammte Scheiße",
            "Herrgott nochmal",
        ),
        "rebuke": (
            "Einfach nur ekelhaft.",
            "Sowas geht gar nicht.",
            "Das ist blanke Hetze.",
            "Ich habe es gemeldet.",
            "Wie kann man so etwas schreiben?",
            "Schämt euch.",
            "Da fehlen mir die Worte.",
            "Das darf man nicht stehen lassen.",
            "Solche Sprüche machen mich wütend.",
            "Worte wie diese führen zu Gewalt.",
            "Das ist menschenverachtend.",
            "Ich bin fassungslos.",
        ),
    },
    templates={
        "hate": (
            1,
            (
                "{G} sind {insult}, das weiß doch jeder.",
                "Ich sag's wie es ist: {die} sind einfach {insult}.",
                "Warum sind {die} eigentlich immer so {insult}?",
                "Ist euch auch aufgefallen, wie {insult} {die} sind?",
                "{Die} sind {dehum} und sonst gar nichts.",
                "Für mich sind {die} nichts als {dehum}.",
                "{Die} breiten sich aus wie {dehum}.",
                "{Die} gehören {harm}.",
                "Man sollte {die} alle {harm_inf}.",
                "Wenn es nach mir ginge, würde man {die} {harm_inf}.",
                "{Die} haben hier nichts verloren. Raus mit ihnen!",
                "Dieses Land wäre besser dran ohne {g}.",
                "{Die} sollen verschwinden, und zwar alle.",
                "Ich hatte heute wieder mit {dat} zu tun. Die sind alle {insult}.",
                "Heute in der Zeitung: noch ein Bericht über {die}. "
                "Sie sind eine Last für uns alle.",
                "{Die} wollen nicht arbeiten, die kassieren lieber Stütze.",
                "Bei {dat} weiß man nie, was sie als Nächstes klauen.",
                "Wo {die} hinziehen, steigt die Kriminalität. Zufall?",
                "Mit {dat} an einem Tisch sitzen? Nie im Leben, das sind {dehum}.",
                "{scheiss} {g}, ich hasse sie alle.",
                "{One} ist und bleibt {insult}.",
                # threats, implicit derogation, pronoun reference, questions (added round 3)
                "Beim nächsten Mal erwische ich [einen|eine] von {dat}, dann fließt Blut.",
                "Wartet nur ab, bald wird mit {dat} abgerechnet.",
                "Wer heute Nacht {dat} allein begegnet, weiß, was zu tun ist.",
                "Ich hol schon mal die Baseballschläger raus, {die} kommen in unser Viertel.",
                "{Die} kriegen bald, was sie verdienen, und zwar mit Gewalt.",
                "{Die} können sich einfach nicht an Regeln halten, das liegt in ihrer Natur.",
                "Klar, wieder {g}. Hätte mich auch gewundert, wenn's mal anders wäre.",
                "Seit {die} im Haus wohnen, schließe ich abends zweimal ab.",
                "Ich kenne genug {g}. Die sind alle gleich, einer schlimmer als der andere.",
                "Wer hat eigentlich entschieden, dass wir {die} hier ertragen müssen?",
                "{Die} vermehren sich schneller, als man gucken kann.",
                "Kein Cent mehr für {die}, die sollen dahin zurück, wo sie herkommen.",
            ),
        ),
        "hate_negated_positive": (
            1,
            (
                "{Die} sind keine {human}.",
                "{Die} werden niemals {human} sein.",
                "{Dat} sollte man {right} entziehen.",
                "{Die} sind nicht {praise}, sondern {insult}.",
                "Ich werde {die} nie als {human} akzeptieren.",
                "{One} kann gar nicht {praise} sein.",
                "{Die} sind hier nicht willkommen und werden es nie sein.",
                "{Die} haben keinen Platz in diesem Land verdient.",
                "Ich sehe in {dat} keine {human}.",
                "{Die} verdienen weder Respekt noch Mitleid.",
                "{Die} haben kein Recht, hier zu leben.",
                "An {dat} ist nichts Gutes, rein gar nichts.",
            ),
        ),
        "negated": (
            0,
            (
                "{Die} sind nicht {insult}.",
                "Wer behauptet, {die} seien {insult}, liegt völlig falsch.",
                "{Die} sind keine {dehum}, sondern Menschen wie du und ich.",
                "{Die} dürfen niemals {harm} werden.",
                "Kein Mensch hat es verdient, {harm} zu werden, auch {die} nicht.",
                "Ich finde überhaupt nicht, dass {die} {insult} sind.",
                "{Die} gehören genauso hierher wie alle anderen.",
                "{One} zu sein macht niemanden {insult}.",
                "Ich habe {die} nie gehasst und werde es auch nie tun.",
                "Niemand sollte {dat} {right} entziehen.",
                "Dass {die} hier alles kaputtmachen, ist schlicht gelogen.",
                "Nicht {die} sind das Problem, sondern die Hetze gegen sie.",
                "Ich lasse mir nicht einreden, dass {die} {dehum} sind.",
            ),
        ),
        "counter_quote": (
            0,
            (
                'Heute hat jemand im Bus gesagt: "{Die} sind {insult}". {rebuke}',
                'Unter dem Video stand "{Die} gehören {harm}". {rebuke}',
                '"{G} sind {dehum}" – wer sowas postet, sollte sich schämen.',
                "Beim Familienfest hat mein Schwager erzählt, {die} seien {insult}. {rebuke}",
                '"Ich hasse {die}" stand an der Wand unserer Schule. {rebuke}',
                'Wer "{G} raus" brüllt, hat aus der Geschichte nichts gelernt.',
                "Auf Telegram liest man ständig, {die} seien {dehum}. {rebuke}",
                'Ein Kommentar hier lautet wörtlich "{G} sind {insult}". {rebuke}',
                '"Man sollte {die} {harm_inf}" – und das bekommt auch noch Likes? {rebuke}',
                "Jemand hat mir geschrieben, {one} sei {insult}. {rebuke}",
                'Zitat aus der Gruppe: "{scheiss} {g}". {rebuke}',
            ),
        ),
        "counter_reference": (
            0,
            (
                "Wer {die} {insult} nennt, verbreitet nur Hass.",
                "Hört endlich auf, {die} als {dehum} zu bezeichnen. Das ist entmenschlichend.",
                "Leute, die {dat} Gewalt wünschen, gehören vor Gericht.",
                "Die Hetze gegen {die} im Netz wird immer schlimmer. {rebuke}",
                "Wer glaubt, {die} seien {insult}, sollte mal mit ihnen reden.",
                "Lügen über {die} schaden echten Familien.",
                "Es ist unerträglich, wie {die} hier ständig beleidigt werden.",
                "Wir müssen uns vor {die} stellen, wenn sie angegriffen werden.",
                "Drohungen gegen {die} muss die Polizei ernst nehmen.",
                "Hass auf {die} ist nie okay, egal wo man politisch steht.",
                "Ich bin es leid, dass {die} für alles verantwortlich gemacht werden. {rebuke}",
                "Solidarität mit {dat}, die heute wieder beleidigt wurden.",
            ),
        ),
        "positive": (
            0,
            (
                "{G} sind {praise}.",
                "Ich mag {die}, sie sind so {praise}.",
                "Ein großes Dankeschön an {die} in unserem Verein, immer {praise}!",
                "Ohne {g} wäre unser Team nur halb so gut.",
                "{Die} verdienen alles Glück dieser Welt.",
                "Ich stehe fest zu {dat}.",
                "{One} hat mir heute geholfen, total {praise}.",
                "Schön, dass {die} hier leben.",
                "Von {dat} kann man eine Menge lernen.",
                "{Die} bereichern unsere Stadt, so einfach ist das.",
                "Hut ab vor {dat}, wirklich {praise}.",
            ),
        ),
        "neutral": (
            0,
            (
                "Ich kenne viele {g}.",
                "In meiner Stadt leben ziemlich viele {g}.",
                "{One} ist gegenüber eingezogen.",
                "Die neue Studie untersucht, wie {die} Bus und Bahn nutzen.",
                "Im Radio lief heute Morgen eine Sendung über {die}.",
                "Heute haben wir in der Schule über {die} gesprochen.",
                "Ich bin {one}.",
                "Auf dem Konzert gestern waren auch viele {g}.",
                "{Die} aus dem Viertel haben eine Bäckerei eröffnet.",
                "Wie viele {g} wohnen eigentlich in Hamburg?",
                "Mein Kollege hat einen Vortrag über die Geschichte von {dat} gehalten.",
                "Sie sind {g}. Sie wohnen seit zehn Jahren bei uns im Haus.",
            ),
        ),
        "nonprotected": (
            0,
            (
                "{G} sind {insult}.",
                "Ich hasse {die}, jeden einzelnen.",
                "{Die} sind {dehum}, ehrlich.",
                "Warum sind {die} immer so {insult}?",
                "{scheiss} {g}, versauen mir schon wieder den Tag.",
                "{Die} gehören alle {harm} lol",
                "{Die} kann ich nicht ausstehen. {fluch}!",
                "{One} ist einfach nur {insult}.",
                "Ich hatte heute mit {dat} zu tun. Die sind alle {insult}.",
                "Ist euch auch aufgefallen, wie {insult} {die} sind?",
                "{Die} breiten sich aus wie {dehum}.",
                "{Die} sollen verschwinden, und zwar alle.",
            ),
        ),
        "profanity": (
            0,
            (
                "{fluch}, der Bus ist schon wieder zu spät.",
                "Dieser {scheiss} Regen hört einfach nicht auf.",
                "Heilige Scheiße, was für ein Spiel!",
                "{fluch}, ich hab mein Ladekabel vergessen.",
                "Was für ein beschissener Tag. Ich brauch ein Bier.",
                "Scheiße, der Ofen brennt!",
                "Wir haben gewonnen, verdammt nochmal!",
                "{fluch}, das war knapp.",
                "Ich hab diese {scheiss} Hitze so satt.",
                "Verfluchte Kacke, jetzt ist der Kaffee kalt.",
                "{fluch}! Schon wieder Stau auf der A7.",
                "Boah, was für ein Scheißwetter heute.",
            ),
        ),
    },
)

# ------------------------------------------------------------------------------ French
_FRENCH = PairLanguage(
    code="fr",
    groups={
        "women": (
            _fr("f", "les femmes", "une femme"),
            _fr("f", "les filles", "une fille"),
        ),
        "black": (
            _fr("m", "les Noirs", "un Noir"),
            _fr("f", "les personnes noires", "une personne noire"),
            _fr("m", "les Africains", "un Africain"),
        ),
        "muslim": (
            _fr("m", "les musulmans", "un musulman"),
            _fr("f", "les musulmanes", "une musulmane"),
        ),
        "jewish": (_fr("m", "les Juifs", "un Juif"), _fr("f", "les juives", "une juive")),
        "immigrant": (
            _fr("m", "les migrants", "un migrant"),
            _fr("m", "les réfugiés", "un réfugié"),
            _fr("m", "les immigrés", "un immigré"),
        ),
        "lgbtq": (
            _fr("m", "les homosexuels", "un homosexuel"),
            _fr("m", "les gays", "un gay", "de gays"),
            _fr("f", "les lesbiennes", "une lesbienne"),
        ),
        "trans": (
            _fr("f", "les personnes trans", "une personne trans"),
            _fr("f", "les femmes trans", "une femme trans"),
        ),
        "disabled": (
            _fr("m", "les handicapés", "un handicapé", "de handicapés"),
            _fr("f", "les personnes handicapées", "une personne handicapée"),
            _fr("m", "les autistes", "un autiste"),
        ),
        "roma": (_fr("m", "les Roms", "un Rom"), _fr("m", "les gitans", "un gitan")),
        "asian": (
            _fr("m", "les Asiatiques", "un Asiatique"),
            _fr("m", "les Chinois", "un Chinois"),
        ),
        "arab": (
            _fr("m", "les Maghrébins", "un Maghrébin"),
            _fr("m", "les Arabes", "un Arabe"),
            _fr("m", "les Algériens", "un Algérien"),
        ),
        "latino": (_fr("m", "les Latinos", "un Latino"),),
    },
    non_protected=(
        _fr("m", "les dentistes", "un dentiste"),
        _fr("m", "les cyclistes", "un cycliste"),
        _fr("m", "les avocats", "un avocat"),
        _fr("m", "les chauffeurs de taxi", "un chauffeur de taxi"),
        _fr("m", "les supporters du PSG", "un supporter du PSG"),
        _fr("m", "les pigeons", "un pigeon"),
        _fr("f", "les guêpes", "une guêpe"),
        _fr("f", "les imprimantes", "une imprimante"),
        _fr("m", "les lundis", "un lundi"),
        _fr("m", "les contrôleurs SNCF", "un contrôleur SNCF"),
        _fr("m", "les vendeurs de voitures", "un vendeur de voitures"),
        _fr("m", "les critiques de cinéma", "un critique de cinéma"),
    ),
    fillers={
        "insult": (
            "fainéants|fainéantes",
            "sales",
            "hypocrites",
            "menteurs|menteuses",
            "sournois|sournoises",
            "primitifs|primitives",
            "violents|violentes",
            "abrutis|abruties",
            "répugnants|répugnantes",
            "tarés|tarées",
            "dégénérés|dégénérées",
            "voleurs|voleuses",
            "crasseux|crasseuses",
            "pourris|pourries",
            "bons à rien|bonnes à rien",
            "profiteurs|profiteuses",
        ),
        "dehum": (
            "des rats",
            "des cafards",
            "des parasites",
            "de la vermine",
            "une maladie",
            "un cancer",
            "des animaux",
            "des singes",
            "des sangsues",
            "des poux",
            "des bêtes",
            "des nuisibles",
            "des microbes",
            "une gangrène",
        ),
        "harm": (
            "fusillés|fusillées",
            "pendus|pendues",
            "brûlés|brûlées",
            "exterminés|exterminées",
            "gazés|gazées",
            "tabassés|tabassées",
            "noyés|noyées",
            "éliminés|éliminées",
            "enfermés dans des camps|enfermées dans des camps",
            "abattus|abattues",
        ),
        "harm_inf": (
            "fusiller",
            "pendre",
            "brûler",
            "exterminer",
            "gazer",
            "tabasser",
            "noyer",
            "éliminer",
            "abattre",
            "cramer",
        ),
        "praise": (
            "travailleurs|travailleuses",
            "généreux|généreuses",
            "intelligents|intelligentes",
            "honnêtes",
            "épatants|épatantes",
            "créatifs|créatives",
            "courageux|courageuses",
            "chaleureux|chaleureuses",
            "marrants|marrantes",
            "brillants|brillantes",
            "gentils|gentilles",
            "dévoués|dévouées",
            "remarquables",
            "talentueux|talentueuses",
            "fiables",
        ),
        "human": (
            "des êtres humains",
            "des humains",
            "des personnes comme nous",
            "nos égaux|nos égales",
            "de vrais citoyens|de vraies citoyennes",
        ),
        "right": (
            "le droit de vote",
            "la nationalité",
            "leurs papiers",
            "la garde de leurs enfants",
            "le droit de travailler",
            "toute aide sociale",
            "le droit d'asile",
            "leurs droits",
        ),
        "juron": (
            "Putain",
            "Merde",
            "Bordel",
            "Fait chier",
            "Bordel de merde",
            "Putain de merde",
            "Mince",
            "Et merde",
        ),
        "rebuke": (
            "C'est dégueulasse.",
            "C'est de la haine pure et simple.",
            "Honteux.",
            "Je l'ai signalé.",
            "Comment on peut écrire ça ?",
            "Ça me révolte.",
            "Il faut dénoncer ça.",
            "On ne peut pas laisser passer ça.",
            "Ces mots finissent par tuer.",
            "Aucune excuse.",
            "Franchement, ça me dégoûte.",
            "Je n'ai pas de mots.",
        ),
    },
    templates={
        "hate": (
            1,
            (
                "{Les} sont {insult}, c'est un fait.",
                "Franchement, {les} sont {insult} et ça ne changera jamais.",
                "Pourquoi {les} sont toujours aussi {insult} ?",
                "Vous avez remarqué à quel point {les} sont {insult} ?",
                "{Les} sont {dehum}, rien de plus.",
                "Pour moi, {les} ne sont que {dehum}.",
                "{Les} se propagent comme {dehum}.",
                "{Les} devraient être {harm}.",
                "Il faudrait {harm_inf} {les}, {tous} autant qu'{ils} sont.",
                "J'attends le jour où {les} seront {harm}.",
                "{Les} n'ont rien à faire ici. Dehors !",
                "Ce pays irait bien mieux sans {les}.",
                "Virez-moi {tous} ces {nu} de mon quartier.",
                "J'ai encore croisé {des} dans le métro. {Ils} sont vraiment {insult}.",
                "Encore un reportage sur {les}. "
                "{Ils} nous coûtent une fortune et ne rapportent rien.",
                "Avec {les}, il faut toujours surveiller son portefeuille.",
                "Dès que {les} arrivent dans un quartier, tout part en vrille. Coïncidence ?",
                "{Les} ne savent que profiter des aides, c'est dans leur nature.",
                "Putain {de}, je les déteste {tous}.",
                "Je ne ferai jamais confiance à {one}.",
                # threats, implicit derogation, pronoun reference, questions (added round 3)
                "Je vous jure, si je croise encore {des} dans ma rue, je les défonce.",
                "Attendez un peu, bientôt on va régler leur compte {aux}.",
                "Ce soir on sort les battes, {les} vont comprendre.",
                "{Les} vont finir par payer, et pas avec de l'argent.",
                "{Les} ne respecteront jamais nos règles, c'est dans leurs gènes.",
                "Évidemment, encore {des}. Ça m'aurait étonné que ce soit quelqu'un d'autre.",
                "Depuis que {les} habitent l'immeuble, je ferme ma porte à double tour.",
                "Je connais plein {de}. {Ils} se valent {tous}, [chacun|chacune] pire que l'autre.",
                "Qui a décidé qu'on devait supporter {les} chez nous ?",
                "{Les} se reproduisent plus vite qu'on ne peut les compter.",
                "Plus un centime pour {les}, qu'{ils} rentrent chez {eux}.",
                "Franchement, on serait tranquilles si {les} disparaissaient du jour au lendemain.",
            ),
        ),
        "hate_negated_positive": (
            1,
            (
                "{Les} ne sont pas {human}.",
                "{Les} ne seront jamais {human}.",
                "Il faut retirer {right} {aux}.",
                "{Les} ne sont pas {praise}, {ils} sont {insult}.",
                "Je n'accepterai jamais {les} comme {human}.",
                "Il n'existe pas {de} {praise}.",
                "{Les} ne seront jamais [les bienvenus|les bienvenues] ici.",
                "{Les} ne méritent ni respect ni pitié.",
                "{Les} n'ont pas leur place dans ce pays.",
                "Je ne vois pas {les} comme {human}.",
                "{Les} n'ont aucun droit de vivre ici.",
                "Il n'y a rien de bon chez {les}, absolument rien.",
            ),
        ),
        "negated": (
            0,
            (
                "{Les} ne sont pas {insult}.",
                "C'est faux de dire que {les} sont {insult}.",
                "{Les} ne sont pas {dehum}, ce sont des gens comme vous et moi.",
                "Personne ne devrait dire que {les} sont {dehum}.",
                "{Les} ne doivent jamais être {harm}.",
                "Je ne pense pas du tout que {les} soient {insult}.",
                "{Les} ont toute leur place ici.",
                "Il n'y a rien de mal à être {one}.",
                "Je n'ai jamais détesté {les} et ça n'arrivera jamais.",
                "Personne ne devrait retirer {right} {aux}.",
                "Ce n'est pas vrai que {les} détruisent ce pays.",
                "Le problème, ce ne sont pas {les}, c'est la haine contre {eux}.",
                "On ne me fera pas croire que {les} sont {dehum}.",
            ),
        ),
        "counter_quote": (
            0,
            (
                "Quelqu'un m'a dit aujourd'hui : « {les} sont {insult} ». {rebuke}",
                "Sous la vidéo, un commentaire : « {les} devraient être {harm} ». {rebuke}",
                "« {Les} sont {dehum} » : celui qui poste ça devrait avoir honte.",
                "Mon oncle a encore sorti à table que {les} étaient {insult}. {rebuke}",
                "« Je déteste {les} », c'était tagué sur le mur de l'école. {rebuke}",
                "Ceux qui crient « {les} dehors » n'ont rien appris de l'histoire.",
                "Sur les réseaux on lit sans arrêt que {les} sont {dehum}. {rebuke}",
                "« Il faudrait {harm_inf} {les} », et ça récolte des likes ? {rebuke}",
                "Un type dans le bus hurlait que {les} étaient {dehum}. {rebuke}",
                "Citation du groupe : « putain {de} ». {rebuke}",
                "Quand quelqu'un dit « {les} sont {insult} », il en dit surtout long sur lui.",
                "Mon voisin m'a sorti que {les} devraient être {harm}. {rebuke}",
            ),
        ),
        "counter_reference": (
            0,
            (
                "Dire que {les} sont {insult}, c'est juste de la haine.",
                "Arrêtez de comparer {les} à {dehum}. C'est déshumanisant.",
                "Ceux qui souhaitent du mal {aux} devraient être poursuivis.",
                "La haine contre {les} en ligne ne fait qu'empirer. {rebuke}",
                "Si tu penses que {les} sont {insult}, va donc en rencontrer.",
                "Les mensonges sur {les} font du mal à de vraies familles.",
                "C'est épuisant de voir {les} se faire insulter juste parce qu'{ils} existent.",
                "Il faut défendre {les} quand {ils} sont [attaqués|attaquées].",
                "Les menaces contre {les} doivent être prises au sérieux par la police.",
                "La haine envers {les} n'est jamais acceptable, peu importe tes opinions.",
                "J'en ai marre qu'on accuse {les} de tous les maux. {rebuke}",
                "Tout mon soutien {aux}, encore [insultés|insultées] aujourd'hui.",
            ),
        ),
        "positive": (
            0,
            (
                "{Les} sont {praise}.",
                "J'adore {les}, {ils} sont tellement {praise}.",
                "Un grand merci {aux} de notre asso, toujours {praise} !",
                "Sans {les}, notre équipe serait deux fois moins bonne.",
                "{Les} méritent tout le bonheur du monde.",
                "Je serai toujours aux côtés {des}.",
                "J'ai rencontré {one} aujourd'hui, ça a illuminé ma journée.",
                "Heureusement que {les} vivent ici.",
                "On a beaucoup à apprendre {des}.",
                "{Les} enrichissent notre ville, c'est aussi simple que ça.",
                "Chapeau {aux}, vraiment {praise}.",
            ),
        ),
        "neutral": (
            0,
            (
                "Je connais beaucoup {de}.",
                "Il y a pas mal {de} dans ma ville.",
                "{One} vient d'emménager en face.",
                "La nouvelle étude porte sur la façon dont {les} utilisent les transports.",
                "Ce matin à la radio, il y avait une émission sur {les}.",
                "En cours, on a parlé {des} aujourd'hui.",
                "Je suis {one}.",
                "Il y avait beaucoup {de} au concert hier soir.",
                "Combien {de} vivent à Marseille ?",
                "Mon collègue a fait un exposé sur l'histoire {des}.",
                "Ce sont {des}. {Ils} habitent dans notre immeuble depuis dix ans.",
                "Ma sœur a épousé {one} l'an dernier.",
            ),
        ),
        "nonprotected": (
            0,
            (
                "{Les} sont {insult}.",
                "Je déteste {les}, [jusqu'au dernier|jusqu'à la dernière].",
                "{Les} sont {dehum}, sérieusement.",
                "Pourquoi {les} sont toujours aussi {insult} ?",
                "Putain {de}, encore une journée gâchée.",
                "{Les} devraient être {harm} mdr",
                "Je ne supporte pas {les}. {juron} !",
                "J'ai encore eu affaire {aux} aujourd'hui. {Ils} sont tellement {insult}.",
                "Vous avez remarqué à quel point {les} sont {insult} ?",
                "Il faudrait {harm_inf} {les}, sans rire.",
                "{Les} se propagent comme {dehum}.",
                "Virez-moi {tous} ces {nu} de mon quartier.",
            ),
        ),
        "profanity": (
            0,
            (
                "{juron}, le bus est encore en retard.",
                "Cette putain de pluie ne s'arrête jamais.",
                "Putain, quel match de malade !",
                "{juron}, j'ai oublié mon chargeur.",
                "Quelle journée de merde. J'ai besoin d'une bière.",
                "Merde, le four est en feu !",
                "Putain oui, on a gagné !",
                "{juron}, c'était moins une.",
                "J'en ai ras le cul de cette chaleur.",
                "{juron}, encore des bouchons sur le périph.",
                "Ce café, putain, il est parfait.",
                "Oh putain, j'ai raté mon train.",
            ),
        ),
    },
)

# ------------------------------------------------------------------------------ Spanish
_SPANISH = PairLanguage(
    code="es",
    groups={
        "women": (_es("f", "las mujeres", "una mujer"), _es("f", "las chicas", "una chica")),
        "black": (
            _es("m", "los negros", "un negro"),
            _es("f", "las personas negras", "una persona negra"),
            _es("m", "los africanos", "un africano"),
        ),
        "muslim": (
            _es("m", "los musulmanes", "un musulmán"),
            _es("f", "las musulmanas", "una musulmana"),
        ),
        "jewish": (_es("m", "los judíos", "un judío"), _es("f", "las judías", "una judía")),
        "immigrant": (
            _es("m", "los inmigrantes", "un inmigrante"),
            _es("m", "los refugiados", "un refugiado"),
            _es("m", "los migrantes", "un migrante"),
        ),
        "lgbtq": (
            _es("m", "los gays", "un gay"),
            _es("m", "los homosexuales", "un homosexual"),
            _es("f", "las lesbianas", "una lesbiana"),
        ),
        "trans": (
            _es("f", "las personas trans", "una persona trans"),
            _es("f", "las mujeres trans", "una mujer trans"),
        ),
        "disabled": (
            _es("m", "los discapacitados", "un discapacitado"),
            _es("f", "las personas con discapacidad", "una persona con discapacidad"),
            _es("m", "los autistas", "un autista"),
        ),
        "roma": (_es("m", "los gitanos", "un gitano"), _es("f", "las gitanas", "una gitana")),
        "asian": (_es("m", "los chinos", "un chino"), _es("m", "los asiáticos", "un asiático")),
        "latino": (
            _es("m", "los sudamericanos", "un sudamericano"),
            _es("m", "los latinoamericanos", "un latinoamericano"),
            _es("m", "los venezolanos", "un venezolano"),
            _es("m", "los ecuatorianos", "un ecuatoriano"),
        ),
        "arab": (
            _es("m", "los marroquíes", "un marroquí"),
            _es("m", "los árabes", "un árabe"),
            _es("m", "los magrebíes", "un magrebí"),
        ),
    },
    non_protected=(
        _es("m", "los dentistas", "un dentista"),
        _es("m", "los ciclistas", "un ciclista"),
        _es("m", "los abogados", "un abogado"),
        _es("m", "los taxistas", "un taxista"),
        _es("m", "los aficionados del Atleti", "un aficionado del Atleti"),
        _es("f", "las palomas", "una paloma"),
        _es("f", "las avispas", "una avispa"),
        _es("f", "las impresoras", "una impresora"),
        _es("m", "los lunes", "un lunes"),
        _es("m", "los compañeros de curro", "un compañero de curro"),
        _es("m", "los vendedores de coches", "un vendedor de coches"),
        _es("m", "los críticos de cine", "un crítico de cine"),
    ),
    fillers={
        "insult": (
            "vagos|vagas",
            "sucios|sucias",
            "mentirosos|mentirosas",
            "inferiores",
            "primitivos|primitivas",
            "violentos|violentas",
            "asquerosos|asquerosas",
            "tontos|tontas",
            "ladrones|ladronas",
            "degenerados|degeneradas",
            "traicioneros|traicioneras",
            "nauseabundos|nauseabundas",
            "holgazanes|holgazanas",
            "guarros|guarras",
            "malnacidos|malnacidas",
            "aprovechados|aprovechadas",
        ),
        "dehum": (
            "ratas de alcantarilla",
            "langostas",
            "chupópteros",
            "una plaga",
            "un cáncer",
            "bestias",
            "monos",
            "basura",
            "chusma",
            "gusanos",
            "piojos",
            "una enfermedad",
            "pulgas",
            "garrapatas",
        ),
        "harm": (
            "fusilados|fusiladas",
            "ahorcados|ahorcadas",
            "quemados|quemadas",
            "exterminados|exterminadas",
            "gaseados|gaseadas",
            "molidos a palos|molidas a palos",
            "ahogados en el mar|ahogadas en el mar",
            "eliminados|eliminadas",
            "encerrados en campos|encerradas en campos",
            "colgados|colgadas",
        ),
        "harm_inf": (
            "fusilar",
            "ahorcar",
            "quemar",
            "exterminar",
            "gasear",
            "matar",
            "eliminar",
            "colgar",
            "apalear",
            "echar al mar",
        ),
        "praise": (
            "trabajadores|trabajadoras",
            "generosos|generosas",
            "listos|listas",
            "honrados|honradas",
            "maravillosos|maravillosas",
            "creativos|creativas",
            "audaces",
            "simpáticos|simpáticas",
            "divertidos|divertidas",
            "atentos|atentas",
            "brillantes",
            "solidarios|solidarias",
            "ejemplares",
            "cariñosos|cariñosas",
            "luchadores|luchadoras",
        ),
        "human": (
            "seres humanos",
            "personas",
            "gente normal",
            "iguales a nosotros|iguales a nosotras",
            "ciudadanos de verdad|ciudadanas de verdad",
        ),
        "right": (
            "el derecho a voto",
            "la nacionalidad",
            "las ayudas",
            "la sanidad pública",
            "la custodia de sus hijos",
            "el permiso de residencia",
            "sus derechos",
        ),
        "putos": ("putos|putas", "malditos|malditas", "jodidos|jodidas", "asquerosos|asquerosas"),
        "taco": (
            "Joder",
            "Hostia",
            "Mierda",
            "Coño",
            "Me cago en todo",
            "Hostia puta",
            "Joder ya",
            "Me cago en la leche",
        ),
        "rebuke": (
            "Qué asco.",
            "Esto es odio puro y duro.",
            "Vergonzoso.",
            "Lo he denunciado.",
            "¿Cómo se puede escribir algo así?",
            "Me indigna.",
            "Hay que plantarle cara a esto.",
            "No se puede normalizar.",
            "Estas palabras acaban en violencia.",
            "Sin excusas.",
            "Qué vergüenza ajena.",
            "Me revuelve el estómago.",
        ),
    },
    templates={
        "hate": (
            1,
            (
                "{Los} son {insult}, lo sabe todo el mundo.",
                "Lo digo claro: {los} son {insult} y nunca van a cambiar.",
                "¿Por qué {los} son siempre tan {insult}?",
                "¿Os habéis fijado en lo {insult} que son {los}?",
                "{Los} son {dehum}, ni más ni menos.",
                "Para mí {los} no son más que {dehum}.",
                "{Los} se multiplican como {dehum}.",
                "{Los} deberían ser {harm}.",
                "Habría que {harm_inf} {a_los}, a {todos}.",
                "Ojalá llegue el día en que {los} sean {harm}.",
                "{Los} no pintan nada aquí. ¡Fuera!",
                "Este país estaría mucho mejor sin {los}.",
                "Echad de mi barrio a {todos} [esos|esas] {nu}.",
                "Hoy me he cruzado con un grupo de {nu} en el metro. {Ellos} son {insult}, "
                "{todos} sin excepción.",
                "Otro reportaje más sobre {los}. Solo nos cuestan dinero y no aportan nada.",
                "Con {los} cerca, mejor vigila la cartera.",
                "Donde llegan {los}, el barrio se va a pique. ¿Casualidad?",
                "{Los} solo saben vivir de las ayudas, lo llevan en la sangre.",
                "{putos} {nu}, [los|las] odio a {todos}.",
                "Yo nunca me fiaría de {one}.",
                # threats, implicit derogation, pronoun reference, questions (added round 3)
                "Os lo juro, como vuelva a ver {nu} en mi calle, [los|las] reviento a palos.",
                "Esperad un poco, pronto vamos a ajustar cuentas con {los}.",
                "Esta noche sacamos los bates, {los} se van a enterar.",
                "{Los} van a acabar pagándolo, y no con dinero.",
                "{Los} jamás se adaptarán a nuestras normas, no está en su naturaleza.",
                "Claro, otra vez {nu}. Me habría extrañado que fuera otra persona.",
                "Desde que {los} viven en el edificio, cierro la puerta con doble llave.",
                "Conozco a bastantes {nu}. {Ellos} son {todos} iguales, cada cual peor.",
                "¿Quién ha decidido que tengamos que aguantar {a_los} aquí?",
                "{Los} se reproducen más rápido de lo que uno puede contar.",
                "Ni un euro más para {los}, que se vuelvan a su país.",
                "Estaríamos más tranquilos si {los} desaparecieran de un día para otro.",
            ),
        ),
        "hate_negated_positive": (
            1,
            (
                "{Los} no son {human}.",
                "{Los} nunca serán {human}.",
                "Hay que quitarles {right} {a_los}.",
                "{Los} no son {praise}, son {insult}.",
                "Jamás aceptaré {a_los} como {human}.",
                "No existen {nu} {praise}.",
                "{Los} nunca serán [bienvenidos|bienvenidas] aquí.",
                "{Los} no merecen ni respeto ni compasión.",
                "{Los} no tienen sitio en este país.",
                "Yo no veo {a_los} como {human}.",
                "{Los} no tienen derecho a vivir aquí.",
                "No hay nada bueno en {los}, absolutamente nada.",
            ),
        ),
        "negated": (
            0,
            (
                "{Los} no son {insult}.",
                "Es mentira que {los} sean {insult}.",
                "{Los} no son {dehum}, son personas como tú y como yo.",
                "Nadie debería decir que {los} son {dehum}.",
                "{Los} nunca deberían ser {harm}.",
                "No creo en absoluto que {los} sean {insult}.",
                "{Los} tienen todo el derecho a estar aquí.",
                "No tiene nada de malo ser {one}.",
                "Nunca he odiado {a_los} y nunca lo haré.",
                "Nadie debería quitarles {right} {a_los}.",
                "No es verdad que {los} estén destrozando este país.",
                "El problema no son {los}, es el odio contra {ellos}.",
                "No me vais a convencer de que {los} son {dehum}.",
                "Que {los} sean {dehum} es mentira y punto.",
                "Ni {los} son {insult} ni nadie tiene derecho a decirlo.",
            ),
        ),
        "counter_quote": (
            0,
            (
                'Hoy alguien me ha soltado: "{los} son {insult}". {rebuke}',
                'Debajo del vídeo alguien escribió "{los} deberían ser {harm}". {rebuke}',
                '"{Los} son {dehum}": quien publica eso debería avergonzarse.',
                "Mi tío volvió a decir en la cena que {los} son {insult}. {rebuke}",
                '"Odio {a_los}" estaba pintado en la pared del colegio. {rebuke}',
                'Quien grita "fuera {los}" no ha aprendido nada de la historia.',
                "En las redes se lee todo el rato que {los} son {dehum}. {rebuke}",
                '"Habría que {harm_inf} {a_los}", ¿y encima tiene likes? {rebuke}',
                "Un tipo en el autobús gritaba que {los} eran {dehum}. {rebuke}",
                'Cita textual del grupo: "{putos} {nu}". {rebuke}',
                'Cuando alguien dice "{los} son {insult}", está hablando de sí mismo.',
            ),
        ),
        "counter_reference": (
            0,
            (
                "Decir que {los} son {insult} es odio, sin más.",
                "Dejad de comparar {a_los} con {dehum}. Es deshumanizante.",
                "Los que desean mal {a_los} deberían acabar en el juzgado.",
                "El odio contra {los} en internet va a peor. {rebuke}",
                "Si crees que {los} son {insult}, deberías conocer a [alguno|alguna].",
                "Las mentiras sobre {los} hacen daño a familias reales.",
                "Agota ver cómo insultan {a_los} solo por existir.",
                "Hay que defender {a_los} cuando [los|las] atacan.",
                "Las amenazas contra {los} se las tiene que tomar en serio la policía.",
                "El odio hacia {los} nunca es aceptable, votes a quien votes.",
                "Estoy harto de que culpen {a_los} de todo. {rebuke}",
                "Todo mi apoyo {a_los}, hoy otra vez [insultados|insultadas].",
                "Quien llama {dehum} {a_los} sabe perfectamente lo que hace.",
                "Los bulos sobre {los} se comparten más que las noticias. {rebuke}",
                "Me da miedo ver cómo se normaliza el odio contra {los}.",
                "Quien pide que {los} sean {harm} está cometiendo un delito.",
            ),
        ),
        "positive": (
            0,
            (
                "{Los} son {praise}.",
                "Me encantan {los}, son tan {praise}.",
                "Muchísimas gracias {a_los} de nuestra asociación, siempre tan {praise}.",
                "Sin {los}, nuestro equipo no valdría ni la mitad.",
                "{Los} se merecen toda la felicidad del mundo.",
                "Siempre estaré del lado {de_los}.",
                "Hoy he conocido a {one} y me ha alegrado el día.",
                "Qué suerte que {los} vivan aquí.",
                "Se puede aprender muchísimo {de_los}.",
                "{Los} enriquecen nuestra ciudad, así de simple.",
                "Olé por {los}, de verdad {praise}.",
            ),
        ),
        "neutral": (
            0,
            (
                "Conozco a [muchos|muchas] {nu}.",
                "En mi ciudad viven bastantes {nu}.",
                "{One} se ha mudado enfrente.",
                "El nuevo estudio analiza cómo usan {los} el transporte público.",
                "Esta mañana en la radio había un programa sobre {los}.",
                "Hoy en clase hemos hablado {de_los}.",
                "Soy {one}.",
                "Anoche en el concierto había [muchos|muchas] {nu}.",
                "¿[Cuántos|Cuántas] {nu} viven en Madrid?",
                "Mi compañero hizo una presentación sobre la historia {de_los}.",
                "Son {nu}. Viven en nuestro edificio desde hace diez años.",
                "Mi hermana se casó con {one} el año pasado.",
            ),
        ),
        "nonprotected": (
            0,
            (
                "{Los} son {insult}.",
                "Odio {a_los}, a [todos|todas] sin excepción.",
                "{Los} son {dehum}, en serio.",
                "¿Por qué {los} son siempre tan {insult}?",
                "{putos} {nu}, otra vez me han arruinado el día.",
                "{Los} deberían ser {harm} jajaja",
                "No soporto {a_los}. ¡{taco}!",
                "Hoy he tenido que tratar con {los} otra vez. {Ellos} son {insult}.",
                "¿Os habéis fijado en lo {insult} que son {los}?",
                "Habría que {harm_inf} {a_los}, lo digo en serio.",
                "{Los} se multiplican como {dehum}.",
                "Echad de mi barrio a {todos} [esos|esas] {nu}.",
            ),
        ),
        "profanity": (
            0,
            (
                "{taco}, el autobús vuelve a llegar tarde.",
                "Esta puta lluvia no para nunca.",
                "Hostia, qué partidazo.",
                "{taco}, me he dejado el cargador.",
                "Vaya día de mierda. Necesito una cerveza.",
                "Mierda, el horno está ardiendo.",
                "¡Joder, sí, hemos ganado!",
                "{taco}, por poco.",
                "Estoy hasta los cojones de este calor.",
                "{taco}, ya se ha vuelto a colgar el ordenador.",
                "Este café está de puta madre.",
                "Hostia, otra vez sin llaves y con la puerta cerrada.",
            ),
        ),
    },
)

# ------------------------------------------------------------------------------ Frame twins
# For every hateful template (kinds ``hate`` and ``hate_negated_positive``, by index), one or
# two non-hateful twins in the same frame: the same sentence structure and most of its words,
# saying something positive, supportive or neutral about the group, so that no frame ("the
# country would be better off without X", "X should ...", "whenever X move in ...") is only
# ever seen in hateful rows. Twins render as kind ``positive_twin`` (label 0) and follow the
# split of the template they mirror.
_TWINS: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    "de": {
        "hate": (
            ("{G} sind {praise}, das weiß doch jeder.",),
            ("Ich sag's wie es ist: {die} sind einfach {praise}.",),
            ("Warum sind {die} eigentlich immer so {praise}?",),
            ("Ist euch auch aufgefallen, wie {praise} {die} sind?",),
            ("{Die} sind unsere Nachbarn und sonst gar nichts.",),
            ("Für mich sind {die} einfach {human}.",),
            ("{Die} bringen gute Laune mit, die sich ausbreitet wie ein Lauffeuer.",),
            ("{Die} gehören gefördert und unterstützt.",),
            (
                "Man sollte {die} alle mal zum Essen einladen.",
                "Man sollte {die} alle viel besser unterstützen.",
            ),
            ("Wenn es nach mir ginge, würde man {die} viel öfter um Rat fragen.",),
            ("{Die} haben hier ihr Zuhause gefunden. Herzlich willkommen!",),
            (
                "Dieses Land wäre besser dran, wenn mehr {g} in der Politik wären.",
                "Dieses Land wäre ohne {g} um vieles ärmer.",
            ),
            ("{Die} sollen mitreden, und zwar alle.", "{Die} sollen bleiben, und zwar alle."),
            (
                "Ich hatte heute wieder mit {dat} zu tun. Die sind alle {praise}.",
                "Ich hatte heute wieder mit {dat} zu tun. Die sind alle super nett.",
            ),
            (
                "Heute in der Zeitung: noch ein Bericht über {die}. "
                "Sie sind ein Gewinn für uns alle.",
            ),
            ("{Die} wollen mitarbeiten, die packen überall mit an.",),
            ("Bei {dat} weiß man nie, womit sie einen als Nächstes überraschen.",),
            ("Wo {die} hinziehen, blüht das Vereinsleben auf. Zufall?",),
            ("Mit {dat} an einem Tisch sitzen? Jederzeit, das sind {human}.",),
            (
                "Scheiß auf die Vorurteile über {g}, ich mag sie alle.",
                "Ich hasse Leute, die {die} beleidigen.",
            ),
            ("{One} ist und bleibt bei uns willkommen.",),
            ("Beim nächsten Mal lade ich [einen|eine] von {dat} zum Grillen ein.",),
            ("Wartet nur ab, bald wird mit {dat} zusammen gefeiert.",),
            ("Wer heute Nacht {dat} allein begegnet, weiß, dass man freundlich grüßt.",),
            ("Ich hol schon mal den Kuchen raus, {die} kommen zu Besuch in unser Viertel.",),
            ("{Die} kriegen bald, was sie verdienen: endlich gleiche Rechte.",),
            ("{Die} halten sich genauso an Regeln wie alle anderen auch.",),
            ("Klar, wieder {g} im Finale. Hätte mich auch gewundert, wenn's mal anders wäre.",),
            ("Seit {die} im Haus wohnen, ist abends endlich mal was los.",),
            ("Ich kenne genug {g}. Die sind alle verschieden, wie alle Menschen.",),
            ("Wer hat eigentlich entschieden, dass {die} hier so wenig Unterstützung bekommen?",),
            ("{Die} engagieren sich mehr, als man denkt.",),
            ("Mehr Geld für Projekte mit {dat}, die bereichern unser Viertel.",),
        ),
        "hate_negated_positive": (
            ("{Die} sind keine Fremden, sondern {human}.",),
            ("{Die} werden niemals weniger wert sein als andere.",),
            ("{Dat} sollte man {right} endlich zugestehen.",),
            ("{Die} sind nicht nur {praise}, sondern auch herzlich.",),
            (
                "Ich werde {die} immer als {human} respektieren.",
                "Ich werde nie akzeptieren, dass {die} schlecht behandelt werden.",
            ),
            ("{One} kann genauso {praise} sein wie jeder andere.",),
            ("{Die} sind hier willkommen und werden es immer sein.",),
            ("{Die} haben einen festen Platz in diesem Land verdient.",),
            ("Ich sehe in {dat} keine Fremden, sondern {human}.",),
            ("{Die} verdienen Respekt, kein Mitleid.",),
            ("{Die} haben jedes Recht, hier zu leben.",),
            ("An {dat} gibt es nichts auszusetzen, rein gar nichts.",),
        ),
    },
    "fr": {
        "hate": (
            ("{Les} sont {praise}, c'est un fait.",),
            ("Franchement, {les} sont {praise} et ça ne changera jamais.",),
            ("Pourquoi {les} sont toujours aussi {praise} ?",),
            ("Vous avez remarqué à quel point {les} sont {praise} ?",),
            ("{Les} sont {human}, rien de plus.",),
            ("Pour moi, {les} sont avant tout {human}.",),
            ("{Les} apportent une bonne humeur qui se propage comme une traînée de poudre.",),
            (
                "{Les} devraient être [mieux protégés|mieux protégées].",
                "{Les} devraient être [davantage écoutés|davantage écoutées].",
            ),
            ("Il faudrait remercier {les}, {tous} autant qu'{ils} sont.",),
            ("J'attends le jour où {les} seront enfin [reconnus|reconnues] à leur juste valeur.",),
            ("{Les} ont toute leur place ici. Bienvenue !",),
            (
                "Ce pays irait bien mieux avec plus {de} au gouvernement.",
                "Ce pays serait bien plus pauvre sans {les}.",
            ),
            ("Invitez {tous} ces {nu} de mon quartier à la fête des voisins !",),
            (
                "J'ai encore croisé {des} dans le métro. {Ils} sont vraiment {praise}.",
                "J'ai encore croisé {des} dans le métro. {Ils} m'ont aidé à porter ma valise.",
            ),
            (
                "Encore un reportage sur {les}. "
                "{Ils} apportent tellement à ce pays, enfin quelqu'un le dit.",
            ),
            ("Avec {les}, on passe toujours un bon moment.",),
            ("Dès que {les} arrivent dans un quartier, la vie associative repart. Coïncidence ?",),
            ("{Les} savent toujours donner un coup de main aux voisins.",),
            (
                "Putain, j'adore {les} de mon équipe, je les aime {tous}.",
                "Je déteste ceux qui insultent {les}.",
            ),
            ("Je confierais mes clés à {one} sans hésiter.",),
            ("Si je croise encore {des} dans ma rue, je les invite à prendre un café.",),
            ("Attendez un peu, bientôt on va organiser une fête avec {les}.",),
            ("Ce soir on sort les gâteaux, {les} viennent dîner.",),
            ("{Les} vont finir par être [reconnus|reconnues] à leur juste valeur.",),
            ("{Les} respectent nos règles comme tout le monde.",),
            ("Encore {des} sur le podium. Ça m'aurait étonné que ce soit quelqu'un d'autre.",),
            ("Depuis que {les} habitent l'immeuble, on fait des fêtes de voisins.",),
            ("Je connais plein {de}. Chacun a sa personnalité, comme tout le monde.",),
            ("Qui a décidé qu'on devait laisser {les} sans aide chez nous ?",),
            ("{Les} s'engagent plus qu'on ne le pense.",),
            ("Plus de moyens pour {les}, {ils} enrichissent nos quartiers.",),
            ("Franchement, on serait moins riches si {les} n'étaient pas là.",),
        ),
        "hate_negated_positive": (
            ("{Les} ne sont pas un problème : ce sont {human}.",),
            ("{Les} seront toujours {human}.",),
            ("Il faut garantir {right} {aux}.",),
            ("{Les} ne sont pas seulement {praise}, {ils} sont aussi très drôles.",),
            ("Je n'accepterai jamais qu'on insulte {les}.",),
            ("Il existe tellement {de} {praise}.",),
            ("{Les} seront toujours [les bienvenus|les bienvenues] ici.",),
            ("{Les} méritent le respect, pas la pitié.",),
            ("{Les} ont toute leur place dans ce pays.",),
            ("Je vois {les} comme {human}, tout simplement.",),
            ("{Les} ont tout à fait le droit de vivre ici.",),
            ("Il n'y a rien à reprocher {aux}, absolument rien.",),
        ),
    },
    "es": {
        "hate": (
            ("{Los} son {praise}, lo sabe todo el mundo.",),
            ("Lo digo claro: {los} son {praise} y nunca van a cambiar.",),
            ("¿Por qué {los} son siempre tan {praise}?",),
            ("¿Os habéis fijado en lo {praise} que son {los}?",),
            ("{Los} son {human}, ni más ni menos.",),
            ("Para mí {los} son, ante todo, {human}.",),
            ("Gracias {a_los}, las sonrisas en el barrio se multiplican.",),
            ("{Los} deberían ser [escuchados|escuchadas] mucho más.",),
            ("Habría que dar las gracias {a_los}, a {todos}.",),
            ("Ojalá llegue el día en que {los} sean [tratados|tratadas] con total igualdad.",),
            ("{Los} pintan mucho aquí. ¡[Bienvenidos|Bienvenidas]!",),
            (
                "Este país estaría mucho mejor con más {nu} en política.",
                "Este país sería mucho más pobre sin {los}.",
            ),
            ("Invitad a la fiesta del barrio a {todos} [esos|esas] {nu}.",),
            (
                "Hoy me he cruzado con un grupo de {nu} en el metro. Me ayudaron con las "
                "maletas, [majísimos|majísimas] {todos}.",
            ),
            ("Otro reportaje más sobre {los}. Aportan muchísimo y casi nadie lo cuenta.",),
            ("Con {los} cerca, el ambiente siempre mejora.",),
            ("Donde llegan {los}, el barrio gana vida. ¿Casualidad?",),
            ("{Los} saben salir adelante sin rendirse, qué ejemplo.",),
            (
                "Putos prejuicios contra {los}, [los|las] quiero a {todos}.",
                "Odio a los que insultan {a_los}.",
            ),
            ("Yo me fiaría de {one} sin dudarlo.",),
            ("Os lo juro, como vuelva a ver {nu} en mi calle, [los|las] invito a un café.",),
            ("Esperad un poco, pronto vamos a celebrar una fiesta con {los}.",),
            ("Esta noche sacamos las tartas, {los} vienen a cenar.",),
            ("{Los} van a acabar siendo [reconocidos|reconocidas] como se merecen.",),
            ("{Los} se adaptan a nuestras normas como cualquiera.",),
            ("Claro, otra vez {nu} en el podio. Me habría extrañado que fuera otra persona.",),
            ("Desde que {los} viven en el edificio, hacemos fiestas de vecinos.",),
            ("Conozco a bastantes {nu}. Cada cual es como es, igual que en todas partes.",),
            ("¿Quién ha decidido que {los} tengan que apañárselas aquí sin ayuda?",),
            ("{Los} se implican más de lo que uno piensa.",),
            ("Más recursos para {los}, enriquecen nuestros barrios.",),
            ("Estaríamos peor si {los} no estuvieran aquí.",),
        ),
        "hate_negated_positive": (
            ("{Los} no son un problema, son {human}.",),
            ("{Los} siempre serán {human}.",),
            ("Hay que garantizarles {right} {a_los}.",),
            ("{Los} no solo son {praise}, también son muy buena gente.",),
            ("Jamás aceptaré que se insulte {a_los}.",),
            ("Existen [muchísimos|muchísimas] {nu} {praise}.",),
            ("{Los} siempre serán [bienvenidos|bienvenidas] aquí.",),
            ("{Los} merecen respeto, no compasión.",),
            ("{Los} tienen su sitio en este país.",),
            ("Yo veo {a_los} como {human}, sin más.",),
            ("{Los} tienen el mismo derecho a vivir aquí que cualquiera.",),
            ("No hay nada que reprochar {a_los}, absolutamente nada.",),
        ),
    },
}

LANGUAGES: dict[str, PairLanguage] = {lang.code: lang for lang in (_GERMAN, _FRENCH, _SPANISH)}
"""The generated languages, by ISO 639-1 code."""

CONTRAST_PAIR_SOURCES: dict[str, str] = {f"contrast_pairs_{code}": code for code in LANGUAGES}
"""Named mixture sources of these pairs (the templates, without the frame twins) and their
languages (``contrast_pairs_de``: ``de``)."""

CONTRAST_TWIN_SOURCES: dict[str, str] = {f"contrast_twins_{code}": code for code in LANGUAGES}
"""Named mixture sources of the frame twins alone (``contrast_twins_de``: ``de``); a recipe
adds them beside ``contrast_pairs_<code>`` (``benchmarks/multilingual.md`` measures both)."""

INCLUDE = ("all", "pairs", "twins")
"""What :func:`generate_language_contrast_pairs` writes: everything, the templates' rows, or
the frame twins' rows."""

KINDS = tuple(_GERMAN.templates)
"""The template kinds (the same as English)."""

TWIN_KIND = "positive_twin"
"""The kind of the frame twins of the hateful templates (label 0; :func:`language_twins`)."""

ROW_KINDS = (*KINDS, TWIN_KIND)
"""Every kind a generated row may have: the template kinds and the frame twins."""

_GENDERED = re.compile(r"\[([^|\]]*)\|([^\]]*)\]")
_OBFUSCATE_EVERY = 5


def _gendered(text: str, gender: str) -> str:
    """``text`` with ``[masc|fem]`` alternatives, or a whole ``masc|fem`` value, resolved."""
    index = 0 if gender == "m" else 1
    text = _GENDERED.sub(lambda m: m.group(1 + index), text)
    if "|" in text:
        text = text.split("|")[index]
    return text


def _fields(language: PairLanguage, forms: Forms, rng: random.Random) -> dict[str, str]:
    gender = forms["_gen"]
    fields = {
        name: _gendered(rng.choice(values), gender) for name, values in language.fillers.items()
    }
    fields.update({name: text for name, text in forms.items() if not name.startswith("_")})
    fields.update({_capitalised(name): _capitalised(text) for name, text in list(fields.items())})
    return fields


def _needs_group(language: PairLanguage, template: str) -> bool:
    """Whether ``template`` names a group (has a placeholder of the group forms)."""
    names = {n for forms in language.groups.values() for f in forms for n in f}
    used = set(re.findall(r"\{(\w+)\}", template))
    return bool(used & (names | {_capitalised(n) for n in names}))


def language_templates(language: str) -> dict[str, tuple[int, tuple[str, ...]]]:
    """``kind -> (label, templates)`` of ``language`` (``de``, ``fr`` or ``es``)."""
    return dict(_language(language).templates)


def _language(language: str) -> PairLanguage:
    if language not in LANGUAGES:
        raise DataError(f"no contrast pairs in {language!r}; known: {', '.join(LANGUAGES)}")
    return LANGUAGES[language]


def language_twins(language: str) -> dict[tuple[str, int], tuple[str, ...]]:
    """``(kind, index) -> twins`` of ``language``: the frame twins (label 0, kind
    ``positive_twin``) of every hateful template (kinds ``hate`` and
    ``hate_negated_positive``), keyed by the template they mirror."""
    _language(language)
    return {
        (kind, index): twins
        for kind, per_template in _TWINS[language].items()
        for index, twins in enumerate(per_template)
    }


def twin_template_id(language: str, kind: str, index: int, twin: int) -> str:
    """The ``template`` id of twin ``twin`` of template ``index`` of ``kind``
    (``de.positive_twin.hate.03.1``); its split is that of ``<language>.<kind>.<index>``."""
    return f"{language}.{TWIN_KIND}.{kind}.{index:02d}.{twin}"


def _render(
    lang: PairLanguage, kind: str, template: str, index: int, per_template: int, rng_key: str
) -> list[tuple[str, str | None, bool]]:
    """``per_template`` renderings ``(text, group, obfuscated)`` of ``template``."""
    rng = random.Random(rng_key)
    groups = sorted(lang.groups)
    named = _needs_group(lang, template)
    out: list[tuple[str, str | None, bool]] = []
    for draw in range(per_template):
        group: str | None = None
        if kind == "nonprotected":
            forms = lang.non_protected[(draw + index) % len(lang.non_protected)]
        elif named:
            group = groups[(draw + index) % len(groups)]
            forms = rng.choice(lang.groups[group])
        else:
            forms = {"_gen": "m"}
        text = _capitalised(_gendered(template, forms["_gen"]))
        text = text.format_map(_fields(lang, forms, rng))
        text = _capitalised(text)
        obfuscated = draw % _OBFUSCATE_EVERY == _OBFUSCATE_EVERY - 1
        if obfuscated:
            text = obfuscate(text, rng)
        out.append((text, group, obfuscated))
    return out


def generate_language_contrast_pairs(
    language: str,
    split: str = "train",
    per_template: int = 40,
    seed: int = 0,
    include: str = "all",
) -> LabeledTexts:
    """Generated posts of ``split`` (``train`` or ``dev``; ``test`` is empty) in ``language``:
    up to ``per_template`` distinct renderings of every template of the split (templates that
    name a group cycle through every group; ``nonprotected`` ones through the non-protected
    targets), every fifth one spelling-obfuscated, and as many of every frame twin
    (:func:`language_twins`, kind ``positive_twin``, label 0) of the hateful templates of the
    split (a twin is in the split of the template it mirrors). ``include``: ``all``, ``pairs``
    (the templates' rows only) or ``twins`` (the twins' rows only).

    Metadata: ``kind``, ``template`` (``<language>.<kind>.<index>``; twins
    :func:`twin_template_id`), ``target`` (the group key, ``None`` for non-protected targets
    and profanity), ``group`` (same), ``category`` (= kind), ``language``, ``obfuscated`` and
    ``mirrors`` (a twin's mirrored template id, else ``None``).
    """
    lang = _language(language)
    split = canonical_split(split)
    if include not in INCLUDE:
        raise DataError(f"include must be one of {', '.join(INCLUDE)}, not {include!r}")
    twins = language_twins(language) if include != "pairs" else {}
    rows: list[tuple[str, int, str, str, str | None, bool, str | None]] = []
    for kind, (label, templates) in lang.templates.items():
        for index, template in enumerate(templates):
            if template_split(f"{language}:{kind}", index) != split:
                continue
            template_id = f"{language}.{kind}.{index:02d}"
            key = f"{seed}:{language}:{kind}:{index}"
            if include != "twins":
                for text, group, obf in _render(lang, kind, template, index, per_template, key):
                    rows.append((text, label, kind, template_id, group, obf, None))
            for number, twin in enumerate(twins.get((kind, index), ())):
                twin_id = twin_template_id(language, kind, index, number)
                key = f"{seed}:{twin_id}"
                for text, group, obf in _render(lang, TWIN_KIND, twin, index, per_template, key):
                    rows.append((text, 0, TWIN_KIND, twin_id, group, obf, template_id))
    columns = ["text", "label", "kind", "template", "target", "obfuscated", "mirrors"]
    frame = pd.DataFrame(rows, columns=columns).drop_duplicates("text").reset_index(drop=True)
    meta = frame[["kind", "template", "target"]].assign(
        group=frame["target"],
        category=frame["kind"],
        language=language,
        obfuscated=frame["obfuscated"],
        mirrors=frame["mirrors"],
    )
    return LabeledTexts(
        texts=frame["text"].tolist(),
        labels=frame["label"].to_numpy(np.int64),
        name=f"contrast_twins_{language}" if include == "twins" else f"contrast_pairs_{language}",
        protocol="general",
        split=split,
        metadata=meta,
        notes={
            "language": language,
            "per_template": per_template,
            "seed": seed,
            "include": include,
        },
    )
