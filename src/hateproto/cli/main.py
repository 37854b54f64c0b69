"""Entry point of the ``hateproto`` command.

Every command group lives in its own module, listed in :mod:`hateproto.cli.lazy` and
imported only when it runs (so ``hateproto --help`` answers without loading torch). Errors
that hateproto raises on purpose (:class:`~hateproto.errors.HateprotoError`) become a
one-line message on stderr and exit status 2; so do operating-system errors (a folder that
cannot be written...). ``--debug`` shows the traceback instead. Messages are never wrapped
(see :mod:`hateproto.cli.messages`).
"""

from __future__ import annotations

import os
import sys

import typer

from hateproto.cli.lazy import LazyCommandGroup
from hateproto.cli.messages import cli_message, command_name, print_error
from hateproto.cli.options import DeviceOption
from hateproto.errors import HateprotoError

try:  # typer >= 0.20 vendors click; older versions use the click package
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - depends on the installed typer
    from click.exceptions import ClickException


app = typer.Typer(
    name="hateproto",
    help="Detect implicit and explicit hate speech with transformer representations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyCommandGroup,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    device: DeviceOption = None,
) -> None:
    """hateproto: hate speech detection with fine-tuning, prototypes and early exit.

    --device before the command name sets the default device of every command."""
    if device is not None:
        from hateproto.models.device import set_default_device

        set_default_device(device)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit status (never raises for user errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _quiet_libraries()
    try:
        result = app(args=args, standalone_mode=False, prog_name="hateproto")
        return result if isinstance(result, int) else 0
    except HateprotoError as exc:
        if debug:
            raise
        print_error(cli_message(str(exc), command_name([a for a in args if a != "--debug"])))
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return 130
    except ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except OSError as exc:
        if debug:
            raise
        print_error(_os_message(exc))
        return 2


def _os_message(exc: OSError) -> str:
    """``<reason>: <path>`` for an operating-system error (permission denied, disk full...)."""
    reason = exc.strerror or str(exc)
    paths = [p for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' -> '.join(map(str, paths))}" if paths else reason


def _quiet_libraries() -> None:
    """Keep library progress bars and warnings out of the CLI's output (ours are enough)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when transformers loads
    if "transformers" in sys.modules:  # already loaded (the CLI called from Python)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
