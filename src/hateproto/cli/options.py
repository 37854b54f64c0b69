"""Every option that more than one command takes, declared once: name, short flag, help, type.

A command names the option by its alias and gives its own default in the signature::

    def stats(protocol: ProtocolOption = "hateprototypes", json_out: JsonOption = False): ...

An alias whose type differs between commands (one dataset or several) is generic: the command
writes the type, ``DatasetOption[list[str] | None] = None``. Options that always travel
together form a group (:class:`LabelColumns`, :class:`DetectorOptions`): a frozen dataclass
whose fields are option aliases; a command decorated with :func:`with_groups` takes one
parameter of the group's type, and its options appear on the command line in its place.

No heavy imports here: the root ``hateproto --help`` imports this module (see
``tests/test_cli_lazy.py``). A test (``tests/test_cli_options.py``) checks that no option name
is declared twice in ``hateproto.cli``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from hateproto.dtypes import DTYPE_HELP, Dtype
from hateproto.errors import DataError

T = TypeVar("T")

DEVICE_HELP = "auto (a GPU when torch sees one), cpu, cuda or cuda:N."
"""Help of ``--device`` (before the command name, it sets the default of every command)."""
COMPILE_HELP = (
    "Compile the forward pass (CUDA graphs on a GPU, frozen weights on a CPU); the first "
    "batch of each length pays seconds to compile (tens on a CPU), so it pays for long runs "
    "and services."
)
"""Help of ``--compile``."""

# --- what to run on -----------------------------------------------------------------------
DtypeOption = Annotated[Dtype, typer.Option("--dtype", help=DTYPE_HELP)]
DeviceOption = Annotated[str | None, typer.Option("--device", help=DEVICE_HELP)]
CompileOption = Annotated[bool, typer.Option("--compile", help=COMPILE_HELP)]
BatchSizeOption = Annotated[
    int | None,
    typer.Option(
        "--batch-size",
        min=1,
        help="Texts per forward pass (unset: the detector's, checkpoint's or config's).",
    ),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option("--threads", min=1, help="Torch threads (default: torch's, one per core)."),
]

# --- models and what is built on them -----------------------------------------------------
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model: an alias (minilm...), Hugging Face hub id, local folder or fine-tuned "
        "checkpoint. With a detector or prototype folder: its base model's folder on this "
        "machine (default: the one the folder records; docs/artifacts.md).",
    ),
]
DetectorOption = Annotated[
    Path | None,
    typer.Option("--detector", help="Detector folder (written by detector build or adapt)."),
]
PrototypesOption = Annotated[
    Path | None,
    typer.Option(
        "--prototypes", "-P", help="Prototype folder (written by prototypes build; with --model)."
    ),
]
EarlyExitOption = Annotated[
    bool, typer.Option("--early-exit", help="Exit at the first confident layer.")
]
ExitPolicyOption = Annotated[
    str | None,
    typer.Option(
        "--exit-policy",
        help="How early exit uses its thresholds: a served exit policy by name (margin, the "
        "default; hateproto.early_exit.policies.SERVED_POLICIES).",
    ),
]
DeltaOption = Annotated[
    float | None,
    typer.Option(
        "--delta",
        help="One early-exit margin threshold for every layer (default: the calibrated "
        "per-layer chosen ones); turns early exit on.",
    ),
]
LayerOption = Annotated[
    T,
    typer.Option(
        "--layer",
        help="Layer that decides: a number (0 = embeddings); detector build also takes auto "
        "(best dev macro-F1) and last (default: the saved one, or auto when building).",
    ),
]
PerClassOption = Annotated[
    int | None,
    typer.Option("--per-class", "-n", help="Examples per class the prototypes are built from."),
]

# --- data ---------------------------------------------------------------------------------
DataOption = Annotated[
    T,
    typer.Option(
        "--data",
        "-d",
        help="Labelled data: a benchmark name (ihc, olid...) or a CSV/TSV/JSONL/parquet file "
        "(columns: --text-column, --label-column); where repeatable, FILE:WEIGHT weighs a file "
        "(--data a.csv --data b.csv:2).",
    ),
]
DatasetOption = Annotated[
    T,
    typer.Option(
        "--dataset",
        help="Benchmark: ihc, sbic, olid, hatexplain, dynahate, toxigen (detector build also "
        "takes 'sample', the built-in posts; repeatable where a command takes several).",
    ),
]
DevDataOption = Annotated[
    Path | None,
    typer.Option(
        "--dev-data",
        help="Labelled dev file (same columns as the data) to choose and calibrate on.",
    ),
]
ProtocolOption = Annotated[
    str | None,
    typer.Option(
        "--protocol",
        "-p",
        help="Benchmark protocol (datasets, labels, splits): hateprototypes or ocampo2023.",
    ),
]
SplitOption = Annotated[
    str,
    typer.Option("--split", "-s", help="Split: train, dev or test (audit: dev, test or all)."),
]
DataDirOption = Annotated[
    str | None,
    typer.Option(
        "--data-dir",
        help="Folder with the dataset releases (default: $HATEPROTO_DATA or ../shared/datasets).",
    ),
]
TextColumnOption = Annotated[
    str | None, typer.Option("--text-column", help="Column of a file that holds the texts.")
]
LabelColumnOption = Annotated[
    str | None,
    typer.Option("--label-column", help="Column of a file that holds the 0/1 labels."),
]
LabelMapOption = Annotated[
    str | None,
    typer.Option("--label-map", help="Map raw labels of a file to 0/1, e.g. 'hate=1,normal=0'."),
]
MaxExamplesOption = Annotated[
    int | None,
    typer.Option("--max-examples", help="Stratified subsample of each split, seed 0 (0: all)."),
]
MaxCharsOption = Annotated[
    int | None,
    typer.Option("--max-chars", min=1, help="Longest text accepted, in characters."),
]
NOption = Annotated[
    int | None, typer.Option("--n", "-n", help="How many posts to draw (seeded by --seed).")
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", help="Seed of the random draws (examples, splits).")
]
StoreExamplesOption = Annotated[
    bool,
    typer.Option("--store-examples", help="Keep example texts (else ids and sha256 only)."),
]

# --- inputs and outputs -------------------------------------------------------------------
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="YAML settings file (options given on the command line override its values).",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "--output",
        "-o",
        help="What to write: a folder (detector, prototypes, checkpoint) or a file (its format "
        "from the suffix).",
    ),
]
FeedbackDbOption = Annotated[
    str,
    typer.Option(
        "--db",
        help="Feedback database: 'default' (SQLite under the hateproto home), a SQLite file, "
        "or postgresql://user:password@host/name.",
    ),
]
OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace --out even if it is not empty and not what this command writes.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
RecipeOption = Annotated[
    str | None,
    typer.Option(
        "--recipe",
        help="A packaged recipe (hateproto/configs/<name>.yaml): 'general', the general "
        "detector on six benchmarks and contrast data (about 26 minutes on a 2-core CPU from an "
        "empty feature cache; benchmarks/general-detector.md); 'quickstart', the general recipe "
        "on a 12,000-post subsample (about 5 minutes; benchmarks/quickstart.md); 'ihc-paper', "
        "the HatePrototypes paper's IHC probe with its IHC test figures; 'perspective', the "
        "general detector plus heads for Perspective's TOXICITY, SEVERE_TOXICITY, INSULT, "
        "PROFANITY and THREAT on the same features (docs/perspective-attributes.md).",
    ),
]


# --- groups -------------------------------------------------------------------------------
def parse_label_map(spec: str | None) -> dict[str, int] | None:
    """Parse ``"hate=1,normal=0,offensive=1"`` into a label map (``None`` when not given).

    Example:
        >>> parse_label_map("hate=1, normal=0")
        {'hate': 1, 'normal': 0}
    """
    if not spec:
        return None
    mapping: dict[str, int] = {}
    for item in spec.split(","):
        key, sep, value = item.strip().rpartition("=")
        if not sep or value.strip() not in ("0", "1") or not key:
            raise DataError(f"--label-map item {item.strip()!r}: write it as VALUE=0 or VALUE=1")
        mapping[key.strip()] = int(value)
    return mapping


@dataclasses.dataclass(frozen=True)
class LabelColumns:
    """How to read a labelled file: ``--text-column``, ``--label-column``, ``--label-map``."""

    text_column: TextColumnOption = "text"
    label_column: LabelColumnOption = "label"
    label_map: LabelMapOption = None

    def load_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`hateproto.data.load_table` (label map parsed)."""
        return {
            "text_column": self.text_column,
            "label_column": self.label_column,
            "label_map": parse_label_map(self.label_map),
        }


