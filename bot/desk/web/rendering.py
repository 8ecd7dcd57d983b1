"""What every desk page shares: the templates, the document around a page, refusals.

Pages are Jinja2 templates (``templates/``) with autoescape on: every value a template shows
is escaped, as `html.escape` escapes (``&#x27;``, ``&quot;``), unless it is markup already
(another template's output). A template's line breaks and the indentation after them are not
part of the page: templates are laid out for reading, pages come out as compact as before.
"""

from __future__ import annotations

import html
import re
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from jinja2.ext import Extension
from markupsafe import Markup

from bot.desk.roles import Permission
from bot.desk.sessions import DeskSession
from bot.desk.web.formatting import time_shown
from bot.desk.web.gate import CSRF_FIELD, SESSION
from bot.desk.web.strings import STRINGS
from bot.language.names import language_name

_LINE_BREAK = re.compile(r"\n[ \t]*")


class _JoinedLines(Extension):
    """Drops each line break of a template with the indentation that follows it."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        """The template's source as one line (a space wanted between lines is written)."""
        return _LINE_BREAK.sub("", source)


def _escaped(value: Any) -> Any:
    """What a template shows: markup as it is, anything else escaped like `html.escape`."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape("" if value is None else str(value)))


TEMPLATES = Environment(
    loader=PackageLoader("bot.desk.web"),
    autoescape=select_autoescape(["html"]),
    extensions=[_JoinedLines],
    finalize=_escaped,
)
TEMPLATES.globals.update(t=STRINGS.as_markup(), csrf_field=CSRF_FIELD,
                         language_name=language_name)
TEMPLATES.filters.update(time_shown=time_shown)

_SECTIONS = (("/", "section_queue", None), ("/report", "section_report", None),
             ("/training", "section_training", Permission.TRAIN),
             ("/customers", "section_customers", Permission.MANAGE_CUSTOMER_DATA))


def render(template: str, **context: Any) -> str:
    """One template, rendered with the desk's strings (``t``) and `context`."""
    return TEMPLATES.get_template(template).render(**context)


def _sections(session: DeskSession | None) -> list[tuple[str, str]]:
    """The sections the session's role may use, as (path, the key of its label)."""
    if session is None:
        return []
    return [(path, key) for path, key, needed in _SECTIONS
            if needed is None or session.agent.role.may(needed)]


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A whole HTML page from `template`.

    The templates of pages with the bar at the top (``with_bar.html``) get the session, the
    sections its role may use and the current path. A page's stylesheet and script are
    files: the CSP refuses inline ones.
    """
    session: DeskSession | None = request.get(SESSION)
    text = render(template, session=session, sections=_sections(session), path=request.path,
                  **context)
    return web.Response(text=text, content_type="text/html", status=status)


def refused(request: web.Request, title: str, message: str, back: str,
            status: int) -> web.Response:
    """A page saying why something was not done, with the way back."""
    return page(request, "refused.html", status, title=title, message=message, back=back)
