"""Launch the parallel ingestion as SkyPilot managed jobs, one per partition.

SkyPilot does the distributing (managed jobs: provisioning, spot recovery, retries);
this module only turns ``sky/ingest.yaml`` into N tasks that differ in ``PARTITION``
(``i/N``) and hands each to ``sky.jobs.launch``. SkyPilot is an optional extra, imported
only when a launch is asked for.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from legalrag.errors import LaunchSpecError, SkyLaunchError, SkyUnavailableError
from legalrag.ingest.partition import Partition

PARTITION_ENV = "PARTITION"
CHROMA_URL_ENV = "LEGALRAG_CHROMA_URL"


@dataclass
class PartitionJob:
    """One managed job: its name, its partition and the SkyPilot task it runs."""

    name: str
    partition: Partition
    task: Any  # sky.Task

    def describe(self) -> dict[str, Any]:
        """What will be launched, secrets masked, for --dry-run and logs."""
        resources = sorted(
            (", ".join(f"{gpu}:{count}" for gpu, count in (r.accelerators or {}).items()) or "cpu")
            + (" spot" if r.use_spot else "")
            for r in self.task.resources
        )
        return {
            "name": self.name,
            "partition": str(self.partition),
            "envs": dict(self.task.envs),
            "secrets": {name: "********" for name in self.task.secrets},
            "resources": resources,
            "run": self.task.run,
        }


def import_sky() -> Any:
    """The ``sky`` package, or a clear error naming the extra to install."""
    try:
        import sky
    except ImportError:
        raise SkyUnavailableError(
            "SkyPilot is not installed: pip install 'legalrag[sky]'"
        ) from None
    return sky


def parse_assignments(items: Sequence[str], what: str) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` as a dict; a bad item is a :class:`LaunchSpecError`."""
    parsed: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise LaunchSpecError(f"{what} must look like NAME=VALUE, got {item!r}")
        parsed[name] = value
    return parsed


def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise LaunchSpecError(f"no such task YAML: {path}")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LaunchSpecError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(config, dict) or "run" not in config:
        raise LaunchSpecError(f"{path} is not a SkyPilot task YAML with a run section")
    return config


def declared_secrets(config: Mapping[str, Any]) -> list[str]:
    """The secret names a task YAML declares under ``secrets:``."""
    secrets = config.get("secrets") or {}
    names = secrets if isinstance(secrets, list) else list(secrets)
    return [str(name).removeprefix("secrets:") for name in names]


def build_ingest_jobs(
    yaml_path: Path,
    partitions: int,
    *,
    name_prefix: str,
    envs: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[PartitionJob]:
    """One task per partition ``0/N … N-1/N``, loaded from ``yaml_path`` by SkyPilot.

    ``envs`` override the YAML's envs in every task (``PARTITION`` is set per task).
    Every secret the YAML declares is read from ``environ`` (default: this process's
    environment), as ``sky jobs launch --secret NAME`` does; a missing one is an error
    before anything is launched.
    """
    if partitions < 1:
        raise LaunchSpecError(f"--partitions must be at least 1, got {partitions}")
    overrides = dict(envs or {})
    if PARTITION_ENV in overrides:
        raise LaunchSpecError(f"{PARTITION_ENV} is set per job; do not pass it")
    sky = import_sky()  # first: its YAML reader comes with it
    config = _load_yaml(yaml_path)
    chroma_url = overrides.get(CHROMA_URL_ENV, (config.get("envs") or {}).get(CHROMA_URL_ENV))
    if not str(chroma_url or "").startswith(("http://", "https://")):
        # N jobs cannot share an embedded index: they all write into one server.
        raise LaunchSpecError(
            f"every job writes into one Chroma server: pass --env {CHROMA_URL_ENV}="
            "http://<chroma-ip>:8000 (see sky/chroma.yaml)"
        )
    environ = os.environ if environ is None else environ
    names = declared_secrets(config)
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise LaunchSpecError(
            f"{yaml_path} needs these secrets in the environment: {', '.join(missing)} "
            f"(export {missing[0]}=...)"
        )
    secrets = [(name, environ[name]) for name in names]
    jobs = []
    for index in range(partitions):
        partition = Partition(index, partitions)
        # The CLI's own path (from_yaml_config with overrides), so the secrets become
        # values in the task rather than references left for the server to resolve.
        try:
            task = sky.Task.from_yaml_config(
                copy.deepcopy(config),
                env_overrides=[*overrides.items(), (PARTITION_ENV, str(partition))],
                secrets_overrides=secrets,
            )
        except ValueError as exc:  # SkyPilot's schema and field checks
            raise LaunchSpecError(f"SkyPilot rejects {yaml_path}: {exc}") from None
        name = f"{name_prefix}-{index}-of-{partitions}"
        task.name = name
        jobs.append(PartitionJob(name=name, partition=partition, task=task))
    return jobs


def launch_jobs(jobs: Sequence[PartitionJob]) -> list[int]:
    """Submit each job to SkyPilot's managed-jobs controller; their job ids."""
    sky = import_sky()
    job_ids: list[int] = []
    for job in jobs:
        try:
            request_id = sky.jobs.launch(job.task, name=job.name)
            ids, _handle = sky.stream_and_get(request_id)
        except Exception as exc:  # SkyPilot raises many types; the user needs its message
            launched = ", ".join(str(i) for i in job_ids) or "none"
            raise SkyLaunchError(
                f"SkyPilot could not launch {job.name}: {type(exc).__name__}: {exc} "
                f"(job ids launched before it: {launched}); launch each missing partition with "
                f"`sky jobs launch -n {job.name} <yaml> --env {PARTITION_ENV}={job.partition} ...`"
            ) from None
        job_ids.extend(ids or [])
    return job_ids
