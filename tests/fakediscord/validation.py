"""Discord's limits on messages, autocomplete results and commands, as HTTP 400 errors.

Discord answers a payload over a limit with ``400 {"code": 50035, "message": "Invalid Form
Body", "errors": {...}}``; the fake does the same so a test sees the ``HTTPException`` a real
bot would get. Only the limits that bots commonly hit are checked.
"""

from __future__ import annotations

import re
from typing import Any

from .models import JSON

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_NAME_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25

MESSAGE_FIELDS = ("content", "embeds", "components", "attachments", "sticker_ids", "poll")


class FormErrors:
    """Collects errors under dotted paths and renders Discord's nested ``errors`` object."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[str, ...], str, str]] = []

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        """Record one error at ``path`` (e.g. ``("embeds", 0, "title")``)."""
        self.items.append((tuple(str(p) for p in path), code, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def body(self) -> JSON:
        """The JSON body of the 400 response."""
        tree: JSON = {}
        for path, code, message in self.items:
            node = tree
            for part in path:
                node = node.setdefault(part, {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return {"message": "Invalid Form Body", "code": 50035, "errors": tree}


def _too_long(errors: FormErrors, path: tuple[str | int, ...], value: Any, limit: int) -> int:
    if value is None:
        return 0
    text = str(value)
    if len(text) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return len(text)


def validate_embeds(embeds: list[JSON], errors: FormErrors) -> None:
    """Check Discord's embed limits (per field and 6000 characters in all)."""
    if len(embeds) > EMBEDS_MAX:
        errors.add(("embeds",), "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        base: tuple[str | int, ...] = ("embeds", i)
        total += _too_long(errors, (*base, "title"), embed.get("title"), EMBED_TITLE_MAX)
        total += _too_long(
            errors, (*base, "description"), embed.get("description"), EMBED_DESCRIPTION_MAX
        )
        footer = embed.get("footer") or {}
        total += _too_long(errors, (*base, "footer", "text"), footer.get("text"), EMBED_FOOTER_MAX)
        author = embed.get("author") or {}
        total += _too_long(
            errors, (*base, "author", "name"), author.get("name"), EMBED_AUTHOR_NAME_MAX
        )
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            errors.add(
                (*base, "fields"),
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {EMBED_FIELDS_MAX} or fewer in length.",
            )
        for j, fld in enumerate(fields):
            fpath = (*base, "fields", j)
            if not fld.get("name"):
                errors.add((*fpath, "name"), "BASE_TYPE_REQUIRED", "This field is required")
            if not fld.get("value"):
                errors.add((*fpath, "value"), "BASE_TYPE_REQUIRED", "This field is required")
            total += _too_long(errors, (*fpath, "name"), fld.get("name"), EMBED_FIELD_NAME_MAX)
            total += _too_long(errors, (*fpath, "value"), fld.get("value"), EMBED_FIELD_VALUE_MAX)
    if total > EMBED_TOTAL_MAX:
        errors.add(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
        )


def validate_components(components: list[JSON], errors: FormErrors, flags: int = 0) -> None:
    """Check the classic (non components-v2) layout limits: 5 rows of at most 5 buttons."""
    if flags & (1 << 15):  # IS_COMPONENTS_V2: different rules, not checked here
        return
    if len(components) > ACTION_ROWS_MAX:
        errors.add(
            ("components",),
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {ACTION_ROWS_MAX} or fewer in length.",
        )
    for i, row in enumerate(components):
        children = row.get("components") or []
        if row.get("type") == 1 and len(children) > ROW_BUTTONS_MAX:
            errors.add(
                ("components", i, "components"),
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {ROW_BUTTONS_MAX} or fewer in length.",
            )
        for j, child in enumerate(children):
            label = child.get("label")
            if label is not None:
                _too_long(errors, ("components", i, "components", j, "label"), label, 80)
            custom_id = child.get("custom_id")
            if custom_id is not None:
                _too_long(errors, ("components", i, "components", j, "custom_id"), custom_id, 100)


def validate_message(body: JSON, *, n_files: int = 0, partial: bool = False) -> JSON | None:
    """Validate a message create/edit body; return the 400 body, or None if it is acceptable.

    ``partial`` is for edits, which may omit everything; a create must have content, embeds,
    components, stickers, a poll or a file (Discord code 50006 otherwise).
    """
    errors = FormErrors()
    content = body.get("content")
    if content is not None:
        _too_long(errors, ("content",), content, CONTENT_MAX)
    validate_embeds(list(body.get("embeds") or []), errors)
    validate_components(list(body.get("components") or []), errors, int(body.get("flags") or 0))
    if errors:
        return errors.body()
    if not partial and not n_files and not any(body.get(k) for k in MESSAGE_FIELDS):
        return {"message": "Cannot send an empty message", "code": 50006}
    return None


def validate_choices(choices: list[JSON]) -> JSON | None:
    """Check an autocomplete result: at most 25 choices, names and values of at most 100."""
    errors = FormErrors()
    if len(choices) > CHOICES_MAX:
        errors.add(
            ("data", "choices"),
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {CHOICES_MAX} or fewer in length.",
        )
    for i, choice in enumerate(choices):
        name = choice.get("name")
        if not name:
            errors.add(
                ("data", "choices", i, "name"), "BASE_TYPE_REQUIRED", "This field is required"
            )
        _too_long(errors, ("data", "choices", i, "name"), name, CHOICE_NAME_MAX)
        value = choice.get("value")
        if isinstance(value, str):
            _too_long(errors, ("data", "choices", i, "value"), value, CHOICE_VALUE_MAX)
    return errors.body() if errors else None


def validate_command(command: JSON, errors: FormErrors, index: int) -> None:
    """Check an application command definition (names, descriptions, option counts)."""
    name = str(command.get("name") or "")
    ctype = int(command.get("type") or 1)
    if ctype == 1 and (not COMMAND_NAME.match(name) or name != name.lower()):
        errors.add((index, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    if ctype == 1:
        desc = str(command.get("description") or "")
        if not 1 <= len(desc) <= COMMAND_DESCRIPTION_MAX:
            errors.add(
                (index, "description"),
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {COMMAND_DESCRIPTION_MAX} in length.",
            )
    options = list(command.get("options") or [])
    if len(options) > COMMAND_OPTIONS_MAX:
        errors.add(
            (index, "options"),
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {COMMAND_OPTIONS_MAX} or fewer in length.",
        )
    for j, opt in enumerate(options):
        choices = opt.get("choices") or []
        if len(choices) > CHOICES_MAX:
            errors.add(
                (index, "options", j, "choices"),
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {CHOICES_MAX} or fewer in length.",
            )
