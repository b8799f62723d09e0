"""The SkyPilot deployment: YAMLs checked by SkyPilot's own loaders, offline; the commands
they run exist; the partition launcher's jobs; the Chroma server chroma.yaml runs; the
chat started the way serve.yaml starts it.

SkyPilot writes ~/.sky when imported, so everything here runs with HOME in a tmp folder.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, free_port, make_retriever, make_settings
from tests.fake_llm import start_fake_llm

SKY_DIR = REPO / "sky"
YAMLS = ["serve.yaml", "ingest.yaml", "chroma.yaml", "eval.yaml"]
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def sky_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A HOME of its own while SkyPilot is imported and used: no state in the real ~/.sky."""
    home = tmp_path_factory.mktemp("sky-home")
    before = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        yield home
    finally:
        if before is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = before


@pytest.fixture(scope="module")
def sky(sky_home: Path):
    import sky as sky_module

    return sky_module


def _config(name: str) -> dict:
    return yaml.safe_load((SKY_DIR / name).read_text(encoding="utf-8"))


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALRAG_")}
    env.update(extra)
    return env


# --- the YAMLs, through SkyPilot's loaders --------------------------------------------


@pytest.mark.parametrize("name", YAMLS)
def test_every_yaml_loads_with_skypilots_loader_and_keeps_secrets_out(sky, name: str) -> None:
    text = (SKY_DIR / name).read_text(encoding="utf-8")
    task = sky.Task.from_yaml(str(SKY_DIR / name))
    assert task.name == f"legalrag-{name.removesuffix('.yaml')}"
    # Secrets are declared without values: references resolved at launch.
    declared = set(_config(name)["secrets"])
    assert declared and not task.secrets
    assert {ref.name for ref in task.managed_secret_refs} == declared
    assert "LEGALRAG_CHROMA_AUTH_TOKEN" in declared
    # The expected cost per hour is stated, with where the price comes from.
    assert re.search(r"Expected cost: about \$\d+\.\d\d/hour", text), name
    assert "list price" in text


def test_serve_yaml_is_a_valid_service_that_probes_the_app(sky) -> None:
    from sky.serve import SkyServiceSpec

    config = _config("serve.yaml")
    spec = SkyServiceSpec.from_yaml_config(config["service"])
    assert spec.readiness_path == "/healthz"
    assert spec.post_data is None  # a GET of the app's own check, not a TCP probe
    assert spec.initial_delay_seconds >= 900  # model download and load
    assert spec.min_replicas >= 1 and spec.max_replicas >= spec.min_replicas
    assert spec.target_qps_per_replica > 0
    assert spec.load_balancing_policy in sky.serve.LB_POLICIES

    task = sky.Task.from_yaml(str(SKY_DIR / "serve.yaml"))
    assert task.service.readiness_path == "/healthz"
    accelerators = {next(iter(r.accelerators)) for r in task.resources}
    assert {"L4", "A10G", "A100"} <= accelerators  # any of them
    envs = task.envs
    assert envs["LLM_MODEL"] == "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
    # The chat listens on the port the service (and `sky launch`) exposes.
    assert {r.ports[0] for r in task.resources} == {envs["LEGALRAG_CHAT_PORT"]}
    vllm = _command(task.run, "vllm serve")
    assert '"$LLM_MODEL"' in vllm and "--reasoning-parser deepseek_r1" in vllm
    assert '--tensor-parallel-size "$SKYPILOT_NUM_GPUS_PER_NODE"' in vllm
    assert '--max-model-len "$MAX_MODEL_LEN"' in vllm
    assert "--host 127.0.0.1" in vllm
    # The chat talks to that vLLM.
    assert envs["LEGALRAG_LLM_BASE_URL"] == f"http://127.0.0.1:{envs['VLLM_PORT']}/v1"


