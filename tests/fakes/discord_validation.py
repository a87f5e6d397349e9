"""Discord's request validation, as the fake Discord applies it.

Every function returns a Discord-style error tree (``{"field": {"_errors": [...]}}``) or ``None``.
`form_error` wraps a tree into the 400 body Discord sends (code 50035, "Invalid Form Body").
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

ErrorTree = dict[str, Any]

EMBED_LIMITS = {
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "total": 6000,
    "embeds": 10,
}
CONTENT_LIMIT = 2000
COMPONENTS_V2 = 1 << 15
_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")


def discord_error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def form_error(errors: ErrorTree) -> dict[str, Any]:
    return {"code": 50035, "message": "Invalid Form Body", "errors": errors}


def _err(code: str, message: str) -> ErrorTree:
    return {"_errors": [{"code": code, "message": message}]}


def _max_len(limit: int) -> ErrorTree:
    return _err("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _required() -> ErrorTree:
    return _err("BASE_TYPE_REQUIRED", "This field is required")


def _bad_len(low: int, high: int) -> ErrorTree:
    return _err("BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def _url_error(value: Any, schemes: tuple[str, ...]) -> ErrorTree | None:
    if not isinstance(value, str) or not value:
        return _err("URL_TYPE_INVALID_URL", "Not a well formed URL.")
    parts = urlsplit(value)
    if not parts.scheme:
        return _err("URL_TYPE_INVALID_URL", "Not a well formed URL.")
    if parts.scheme not in schemes:
        return _err(
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{parts.scheme}" is not supported. Scheme must be one of {schemes}.',
        )
    if parts.scheme != "attachment" and not parts.netloc:
        return _err("URL_TYPE_INVALID_URL", "Not a well formed URL.")
    return None


def _text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def embed_errors(embeds: Any) -> ErrorTree | None:
    """Errors for a message's ``embeds`` array, relative to the message body."""
    if embeds is None:
        return None
    if not isinstance(embeds, list):
        return {"embeds": _err("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")}
    if len(embeds) > EMBED_LIMITS["embeds"]:
        return {"embeds": _max_len(EMBED_LIMITS["embeds"])}
    per_embed: ErrorTree = {}
    total = 0
    for index, embed in enumerate(embeds):
        errors: ErrorTree = {}
        for key, limit in (("title", "title"), ("description", "description")):
            if _text_len(embed.get(key)) > EMBED_LIMITS[limit]:
                errors[key] = _max_len(EMBED_LIMITS[limit])
        total += _text_len(embed.get("title")) + _text_len(embed.get("description"))
        if embed.get("url") is not None and (e := _url_error(embed["url"], ("http", "https"))):
            errors["url"] = e
        footer = embed.get("footer") or {}
        if _text_len(footer.get("text")) > EMBED_LIMITS["footer"]:
            errors["footer"] = {"text": _max_len(EMBED_LIMITS["footer"])}
        total += _text_len(footer.get("text"))
        author = embed.get("author") or {}
        if _text_len(author.get("name")) > EMBED_LIMITS["author"]:
            errors["author"] = {"name": _max_len(EMBED_LIMITS["author"])}
        total += _text_len(author.get("name"))
        for key in ("image", "thumbnail"):
            sub = embed.get(key)
            if sub and (e := _url_error(sub.get("url"), ("http", "https", "attachment"))):
                errors[key] = {"url": e}
        fields = embed.get("fields") or []
        if len(fields) > EMBED_LIMITS["fields"]:
            errors["fields"] = _max_len(EMBED_LIMITS["fields"])
        else:
            field_errors: ErrorTree = {}
            for f_index, field in enumerate(fields):
                one: ErrorTree = {}
                for key, limit in (("name", "field_name"), ("value", "field_value")):
                    value = field.get(key)
                    if not isinstance(value, str) or not value.strip():
                        one[key] = _required()
                    elif len(value) > EMBED_LIMITS[limit]:
                        one[key] = _max_len(EMBED_LIMITS[limit])
                if one:
                    field_errors[str(f_index)] = one
            if field_errors:
                errors["fields"] = field_errors
        for field in fields:
            total += _text_len(field.get("name")) + _text_len(field.get("value"))
        if errors:
            per_embed[str(index)] = errors
    if per_embed:
        return {"embeds": per_embed}
    if total > EMBED_LIMITS["total"]:
        return {
            "embeds": _err(
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {EMBED_LIMITS['total']}",
            )
        }
    return None


