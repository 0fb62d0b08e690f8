"""The refusals of housing reads (see core.errors). The registry's and meters' field rules
raise Django's ValidationError, which the admin forms share (docs/architecture.md)."""

from core.errors import Invalid, NotFound


class NoSuchHouse(NotFound):
    pass


class AmbiguousHouse(Invalid):
    """A house number several streets have, asked for without its street."""
