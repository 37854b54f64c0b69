"""A functional audit of hate-speech detectors (issues 14 and 23): hateproto's own suite of
templated test cases, the code to run it on any scorer, and its report, with CONAN's
counter-speech scored in a row of its own (:mod:`.external`). Beside the English suite there
are German, French and Spanish ones (issue 25, :mod:`.languages`): ``build_suite(language="de")``.

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

from hateproto.audit.external import (
    CONAN_SPLITS,
    conan_counter,
    conan_external,
    conan_row_name,
    sample_by_target,
)
from hateproto.audit.groups import GROUPS, NON_PROTECTED, TargetGroup, group_keys
from hateproto.audit.languages import (
    LANGUAGES,
    LanguageSuite,
    case_language,
    check_language,
    language_suite,
)
from hateproto.audit.output import (
    check_output_path,
    export_cases,
    print_report,
    write_figure,
    write_report_json,
)
from hateproto.audit.report import (
    Scorer,
    detector_scorer,
    external_result,
    load_detector_scorer,
    macro_f1,
    run_audit,
    score_cases,
    score_texts,
    summarise,
)
from hateproto.audit.results import (
    FUNCTIONALITY_GOALS,
    AuditGoals,
    AuditReport,
    ExternalResult,
    FunctionalityResult,
    GoalResult,
    GroupResult,
    TargetRate,
)
from hateproto.audit.suite import (
    CONTRAST_PAIRS,
    FIRST_EDITION_TEMPLATES,
    FPR_FUNCTIONALITIES,
    FUNCTIONALITIES,
    IDENTITY_FUNCTIONALITIES,
    SPLITS,
    SUITE_SEED,
    SUITE_VERSION,
    AuditCase,
    Functionality,
    audit_dev_texts,
    build_suite,
    template_splits,
)

__all__ = [
    "CONAN_SPLITS",
    "CONTRAST_PAIRS",
    "FIRST_EDITION_TEMPLATES",
    "FPR_FUNCTIONALITIES",
    "FUNCTIONALITIES",
    "FUNCTIONALITY_GOALS",
    "GROUPS",
    "IDENTITY_FUNCTIONALITIES",
    "LANGUAGES",
    "NON_PROTECTED",
    "SPLITS",
    "SUITE_SEED",
    "SUITE_VERSION",
    "AuditCase",
    "AuditGoals",
    "AuditReport",
    "ExternalResult",
    "Functionality",
    "FunctionalityResult",
    "GoalResult",
    "GroupResult",
    "LanguageSuite",
    "Scorer",
    "TargetGroup",
    "TargetRate",
    "audit_dev_texts",
    "build_suite",
    "case_language",
    "check_language",
    "check_output_path",
    "conan_counter",
    "conan_external",
    "conan_row_name",
    "detector_scorer",
    "export_cases",
    "external_result",
    "group_keys",
    "language_suite",
    "load_detector_scorer",
    "macro_f1",
    "print_report",
    "run_audit",
    "sample_by_target",
    "score_cases",
    "score_texts",
    "summarise",
    "template_splits",
    "write_figure",
    "write_report_json",
]
