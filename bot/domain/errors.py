"""The typed errors every layer shares, so that a front end can tell the user what happened
without knowing which layer or which database refused.

``Refused``: the request cannot be carried out as asked (bad input, or a change the rules refuse);
``StoreFailure``: the request was fine but the store could not carry it out (a full disk, a damaged
file). In both cases nothing was changed, and ``str()`` is one short line for the user.
"""

from __future__ import annotations


class Refused(Exception):
    """A request that cannot be carried out as asked: bad input, or a change the store refuses.
    ``str()`` is a short sentence for the user; nothing was changed."""


class StoreFailure(Exception):
    """The store could not do what was asked, for a reason outside the request. ``str()`` is one
    line that says why, for the operator; ``public`` says it for users, without the details of
    where the store lives. Nothing was saved."""

    def __init__(self, message: str, *, public: str = "the store could not be read or written"
                 ) -> None:
        super().__init__(message)
        self.public = public


class StoreUnavailable(StoreFailure):
    """The store's server cannot be reached or refused us (down, starting, wrong credentials):
    worth retrying, unlike a damaged store."""

    def __init__(self, message: str) -> None:
        super().__init__(message, public="the store is unavailable; try again in a moment")


class OverBudget(StoreFailure):
    """A query ran past its time budget and was stopped, so that it held no connection for
    longer: the question asks too much of the store (a search for a word in every fact)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, public="that took too long; try again")


class Invalid(Refused):
    """A value that breaks the rules (a bad field, an edit that changes nothing, too many of
    something); the message names the field and what is expected."""


class NotFound(Refused):
    """No such fact, place, source or candidate *for this server*: another server's ids behave
    exactly like ids that do not exist, so the message never tells the two apart."""


class Conflict(Refused):
    """The request is fine but the subject's state forbids it now (already retired, changed by
    someone since, still in use); the message says what to do instead."""