@pytest.mark.parametrize("name", YAMLS)
def test_every_legalrag_setting_the_yamls_give_exists_and_validates(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pydantic-settings ignores an unknown LEGALRAG_* variable: a misspelt one would be
    # silently dropped on the cluster.
    from legalrag.settings import Settings, load_settings

    config = _config(name)
    given = {**config.get("envs", {}), **dict.fromkeys(config.get("secrets", {}), "x" * 32)}
    ours = {k: str(v) for k, v in given.items() if k.startswith("LEGALRAG_")}
    unknown = {k for k in ours if k.removeprefix("LEGALRAG_").lower() not in Settings.model_fields}
    assert not unknown, f"{name} sets settings legalrag does not have: {sorted(unknown)}"
    for key, value in ours.items():
        if value:  # the run scripts unset an empty one
            monkeypatch.setenv(key, value)
    settings = load_settings()
    for key, value in ours.items():
        if value and not key.endswith(("_TOKEN", "_SECRET")):
            assert str(getattr(settings, key.removeprefix("LEGALRAG_").lower())) == value


def test_no_yaml_mounts_a_bucket_with_chroma_files(sky) -> None:
    from sky.data.storage import StorageMode

    for name in YAMLS:
        task = sky.Task.from_yaml(str(SKY_DIR / name))
        for path, storage in task.storage_mounts.items():
            # SQLite (Chroma's metadata) is not safe on a FUSE bucket mount.
            assert storage.mode == StorageMode.COPY, f"{name}: {path} must be COPY"


# --- the commands the YAMLs run ----------------------------------------------------------


def _command(script: str, start: str) -> str:
    """The command in ``script`` that begins with ``start``, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", script)
    for line in joined.splitlines():
        at = line.find(start)
        if at != -1 and not line.lstrip().startswith("#"):
            return line[at:].strip()
    raise AssertionError(f"no {start!r} command in:\n{script}")


def _legalrag_commands() -> list[tuple[str, list[str], list[str]]]:
    """(yaml, subcommand words, flags) for every `legalrag …` the YAMLs run."""
    found = []
    for name in YAMLS:
        config = _config(name)
        script = re.sub(r"\\\n\s*", " ", f"{config.get('setup', '')}\n{config['run']}")
        for line in script.splitlines():
            line = line.strip()
            if line.startswith("#"):
                continue
            for match in re.finditer(r"(?:^|[\s/])legalrag ((?:[a-z][a-z-]* ?)+)(.*)", line):
                words = match.group(1).split()
                flags = re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", match.group(2))
                found.append((name, words, flags))
    return found


def test_the_yamls_run_legalrag_commands() -> None:
    commands = {(name, " ".join(words)) for name, words, _ in _legalrag_commands()}
    assert ("serve.yaml", "chat") in commands
    assert ("ingest.yaml", "ingest") in commands
    assert ("eval.yaml", "eval") in commands


@pytest.mark.parametrize(
    ("name", "words", "flags"),
    _legalrag_commands(),
    ids=[f"{n}:{' '.join(w)}" for n, w, _ in _legalrag_commands()],
)
def test_every_legalrag_command_in_the_yamls_exists_with_its_flags(
    name: str, words: list[str], flags: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "legalrag", *words, "--help"],
        env=_env({"COLUMNS": "300", "NO_COLOR": "1", "TERM": "dumb"}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{name}: legalrag {' '.join(words)}: {result.stderr}"
    for flag in flags:
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", result.stdout), (
            f"{name}: `legalrag {' '.join(words)}` has no {flag}"
        )


# --- the partition launcher --------------------------------------------------------------

SECRETS = {"HF_TOKEN": "hf-test-token", "LEGALRAG_CHROMA_AUTH_TOKEN": "chroma-test-token"}
CHROMA = {"LEGALRAG_CHROMA_URL": "http://10.0.0.5:8000"}


def test_launcher_builds_one_managed_job_per_partition(sky) -> None:
    from legalrag.sky_ingest_launcher import build_ingest_jobs

    jobs = build_ingest_jobs(
        SKY_DIR / "ingest.yaml", 5, name_prefix="legalrag-ingest", envs=CHROMA, environ=SECRETS
    )
    assert [job.name for job in jobs] == [f"legalrag-ingest-{i}-of-5" for i in range(5)]
    assert sorted(job.task.envs["PARTITION"] for job in jobs) == [f"{i}/5" for i in range(5)]
    yaml_resources = sky.Task.from_yaml(str(SKY_DIR / "ingest.yaml")).resources
    for job in jobs:
        task = job.task
        assert isinstance(task, sky.Task) and task.name == job.name
        assert task.envs["PARTITION"] == str(job.partition)
        assert task.envs["LEGALRAG_CHROMA_URL"] == CHROMA["LEGALRAG_CHROMA_URL"]
        assert task.envs["LEGALRAG_EMBEDDING_MODEL"] == "Alibaba-NLP/gte-Qwen2-7B-instruct"
        assert {k: v.get_secret_value() for k, v in task.secrets.items()} == SECRETS
        assert not task.managed_secret_refs  # nothing left for the server to resolve
        assert sorted(map(str, task.resources)) == sorted(map(str, yaml_resources))
        assert all(r.use_spot and sum(r.accelerators.values()) == 1 for r in task.resources)
        ingest = _command(task.run, "legalrag ingest")
        assert "--source pile-of-law" in ingest and '--partition "$PARTITION"' in ingest


@pytest.mark.parametrize(
    ("partitions", "envs", "environ", "message"),
    [
        (0, CHROMA, SECRETS, "at least 1"),
        (2, {}, SECRETS, "LEGALRAG_CHROMA_URL"),
        (2, CHROMA, {"HF_TOKEN": "x"}, "LEGALRAG_CHROMA_AUTH_TOKEN"),
        (2, {**CHROMA, "PARTITION": "0/2"}, SECRETS, "set per job"),
    ],
)
def test_launcher_refuses_what_it_cannot_launch(sky, partitions, envs, environ, message) -> None:
    from legalrag.errors import LaunchSpecError
    from legalrag.sky_ingest_launcher import build_ingest_jobs

    with pytest.raises(LaunchSpecError, match=message):
        build_ingest_jobs(
            SKY_DIR / "ingest.yaml", partitions, name_prefix="x", envs=envs, environ=environ
        )


def test_launcher_reports_a_yaml_skypilot_rejects(sky, tmp_path: Path) -> None:
    from legalrag.errors import LaunchSpecError
    from legalrag.sky_ingest_launcher import build_ingest_jobs

    bad = tmp_path / "ingest.yaml"
    bad.write_text((SKY_DIR / "ingest.yaml").read_text().replace("accelerators:", "acelerators:"))
    with pytest.raises(LaunchSpecError, match="accelerators"):
        build_ingest_jobs(bad, 2, name_prefix="x", envs=CHROMA, environ=SECRETS)


def test_sky_ingest_command_dry_run_launches_nothing(tmp_path: Path) -> None:
    env = _env({"HOME": str(tmp_path), **SECRETS})
    args = [sys.executable, "-m", "legalrag", "sky", "ingest", "--partitions", "3"]
    result = subprocess.run(
        [*args, "--dry-run", "--yaml", str(SKY_DIR / "ingest.yaml"), "--env",
         "LEGALRAG_CHROMA_URL=http://10.0.0.5:8000"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [job["partition"] for job in plan["jobs"]] == ["0/3", "1/3", "2/3"]
    assert all(job["resources"] and job["secrets"] for job in plan["jobs"])
    assert not any(value in result.stdout for value in SECRETS.values())
    # Nothing started: no API server, no managed-jobs controller.
    assert not (tmp_path / ".sky" / "api_server").exists()

    no_secrets = _env({"HOME": str(tmp_path)})
    missing = subprocess.run(
        [*args, "--dry-run", "--yaml", str(SKY_DIR / "ingest.yaml"), "--env",
         "LEGALRAG_CHROMA_URL=http://10.0.0.5:8000"],
        env=no_secrets, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "HF_TOKEN" in missing.stderr and "Traceback" not in missing.stderr


def test_sky_ingest_without_skypilot_names_the_extra(tmp_path: Path) -> None:
    # `sky` made unimportable in a fresh process, as on an install without the extra.
    code = (
        "import sys; sys.modules['sky'] = None; from legalrag.cli import main; "
        "sys.argv = ['legalrag', 'sky', 'ingest', '--partitions', '2', '--dry-run']; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "pip install 'legalrag[sky]'" in result.stderr
    assert "Traceback" not in result.stderr


# --- the Chroma server chroma.yaml runs ------------------------------------------------


def _wait_ok(
    url: str,
    proc: subprocess.Popen,
    log: Path,
    timeout: float = 120,
    *,
    headers: dict[str, str] | None = None,
    ca_file: Path | None = None,
) -> None:
    """Until ``url`` answers 200 (a 503 while starting is waited out)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    while True:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=30, context=context) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} never answered 200 ({last}):\n{log.read_text()[-4000:]}")
        time.sleep(0.5)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _nginx_or_skip() -> None:
    """chroma.yaml's proxy is Debian's nginx: a skip locally, a failure in CI (.ci/run
    installs it)."""
    # Debian puts it in /usr/sbin, not on a plain user's PATH (the YAML adds it).
    if shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin") is None:
        message = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("CI"):
            pytest.fail(f"the Chroma proxy test must run in CI: {message}")
        pytest.skip(message)


