"""Time stamps as manifests write them (ISO 8601) and as people read them.

One rule for every page: a date is shown as ``2 May 2024`` and, where there is
room, ``2 May 2024, 10:31 UTC``; the exact ISO value stays in the page for
programs (an HTML ``<time datetime>``). A value that is not ISO 8601 is shown
as written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def parse(value: str | None) -> dt.datetime | None:
    """*value* as an aware UTC time; None when it is not ISO 8601 (a date alone
    is midnight UTC, a time without an offset is UTC)."""
    if not value or not value.strip():
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC)


@dataclass(frozen=True)
class ShownTime:
    """A time stamp ready to show."""

    #: the date as people read it: ``2 May 2024``
    date: str
    #: with the time of day when the value has one: ``2 May 2024, 10:31 UTC``
    full: str
    #: the exact value for programs (RFC 3339, UTC): ``2024-05-02T10:31:00Z``;
    #: a date alone stays a date: ``2024-05-02``
    iso: str


def shown(value: str | None) -> ShownTime | None:
    """How *value* is shown; None when it is not an ISO 8601 date or time."""
    stamp = parse(value)
    if stamp is None or value is None:
        return None
    date = f"{stamp.day} {MONTHS[stamp.month - 1]} {stamp.year}"
    if "T" not in value and " " not in value.strip():  # a date alone
        return ShownTime(date, date, stamp.date().isoformat())
    return ShownTime(date, f"{date}, {stamp:%H:%M} UTC", stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))
