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
    line that says why; nothing was saved."""
