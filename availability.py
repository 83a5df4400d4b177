"""Office hours and what the widget honestly says about them.

Pure functions of a time: whether a widget's office hours are on now, when they start next, and
the line the visitor reads ("Back Monday at 9:00 AM"), in the visitor's language through Babel.
"""

import datetime
import functools
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date, format_time

ONLINE, AWAY, CLOSED = "online", "away", "closed"
TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone_or_none(name):
    """The IANA time zone called ``name`` (such as "Europe/Oslo"), or None when there is none."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@functools.cache
def time_zone_names():
    """Every IANA time zone name this system knows, sorted (for the settings' suggestions)."""
    return sorted(available_timezones())


def parse_time(text):
    """``HH:MM`` (24-hour) as a ``datetime.time``, or None when it is not one."""
    if not TIME_OF_DAY.fullmatch(text or ""):
        return None
    hours, minutes = text.split(":")
    return datetime.time(int(hours), int(minutes))


@dataclass(frozen=True)
class OfficeHours:
    """The days (0 = Monday) and the hours, in one time zone, when the team answers."""

    days: frozenset
    opens: datetime.time
    closes: datetime.time
    zone: ZoneInfo

    def is_open(self, now):
        """Whether ``now`` (an aware datetime) falls inside the office hours."""
        local = now.astimezone(self.zone)
        return local.weekday() in self.days and self.opens <= local.time() < self.closes

    def next_opening(self, now):
        """When the office hours start next after ``now``, as an aware local datetime; None
        when no day is chosen."""
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + datetime.timedelta(days=offset)
            if day.weekday() in self.days:
                opening = datetime.datetime.combine(day, self.opens, tzinfo=self.zone)
                if opening > local:
                    return opening
        return None


def office_hours_of(settings):
    """The ``OfficeHours`` of a widget (or of its settings being typed: anything with its
    ``office_*`` and ``time_zone`` attributes); None when it keeps none, so is always open."""
    zone = zone_or_none(settings.time_zone)
    opens, closes = parse_time(settings.office_opens), parse_time(settings.office_closes)
    if not settings.office_hours_on or None in (zone, opens, closes):
        return None
    days = frozenset(int(day) for day in settings.office_days.split(",") if day.isdigit())
    return OfficeHours(days, opens, closes, zone)


@dataclass(frozen=True)
class Availability:
    """What the widget says: online, away (in office hours, nobody at the admin) or closed."""

    state: str
    back_at: datetime.datetime | None = None

    @property
    def offline(self):
        return self.state != ONLINE


def availability(hours, anyone_online, now):
    """The widget's availability at ``now``: closed outside its office hours (``hours`` None:
    always open), else online when an agent has the admin open, else away."""
    if hours is not None and not hours.is_open(now):
        return Availability(CLOSED, hours.next_opening(now))
    return Availability(ONLINE if anyone_online else AWAY)


def status_line(state, labels, now):
    """The line under the widget's title, from the labels, with the day and time it reopens
    written in the visitor's language."""
    if state.state == ONLINE:
        return labels("header.subtitle")
    if state.state == AWAY or state.back_at is None:
        return labels("availability.away")
    locale = labels.code
    time = format_time(state.back_at, format="short", locale=locale)
    if state.back_at.date() == now.astimezone(state.back_at.tzinfo).date():
        return labels("availability.back_today", time=time)
    day = format_date(state.back_at, format="EEEE", locale=locale)
    return labels("availability.back_on", day=day, time=time)
