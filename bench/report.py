"""A benchmark's report: its figures, each with the target it is held against, and notes.

A script prints its report for a reader and, with ``--json``, as one JSON line that
``python -m bench`` reads back (``to_json_line`` / ``is_json_line`` / ``from_json_line``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

_JSON_KEY = "report"


@dataclass
class Figure:
    """One row of the summary: a measured value, the target it is held against, the verdict."""

    bench: str
    name: str
    value: str
    target: str = ""
    met: bool | None = None  # None: no target


@dataclass
class Report:
    """What one benchmark script hands back to ``python -m bench``."""

    title: str
    summary: str = ""
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: str, target: str = "", met: bool | None = None) -> None:
        self.figures.append(Figure(self.title, name, value, target, met))

    def print(self) -> None:
        print(f"\n## {self.title}")
        width = max((len(f.name) for f in self.figures), default=10)
        for fig in self.figures:
            verdict = "" if fig.met is None else ("  [met]" if fig.met else "  [MISSED]")
            target = f"   (target {fig.target})" if fig.target else ""
            print(f"  {fig.name:<{width}}  {fig.value}{target}{verdict}")
        for note in self.notes:
            print(f"  note: {note}")
        print(f"summary: {self.summary}")

    def to_json_line(self) -> str:
        return json.dumps({_JSON_KEY: asdict(self)})

    @staticmethod
    def is_json_line(text: str) -> bool:
        return text.startswith('{"' + _JSON_KEY + '"')

    @classmethod
    def from_json_line(cls, text: str) -> Report:
        data: dict[str, Any] = json.loads(text)[_JSON_KEY]
        report = cls(data["title"], data["summary"], notes=list(data["notes"]))
        report.figures = [Figure(**figure) for figure in data["figures"]]
        return report
