"""`legalrag matter create|list|grant|revoke`: the matters and who may read them."""

from __future__ import annotations

from typing import Annotated

import typer

from legalrag.cli import render
from legalrag.cli.options import LOGS, JsonOpt, SharedOptions, shared_options

NameArg = Annotated[str, typer.Argument(help="The matter's name.")]
WhoArg = Annotated[str, typer.Argument(help="A user of LEGALRAG_AUTH, or @group.")]


@shared_options(LOGS)
def matter_create(name: NameArg, *, shared: SharedOptions) -> None:
    """Create a matter (no members yet: grant them; ingest into it with --matter)."""
    from legalrag.matters import open_registry

    open_registry(shared.settings()).create(name)
    render.done(f"matter {name} created; grant members with `legalrag matter grant {name} USER`")


@shared_options(LOGS)
def matter_list(as_json: JsonOpt = False, *, shared: SharedOptions) -> None:
    """List the matters and their members' roles."""
    from legalrag.matters import open_registry

    matters = open_registry(shared.settings()).list()
    if as_json:
        render.print_json([matter.as_dict() for matter in matters])
        return
    render.matters_table(matters)


@shared_options(LOGS)
def matter_grant(
    name: NameArg,
    who: WhoArg,
    role: Annotated[str, typer.Option(help="owner, member or read-only.")] = "member",
    *,
    shared: SharedOptions,
) -> None:
    """Let a user or @group read a matter, with a role (replacing the one it had)."""
    from legalrag.matters import open_registry

    settings = shared.settings()
    _known(settings, who)
    open_registry(settings).grant(name, who, role)
    render.done(f"{who} is now {role} of matter {name}")


@shared_options(LOGS)
def matter_revoke(name: NameArg, who: WhoArg, *, shared: SharedOptions) -> None:
    """Take a user's or @group's membership of a matter away (from the next question on)."""
    from legalrag.matters import open_registry

    if open_registry(shared.settings()).revoke(name, who):
        render.done(f"{who} is no longer a member of matter {name}")
    else:
        render.note(f"{who} was not a member of matter {name} (a group it is in may be)")


def _known(settings: object, who: str) -> None:
    """Refuse a user or group the users file does not name (a typo would grant nobody,
    and a later user of that name would inherit it). Without users, anything goes."""
    from legalrag.errors import MatterError
    from legalrag.users import GROUP_PREFIX, load_users

    auth = getattr(settings, "auth", None)
    users = load_users(auth.get_secret_value() if auth else None)
    if users is None:
        return
    if who.startswith(GROUP_PREFIX):
        if who.removeprefix(GROUP_PREFIX) not in users.groups:
            raise MatterError(f"no group {who!r} in LEGALRAG_AUTH ({users.source})")
    elif who not in users:
        raise MatterError(f"no user {who!r} in LEGALRAG_AUTH ({users.source})")