@dataclasses.dataclass(frozen=True)
class DetectorOptions:
    """The detector a command loads: a folder, or a model with prototypes, and how to run it."""

    detector: DetectorOption = None
    model: ModelOption = None
    prototypes: PrototypesOption = None
    early_exit: EarlyExitOption = False
    delta: DeltaOption = None
    exit_policy: ExitPolicyOption = None
    dtype: DtypeOption = "auto"
    device: DeviceOption = None
    compile_: CompileOption = False

    def spec(self, batch_size: int | None = None) -> Any:
        """The :class:`~hateproto.detector.DetectorSpec` these options name."""
        from hateproto.detector import DetectorSpec

        overrides: dict[str, Any] = {"batch_size": batch_size, "device": self.device}
        overrides["dtype"] = self.dtype  # the library resolves auto (the folder's dtype)
        overrides["compile"] = True if self.compile_ else None
        overrides["exit_policy"] = self.exit_policy
        if self.early_exit or self.delta is not None:
            overrides.update(early_exit=True, delta=self.delta)
        return DetectorSpec(
            folder=str(self.detector) if self.detector else None,
            model=self.model,
            prototypes=str(self.prototypes) if self.prototypes else None,
            overrides=overrides,
        )


def with_groups(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` as typer sees it: each parameter whose type is an option group (a
    dataclass of option aliases) is replaced by the group's fields, and rebuilt into one
    value before ``command`` runs. Group fields must not share a name with other parameters.
    """
    hints = typing.get_type_hints(command, include_extras=True)
    groups: dict[str, tuple[type, list[str]]] = {}
    params: list[inspect.Parameter] = []
    keyword = inspect.Parameter.KEYWORD_ONLY
    for param in inspect.signature(command).parameters.values():
        annotation = hints.get(param.name, param.annotation)
        if not dataclasses.is_dataclass(annotation):
            params.append(param.replace(kind=keyword, annotation=annotation))
            continue
        fields = dataclasses.fields(annotation)
        field_hints = typing.get_type_hints(annotation, include_extras=True)
        groups[param.name] = (annotation, [f.name for f in fields])  # type: ignore[assignment]
        params += [
            inspect.Parameter(f.name, keyword, default=f.default, annotation=field_hints[f.name])
            for f in fields
        ]

    @functools.wraps(command)
    def wrapper(**options: Any) -> Any:
        for name, (group, fields) in groups.items():
            options[name] = group(**{field: options.pop(field) for field in fields})
        return command(**options)

    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper
