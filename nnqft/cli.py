"""The ``nnqft`` command line (the CLI contract in README.md).

Subcommands live in :mod:`nnqft.commands`, one module per family, and are discovered
when the group is used.  Every user mistake becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings

import click

from .errors import NnqftError


class _DiscoveringGroup(click.Group):
    """A click group that collects ``commands`` from every module of nnqft.commands."""

    _discovered = False

    def _discover(self) -> None:
        if self._discovered:
            return
        from . import commands

        for info in pkgutil.iter_modules(commands.__path__):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{commands.__name__}.{info.name}")
            for command in getattr(module, "commands", ()):
                self.add_command(command)
        self._discovered = True

    def list_commands(self, ctx):
        self._discover()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        self._discover()
        return super().get_command(ctx, name)


@click.group(cls=_DiscoveringGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nnqft")
def cli():
    """nnqft: the field theory of deep neural networks, derived.

    Mean-field theory and the edge of chaos, Feynman rules and diagrams, loop corrections
    in 1/N, finite-width recursions, derivations as LaTeX, export to other codes, and
    Monte Carlo of real random networks.  Add --json to any command for machine output.
    """


def _fail(message: str) -> None:
    click.echo(f"nnqft: error: {message}", err=True)
    sys.exit(2)


#: numpy's floating-point warnings: raised as errors inside a command, then reported
_NUMPY_WARNING = r".*(overflow|invalid value|divide by zero|underflow) encountered"


def _numeric_failure(exc: RuntimeWarning) -> str:
    """The one-line cause of a floating-point error: what overflowed, and where.

    >>> try:
    ...     raise RuntimeWarning("overflow encountered in exp")
    ... except RuntimeWarning as exc:
    ...     print(_numeric_failure(exc))
    numerical overflow (overflow encountered in exp); the values are beyond float64: \
try smaller parameters
    """
    where = None
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith("nnqft.") and not module.startswith("nnqft.cli"):
            where = f"{tb.tb_frame.f_code.co_name} in {module}"
        tb = tb.tb_next
    message = str(exc)
    kind = next(
        (k for k in ("overflow", "invalid value", "divide by zero", "underflow") if k in message),
        "floating-point error",
    )
    place = f" computing {where}" if where else ""
    return (
        f"numerical {kind}{place} ({message}); the values are beyond float64: "
        "try smaller parameters"
    )


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line each on stderr, without file, line or category."""
    click.echo(f"nnqft: warning: {' '.join(str(message).split())}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script and ``python -m nnqft``."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        click.echo(cli.get_help(click.Context(cli, info_name="nnqft")))
        sys.exit(0)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            warnings.filterwarnings("error", message=_NUMPY_WARNING, category=RuntimeWarning)
            rv = cli.main(args=args, prog_name="nnqft", standalone_mode=False)
    except RuntimeWarning as exc:
        _fail(_numeric_failure(exc))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("nnqft: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        _fail(" ".join(exc.format_message().split()))
    except NnqftError as exc:
        _fail(" ".join(str(exc).split()))
    except KeyboardInterrupt:
        click.echo("nnqft: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
