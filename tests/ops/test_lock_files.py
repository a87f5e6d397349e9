"""The lock files (requirements/*.txt, from `make lock`) hold what pyproject.toml asks for.

pyproject.toml keeps ranges; the lock files pin one version of everything, with hashes, and
are what the Dockerfile, `make` and CI install (``pip install --require-hashes``). After a
change to the dependencies, `make lock` refreshes them; these tests fail until it has run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"


def pins(name: str) -> dict[str, tuple[str, list[str]]]:
    """{package: (version, hashes)} of one lock file."""
    text = (LOCKS / name).read_text(encoding="utf-8")
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=\S)", re.sub(r"(?m)^\s*#.*\n", "", text)):
        block = block.strip()
        if not block:
            continue
        head = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        assert head, f"{name}: not an exact pin: {block.splitlines()[0]}"
        entries[canonicalize_name(head[1])] = (head[2], re.findall(r"--hash=sha256:\w{64}", block))
    return entries


def project() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {
        "runtime": data["project"]["dependencies"],
        "dev": data["project"]["optional-dependencies"]["dev"],
        "build": data["build-system"]["requires"],
    }


@pytest.mark.parametrize("lock", ["runtime.txt", "dev.txt", "build.txt"])
def test_every_pin_is_exact_and_hashed(lock: str) -> None:
    entries = pins(lock)
    assert entries
    for package, (_, hashes) in entries.items():
        assert hashes, f"{lock}: {package} has no hash"


@pytest.mark.parametrize(
    ("lock", "groups"),
    [("runtime.txt", ["runtime"]), ("dev.txt", ["runtime", "dev"]), ("build.txt", ["build"])],
)
def test_each_dependency_is_locked_at_a_version_its_range_allows(
    lock: str, groups: list[str]
) -> None:
    entries = pins(lock)
    declared = project()
    for group in groups:
        for line in declared[group]:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name in entries, f"{name} ({group}) is not in {lock}: run `make lock`"
            version = entries[name][0]
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} pins {name}=={version}, outside {requirement.specifier}: run `make lock`"
            )


def test_runtime_and_dev_locks_agree_on_shared_packages() -> None:
    runtime, dev = pins("runtime.txt"), pins("dev.txt")
    differing = {
        name: (version, dev[name][0])
        for name, (version, _) in runtime.items()
        if name in dev and dev[name][0] != version
    }
    assert not differing, f"run `make lock`: {differing}"


def test_the_dependencies_other_engineers_need_are_locked() -> None:
    assert "asyncpg" in pins("runtime.txt")
    assert "hypothesis" in pins("dev.txt")


def test_make_and_the_image_install_only_hashed_locks() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements/dev.txt -r requirements/build.txt" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
    assert re.search(r"(?m)^lock:", makefile)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "-r requirements/runtime.txt -r requirements/build.txt" in dockerfile
