"""The ``--json`` contract (DESIGN.md): exactly these keys, which other tools rely on.

Only the keys of the contract are emitted, even where the ``Answer`` carries more; adding a key is a
contract change and belongs in DESIGN.md first.
"""

from __future__ import annotations

import json
from typing import Any

from bot.domain.model import Answer, FactView


def _fact(fact: FactView) -> dict[str, Any]:
    return {
        "id": fact.id,
        "summary": fact.summary,
        "quote": fact.quote,
        "status": fact.status,
        "attribution": fact.attribution,
        "hedged": fact.hedged,
        "event_date": fact.event_date.as_json(),
        "source": {
            "id": fact.source.id,
            "outlet": fact.source.outlet,
            "title": fact.source.title,
            "published": fact.source.published,
        },
    }


def to_contract(answer: Answer) -> dict[str, Any]:
    place = answer.place
    message = answer.message
    if answer.notes:
        message = " ".join([message, *answer.notes]).strip()
    return {
        "command": answer.command,
        "query": answer.query,
        "place": {"id": place.id, "name": place.name, "country": place.country} if place else None,
        "as_of": answer.as_of.isoformat() if answer.as_of else None,
        "headline": answer.headline,
        "facts": [_fact(f) for f in answer.facts],
        "suggestions": [{"id": s.id, "name": s.name} for s in answer.suggestions],
        "message": message,
        "error": answer.error,
    }


def render_json(answer: Answer) -> str:
    return json.dumps(to_contract(answer), ensure_ascii=False)
