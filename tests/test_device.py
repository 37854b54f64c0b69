"""The device option: resolving names, and the same inference paths on ``cpu`` and ``cuda``.

Every test parametrised over :data:`DEVICES` runs on the CPU here; the ``cuda`` cases run
where torch sees a GPU and are skipped with a reason otherwise. Results on the GPU are
compared with the CPU's (same labels and exit layers; vectors to float tolerance), and the
fingerprint must be identical, since detectors refuse weights whose fingerprint differs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from hateproto.cli.main import app, main
from hateproto.detector import Detector, DetectorSettings
from hateproto.early_exit import (
    EarlyExitClassifier,
    GateScorer,
    LayerGates,
    PatiencePolicy,
    PrototypeScorer,
)
from hateproto.errors import ConfigError, ModelError
from hateproto.models import Backbone
from hateproto.models.device import (
    DEVICE_ENV,
    check_device_name,
    default_choice,
    place,
    resolve_device,
)
from hateproto.models.prefetch import iter_batches
from hateproto.models.stepping import LayerRunner
from hateproto.prototypes import PrototypeClassifier

HAS_GPU = torch.cuda.is_available()
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not HAS_GPU, reason="torch sees no GPU")),
]
TEXTS = [
    "they are vermin",
    "those immigrants are dirty criminals",
    "go back home lazy people",
    "welcome neighbours and friends",
    "great football game today",
    "we love our city",
    "muslims deserve respect and equal rights",
    "the weather is terrible",
]
LABELS = [1, 1, 1, 0, 0, 0, 0, 0]


def _close(a: torch.Tensor, b: torch.Tensor, device: str) -> None:
    if device == "cpu":
        assert torch.equal(a, b)
    else:
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["gpu", "cuda:", "CPU", "cuda:x", ""])
def test_unknown_device_names_are_refused(name: str) -> None:
    with pytest.raises(ModelError, match="unknown device"):
        resolve_device(name)


def test_auto_and_cpu_resolve() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if HAS_GPU else "cpu")
    assert check_device_name("cuda:3") == "cuda:3"


@pytest.mark.skipif(HAS_GPU, reason="needs a machine without a GPU")
def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match="torch sees no GPU"):
        resolve_device("cuda")


def test_environment_sets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert resolve_device(None) == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "tpu")
    with pytest.raises(ModelError):
        resolve_device(None)


def test_default_choice_says_why() -> None:
    choice = default_choice("cpu")
    assert choice.device == "cpu" and choice.dtype == "float32"
    assert "asked for" in choice.device_reason and "bfloat16" in choice.dtype_reason


def test_cli_device_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    result = CliRunner().invoke(app, ["models", "info", "--device", "cpu", "--json"])
    assert result.exit_code == 0 and '"device": "cpu"' in result.output
    assert main(["--device", "gpu", "models", "info"]) == 2


def test_detector_settings_keep_the_device_out_of_the_manifest() -> None:
    settings = DetectorSettings.from_dict({"device": "cuda:1"})
    assert settings.device == "cuda:1" and "device" not in settings.model_dump()
    with pytest.raises(ConfigError):
        DetectorSettings.from_dict({"device": "gpu"})


# ---------------------------------------------------------------------- batching
def test_background_batches_cover_every_row_once() -> None:
    def tokenize(texts: list[str]) -> list[list[int]]:
        return [[1] * len(t.split()) for t in texts]

    def pad(ids: list[list[int]]) -> dict[str, torch.Tensor]:
        width = max(map(len, ids))
        rows = torch.tensor([x + [0] * (width - len(x)) for x in ids])
        return {"input_ids": rows, "attention_mask": rows}

    texts = [" ".join(["w"] * (1 + (i * 7) % 13)) for i in range(50)]
    batches = list(iter_batches(tokenize, pad, texts, batch_size=4, chunk_batches=2))
    rows = [r for b in batches for r in b.rows]
    assert sorted(rows) == list(range(50))
    for batch in batches:  # sorted by length within each chunk of 8 texts
        assert batch.lengths == sorted(batch.lengths)
        assert all(b // 8 == batch.rows[0] // 8 for b in batch.rows)


def test_background_batch_errors_reach_the_caller() -> None:
    def tokenize(texts: list[str]) -> list[list[int]]:
        if "boom" in texts:
            raise ModelError("tokenizer failed")
        return [[1] for _ in texts]

    def pad(ids: list[list[int]]) -> dict[str, torch.Tensor]:
        return {"input_ids": torch.ones(len(ids), 1), "attention_mask": torch.ones(len(ids), 1)}

    texts = ["a"] * 4 + ["boom"] + ["a"] * 3
    with pytest.raises(ModelError, match="tokenizer failed"):
        list(iter_batches(tokenize, pad, texts, batch_size=2, chunk_batches=2))


def test_multi_chunk_encode_equals_single_chunk(
    tiny_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hateproto.models.prefetch as prefetch

    backbone = Backbone.load(str(tiny_encoder_dir), device="cpu")
    texts = TEXTS * 5
    whole = backbone.encode(texts, batch_size=64)
    monkeypatch.setattr(prefetch, "CHUNK_BATCHES", 2)  # chunks of 6 texts: the thread runs
    chunked = backbone.encode(texts, batch_size=3)
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------- models on a device
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["encoder", "decoder"])
def test_encode_stepping_and_fingerprint_on_device(
    device: str, kind: str, tiny_encoder_dir: Path, tiny_decoder_dir: Path
) -> None:
    folder = str(tiny_encoder_dir if kind == "encoder" else tiny_decoder_dir)
    reference = Backbone.load(folder, device="cpu")
    backbone = Backbone.load(folder, device=device)
    assert backbone.device.type == device
    assert backbone.fingerprint == reference.fingerprint
    vectors = backbone.encode(TEXTS, layers="all", batch_size=3)
    assert vectors.device.type == "cpu" and vectors.dtype == torch.float32
    _close(vectors, reference.encode(TEXTS, layers="all", batch_size=3), device)
    expected = reference.encode(TEXTS[:3], layers="all", batch_size=3)
    runner = LayerRunner(backbone)
    state = runner.start(backbone.pad(backbone.tokenize(TEXTS[:3])))  # start() moves them
    assert state.rows.device.type == device
    for layer in runner.iterate(backbone.pad(backbone.tokenize(TEXTS[:3]))):
        pooled = runner.pooled(layer).cpu()
        torch.testing.assert_close(pooled, expected[:, layer.layer - 1], rtol=1e-4, atol=1e-4)
    state = runner.keep(runner.step(state), torch.tensor([True, False, True], device=device))
    assert state.rows.tolist() == [0, 2] and state.hidden.device.type == device


@pytest.mark.parametrize("device", DEVICES)
def test_early_exit_on_device_matches_cpu(device: str, tiny_encoder_dir: Path) -> None:
    cpu = PrototypeClassifier(Backbone.load(str(tiny_encoder_dir), device="cpu")).fit(TEXTS, LABELS)
    here = PrototypeClassifier(Backbone.load(str(tiny_encoder_dir), device=device)).fit(
        TEXTS, LABELS
    )
    results = []
    for protos in (cpu, here):
        clf = EarlyExitClassifier.from_prototypes(protos, delta=0.01, batch_size=3)
        results.append(clf.run(TEXTS * 2))
    expected, got = results
    assert isinstance(got.labels, np.ndarray) and isinstance(got.proba, np.ndarray)
    assert got.labels.tolist() == expected.labels.tolist()
    assert got.exit_layers.tolist() == expected.exit_layers.tolist()
    np.testing.assert_allclose(got.proba, expected.proba, rtol=1e-4, atol=1e-5)
    assert got.lengths.tolist() == expected.lengths.tolist()


@pytest.mark.parametrize("device", DEVICES)
def test_gates_and_patience_follow_the_device(device: str, tiny_encoder_dir: Path) -> None:
    backbone = Backbone.load(str(tiny_encoder_dir), device=device)
    gates = LayerGates.for_backbone(backbone)
    gates.fit(backbone.encode(TEXTS, layers="all"), LABELS)
    protos = PrototypeClassifier(backbone).fit(TEXTS, LABELS)
    policy = PatiencePolicy(GateScorer(gates), 2, final=PrototypeScorer(protos))
    result = EarlyExitClassifier(backbone, policy, batch_size=4).run(TEXTS)
    assert result.exit_layers.min() >= 2 and len(result.labels) == len(TEXTS)


@pytest.mark.parametrize("device", DEVICES)
def test_detector_runs_on_the_device_it_is_given(device: str, detector_dir: Path) -> None:
    cpu = Detector.from_pretrained(detector_dir, device="cpu")
    here = Detector.from_pretrained(detector_dir, device=device)
    assert here.backbone.device.type == device
    assert here.predict(TEXTS).tolist() == cpu.predict(TEXTS).tolist()
    early = [
        Detector.from_pretrained(detector_dir, device=d, early_exit=True, delta=0.01)
        for d in ("cpu", device)
    ]
    expected, got = (d.score_arrays(TEXTS) for d in early)
    assert got.exit_layers.tolist() == expected.exit_layers.tolist()
    assert got.labels.tolist() == expected.labels.tolist()
    assert "device" not in here.manifest().settings.model_dump()


@pytest.mark.parametrize("device", DEVICES)
def test_place_moves_a_classifier_with_its_head(device: str) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    assert all(p.device.type == device for p in place(model, device).parameters())
    assert math.isfinite(float(model(torch.ones(1, 2, device=device)).detach().sum()))


def test_classify_cli_takes_a_device(
    detector_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    posts = tmp_path / "posts.csv"
    posts.write_text("text\n" + "\n".join(TEXTS) + "\n")
    out = tmp_path / "scored.csv"
    args = ["classify", str(posts), str(out), "--detector", str(detector_dir), "--quiet"]
    assert main([*args, "--device", "cpu"]) == 0 and out.is_file()
    if not HAS_GPU:
        capsys.readouterr()
        assert main([*args, "--device", "cuda", "--resume"]) == 2
        assert "torch sees no GPU" in capsys.readouterr().err
