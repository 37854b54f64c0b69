"""A functional audit of hate-speech detectors (issue 14): hateproto's own suite of templated
test cases, the code to run it on any scorer, and its report.

The case texts are written for hateproto and released under CC-BY-4.0; see ``docs/audit.md``.
Content warning: the suite contains hateful statements and slurs (in :mod:`.slurs`).

Example:
    >>> import numpy as np
    >>> from hateproto.audit import build_suite, run_audit
    >>> cases = build_suite("dev")
    >>> report = run_audit(lambda texts: np.zeros(len(texts), dtype=int), cases)
    >>> report.functionality("identity_neutral").accuracy
    1.0
"""

from hateproto.audit.groups import GROUPS, NON_PROTECTED, TargetGroup, group_keys
from hateproto.audit.output import (
    check_output_path,
    export_cases,
    print_report,
    write_figure,
    write_report_json,
)
from hateproto.audit.report import (
    AuditGoals,
    AuditReport,
    FunctionalityResult,
    GoalResult,
    GroupResult,
    Scorer,
    detector_scorer,
    load_detector_scorer,
    macro_f1,
    run_audit,
    score_cases,
    summarise,
)
from hateproto.audit.suite import (
    CONTRAST_PAIRS,
    FPR_FUNCTIONALITIES,
    FUNCTIONALITIES,
    IDENTITY_FUNCTIONALITIES,
    SPLITS,
    SUITE_SEED,
    SUITE_VERSION,
    AuditCase,
    Functionality,
    build_suite,
    template_splits,
)

__all__ = [
    "CONTRAST_PAIRS",
    "FPR_FUNCTIONALITIES",
    "FUNCTIONALITIES",
    "GROUPS",
    "IDENTITY_FUNCTIONALITIES",
    "NON_PROTECTED",
    "SPLITS",
    "SUITE_SEED",
    "SUITE_VERSION",
    "AuditCase",
    "AuditGoals",
    "AuditReport",
    "Functionality",
    "FunctionalityResult",
    "GoalResult",
    "GroupResult",
    "Scorer",
    "TargetGroup",
    "build_suite",
    "check_output_path",
    "detector_scorer",
    "export_cases",
    "group_keys",
    "load_detector_scorer",
    "macro_f1",
    "print_report",
    "run_audit",
    "score_cases",
    "summarise",
    "template_splits",
    "write_figure",
    "write_report_json",
]
