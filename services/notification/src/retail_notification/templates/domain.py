"""Rendering templates: sandboxed Jinja2, strict about undefined names, escaping per channel.

Email bodies are HTML rendered with autoescape (a customer called ``<b>Eve</b>`` is shown, not
obeyed) and get a plain-text part made from the HTML; Slack text escapes ``& < >`` as Slack
asks; SMS and Teams text is plain. Subjects are one line (no header injection).
"""

import functools
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from retail_contracts.currencies import format_amount
from retail_notification.templates.samples import SAMPLES

MAX_REPEAT = 10_000  # the longest string or list a template may build with *
MAX_EXPONENT = 100


class TemplateInvalid(ValueError):
    """A template that does not parse, or does not render against its sample data."""


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    html: str | None = None


def money(value: Any) -> str:
    """``{"amount": 1999, "currency": "EUR"}`` as ``19.99 EUR`` (integer minor units in)."""
    if not isinstance(value, dict) or "amount" not in value or "currency" not in value:
        raise TemplateInvalid(f"money expects {{amount, currency}}, got {value!r}")
    return format_amount(int(value["amount"]), str(value["currency"]))


def _slack_escape(value: Any) -> Any:
    # Slack's mrkdwn reserves exactly these three characters.
    if isinstance(value, str) and not isinstance(value, Markup):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox bounds ``range`` but not ``*`` and ``**``: ``'x' * 10**9`` would take
    the process's memory. Those two are checked before they run."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError("the exponent is too large")
        if operator == "*":
            for size, times in ((left, right), (right, left)):
                repeats = isinstance(size, str | list | tuple) and isinstance(times, int)
                if repeats and len(size) * times > MAX_REPEAT:
                    raise SecurityError("the repeated value is too long")
        return super().call_binop(context, operator, left, right)


@functools.cache
def environment(kind: str) -> SandboxedEnvironment:
    """The sandbox for ``html`` (autoescaped), ``slack`` (Slack-escaped) or ``text``."""
    env = BoundedSandbox(
        autoescape=kind == "html",
        undefined=StrictUndefined,
        finalize=_slack_escape if kind == "slack" else None,
        keep_trailing_newline=False,
    )
    env.filters["money"] = money
    return env


@functools.lru_cache(maxsize=512)
def _compiled(kind: str, source: str) -> Any:
    return environment(kind).from_string(source)


def _render(kind: str, source: str, context: dict[str, Any]) -> str:
    try:
        return str(_compiled(kind, source).render(context))
    except TemplateError as exc:
        raise TemplateInvalid(f"{type(exc).__name__}: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateInvalid(f"the template failed on its data: {exc}") from exc


def render(channel: str, subject: str | None, body: str, context: dict[str, Any]) -> Rendered:
    """Render one template for ``channel``; ``TemplateInvalid`` if it cannot be rendered."""
    title = " ".join(_render("text", subject, context).split()) if subject else None
    if channel == "email":
        html = _render("html", body, context)
        return Rendered(subject=title, body=html_to_text(html), html=html)
    text = _render("slack" if channel == "slack" else "text", body, context)
    return Rendered(subject=title, body=text.strip())


def validate(
    name: str, channel: str, subject: str | None, body: str, sample: dict[str, Any] | None
) -> Rendered:
    """Render against the sample data of ``name`` (and ``sample``); raise ``TemplateInvalid``
    for a syntax error, an undefined name or anything the sandbox refuses."""
    context = {**SAMPLES.get(name, {}), **(sample or {})}
    if not context:
        raise TemplateInvalid(f"no sample data for template {name!r}: send sample_data with it")
    if channel == "email" and not subject:
        raise TemplateInvalid("an email template needs a subject")
    rendered = render(channel, subject, body, context)
    if not rendered.body.strip():
        raise TemplateInvalid("the template renders to an empty message")
    return rendered


class _TextExtractor(HTMLParser):
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self.skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The plain-text part of an HTML mail: the text, a line per block, entities decoded."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
