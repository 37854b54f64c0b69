"""``Backbone.compile`` and ``--compile``: forward passes through ``torch.compile``.

Most tests replace ``torch.compile`` by a recording stand-in (compiling a real model takes
tens of seconds on a CPU); one compiles a tiny model for real on the CPU (``frozen`` mode),
and one runs where torch sees a GPU (CUDA graphs).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import pytest
import torch

from hateproto.cli.main import main
from hateproto.detector import Detector, DetectorSettings
from hateproto.errors import ModelError
from hateproto.models import Backbone
from hateproto.models.compiled import compile_forward, default_mode

TEXTS = ["they are vermin", "welcome neighbours", "go back home lazy people", "good game"]
HAS_GPU = torch.cuda.is_available()


@pytest.fixture
def fake_compile(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """``torch.compile`` returns the module itself and records how it was called."""
    calls: list[dict] = []

    def record(model, **options):
        calls.append(options)
        return model

    monkeypatch.setattr(torch, "compile", record)
    return calls


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ModelError, match="unknown compile mode 'fast'"):
        compile_forward(torch.nn.Linear(2, 2), "fast")


def test_compiled_encode_pads_to_eight_and_matches(tiny_encoder_dir: Path, fake_compile) -> None:
    backbone = Backbone.load(str(tiny_encoder_dir), device="cpu")
    plain = backbone.encode(TEXTS, layers="all", batch_size=2)
    assert not backbone.is_compiled and backbone.compile() is backbone
    assert backbone.is_compiled
    assert fake_compile == [{"dynamic": True, "options": {"freezing": True}}]  # CPU: frozen
    assert backbone.pad(backbone.tokenize(TEXTS))["input_ids"].shape[1] % 8 == 0
    compiled = backbone.encode(TEXTS, layers="all", batch_size=2)
    assert torch.allclose(plain, compiled, atol=1e-5)  # extra padding is masked out


def test_classify_compile_flag(detector_dir: Path, tmp_path: Path, fake_compile) -> None:
    posts = tmp_path / "posts.csv"
    posts.write_text("text\n" + "\n".join(TEXTS) + "\n")
    args = ["classify", str(posts), str(tmp_path / "out.csv"), "--detector", str(detector_dir)]
    assert main([*args, "--device", "cpu", "--quiet", "--compile"]) == 0
    assert len(fake_compile) == 1
    detector = Detector.from_pretrained(detector_dir, device="cpu", compile=True)
    assert detector.backbone.is_compiled and "compile" not in detector.settings.model_dump()


def test_a_compiler_failure_is_a_clear_model_error(
    tiny_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class InductorError(RuntimeError):  # the name torch.compile's failure has
        pass

    def failing(model, **options):
        def run(**batch):
            raise InductorError("InvalidCxxCompiler: No working C++ compiler found")

        return run

    monkeypatch.setattr(torch, "compile", failing)
    backbone = Backbone.load(str(tiny_encoder_dir), device="cpu").compile()
    with pytest.raises(ModelError, match="on a CPU a working C\\+\\+ compiler") as caught:
        backbone.encode(TEXTS)
    assert "No working C++ compiler found" in str(caught.value)
    monkeypatch.setattr(torch, "compile", lambda model, **options: _raise_value_error)
    with pytest.raises(ValueError, match="not a compile failure"):  # other errors pass as they are
        Backbone.load(str(tiny_encoder_dir), device="cpu").compile().encode(TEXTS)


def _raise_value_error(**batch):
    raise ValueError("not a compile failure")


def test_default_mode_follows_the_device(fake_compile) -> None:
    assert default_mode("cuda:0") == "reduce-overhead" and default_mode("cpu") == "frozen"
    compile_forward(torch.nn.Linear(2, 2), "reduce-overhead")
    assert fake_compile == [{"mode": "reduce-overhead", "dynamic": True}]


def test_real_frozen_compile_on_cpu_matches_eager(tiny_encoder_dir: Path) -> None:
    """Inductor's C++ kernels with frozen weights give eager's vectors (float32 model)."""
    backbone = Backbone.load(str(tiny_encoder_dir), device="cpu")
    eager = backbone.encode(TEXTS, layers="all", batch_size=2)
    compiled = backbone.compile().encode(TEXTS, layers="all", batch_size=2)
    assert torch.allclose(eager, compiled, atol=1e-4), (eager - compiled).abs().max()
    alone = backbone.encode(TEXTS[:1], layers="all")  # batch of one: its own shape
    assert torch.allclose(eager[:1], alone, atol=1e-4)


def test_warm_up_scores_one_post_then_several(detector) -> None:
    seen: list[int] = []
    own_scores = detector._own_scores

    def recording(texts, languages=None):
        seen.append(len(texts))
        return own_scores(texts, languages)

    detector._own_scores = recording
    try:
        assert detector.warm_up() is detector
    finally:
        del detector._own_scores
    assert seen == [1, 1, 2, 3]  # short and long posts, alone and together


def test_warm_up_reaches_every_route(detector) -> None:
    """The warm-up texts are English: a routed detector must still warm its own model and
    each route's, not only the route that English posts go to."""
    warmed: list[str] = []

    class Route:
        def __init__(self, name: str) -> None:
            self.name = name

        def warm_up(self):
            warmed.append(self.name)
            return self

    english, german = Route("en"), Route("de")
    detector.routes = {"en": english, "de": german, "de-CH": german}
    try:
        detector.warm_up()
    finally:
        detector.routes = {}
    assert sorted(warmed) == ["de", "en"]  # each route once


@pytest.mark.skipif(not HAS_GPU, reason="torch sees no GPU")
def test_real_compile_on_gpu_matches_eager(tiny_encoder_dir: Path) -> None:
    backbone = Backbone.load(str(tiny_encoder_dir), device="cuda")
    eager = backbone.encode(TEXTS, layers="all", batch_size=2)
    compiled = backbone.compile().encode(TEXTS, layers="all", batch_size=2)
    assert torch.allclose(eager, compiled, atol=1e-3), (eager - compiled).abs().max()


def test_compile_says_when_it_has_no_effect(detector, fake_compile) -> None:
    top = detector.backbone.num_layers
    plain = DetectorSettings(decision_layer=top, compile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Detector(copy.copy(detector.backbone), detector.prototypes, settings=plain)
    lower = DetectorSettings(decision_layer=detector.prototypes.layers[0], compile=True)
    with pytest.warns(UserWarning, match="compile has no effect here"):
        Detector(copy.copy(detector.backbone), detector.prototypes, settings=lower)