def _certificates(folder: Path) -> Path:
    """A CA and a server certificate it signed for 127.0.0.1, as chroma.yaml reads them
    (cert.pem, key.pem); returns the CA's file, the one the clients trust."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def signed(subject, key, issuer, issuer_key, *, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = signed("legalrag test CA", ca_key, "legalrag test CA", ca_key, ca=True)
    server = signed("legalrag-chroma", server_key, "legalrag test CA", ca_key, ca=False)
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (folder / "cert.pem").write_bytes(server.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    return folder / "ca.pem"


@pytest.fixture(scope="module")
def token_chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """chroma.yaml's `run`, as written, on loopback, HOME in tmp: `chroma run` behind
    nginx (TLS with a certificate of a test CA, the token checked): (url, token, CA file)."""
    _nginx_or_skip()
    home = tmp_path_factory.mktemp("chroma-home")
    # The environment `setup` makes: ~/chroma-env/bin/chroma, chromadb's Rust server.
    (home / "chroma-env" / "bin").mkdir(parents=True)
    shim = home / "chroma-env" / "bin" / "chroma"
    shim.write_text(f'#!/bin/sh\nexec "{Path(sys.executable).parent / "chroma"}" "$@"\n')
    shim.chmod(0o755)
    ca_file = _certificates(home / "tls")
    config = _config("chroma.yaml")
    port = free_port()
    token = "test-token-5f1c-0123456789"
    env = _env({"HOME": str(home), **{k: str(v) for k, v in config["envs"].items()}})
    env.update(
        CHROMA_PORT=str(port),
        CHROMA_BACKEND_PORT=str(free_port()),
        CHROMA_LISTEN="127.0.0.1",  # the one change from the YAML: loopback only
        CHROMA_TLS_DIR=str(home / "tls"),
        LEGALRAG_CHROMA_AUTH_TOKEN=token,
    )
    log = home / "chroma.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", config["run"]], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    try:
        _wait_ok(f"{url}/api/v2/heartbeat", proc, log, headers={"X-Chroma-Token": token},
                 ca_file=ca_file)  # fmt: skip
        yield url, token, ca_file
    finally:
        _stop(proc)


def _status(url: str, headers: dict[str, str], ca_file: Path | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_chroma_yaml_proxy_refuses_requests_without_the_token(
    token_chroma: tuple[str, str, Path], tmp_path: Path
) -> None:
    url, token, ca_file = token_chroma
    collections = f"{url}/api/v2/tenants/default_tenant/databases/default_database/collections"
    assert _status(collections, {}, ca_file)[0] == 403
    assert _status(collections, {"X-Chroma-Token": "wrong"}, ca_file)[0] == 403
    assert _status(f"{url}/api/v2/heartbeat", {}, ca_file)[0] == 403
    assert _status(collections, {"X-Chroma-Token": token}, ca_file)[0] == 200
    # TLS only: plain HTTP on the port gets no Chroma, and a client that does not trust
    # the CA does not talk to it.
    assert _status(collections.replace("https://", "http://"), {"X-Chroma-Token": token})[0] == 400
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        _status(collections, {"X-Chroma-Token": token})
    # legalrag's client sends the token from LEGALRAG_CHROMA_AUTH_TOKEN and trusts
    # LEGALRAG_CHROMA_CA_FILE.
    from legalrag.errors import StoreUnavailableError
    from legalrag.store.chroma import make_client

    def client(**given):
        return make_client(make_settings(tmp_path, chroma_url=url, **given).store)

    good = client(chroma_auth_token=token, chroma_ca_file=ca_file)
    good.get_or_create_collection("token_check", embedding_function=None)
    assert "token_check" in [c.name for c in good.list_collections()]
    with pytest.raises(StoreUnavailableError, match=r"refused .*LEGALRAG_CHROMA_AUTH_TOKEN"):
        client(chroma_ca_file=ca_file)
    with pytest.raises(StoreUnavailableError, match="refused"):
        client(chroma_auth_token="wrong-token-0123456789", chroma_ca_file=ca_file)
    with pytest.raises(StoreUnavailableError, match=r"not trusted.*LEGALRAG_CHROMA_CA_FILE"):
        client(chroma_auth_token=token)


def test_chroma_yaml_server_sends_stored_vectors_so_verification_embeds_nothing(
    token_chroma: tuple[str, str, Path], tmp_path: Path, embedder
) -> None:
    """`chroma run` returns the stored vectors through the proxy: the query path gets
    them back with the hits (the Python server it replaces sent none)."""
    from legalrag.factory import open_store
    from legalrag.ingest.run import ingest

    url, token, ca_file = token_chroma
    settings = make_settings(
        tmp_path, chroma_url=url, chroma_auth_token=token, chroma_ca_file=ca_file,
        collection="vectors_check",
    )  # fmt: skip
    ingest(settings, limit=8, quiet=True)
    store = open_store(settings, embedder)
    hits = store.query(embedder.embed_query("landlord notice"), 4, with_vectors=True)
    assert len(hits) == 4
    for hit in hits:
        assert hit.chunk.vector is not None and len(hit.chunk.vector) == embedder.dimension
    ids = [hit.chunk.id for hit in hits]
    assert all(c.vector is not None for c in store.get(ids, with_vectors=True).values())
    # The retriever hands those vectors on with its passages: verification reads them
    # instead of embedding the sources.
    retriever = make_retriever(settings, embedder, relevance_floor=-1.0)
    passages = retriever.retrieve("landlord notice to end a tenancy").passages
    assert passages and all(p.vectors and all(v is not None for v in p.vectors) for p in passages)


# --- the chat in serve mode --------------------------------------------------------------


def test_chat_started_as_serve_yaml_starts_it_is_ready(
    token_chroma: tuple[str, str, Path], tmp_path: Path, embedder
) -> None:
    """serve.yaml's envs and chat command, with vLLM played by the loopback fake and
    the index in the token-checking Chroma server; the readiness probe's path answers 200.

    Changed from the YAML, and why: the embedding model (gte-Qwen2-7B cannot be loaded
    offline; the bundled MiniLM stands in), the URLs and ports (loopback), the data dir.
    """
    from legalrag.ingest.run import ingest

    url, token, ca_file = token_chroma
    index_settings = make_settings(
        tmp_path / "ingest", chroma_url=url, chroma_auth_token=token, chroma_ca_file=ca_file,
        collection="serve_test",
    )  # fmt: skip
    ingest(index_settings, limit=8, quiet=True)

    config = _config("serve.yaml")
    chat_port = free_port()
    fake, fake_server = start_fake_llm()
    env = {k: str(v) for k, v in config["envs"].items() if k.startswith("LEGALRAG_") and v != ""}
    env.update(
        LEGALRAG_CHROMA_URL=url,
        LEGALRAG_CHROMA_AUTH_TOKEN=token,
        LEGALRAG_CHROMA_CA_FILE=str(ca_file),
        LEGALRAG_COLLECTION="serve_test",
        LEGALRAG_LLM_BASE_URL=fake.url,
        LEGALRAG_EMBEDDING_MODEL=MINILM,
        LEGALRAG_EMBEDDING_DEVICE="cpu",
        LEGALRAG_CHAT_HOST="127.0.0.1",
        LEGALRAG_CHAT_PORT=str(chat_port),
        LEGALRAG_DATA_DIR=str(tmp_path / "data"),
        LEGALRAG_AUDIT_LOG=str(tmp_path / "data" / "audit.jsonl"),
        LEGALRAG_SESSION_SECRET="test-session-secret-at-least-32-characters",
        # The probe's question, about the first sample record (the 8 ingested here hold
        # no security-deposit post, so the default probe finds nothing above the floor).
        LEGALRAG_HEALTH_QUERY="landlord 30-day notice to end a month-to-month tenancy",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    # The command line exactly as serve.yaml's run has it, its variables filled in.
    line = _command(config["run"], "legalrag chat").removesuffix("&").strip()
    words = [re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], w) for w in shlex.split(line)]
    assert words[:2] == ["legalrag", "chat"]
    log = tmp_path / "chat.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "legalrag", *words[1:]],
            env=_env(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        health = f"http://127.0.0.1:{chat_port}/healthz"
        _wait_ok(health, proc, log, timeout=180)
        with urllib.request.urlopen(health, timeout=30) as response:
            body = json.loads(response.read())
        # Ready means: the token-checking server answered, a real retrieval found
        # passages, and the chat reached the (fake) vLLM it was pointed at.
        assert body["status"] == "ok"
        assert body["chunks"] > 0 and body["probe"]["passages"] > 0
        assert body["generator"]["kind"] == "openai-compatible"
        assert body["generator"]["ready"] is True
    finally:
        _stop(proc)
        fake_server.shutdown()


VLLM_SHIM = """#!{python}
# Stands in for `vllm serve`: answers /v1/models on --port, writes its pid, runs until killed.
import http.server, os, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
open(os.path.join(os.environ["HOME"], "vllm.pid"), "w").write(str(os.getpid()))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"{{}}")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def test_a_serve_replica_stops_when_its_vllm_exits(tmp_path: Path) -> None:
    """serve.yaml's run with vLLM and the chat played by stand-ins: killing vLLM ends the
    task with a failure and stops the chat, so SkyServe replaces the replica."""
    home = tmp_path / "home"
    for env_dir, name, text in (
        ("vllm-env", "vllm", VLLM_SHIM.format(python=sys.executable)),
        ("legalrag-env", "legalrag", '#!/bin/sh\necho $$ > "$HOME/chat.pid"\nexec sleep 600\n'),
    ):
        (home / env_dir / "bin").mkdir(parents=True)
        (home / env_dir / "bin" / name).write_text(text)
        (home / env_dir / "bin" / name).chmod(0o755)
    config = _config("serve.yaml")
    env = _env({"HOME": str(home), **{k: str(v) for k, v in config["envs"].items()}})
    env.update(VLLM_PORT=str(free_port()), SKYPILOT_NUM_GPUS_PER_NODE="1",
               LEGALRAG_CHROMA_URL="http://127.0.0.1:9")  # fmt: skip
    proc = subprocess.Popen(
        ["bash", "-c", config["run"]], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (home / "chat.pid").exists():  # the chat starts once vLLM is ready
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
            time.sleep(0.2)
        chat_pid = int((home / "chat.pid").read_text())
        os.kill(int((home / "vllm.pid").read_text()), signal.SIGKILL)  # vLLM dies
        assert proc.wait(timeout=30) == 1
        assert "vLLM or the chat exited" in proc.stdout.read()
        deadline = time.monotonic() + 10
        while _alive(chat_pid):
            assert time.monotonic() < deadline, "the chat outlived its vLLM"
            time.sleep(0.2)
    finally:
        _stop(proc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


# --- production serving (issue 17): the models and the API as their own services -------

SERVICES = ["llm.yaml", "embedder.yaml", "api.yaml"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_yaml_loads_as_a_skyserve_service(sky, name: str) -> None:
    from sky.serve import SkyServiceSpec

    text = (SKY_DIR / name).read_text(encoding="utf-8")
    task = sky.Task.from_yaml(str(SKY_DIR / name))
    assert task.name == f"legalrag-{name.removesuffix('.yaml')}"
    assert not task.secrets  # declared without values
    spec = SkyServiceSpec.from_yaml_config(_config(name)["service"])
    assert spec.target_qps_per_replica > 0 and spec.max_replicas >= spec.min_replicas
    assert re.search(r"Expected cost: about \$\d+\.\d\d/hour", text) and "TLS" in text


def test_the_model_services_probe_by_generating_on_spot_with_fallback(sky) -> None:
    from sky.serve import SkyServiceSpec

    llm = SkyServiceSpec.from_yaml_config(_config("llm.yaml")["service"])
    assert llm.readiness_path == "/v1/completions" and llm.post_data["max_tokens"] == 1
    assert llm.use_ondemand_fallback
    task = sky.Task.from_yaml(str(SKY_DIR / "llm.yaml"))
    assert all(r.use_spot for r in task.resources)
    assert {"L40S", "A100"} <= {next(iter(r.accelerators)) for r in task.resources}
    assert "--api-key" in task.run
    embedder = sky.Task.from_yaml(str(SKY_DIR / "embedder.yaml"))
    assert "--runner pooling --trust-remote-code" in embedder.run
    assert "Alibaba-NLP/gte-Qwen2-7B-instruct" in embedder.run or embedder.envs


def test_the_api_service_runs_two_stateless_replicas_of_legalrag_serve(sky) -> None:
    from sky.serve import SkyServiceSpec

    spec = SkyServiceSpec.from_yaml_config(_config("api.yaml")["service"])
    assert spec.min_replicas >= 2 and spec.readiness_path == "/healthz"
    task = sky.Task.from_yaml(str(SKY_DIR / "api.yaml"))
    assert "legalrag serve" in task.run
    assert (
        task.envs["LEGALRAG_API_HOST"] == "0.0.0.0"
        and "API_TOKENS" in _config("api.yaml")["secrets"]
    )
