"""Settings: one object, flags > env > TOML > defaults, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from legalrag.errors import SettingsError
from legalrag.settings import Settings, default_data_dir, load_settings
from tests.conftest import run_cli


def test_defaults_are_the_offline_embedded_stack() -> None:
    settings = load_settings()
    assert settings.data_dir == default_data_dir()
    assert settings.chroma_url is None
    assert settings.chroma_dir == settings.data_dir / "chroma"
    assert settings.embedding_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert settings.llm_base_url is None


def test_precedence_flag_over_env_over_toml_over_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "legalrag.toml").write_text(
        'collection = "from_toml"\nchunk_size = 150\nembedding_batch_size = 8\n'
    )
    monkeypatch.setenv("LEGALRAG_COLLECTION", "from_env")
    monkeypatch.setenv("LEGALRAG_CHUNK_SIZE", "120")

    settings = load_settings(chunk_size=100)
    assert settings.chunk_size == 100  # flag beats env and TOML
    assert settings.collection == "from_env"  # env beats TOML
    assert settings.embedding_batch_size == 8  # TOML beats default
    assert settings.chunk_overlap == Settings.model_fields["chunk_overlap"].default


def test_none_flags_mean_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGALRAG_COLLECTION", "from_env")
    assert load_settings(collection=None).collection == "from_env"


def test_fixed_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEGALRAG_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("LEGALRAG_CHROMA_URL", "http://127.0.0.1:8123")
    monkeypatch.setenv("LEGALRAG_EMBEDDING_MODEL", "Alibaba-NLP/gte-Qwen2-7B-instruct")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "d"
    assert settings.chroma_url == "http://127.0.0.1:8123"
    assert settings.embedding_model == "Alibaba-NLP/gte-Qwen2-7B-instruct"


def test_explicit_config_file_and_env_pointer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('collection = "explicit"\n')
    assert load_settings(config).collection == "explicit"
    monkeypatch.setenv("LEGALRAG_CONFIG", str(config))
    assert load_settings().collection == "explicit"
    monkeypatch.setenv("LEGALRAG_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="missing"):
        load_settings()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"chunk_size": 50, "chunk_overlap": 50}, "chunk_overlap"),
        ({"chroma_url": "127.0.0.1:8000"}, "http"),
        ({"collection": "x"}, "collection"),
        ({"embedding_batch_size": 0}, "embedding_batch_size"),
    ],
)
def test_bad_values_are_one_clear_error(overrides: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(**overrides)


def test_unknown_toml_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "legalrag.toml").write_text('colection = "typo"\n')
    with pytest.raises(SettingsError, match="colection"):
        load_settings()


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    result = run_cli(
        "config",
        "show",
        "--json",
        env={
            "LEGALRAG_LLM_API_KEY": "sk-very-secret-key",
            "LEGALRAG_CHROMA_AUTH_TOKEN": "chroma-secret",
            "LEGALRAG_DATA_DIR": str(tmp_path / "data"),
        },
    )
    assert result.returncode == 0, result.stderr
    assert "sk-very-secret-key" not in result.stdout
    assert "chroma-secret" not in result.stdout
    assert '"llm_api_key": "********"' in result.stdout
    assert str(tmp_path / "data") in result.stdout


def test_config_show_bad_setting_exits_2_without_traceback() -> None:
    result = run_cli("config", "show", env={"LEGALRAG_CHUNK_SIZE": "lots"})
    assert result.returncode == 2
    assert "chunk_size" in result.stderr
    assert "Traceback" not in result.stderr
