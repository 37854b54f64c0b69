"""Target groups of the functional audit and how the templates name them.

Case texts in this package are written for hateproto and released under CC-BY-4.0
(see ``docs/audit.md``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetGroup:
    """A protected group: a stable key, plural forms (one is drawn per case) and a singular
    form with its article, as used in running text."""

    key: str
    plurals: tuple[str, ...]
    singular: str

    @property
    def terms(self) -> tuple[str, ...]:
        """Every surface form the suite uses for this group (for lexical baselines)."""
        bare = self.singular.split(" ", 1)[1]
        return (*self.plurals, bare)


GROUPS: tuple[TargetGroup, ...] = (
    TargetGroup("women", ("women",), "a woman"),
    TargetGroup("black", ("Black people", "Black folks"), "a Black person"),
    TargetGroup("muslims", ("Muslims",), "a Muslim"),
    TargetGroup("jews", ("Jews", "Jewish people"), "a Jew"),
    TargetGroup("immigrants", ("immigrants", "migrants"), "an immigrant"),
    TargetGroup("gay", ("gay people", "gay men"), "a gay man"),
    TargetGroup("trans", ("trans people", "trans women"), "a trans person"),
    TargetGroup("disabled", ("disabled people", "people with disabilities"), "a disabled person"),
    TargetGroup("asian", ("Asian people", "Asians"), "an Asian person"),
    TargetGroup("roma", ("Roma", "Roma people"), "a Roma person"),
)

#: Groups of people that are not protected characteristics (abuse of them is not hate speech).
NON_PROTECTED: tuple[TargetGroup, ...] = (
    TargetGroup("landlords", ("landlords",), "a landlord"),
    TargetGroup("referees", ("referees",), "a referee"),
    TargetGroup("estate_agents", ("estate agents",), "an estate agent"),
    TargetGroup("politicians", ("politicians",), "a politician"),
    TargetGroup("bankers", ("bankers",), "a banker"),
    TargetGroup("influencers", ("influencers",), "an influencer"),
    TargetGroup("telemarketers", ("telemarketers",), "a telemarketer"),
    TargetGroup("traffic_wardens", ("traffic wardens",), "a traffic warden"),
    TargetGroup("tax_inspectors", ("tax inspectors",), "a tax inspector"),
    TargetGroup("crypto_bros", ("crypto bros",), "a crypto bro"),
)


def group_keys() -> list[str]:
    """The keys of the protected groups, in suite order."""
    return [group.key for group in GROUPS]


def group_by_key(key: str) -> TargetGroup:
    """The protected group called ``key`` (``KeyError`` if unknown)."""
    for group in GROUPS:
        if group.key == key:
            return group
    raise KeyError(key)