def _walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for component in components or []:
        found.append(component)
        found.extend(_walk_components(component.get("components") or []))
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                found.extend(_walk_components([component[key]]))
    return found


def component_errors(components: Any, flags: int = 0) -> ErrorTree | None:
    """Errors for a message's ``components`` (action rows of buttons and selects)."""
    if components is None:
        return None
    if not isinstance(components, list):
        return {"components": _err("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")}
    seen: set[str] = set()
    for component in _walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if custom_id in seen:
            return {
                "components": _err(
                    "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                )
            }
        seen.add(custom_id)
    if flags & COMPONENTS_V2:
        return None
    if len(components) > 5:
        return {"components": _max_len(5)}
    rows: ErrorTree = {}
    for r_index, row in enumerate(components):
        if row.get("type") != 1:
            rows[str(r_index)] = {
                "type": _err("COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Top-level must be action rows")
            }
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            rows[str(r_index)] = {"components": _bad_len(1, 5)}
            continue
        child_errors: ErrorTree = {}
        for c_index, child in enumerate(children):
            one = _button_or_select_errors(child, len(children))
            if one:
                child_errors[str(c_index)] = one
        if child_errors:
            rows[str(r_index)] = {"components": child_errors}
    return {"components": rows} if rows else None


def _button_or_select_errors(child: dict[str, Any], siblings: int) -> ErrorTree:
    errors: ErrorTree = {}
    ctype = child.get("type")
    custom_id = child.get("custom_id")
    if custom_id is not None and len(custom_id) > 100:
        errors["custom_id"] = _max_len(100)
    if ctype == 2:
        style = child.get("style")
        if style == 5:
            if e := _url_error(child.get("url"), ("http", "https", "discord")):
                errors["url"] = e
        elif style == 6:
            pass  # premium button: sku_id
        elif not custom_id:
            errors["custom_id"] = _required()
        if _text_len(child.get("label")) > 80:
            errors["label"] = _max_len(80)
    elif ctype in (3, 5, 6, 7, 8):
        if siblings != 1:
            errors["type"] = _err(
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        if not custom_id:
            errors["custom_id"] = _required()
        if _text_len(child.get("placeholder")) > 150:
            errors["placeholder"] = _max_len(150)
        if ctype == 3:
            options = child.get("options") or []
            if not 1 <= len(options) <= 25:
                errors["options"] = _bad_len(1, 25)
            else:
                opt_errors: ErrorTree = {}
                for o_index, option in enumerate(options):
                    one: ErrorTree = {}
                    for key in ("label", "value", "description"):
                        if _text_len(option.get(key)) > 100:
                            one[key] = _max_len(100)
                    if one:
                        opt_errors[str(o_index)] = one
                if opt_errors:
                    errors["options"] = opt_errors
    return errors


def message_errors(body: dict[str, Any], *, require_content: bool = True) -> dict[str, Any] | None:
    """Full 400 body for a message create/edit payload, or ``None`` when Discord accepts it."""
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        return form_error({"content": _max_len(CONTENT_LIMIT)})
    for errors in (
        embed_errors(body.get("embeds")),
        component_errors(body.get("components"), int(body.get("flags") or 0)),
    ):
        if errors:
            return form_error(errors)
    if require_content and not any(
        body.get(key)
        for key in ("content", "embeds", "components", "attachments", "poll", "sticker_ids")
    ):
        return discord_error(50006, "Cannot send an empty message")
    return None


def modal_errors(data: Any) -> dict[str, Any] | None:
    """Full 400 body for a type-9 (modal) callback's ``data``, relative to the callback body."""
    if not isinstance(data, dict):
        return form_error({"data": _required()})
    errors: ErrorTree = {}
    title = data.get("title")
    if not title:
        errors["title"] = _required()
    elif len(title) > 45:
        errors["title"] = _max_len(45)
    custom_id = data.get("custom_id")
    if not custom_id:
        errors["custom_id"] = _required()
    elif len(custom_id) > 100:
        errors["custom_id"] = _max_len(100)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors["components"] = _bad_len(1, 5)
    else:
        seen: set[str] = set()
        for component in _walk_components(components):
            cid = component.get("custom_id")
            if cid is not None and cid in seen:
                errors["components"] = _err(
                    "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                )
            if cid is not None:
                seen.add(cid)
            if component.get("type") == 4:
                for key, limit in (("placeholder", 100), ("value", 4000)):
                    if _text_len(component.get(key)) > limit:
                        errors["components"] = _max_len(limit)
                if _text_len(component.get("label")) > 45:
                    errors["components"] = _max_len(45)
    return form_error({"data": errors}) if errors else None


# Discord's locale codes (the keys of *_localizations).
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)


def _localization_errors(item: dict[str, Any], *, check_names: bool = True) -> ErrorTree:
    """``name_localizations`` (valid, lowercase names) and ``description_localizations``."""
    errors: ErrorTree = {}
    for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
        values = item.get(key) or {}
        bad: ErrorTree = {}
        for locale, text in values.items():
            if locale not in LOCALES:
                bad[locale] = _err("LOCALE_INVALID", f"Invalid locale {locale!r}")
            elif not isinstance(text, str) or not 1 <= len(text) <= limit:
                bad[locale] = _bad_len(1, limit)
            elif (
                key == "name_localizations"
                and check_names
                and (not _NAME_RE.match(text) or text != text.lower())
            ):
                bad[locale] = _err("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if bad:
            errors[key] = bad
    return errors


def _option_errors(options: list[dict[str, Any]], depth: int) -> ErrorTree:
    errors: ErrorTree = {}
    if len(options) > 25:
        return {"options": _max_len(25)}
    names: set[str] = set()
    seen_optional = False
    per_option: ErrorTree = {}
    for index, option in enumerate(options):
        one: ErrorTree = {}
        name = option.get("name", "")
        if not _NAME_RE.match(name) or name != name.lower():
            one["name"] = _err("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if name in names:
            one["name"] = _err(
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option name already exists"
            )
        names.add(name)
        description = option.get("description", "")
        if not 1 <= len(description) <= 100:
            one["description"] = _bad_len(1, 100)
        if len(option.get("choices") or []) > 25:
            one["choices"] = _max_len(25)
        one.update(_localization_errors(option))
        for choice_index, choice in enumerate(option.get("choices") or []):
            if wrong := _localization_errors(choice, check_names=False):
                one.setdefault("choices", {})[str(choice_index)] = wrong
        otype = option.get("type")
        if otype in (1, 2):
            if depth >= 2 or (otype == 2 and depth >= 1):
                one["type"] = _err(
                    "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-command nesting too deep"
                )
            one.update(_option_errors(option.get("options") or [], depth + 1))
        elif option.get("required"):
            if seen_optional:
                one["required"] = _err(
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if one:
            per_option[str(index)] = one
    if per_option:
        errors["options"] = per_option
    return errors


def command_errors(commands: Any) -> dict[str, Any] | None:
    """Full 400 body for a bulk command overwrite (``PUT .../commands``)."""
    if not isinstance(commands, list):
        return form_error({"_errors": [{"code": "LIST_TYPE_CONVERT", "message": "Not a list"}]})
    if len(commands) > 100:
        return form_error(_max_len(100))
    errors: ErrorTree = {}
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        one: ErrorTree = {}
        ctype = command.get("type", 1)
        name = command.get("name", "")
        if ctype == 1 and (not _NAME_RE.match(name) or name != name.lower()):
            one["name"] = _err("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif not 1 <= len(name) <= 32:
            one["name"] = _bad_len(1, 32)
        if (ctype, name) in seen:
            one["name"] = _err(
                "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add((ctype, name))
        one.update(_localization_errors(command, check_names=ctype == 1))
        if ctype == 1:
            if not 1 <= len(command.get("description", "")) <= 100:
                one["description"] = _bad_len(1, 100)
            one.update(_option_errors(command.get("options") or [], 0))
        if one:
            errors[str(index)] = one
    return form_error(errors) if errors else None
