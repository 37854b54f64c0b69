"""Slurs of the functional audit: the one data file of the suite that spells them out.

CONTENT WARNING: this module contains real slurs against protected groups. They are here only
so that hate-speech detectors can be tested on slur-based hate and on the non-hateful uses
that share the same words (reclaimed in-group use, homonyms). Do not reuse them elsewhere.

License of the case texts: CC-BY-4.0 (hateproto contributors), see ``docs/audit.md``.
"""

from __future__ import annotations

#: One slur per protected group (plural, singular), keyed by the group key.
SLURS: dict[str, tuple[str, str]] = {
    "women": ("sluts", "slut"),
    "black": ("niggers", "nigger"),
    "muslims": ("ragheads", "raghead"),
    "jews": ("kikes", "kike"),
    "immigrants": ("wetbacks", "wetback"),
    "gay": ("faggots", "faggot"),
    "trans": ("trannies", "tranny"),
    "disabled": ("retards", "retard"),
    "asian": ("chinks", "chink"),
    "roma": ("gyppos", "gyppo"),
}

#: Hateful uses (gold 1), crossed with :data:`SLURS`: ``{slurs}``, ``{Slurs}``, ``{slur}``;
#: square brackets mark the key term, as in the other hateful templates.
SLUR_HATE_TEMPLATES: tuple[str, ...] = (
    "Another family of [{slurs}] moved onto my street. Property prices are done for.",
    "Shut up you stupid [{slur}], nobody asked.",
    "Place is full of [{slurs}] these days, can't even walk to the shops.",
    "Don't ever let a [{slur}] near your kids.",
    "[{Slurs}] get everything handed to them while we pay for it.",
    "Typical [{slur}] behaviour, honestly what did you expect.",
)

#: In-group, reclaimed uses (gold 0): (group key, text).
SLUR_RECLAIMED: tuple[tuple[str, str], ...] = (
    ("gay", "Queer and proud, see you all at the march on Saturday 🏳️‍🌈"),
    ("gay", "My queer book club picked the best novel we've read all year."),
    ("gay", "Dyke night at the bar was the most fun I've had in months."),
    ("gay", "Me and my fellow fags are taking over karaoke tonight lol"),
    ("black", "My nigga just got into med school, so proud of him!"),
    ("black", "Me and my niggas have been friends since kindergarten, love them."),
    ("women", "Girls' night with my bitches, nobody call me."),
    ("women", "Bad bitch energy only this year 💅 new job, new flat, new me."),
    ("women", "Marching in the SlutWalk tomorrow. Our clothes are not consent."),
    ("disabled", "Crip joy is real: my new wheelchair is fast and I love it."),
    ("disabled", "The crip community online is honestly the best thing on here."),
    ("trans", "As a trans woman I call myself a tranny with my friends and it's our joke."),
    ("gay", "Reclaiming the word: I'm a big old queen and a proud faggot, deal with it."),
    ("black", "Nigga you really ate the whole cake before the party started 😂"),
)

#: Homonyms of slurs (gold 0, no target group).
SLUR_HOMONYMS: tuple[str, ...] = (
    "The old dyke along the river finally gave way after three days of rain.",
    "Had faggots and mushy peas at my nan's, proper northern comfort food.",
    "This coating helps retard the spread of fire in older buildings.",
    "Our bitch gave birth to seven healthy puppies last night!",
    "I've had a queer feeling all day that I left the oven on.",
    "Bundles of sticks used to be called faggots and were sold as firewood.",
    "Flame retardant fabric is required for all the stage curtains.",
    "The Dutch built a dyke to keep the sea off the farmland.",
    "He worked as a spook for the intelligence services for twenty years.",
    "There's a chink in the curtains letting the morning light in.",
    "Found a chink in their defence in the second half, that's how we scored.",
    "The plot of that film was a bit queer, but the acting saved it.",
)
