"""Every text the bot shows, gathered from the code, and the catalogs checked against it.

    python -m tests.catalogs            # report what a catalog misses (exit 1 if anything)
    python -m tests.catalogs --update   # rewrite messages.pot, merge it into each .po, compile

Texts come from two places: calls in bot/ and cogs/ (``texts("...")``, ``texts.plural(...)``,
``texts.pgettext(...)``, ``N_("...")``) and the command tree itself (names, descriptions,
options and choices, exactly as discord.py hands them to the translator). The output is
reproducible: sorted by where each text first appears, no dates; each ``.po`` is compiled to
the ``.mo`` beside it (what the bot reads), byte for byte the same for the same ``.po``.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

import discord
import polib
from discord import app_commands

from bot.i18n import LOCALES_DIR, placeholders

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "cogs")
TEMPLATE = LOCALES_DIR / "messages.pot"
MARKERS = {"N_", "texts"}
METHODS = {"plural", "pgettext"}


@dataclass(frozen=True)
class Message:
    msgid: str
    context: str | None = None
    plural: str | None = None
    where: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


def _constant(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def code_messages(root: Path = ROOT) -> list[Message]:
    """Texts marked in the source, in file and line order."""
    found: list[Message] = []
    for package in SOURCES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = str(path.relative_to(root))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                args = [_constant(a) for a in node.args]
                line = f"{where}:{node.lineno}"
                if isinstance(func, ast.Name) and func.id in MARKERS and args[0]:
                    found.append(Message(args[0], where=(line,)))
                elif (
                    isinstance(func, ast.Attribute)
                    and func.attr in METHODS
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "texts"
                ):
                    if func.attr == "plural" and len(args) >= 2 and args[0] and args[1]:
                        found.append(Message(args[0], plural=args[1], where=(line,)))
                    elif func.attr == "pgettext" and len(args) >= 2 and args[0] and args[1]:
                        found.append(Message(args[1], context=args[0], where=(line,)))
    found.sort(key=lambda m: (m.where[0].split(":")[0], int(m.where[0].split(":")[1])))
    return found


class _Recorder(app_commands.Translator):
    def __init__(self) -> None:
        self.seen: list[Message] = []

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        from cogs.i18n import catalog_context

        message = Message(
            string.message, context=catalog_context(context.location), where=("commands",)
        )
        if message not in self.seen:
            self.seen.append(message)
        return None


async def command_messages() -> list[Message]:
    """What the translator is asked for when the commands are synced."""
    from bot.app import ImgurBot
    from bot.config import parse_config
    from cogs.imgur import ImgurCog

    bot = ImgurBot(parse_config({}, {}))
    await bot.add_cog(ImgurCog(bot))
    recorder = _Recorder()
    for command in bot.tree.get_commands():
        await command.get_translated_payload(bot.tree, recorder)
    return recorder.seen


def all_messages() -> list[Message]:
    merged: dict[tuple[str | None, str], Message] = {}
    for message in [*asyncio.run(command_messages()), *code_messages()]:
        if message.key in merged:
            old = merged[message.key]
            merged[message.key] = Message(
                old.msgid, old.context, old.plural or message.plural, old.where + message.where
            )
        else:
            merged[message.key] = message
    return list(merged.values())


def template(messages: list[Message]) -> polib.POFile:
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {
        "Project-Id-Version": "imgur-link-bot",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    for message in messages:
        entry = polib.POEntry(
            msgid=message.msgid,
            msgctxt=message.context,
            msgstr="",
            # Files only, no line numbers: the catalogs change when the texts do, not the code.
            occurrences=[
                (where, "") for where in dict.fromkeys(w.split(":")[0] for w in message.where)
            ],
            flags=["python-brace-format"] if placeholders(message.msgid) else [],
        )
        if message.plural:
            entry.msgid_plural = message.plural
            entry.msgstr_plural = {0: "", 1: ""}
        pot.append(entry)
    return pot


def problems(messages: list[Message], locales_dir: Path = LOCALES_DIR) -> list[str]:
    """Everything a catalog misses or gets wrong; empty when all is well."""
    found: list[str] = []
    wanted = {m.key: m for m in messages}
    for path in sorted(locales_dir.glob("*.po")):
        catalog = polib.pofile(str(path), wrapwidth=0)
        entries = {(e.msgctxt or None, e.msgid): e for e in catalog if not e.obsolete}
        for key, message in wanted.items():
            entry = entries.get(key)
            label = f"{path.name}: {message.msgid!r}" + (f" ({key[0]})" if key[0] else "")
            if entry is None:
                found.append(f"{label} is missing")
                continue
            if "fuzzy" in entry.flags:
                found.append(f"{label} is fuzzy")
            english = placeholders(message.msgid) | placeholders(message.plural or "")
            if message.plural:
                english |= {"n"}
                forms = [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
            else:
                forms = [entry.msgstr]
            if not forms or not all(forms):
                found.append(f"{label} is not translated")
            for form in forms:
                extra = placeholders(form) - english
                if extra:
                    found.append(f"{label} has placeholders the English text does not: {extra}")
        for key in entries.keys() - wanted.keys():
            found.append(f"{path.name}: {key[1]!r} is no longer used (run --update)")
        compiled = path.with_suffix(".mo")
        if not compiled.exists() or compiled.read_bytes() != catalog.to_binary():
            found.append(f"{compiled.name} is not what {path.name} compiles to (run --update)")
    return found


def update(messages: list[Message]) -> None:
    pot = template(messages)
    pot.save(str(TEMPLATE))
    for path in sorted(LOCALES_DIR.glob("*.po")):
        catalog = polib.pofile(str(path), wrapwidth=0)
        catalog.merge(pot)
        catalog[:] = [entry for entry in catalog if not entry.obsolete]
        catalog.save(str(path))
        catalog.save_as_mofile(str(path.with_suffix(".mo")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the template, merge it")
    args = parser.parse_args()
    messages = all_messages()
    if args.update:
        update(messages)
    found = problems(messages)
    for line in found:
        print(line)
    print(f"{len(messages)} messages, {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
