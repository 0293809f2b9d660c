"""Jinja filters: dates in the event's zone and the user's language, safe Markdown."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import nh3
from babel.dates import get_timezone_name
from flask import current_app
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from webapp.timezones import RUSSIAN_TIME_PHRASES
from webapp.types import utcnow
from webapp.urls import absolute_url

_markdown = MarkdownIt("commonmark", {"linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "code", "pre", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_markdown(text: str | None, top: int = 2) -> Markup:
    """Markdown to HTML, sanitised with an allow-list: user HTML never reaches the page raw.
    Its headings move so that the largest is an h`top` (the page's h1 is its title): a
    description written with ### does not skip levels, one written with # does not
    compete with the title."""
    tokens = _markdown.parse(text or "")
    levels = [int(token.tag[1]) for token in tokens if token.type == "heading_open"]
    if levels:
        shift = top - min(levels)
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(int(token.tag[1]) + shift, 6)}"
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704  sanitised just above


def _zone(tz: str | ZoneInfo | None) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    return ZoneInfo(tz or current_app.config["TROPA_TIMEZONE"])


def local_datetime(value: datetime | None, tz=None, pattern: str = "d MMMM y, HH:mm") -> str:
    """'27 ноября 2026, 10:00' in the given (event's) zone and the user's language."""
    if value is None:
        return ""
    # rebase=False: Flask-Babel would otherwise convert back to its own default zone.
    return format_datetime(value.astimezone(_zone(tz)), pattern, rebase=False)


def local_date(value: datetime | None, tz=None) -> str:
    if value is None:
        return ""
    return format_date(value.astimezone(_zone(tz)), "d MMMM y", rebase=False)


def local_time(value: datetime | None, tz=None) -> str:
    if value is None:
        return ""
    return format_datetime(value.astimezone(_zone(tz)), "HH:mm", rebase=False)


def utc_offset(tz, when: datetime | None = None) -> str:
    """'UTC+3', 'UTC+5:30', 'UTC' for the zone at the moment (now by default)."""
    minutes = int((when or utcnow()).astimezone(_zone(tz)).utcoffset().total_seconds() // 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '−'}{hours}{f':{rest:02d}' if rest else ''}"


def zone_phrase(tz) -> str:
    """'по московскому времени (UTC+3)': Russia's zones by their adjective, any other by
    Babel's name of the zone in the user's language."""
    zone = _zone(tz)
    phrase = RUSSIAN_TIME_PHRASES.get(zone.key)
    if phrase is None:
        name = get_timezone_name(utcnow().astimezone(zone), "long", locale=get_locale())
        phrase = _("in the time zone “%(name)s”", name=name)
    return f"{phrase} ({utc_offset(zone)})"


def timezone_note(tz) -> str:
    """The line under every schedule: 'Время указано по московскому времени (UTC+3).'"""
    return _("Times are %(zone)s.", zone=zone_phrase(tz))


def file_size(size: int | None) -> str:
    """'1,5 КБ' / '1.5 KB': Babel's decimal format in the user's language and the unit's
    usual abbreviation (CLDR's Russian 'кБ' is not what people write)."""
    size = size or 0
    units = ((1024**3, _("GB")), (1024**2, _("MB")), (1024, _("KB")))
    for scale, unit in units:
        if size >= scale:
            return f"{format_decimal(size / scale, '#,##0.#')}\N{NO-BREAK SPACE}{unit}"
    byte = _("B")
    return f"{format_decimal(size)}\N{NO-BREAK SPACE}{byte}"


def organisation_name(name: str | None) -> str:
    """An organisation's name as Russian writes it, in «» (unless it has its quotes)."""
    if not name:
        return ""
    if get_locale().language != "ru" or any(mark in name for mark in '«"“'):
        return name
    return f"«{name}»"


def month_label(month: str) -> str:
    """'2026-09' (a report's month) as 'сент. 2026' / 'Sep 2026'."""
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "LLL y")


def icon(name: str, label: str | None = None) -> Markup:
    """A Bootstrap Icons glyph (the font served from static/vendor). Decorative for screen
    readers; `label` adds a visually hidden text for an icon that stands alone."""
    glyph = f'<i class="bi bi-{escape(name)}" aria-hidden="true"></i>'
    if label:
        glyph += f'<span class="visually-hidden">{escape(label)}</span>'
    return Markup(glyph)  # noqa: S704  both parts escaped


def register(app) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown,
        datetime=local_datetime,
        date=local_date,
        time=local_time,
        number=format_decimal,
        filesize=file_size,
        month=month_label,
        organisation=organisation_name,
    )
    app.jinja_env.globals.update(
        get_locale=get_locale, absolute_url=absolute_url, icon=icon, timezone_note=timezone_note
    )
