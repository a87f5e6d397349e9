"""The repository keeps its own promises: the pre-commit hooks run what `make lint` runs, and
every pointer in a comment, docstring or document leads to something in the repository.

A contributor who enables pre-commit (CONTRIBUTING.md) must get the same verdict as `make lint`
and CI; a reader who follows a comment's "see docs/imgur-api.md#..." must find that page and that
section, not a note that only ever lived on one machine.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock files yet

ROOT = Path(__file__).resolve().parents[2]

# Where comments are read: the code, its tests and tools, and the files that build and run it.
SCANNED_DIRS = ("bot", "cogs", "tests", "bench", ".ci")
SCANNED_ROOT_FILES = (
    "Dockerfile",
    "Makefile",
    "pyproject.toml",
    "config.example.toml",
    "docker-compose.yml",
    "docker-compose.postgres.yml",
    ".env.example",
    ".dockerignore",
    ".pre-commit-config.yaml",
)
SCANNED_SUFFIXES = {".py", ".sh", ".sql", ".toml", ".yml", ".yaml", ".in", ""}
NOT_IN_TREE = {
    ".git",
    ".venv",
    ".venv-lock-tools",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "build",
    "dist",
    "node_modules",
}
# Names a comment may use although no such file is in the repository, and why.
NOT_REPOSITORY_FILES = {
    "config.toml": "the operator's own file, made from config.example.toml",
}
# Notes that lived outside the repository once; their facts are in docs/ now.
OUTSIDE_NOTES = re.compile(
    r"\b(?:DISCORD_NOTES|IMGUR_API|INFRA|STYLE|DESIGN)\.md\b|(?:\.\./)+shared/|/work/shared\b"
)

_EXTENSIONS = r"(?:md|py|toml|ya?ml|txt|sql|in|sh|cfg|ini|json|html)"
# A relative file path (or a bare file name) with an extension, and an optional #section.
_FILE_REF = re.compile(
    r"(?<![\w/.:$*-])"
    r"((?:\.\.?/)*(?:[\w.-]+/)*[\w-][\w.-]*\." + _EXTENSIONS + r")"
    r"(?:#([\w-]+))?"
    r"(?![\w/-])"
)
# A path into one of the repository's own folders, with or without an extension.
_TREE_REF = re.compile(
    r"(?<![\w/.:$-])((?:bot|cogs|tests|bench|docs|requirements|\.ci)/[\w./*-]*[\w*])"
)
# A placeholder in a file name (migrations/NNNN_name.sql) or a glob (test_store_*.py).
_PATTERN = re.compile(r"N{3,}|\*")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
_INLINE_CODE = re.compile(r"`[^`]*`")


@dataclass(frozen=True)
class Reference:
    """A pointer found in a comment: where it is, and what it names."""

    file: Path
    line: int
    target: str
    section: str | None = None

    def shown(self, root: Path) -> str:
        where = self.file.relative_to(root)
        return f"{where}:{self.line}: {self.target}" + (f"#{self.section}" if self.section else "")


# --- reading the tree --------------------------------------------------------------------


def tree_files(root: Path) -> Iterator[Path]:
    """Every file of the repository, without virtual environments, caches and build output."""
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(
            name
            for name in subfolders
            if name not in NOT_IN_TREE and not name.endswith(".egg-info")
        )
        for name in sorted(names):
            yield Path(folder) / name


def scanned_files(root: Path) -> Iterator[Path]:
    for name in SCANNED_ROOT_FILES:
        if (root / name).is_file():
            yield root / name
    for folder in SCANNED_DIRS:
        for path in tree_files(root / folder) if (root / folder).is_dir() else ():
            if path.suffix in SCANNED_SUFFIXES:
                yield path


def python_comments(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment and docstring of a Python module that names a path."""
    lines = {
        number
        for number, line in enumerate(source.splitlines(), start=1)
        if _FILE_REF.search(line) or _TREE_REF.search(line) or OUTSIDE_NOTES.search(line)
    }
    if not lines:
        return  # nothing path-like anywhere: no need to tokenize
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.start[0] in lines:
            yield token.start[0], token.string
    yield from docstrings(ast.parse(source).body)


def docstrings(body: list[ast.stmt], *, own: bool = True) -> Iterator[tuple[int, str]]:
    """(line, text) of the docstrings of a module, class or function body and those inside it."""
    first = body[0] if body and own else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        value = first.value.value
        if isinstance(value, str):
            for offset, text in enumerate(value.splitlines()):
                yield first.lineno + offset, text
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            yield from docstrings(node.body)
        elif isinstance(node, ast.If | ast.Try):  # definitions under TYPE_CHECKING and the like
            yield from docstrings([*node.body, *node.orelse], own=False)


