"""Wall-clock times typed in an event's zone, and the zones an organiser may choose."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

# Russia's zones west to east, as the form offers them; Russia keeps no summer time.
RUSSIAN_TIMEZONES = {
    "Europe/Kaliningrad": _l("Kaliningrad (UTC+2)"),
    "Europe/Moscow": _l("Moscow (UTC+3)"),
    "Europe/Samara": _l("Samara (UTC+4)"),
    "Asia/Yekaterinburg": _l("Yekaterinburg (UTC+5)"),
    "Asia/Omsk": _l("Omsk (UTC+6)"),
    "Asia/Novosibirsk": _l("Novosibirsk (UTC+7)"),
    "Asia/Krasnoyarsk": _l("Krasnoyarsk (UTC+7)"),
    "Asia/Irkutsk": _l("Irkutsk (UTC+8)"),
    "Asia/Yakutsk": _l("Yakutsk (UTC+9)"),
    "Asia/Vladivostok": _l("Vladivostok (UTC+10)"),
    "Asia/Magadan": _l("Magadan (UTC+11)"),
    "Asia/Kamchatka": _l("Kamchatka (UTC+12)"),
}


# How a sentence says "in this zone's time": Russian has an adjective for each of them.
RUSSIAN_TIME_PHRASES = {
    "Europe/Kaliningrad": _l("in Kaliningrad time"),
    "Europe/Moscow": _l("in Moscow time"),
    "Europe/Samara": _l("in Samara time"),
    "Asia/Yekaterinburg": _l("in Yekaterinburg time"),
    "Asia/Omsk": _l("in Omsk time"),
    "Asia/Novosibirsk": _l("in Novosibirsk time"),
    "Asia/Krasnoyarsk": _l("in Krasnoyarsk time"),
    "Asia/Irkutsk": _l("in Irkutsk time"),
    "Asia/Yakutsk": _l("in Yakutsk time"),
    "Asia/Vladivostok": _l("in Vladivostok time"),
    "Asia/Magadan": _l("in Magadan time"),
    "Asia/Kamchatka": _l("in Kamchatka time"),
}


def timezone_choices(*also: str) -> list[tuple[str, str]]:
    """The zones for a select, plus any other zone in use (the configured default, the
    event's own) so that saving a form never changes a zone nobody touched."""
    choices = [(zone, str(label)) for zone, label in RUSSIAN_TIMEZONES.items()]
    for zone in also:
        if zone and zone not in RUSSIAN_TIMEZONES:
            choices.append((zone, zone))
    return choices


def to_utc(local: datetime | None, timezone: str) -> datetime | None:
    """A wall-clock time typed in the event's zone, as UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def to_local(value: datetime | None, timezone: str) -> datetime | None:
    """A stored UTC time as the naive wall-clock time of the zone, for a form field."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
