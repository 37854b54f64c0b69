"""Context generation: prompting, batching with left padding, the on-disk cache and resume."""

from __future__ import annotations

import sqlite3

import pytest

from hateproto.cli.main import main
from hateproto.context import ContextCache, ContextConfig, ContextGenerator, context_key
from hateproto.errors import ConfigError

TEXTS = ["they are vermin", "welcome neighbours", "go back home you lazy criminals", "hi"]


def _generator(model_dir, cache_root, **settings) -> ContextGenerator:
    values = {"dtype": "float32", "max_new_tokens": 4, "batch_size": 3, "trim_to_sentence": False}
    config = ContextConfig(model=str(model_dir), **(values | settings))
    return ContextGenerator(config, cache_root=cache_root)


def test_rerun_generates_nothing_new(tiny_decoder_dir, tmp_path):
    first = _generator(tiny_decoder_dir, tmp_path)
    contexts = first.generate(TEXTS + [TEXTS[0]], show_progress=False)
    assert len(contexts) == 5 and contexts[0] == contexts[4]
    assert (first.stats.generated, first.stats.cached, first.stats.unique) == (4, 0, 4)
    assert all(c.startswith(first.config.response_prefix) for c in contexts)

    again = _generator(tiny_decoder_dir, tmp_path)
    calls = []
    again._generate_batch = lambda prompts: calls.append(prompts) or []  # must not run
    assert again.generate(TEXTS + [TEXTS[0]], show_progress=False) == contexts
    assert (again.stats.generated, again.stats.cached) == (0, 4) and not calls

    partial = _generator(tiny_decoder_dir, tmp_path)
    assert partial.generate(TEXTS[:2] + ["a new post"], show_progress=False)[:2] == contexts[:2]
    assert (partial.stats.generated, partial.stats.cached) == (1, 2)


def test_batched_left_padding_matches_one_by_one(tiny_decoder_dir, tmp_path):
    bare = {"system_prompt": "", "user_template": "{text}", "response_prefix": ""}
    batched = _generator(tiny_decoder_dir, tmp_path / "a", **bare).generate(TEXTS, False)
    single = [
        _generator(tiny_decoder_dir, tmp_path / "b", batch_size=1, **bare).generate([t], False)[0]
        for t in TEXTS
    ]
    assert batched == single
    assert len(set(batched)) > 1  # the prompts really differ at their last tokens


def test_prompt_change_uses_another_cache_file(tiny_decoder_dir, tmp_path):
    one = _generator(tiny_decoder_dir, tmp_path)
    two = _generator(tiny_decoder_dir, tmp_path, user_template="Explain: {text}")
    assert one.cache.path != two.cache.path
    assert one.key("x") != two.key("x")
    assert "Explain: they are vermin" in two.prompt("they are vermin")


def test_interrupted_run_keeps_finished_batches(tiny_decoder_dir, tmp_path):
    gen = _generator(tiny_decoder_dir, tmp_path, batch_size=2)
    real = gen._generate_batch
    done = []

    def flaky(prompts):
        if done:
            raise KeyboardInterrupt
        done.append(1)
        return real(prompts)

    gen._generate_batch = flaky
    with pytest.raises(KeyboardInterrupt):
        gen.generate(TEXTS, show_progress=False)
    assert len(gen.cache) == 2
    resumed = _generator(tiny_decoder_dir, tmp_path, batch_size=2)
    resumed.generate(TEXTS, show_progress=False)
    assert (resumed.stats.cached, resumed.stats.generated) == (2, 2)


def test_cache_roundtrip_and_key(tmp_path):
    cache = ContextCache(tmp_path / "c.sqlite")
    cache.put_many([("k1", "post", "context")])
    assert cache.get_many(["k1", "k2"]) == {"k1": "context"} and len(cache) == 1
    assert sqlite3.connect(tmp_path / "c.sqlite").execute("SELECT text FROM contexts").fetchone()
    assert context_key("f", "{}", "a") != context_key("f", "{}", "b")


def test_trim_to_sentence():
    gen = ContextGenerator(ContextConfig(response_prefix="It implies that"))
    assert gen.finish("they are bad. And then some") == "It implies that they are bad."
    assert gen.finish("no full stop") == "It implies that no full stop"


def test_config_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="max_tokens"):
        ContextConfig.from_dict({"max_tokens": 3})


def test_cli_generates_for_a_table(tiny_decoder_dir, tmp_path, capsys):
    table = tmp_path / "posts.csv"
    table.write_text("text,label\nthey are vermin,1\nwelcome neighbours,0\n")
    out = tmp_path / "ctx.jsonl"
    argv = ["context", "generate", "--model", str(tiny_decoder_dir), "--table", str(table)]
    argv += ["--max-new-tokens", "3", "--dtype", "float32", "--cache-dir", str(tmp_path / "c")]
    assert main(argv + ["--output", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 2
    assert "generated 2" in capsys.readouterr().out
    assert main(argv) == 0
    assert "generated 0" in capsys.readouterr().out
