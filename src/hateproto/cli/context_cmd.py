"""``hateproto context``: generate (and cache) LLM explanations of posts."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hateproto.cli import options as opt
from hateproto.context import ContextConfig, ContextGenerator
from hateproto.data import LabeledTexts, load_benchmark, load_table
from hateproto.dtypes import resolve_dtype
from hateproto.errors import ConfigError
from hateproto.outputs import atomic_write_text, check_output_file
from hateproto.training.data import stratified_subsample

HELP = "Generate short LLM explanations (context) of posts, cached on disk."

app = typer.Typer(help=HELP, no_args_is_help=True)


def _load_posts(
    dataset: str | None,
    table: Path | None,
    split: str,
    protocol: str,
    data_dir: str | None,
    text_column: str,
) -> LabeledTexts:
    """The posts to explain: a benchmark split or a user table (exactly one of them)."""
    if (dataset is None) == (table is None):
        raise ConfigError("give exactly one of --dataset or --table")
    if table is not None:
        return load_table(table, text_column=text_column)
    return load_benchmark(dataset, split, protocol, data_dir)


@app.command("generate")
def generate(
    dataset: opt.DatasetOption[str | None] = None,
    table: Path | None = typer.Option(None, "--table", help="A CSV/TSV/JSONL/parquet file."),
    text_column: opt.TextColumnOption = "text",
    split: opt.SplitOption = "train",
    protocol: opt.ProtocolOption = "ocampo2023",
    data_dir: opt.DataDirOption = None,
    n: opt.NOption = None,
    seed: opt.SeedOption = 0,
    config: opt.ConfigOption = None,
    model: opt.ModelOption = None,
    max_new_tokens: int | None = typer.Option(None, "--max-new-tokens"),
    batch_size: opt.BatchSizeOption = None,
    dtype: opt.DtypeOption = "auto",
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Cache folder."),
    output: opt.OutOption = None,
) -> None:
    """Generate the context of every post (cached ones are reused; resumable); with --out,
    also write them as JSON lines (text, context). The model is a causal LM (default: the
    config's)."""
    if output is not None:
        check_output_file(output, inputs=[table])
    settings = ContextConfig.from_yaml(config) if config else ContextConfig()
    overrides = {"model": model, "max_new_tokens": max_new_tokens, "batch_size": batch_size}
    overrides["dtype"] = resolve_dtype(dtype, recorded=settings.dtype)
    values = settings.model_dump() | {k: v for k, v in overrides.items() if v is not None}
    settings = ContextConfig.from_dict(values, source="command line")
    posts = _load_posts(dataset, table, split, protocol, data_dir, text_column)
    posts = stratified_subsample(posts, n, seed)
    generator = ContextGenerator(settings, cache_root=cache_dir)
    contexts = generator.generate(posts.texts)
    stats = generator.stats
    if output is not None:
        lines = [
            json.dumps({"text": t, "context": c}, ensure_ascii=False)
            for t, c in zip(posts.texts, contexts, strict=True)
        ]
        atomic_write_text(output, "\n".join(lines) + "\n")
    typer.echo(
        f"{stats.requested} posts ({stats.unique} unique): cached {stats.cached}, "
        f"generated {stats.generated} in {stats.seconds:.1f} s "
        f"({stats.examples_per_second:.2f} examples/s); cache {generator.cache.path}"
    )
