"""Jinja filters: dates in the event's zone and the user's language, safe Markdown."""

from datetime import datetime
from zoneinfo import ZoneInfo

import nh3
from flask import current_app
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from markdown_it import MarkdownIt
from markupsafe import Markup

from webapp.urls import absolute_url

_markdown = MarkdownIt("commonmark", {"linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "h2", "h3", "h4", "h5",
    "blockquote", "code", "pre", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML, sanitised with an allow-list: user HTML never reaches the page raw."""
    html = _markdown.render(text or "")
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


def register(app) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown,
        datetime=local_datetime,
        date=local_date,
        time=local_time,
        number=format_decimal,
    )
    app.jinja_env.globals.update(get_locale=get_locale, absolute_url=absolute_url)
