"""``python -m bench [--quick] [--only N ...] [--markdown FILE]``: every benchmark, then a summary.

Each benchmark runs as its own process (``python -m bench.<name> --json``), one after the
other, so none inherits another's memory or patched state; its figures are printed as they
come and gathered into one Markdown table at the end, with the machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.children import output_lines, spawn
from bench.procfs import machine
from bench.report import Report

BENCHMARKS = (
    ("1", "bench.clients", 240.0),
    ("2", "bench.commands_load", 240.0),
    ("3", "bench.sweep", 420.0),
    ("4", "bench.footprint", 120.0),
    ("5", "bench.credits", 150.0),
    ("6", "bench.shards_load", 300.0),
    ("7", "bench.slow_clients", 120.0),
    ("8", "bench.soak", 300.0),
    ("9", "bench.sweep_postgres", 900.0),
)


async def run_benchmark(module: str, quick: bool, timeout: float) -> Report:  # noqa: ASYNC109
    """Run one benchmark script, echoing its output; its report from the JSON line."""
    process = await spawn(module, "--json", *(["--quick"] if quick else []))
    found: Report | None = None
    started = time.monotonic()
    try:
        async for text in output_lines(
            process, timeout, f"{module} took longer than {timeout:.0f} s"
        ):
            if Report.is_json_line(text):
                found = Report.from_json_line(text)
            else:
                print(text, flush=True)
        remaining = timeout - (time.monotonic() - started)
        code = await asyncio.wait_for(process.wait(), max(1.0, remaining))
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if code != 0 or found is None:
        raise RuntimeError(f"{module} failed (exit {code})")
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(reports: list[Report], failures: list[str], quick: bool, seconds: float) -> str:
    about = machine()
    lines = [
        f"Machine: {about['nproc']} cores (`nproc`), {about['cpu']}, {about['memory']} RAM, "
        f"Python {about['python']}; {datetime.now(UTC):%Y-%m-%d}; "
        f"{'quick smoke run' if quick else 'full run'} in {seconds:.0f} s.",
        "",
        "| benchmark | target | measured | met |",
        "|---|---|---|---|",
    ]
    for report in reports:
        for fig in report.figures:
            if fig.met is not None:
                verdict = "yes" if fig.met else "**no**"
                lines.append(
                    f"| {report.title} | {fig.name.strip()}: {fig.target} | "
                    f"{_cell(fig.value)} | {verdict} |"
                )
    lines += ["", "| benchmark | figure | value |", "|---|---|---|"]
    for report in reports:
        for fig in report.figures:
            if fig.met is None:
                lines.append(f"| {report.title} | {fig.name.strip()} | {_cell(fig.value)} |")
    lines.append("")
    for report in reports:
        lines.append(f"- **{report.title}**: {report.summary}")
        lines.extend(f"  - {note}" for note in report.notes)
    lines.extend(f"- **failed**: {failure}" for failure in failures)
    return "\n".join(lines) + "\n"


async def main_async(args: argparse.Namespace) -> int:
    started = time.monotonic()
    reports: list[Report] = []
    failures: list[str] = []
    for number, module, timeout in BENCHMARKS:
        if args.only and number not in args.only:
            continue
        print(f"\n=== {module}{' --quick' if args.quick else ''}", flush=True)
        try:
            reports.append(await run_benchmark(module, args.quick, timeout))
        except (RuntimeError, TimeoutError) as exc:
            failures.append(f"{module}: {exc}")
            print(f"FAILED: {exc}", flush=True)
    seconds = time.monotonic() - started
    table = markdown(reports, failures, args.quick, seconds)
    print("\n# Summary\n")
    print(table)
    missed = [f for r in reports for f in r.figures if f.met is False]
    met = [f for r in reports for f in r.figures if f.met]
    print(
        f"{len(met)} targets met, {len(missed)} missed"
        + (f" ({'; '.join(f.name.strip() for f in missed)})" if missed else "")
        + f"; {len(failures)} benchmark(s) failed; total {seconds:.0f} s"
    )
    if args.markdown:
        await asyncio.to_thread(Path(args.markdown).write_text, table, encoding="utf-8")
        print(f"table written to {args.markdown}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke runs of everything")
    parser.add_argument(
        "--only", nargs="+", choices=[n for n, _, _ in BENCHMARKS], help="benchmark numbers"
    )
    parser.add_argument("--markdown", metavar="FILE", help="also write the summary table here")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
