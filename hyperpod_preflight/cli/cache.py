"""`hp-preflight cache`: the per-user cache of this machine
(``$XDG_CACHE_HOME/hyperpod-preflight/``, else ``~/.cache/hyperpod-preflight/``).

    hp-preflight cache clear     # forget the Service Quotas codes learned so far

It holds only quota codes (never a value) and the lock files of ``quotas request``.
"""

from __future__ import annotations

import click

from ..errors import CannotRunError
from .options import EXIT_OK


@click.group("cache")
def cache() -> None:
    """The per-user cache of Service Quotas codes (never values)."""


@cache.command("clear")
def clear_cmd() -> int:
    """Forget the learned quota codes: the next run pages the quota listings again."""
    from ..cache import cache_dir, clear_quota_codes

    try:
        removed = clear_quota_codes()
    except OSError as exc:  # a folder in its place, no permission …
        raise CannotRunError(
            f"cannot clear the quota-code cache: {exc.strerror or exc}: "
            f"{exc.filename or cache_dir()}"
        ) from exc
    if removed is None:
        click.echo(f"nothing to clear: no quota-code cache in {cache_dir()}")
    else:
        click.echo(f"removed {removed}")
    return EXIT_OK