def line_comments(text: str, marker: str) -> Iterator[tuple[int, str]]:
    """(line, text) of the ``marker`` comments of a shell, Make, YAML, TOML or SQL file."""
    starts = re.compile(r"(?:^|\s)" + re.escape(marker))
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#!"):
            continue
        found = starts.search(line)
        if found is not None:
            yield number, line[found.end() :]


def comments(path: Path) -> Iterator[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return python_comments(text)
    return line_comments(text, "--" if path.suffix == ".sql" else "#")


def references(path: Path, text: str, line: int) -> Iterator[Reference]:
    """The files (and sections) a piece of comment text points at."""
    text = _URL.sub(" ", text)
    seen: set[str] = set()
    for found in _FILE_REF.finditer(text):
        seen.add(found.group(1))
        yield Reference(path, line, found.group(1), found.group(2))
    for found in _TREE_REF.finditer(text):
        if not any(found.group(1) in other for other in seen):
            yield Reference(path, line, found.group(1))
    for found in OUTSIDE_NOTES.finditer(text):
        if not any(found.group(0) in other for other in seen):
            yield Reference(path, line, found.group(0))


# --- resolving ---------------------------------------------------------------------------


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections(markdown: Path) -> set[str]:
    """The anchors of every heading of a Markdown file (outside code blocks)."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    fenced = False
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        heading = re.match(r"#{1,6} (.+)", line)
        if heading is None or fenced:
            continue
        anchor = slug(heading.group(1))
        seen = counts.get(anchor, 0)
        counts[anchor] = seen + 1
        found.add(anchor if seen == 0 else f"{anchor}-{seen}")
    return found


class Tree:
    """The repository's files, to look names up in."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.files = [path.resolve() for path in tree_files(root)]
        self.names = {path.name for path in self.files}

    def find(self, reference: Reference) -> Path | None:
        """The file or folder the reference names, or None when it is not in the tree."""
        target = reference.target
        if OUTSIDE_NOTES.search(target):
            return None
        if _PATTERN.search(Path(target).name):
            return self._match(reference, target)
        for base in (self.root, reference.file.parent):
            candidate = (base / target).resolve()
            if not candidate.is_relative_to(self.root):
                continue  # a path that climbs out of the repository
            if candidate.exists():
                return candidate
            package = candidate.with_suffix("")
            if candidate.suffix == ".py" and (package / "__init__.py").is_file():
                return package  # a module that became a package
        if "/" not in target:
            return next((path for path in self.files if path.name == target), None)
        tail = "/" + target.lstrip("./")
        return next((path for path in self.files if str(path).endswith(tail)), None)

    def _match(self, reference: Reference, pattern: str) -> Path | None:
        """The first file a glob (``test_store_*.py``) or a placeholder name
        (``NNNN_name.sql``: any file of that kind in that folder) stands for."""
        name = Path(pattern)
        glob = pattern if "*" in name.name else str(name.with_name("*" + name.suffix))
        for base, where in (
            (self.root, glob),
            (reference.file.parent, glob),
            (self.root, "**/" + glob),
        ):
            found = next(iter(sorted(base.glob(where))), None)
            if found is not None:
                return found
        return None

    def problem(self, reference: Reference) -> str | None:
        """Why the reference leads nowhere, or None when it leads somewhere real."""
        if reference.target.removeprefix("./") in NOT_REPOSITORY_FILES:
            return None
        found = self.find(reference)
        if found is None:
            return "no such file in the repository"
        section = reference.section
        if section is not None and found.suffix == ".md" and section not in sections(found):
            return f"{found.relative_to(self.root)} has no section #{section}"
        return None


def dangling_references(root: Path) -> list[str]:
    """Every pointer in a comment or docstring that leads to nothing in the repository."""
    tree = Tree(root)
    problems = []
    for path in scanned_files(root):
        for line, text in comments(path):
            for reference in references(path, text, line):
                problem = tree.problem(reference)
                if problem is not None:
                    problems.append(f"{reference.shown(root)}: {problem}")
    return problems


def markdown_files(root: Path) -> list[Path]:
    docs = sorted((root / "docs").glob("*.md")) if (root / "docs").is_dir() else []
    return sorted(root.glob("*.md")) + docs


def broken_markdown_links(root: Path) -> list[str]:
    """Relative links of the repository's Markdown files whose file or section is missing,
    and any mention of the notes that used to live outside the repository."""
    tree = Tree(root)
    problems = []
    for markdown in markdown_files(root):
        text = markdown.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{markdown.relative_to(root)}:{number}"
            line = _INLINE_CODE.sub("", line)
            for outside in OUTSIDE_NOTES.finditer(line):
                problems.append(f"{where}: {outside.group(0)}: not in the repository")
            for link in _MARKDOWN_LINK.findall(line):
                if _URL.match(link) or link.startswith("mailto:"):
                    continue
                target, _, section = link.partition("#")
                path = (markdown.parent / target).resolve() if target else markdown
                if not path.exists() or not path.is_relative_to(tree.root):
                    problems.append(f"{where}: {link}: no such file in the repository")
                elif section and path.suffix == ".md" and section not in sections(path):
                    problems.append(f"{where}: {link}: no such section")
    return problems


# --- make lint and pre-commit ------------------------------------------------------------


def make_variables(makefile: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for name, value in re.findall(r"(?m)^([A-Za-z_]+)\s*(?:\?=|:=|=)\s*(.*?)\s*$", makefile):
        variables.setdefault(name, value)
    return variables


def expand(text: str, variables: dict[str, str]) -> str:
    """``$(NAME)`` replaced by its value, as make would (the Makefile's own variables only)."""
    for _ in range(10):
        expanded = re.sub(r"\$\((\w+)\)", lambda found: variables.get(found[1], ""), text)
        if expanded == text:
            break
        text = expanded
    return text


def recipe(makefile: str, target: str) -> list[str]:
    """The commands of ``target``, variables expanded, without make's ``@``/``-`` prefixes."""
    variables = make_variables(makefile)
    lines = makefile.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"{target}\s*:", line))
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        command = line.strip().lstrip("@-")
        if command and not command.startswith("#"):  # a comment in a recipe runs nothing
            commands.append(expand(command, variables))
    return commands


