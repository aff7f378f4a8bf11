"""``edoc doc …``: the document commands.

This module owns the ``doc`` group; commands of other issues live in their own modules
(``cli/sign.py``, ``cli/send.py`` …) and are registered on :data:`app` in ``cli/app.py``.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Official documents: create, render, show, number, sign, send, receive, route.", no_args_is_help=True
)
