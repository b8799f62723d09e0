"""`legalrag config show`, `legalrag index info` and `legalrag sky ingest`."""

from __future__ import annotations

from typing import Annotated

import typer

from legalrag.cli import render
from legalrag.cli.options import (
    CONFIG,
    STORE,
    JsonOpt,
    SharedOptions,
    setting_flag,
    shared_options,
)


@shared_options(CONFIG)
def config_show(*, shared: SharedOptions, as_json: JsonOpt = False) -> None:
    """Print the effective settings (secrets masked) and where the config file is."""
    from legalrag.settings import find_config_file

    shown = shared.settings().public_dict()
    if as_json:
        render.print_json(shown)
        return
    render.settings_table(shown, find_config_file(shared.config))


@shared_options(STORE)
def index_info(
    as_json: JsonOpt = False,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", help="Count only what this user of LEGALRAG_AUTH may read (their matters)."
        ),
    ] = None,
    *,
    shared: SharedOptions,
) -> None:
    """Counts, embedding model, dimension and location of the index."""
    from legalrag.factory import open_store
    from legalrag.store import Filters, describe_store

    settings = shared.settings()
    scope = None
    if user is not None:
        from legalrag.access import open_access

        scope = Filters().within(open_access(settings).scope(user))
    info = describe_store(open_store(settings), scope)
    if as_json:
        render.print_json(info.as_dict())
        return
    render.index_table(info)


@shared_options(
    CONFIG,
    setting_flag("--yaml", "sky_ingest_yaml"),
    setting_flag("--name-prefix", "sky_ingest_job_prefix"),
)
def sky_ingest(
    partitions: Annotated[
        int, typer.Option("--partitions", help="Number of managed jobs (partitions i/N).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the jobs as JSON; launch nothing.")
    ] = False,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", help="NAME=VALUE for every job (e.g. LEGALRAG_CHROMA_URL=...)."),
    ] = None,
    *,
    shared: SharedOptions,
) -> None:
    """Ingest pile-of-law in N parallel SkyPilot managed jobs (secrets from the environment)."""
    from legalrag.sky_ingest_launcher import build_ingest_jobs, launch_jobs, parse_assignments

    settings = shared.settings()
    jobs = build_ingest_jobs(
        settings.sky_ingest_yaml,
        partitions,
        name_prefix=settings.sky_ingest_job_prefix,
        envs=parse_assignments(env or [], "--env"),
    )
    if dry_run:
        render.print_json({"dry_run": True, "jobs": [job.describe() for job in jobs]})
        return
    job_ids = launch_jobs(jobs)
    render.done(
        f"launched {len(jobs)} managed jobs ({', '.join(str(i) for i in job_ids)}); "
        "follow them with `sky jobs queue` and `sky jobs logs ID`",
        soft_wrap=False,
    )