def hooks() -> list[dict[str, object]]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    found: list[dict[str, object]] = []
    for repo in config["repos"]:
        assert repo["repo"] == "local", f"{repo['repo']}: a hook that is fetched needs a network"
        found.extend(repo["hooks"])
    return found


# --- tests -------------------------------------------------------------------------------


def test_the_pre_commit_hooks_run_what_make_lint_runs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = recipe(makefile, "lint")
    entries = [str(hook["entry"]) for hook in hooks()]
    assert entries == lint, (
        "the hooks in .pre-commit-config.yaml must run exactly what `make lint` runs, in the "
        f"same order:\n  make lint: {lint}\n  hooks:     {entries}"
    )


def test_the_hooks_use_the_projects_own_tools_on_the_whole_tree() -> None:
    for hook in hooks():
        assert hook["language"] == "system", f"{hook['id']}: pre-commit would build an env"
        assert hook["pass_filenames"] is False, f"{hook['id']}: checks only the staged files"
        assert str(hook["entry"]).startswith(".venv/bin/"), f"{hook['id']}: not the venv's tool"


def test_the_lint_recipe_is_read_as_make_expands_it() -> None:
    makefile = (
        "VENV ?= .venv\nPY := $(VENV)/bin/python\nlint: x\n\t$(PY) -m ruff check .\n"
        "\t# the layers\n\t@$(VENV)/bin/lint-imports\n\nother:\n\ttrue\n"
    )
    expected = [".venv/bin/python -m ruff check .", ".venv/bin/lint-imports"]
    assert recipe(makefile, "lint") == expected


def test_no_comment_points_at_a_file_outside_the_repository() -> None:
    problems = dangling_references(ROOT)
    assert not problems, (
        "comments and docstrings that point at nothing in the repository (write the fact in "
        "docs/ and point there):\n  " + "\n  ".join(problems)
    )


def test_markdown_links_lead_to_files_and_sections_that_exist() -> None:
    problems = broken_markdown_links(ROOT)
    assert not problems, "broken links in the repository's documents:\n  " + "\n  ".join(problems)


def test_a_pointer_at_an_outside_note_or_a_missing_section_is_found(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "facts.md").write_text("# Facts\n\n## Rate limits\n", encoding="utf-8")
    (tmp_path / "bot" / "web").mkdir()
    (tmp_path / "bot" / "web" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "bot" / "client.py").write_text(
        '"""Talks to Imgur (see docs/facts.md#rate-limits and bot/web.py)."""\n'
        "# Limits from DISCORD_NOTES.md, and ../shared/INFRA.md for the recipes.\n"
        "# The errors: docs/facts.md#errors; the config: config.toml.\n"
        "X = 1  # details in https://example.org/notes.md and docs/gone.md\n",
        encoding="utf-8",
    )
    problems = dangling_references(tmp_path)
    assert problems == [
        "bot/client.py:2: DISCORD_NOTES.md: no such file in the repository",
        "bot/client.py:2: ../shared/INFRA.md: no such file in the repository",
        "bot/client.py:3: docs/facts.md#errors: docs/facts.md has no section #errors",
        "bot/client.py:4: docs/gone.md: no such file in the repository",
    ]


def test_a_broken_markdown_link_is_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "See [a](docs/a.md#a-page), [b](docs/b.md), [c](docs/a.md#nothing), [d](#top),\n"
        "[web](https://example.org/x.md) and IMGUR_API.md.\n\n# Top\n",
        encoding="utf-8",
    )
    assert broken_markdown_links(tmp_path) == [
        "README.md:1: docs/b.md: no such file in the repository",
        "README.md:1: docs/a.md#nothing: no such section",
        "README.md:2: IMGUR_API.md: not in the repository",
    ]
