"""Place resolution: what a member typed ("mosel", "the city of Mosul", "الموصل") -> a place id.

Platform-neutral and free of I/O: a :class:`Resolver` is built from :class:`NameEntry` rows (the
store feeds it curated names and the GeoNames gazetteer) plus the curated false friends, and
answers :meth:`Resolver.resolve` and :meth:`Resolver.complete` (autocomplete) from memory.

One job per module: ``normalise`` (the form names are compared in), ``index`` (names and places
packed into buffers and int arrays), ``match`` (exact, n-gram and fuzzy resolution), ``complete``
(prefix completion) and ``resolver`` (the object the rest of the bot holds).
"""

from __future__ import annotations

from bot.resolve.index import NameEntry
from bot.resolve.match import Resolution
from bot.resolve.normalise import normalise
from bot.resolve.resolver import Resolver

__all__ = ["NameEntry", "Resolution", "Resolver", "normalise"]
