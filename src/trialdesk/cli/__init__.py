"""The one ``trialdesk`` command.

Every module in this package that defines ``COMMANDS`` (a list of click commands or
groups) contributes them to the top-level group, so each part of the system owns its own
command file (``registry.py``, ``score.py``, ``design.py``, ...). Commands import heavy
libraries (Django, NumPy) inside their bodies, so ``trialdesk --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from trialdesk import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trialdesk")
def main() -> None:
    """trialdesk: early-phase cell-therapy trials, from listing to dose decision."""


def _load_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_load_commands()
