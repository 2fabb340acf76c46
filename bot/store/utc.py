"""UTC datetimes as every store keeps them."""

from __future__ import annotations

import datetime as dt


def as_utc(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC.

    Args:
        value: A timezone-aware datetime.

    Returns:
        ``value`` converted to UTC.

    Raises:
        ValueError: ``value`` is naive; the store never guesses a time zone.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the store: pass a timezone-aware one")
    return value.astimezone(dt.UTC)
