"""The ``parity`` command line: thin commands over the library.

Exit codes: 0 ok, 1 failure (bad data, divergence, unreachable server), 2 usage error.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from backtest import commands  # noqa: F401  (attaches every command to the app)
from backtest._app import app
from framework.errors import ConfigError, ParameterError, ParityError

__all__ = ["app", "main"]

EXIT_FAILURE = 1
EXIT_USAGE = 2
#: What a shell reports for a process ended by SIGINT.
EXIT_INTERRUPTED = 130


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"parity {version('parity')}")
        except PackageNotFoundError:
            typer.echo("parity (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Incremental trading signals, proven identical to a full recalculation."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; user errors become one line on stderr."""
    try:
        code = app(args=argv, prog_name="parity", standalone_mode=False)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else EXIT_FAILURE
    except (ParameterError, ConfigError) as error:
        _print_error(error)
        return EXIT_USAGE
    except ParityError as error:
        _print_error(error)
        return EXIT_FAILURE
    except typer.Abort:  # Ctrl-C
        _print_error("interrupted")
        return EXIT_INTERRUPTED
    except TyperException as error:  # Typer's own: an unknown option, a missing value…
        if str(error):  # (no message: the command's help was printed instead)
            _print_error(_usage(error))
        return int(getattr(error, "exit_code", EXIT_USAGE))
    return code if isinstance(code, int) else 0


def _usage(error: TyperException) -> str:
    """Typer's message, and where to read the usage (instead of its boxed panel)."""
    message = str(getattr(error, "format_message", lambda: str(error))())
    context = getattr(error, "ctx", None)
    command = getattr(context, "command_path", None) or "parity"
    return f"{message} (see {command} --help)"


def _print_error(error: Exception | str) -> None:
    # Escaped: a message quoting a cell such as '[1.2]' is text, not Rich markup.
    message = f"[bold red]error:[/] {escape(str(error))}"
    Console(stderr=True, soft_wrap=True).print(message, highlight=False)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
