"""Turn attacker-controlled SMS text into HTML that shows exactly what was sent.

Every message body comes from whoever sent an SMS to a public number, so it is treated
as hostile. ``render_body`` returns a ``Markup`` fragment meant to sit inside an element
with ``dir="auto"``:

* All text is HTML-escaped with ``markupsafe.escape``; nothing in the body is ever
  interpreted as markup.
* ``http://``, ``https://`` and ``www.`` links become ``<a rel="nofollow noopener
  noreferrer ugc" target="_blank">``. The href always starts with ``http://`` or
  ``https://`` (``www.`` links get ``https://``), so ``javascript:``, ``data:`` and other
  schemes stay plain text. The link text is the original text, character for character.
* C0/C1 control characters (except tab and line breaks), DEL and lone surrogates become
  U+FFFD, so they are visible and cannot break the page or its encoding.
* Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) are shown as
  visible markers such as ``⟨RLO⟩`` instead of being applied. Keeping them would let a
  sender reverse text ("moc.knab" shown as "bank.com") and let an unclosed override
  reorder the page around the message; a marker shows the reader what was really sent
  and cannot leak out of, or across, any tag. Directional *marks* (LRM, RLM, ALM) do
  not nest or leak and are legitimate in Arabic/Hebrew text, so they are kept.
* ``\\n``, ``\\r\\n`` and a lone ``\\r`` (the GSM alphabet's line break) become ``<br>``.

Linkify decision: links are found with this module's own regex, not ``bleach.linkify``.
bleach re-parses the text as HTML (so its output text can differ from the input) and
is quadratic on long runs of ``(`` (40 000 of them took 24 s). The regex here is a
literal scheme followed by one loop over a character class with nothing after it, so
the regex engine never backtracks, and ``finditer`` resumes after each match: every
character is looked at a constant number of times. Trailing punctuation is trimmed in
plain Python, bounded by the 2000-character URL limit, and at most ``MAX_LINKS`` links
are made per message. Rendering a 100 000-character body of any shape takes at most a
few tens of milliseconds (the worst measured shape is a body made only of bidi
overrides, because each becomes a marker element).
"""

import re

from markupsafe import Markup, escape

__all__ = ["plain_preview", "render_body"]

LINK_REL = "nofollow noopener noreferrer ugc"
MAX_URL_LENGTH = 2000
# Real messages carry one or two links; the cap bounds the per-link Python work on a
# hostile body made of thousands of tiny URLs. Later URLs stay plain (escaped) text.
MAX_LINKS = 50

# Bidi formatting characters that open or close an embedding/override/isolate.
_BIDI_ABBREVIATIONS = {
    0x202A: "LRE",  # left-to-right embedding
    0x202B: "RLE",  # right-to-left embedding
    0x202C: "PDF",  # pop directional formatting
    0x202D: "LRO",  # left-to-right override
    0x202E: "RLO",  # right-to-left override
    0x2066: "LRI",  # left-to-right isolate
    0x2067: "RLI",  # right-to-left isolate
    0x2068: "FSI",  # first strong isolate
    0x2069: "PDI",  # pop directional isolate
}
# Kept short: a hostile body of 100 000 overrides becomes 100 000 of these.
_BIDI_MARKER = '<span class="ctl" title="U+{code:04X}">\u27e8{abbr}\u27e9</span>'
# Characters that need the (slower, per-character) translate step; plain text skips it.
_SPECIAL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)

_CONTROL_CODES = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
_SURROGATES = range(0xD800, 0xE000)

# A URL ends at whitespace, quotes/angle brackets, controls, invisible format characters
# (so a hidden character cannot make the link differ from what the reader sees), lone
# surrogates and CJK/full-width punctuation (Chinese text often has no space after a URL).
_URL_STOP = (
    "\\s<>\"\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u061c\\u200b-\\u200f\\u2028-\\u202e"
    "\\u2060-\\u206f\\ufeff\\ud800-\\udfff\\u3000-\\u303f\\uff01-\\uff0f\\uff1a-\\uff20"
    "\\uff3b-\\uff40\\uff5b-\\uff65"
)
# Case-insensitive by character classes: re.IGNORECASE makes the scan several times slower.
_URL_RE = re.compile(
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)(?=[^\W_])[^" + _URL_STOP + "]*"
)
_TRAILING_PUNCT = ".,;:!?'*~_-…"
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _build_html_map() -> dict[int, str]:
    """Map each dangerous character to the HTML shown in its place."""
    table: dict[int, str] = {code: "\ufffd" for code in _CONTROL_CODES}
    table.update({code: "\ufffd" for code in _SURROGATES})
    for code, abbr in _BIDI_ABBREVIATIONS.items():
        table[code] = _BIDI_MARKER.format(code=code, abbr=abbr)
    return table


def _build_preview_map() -> dict[int, str | None]:
    """Map characters that must not reach a one-line preview to a space or nothing."""
    table: dict[int, str | None] = {code: None for code in _CONTROL_CODES}
    table.update({code: None for code in _SURROGATES})
    table.update({code: None for code in _BIDI_ABBREVIATIONS})
    for ch in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029":
        table[ord(ch)] = " "
    return table


_HTML_MAP = _build_html_map()
_PREVIEW_MAP = _build_preview_map()


def render_body(text: str, code_span: tuple[int, int] | None = None) -> Markup:
    """Render an SMS body as a safe HTML fragment with links and the code highlighted."""
    links = _find_links(text)
    pieces: list[tuple[int, int, str | None]] = [(s, e, href) for s, e, href in links]
    mark = _usable_span(code_span, len(text), links)
    if mark is not None:
        pieces.append((mark[0], mark[1], None))
        pieces.sort()
    out: list[str] = []
    pos = 0
    for start, end, href in pieces:
        out.append(_render_text(text[pos:start]))
        inner = _render_text(text[start:end])
        if href is None:
            out.append(f'<mark class="otp">{inner}</mark>')
        else:
            out.append(f'<a href="{escape(href)}" rel="{LINK_REL}" target="_blank">{inner}</a>')
        pos = end
    out.append(_render_text(text[pos:]))
    return Markup("".join(out))


def plain_preview(text: str, limit: int = 160) -> str:
    """Return a one-line plain-text preview of at most ``limit`` characters."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if _SPECIAL_RE.search(text):
        text = text.translate(_PREVIEW_MAP)
    # str.split() with no argument splits on every Unicode space and drops empties.
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = flat[: limit - 1]
    if flat[limit - 1] != " ":
        # Cut at the last word boundary unless that would throw away too much.
        space = head.rfind(" ")
        if space >= (limit - 1) * 3 // 5:
            head = head[:space]
    return head.rstrip() + "…"


def _render_text(chunk: str) -> str:
    """Escape plain text and replace controls, bidi formatting and line breaks."""
    if not chunk:
        return ""
    # Escaping first is safe: escape() only emits ASCII entities, which the map leaves alone.
    escaped = str(escape(chunk))
    if "\r" in escaped:
        escaped = escaped.replace("\r\n", "\n").replace("\r", "\n")
    if _SPECIAL_RE.search(escaped):
        escaped = escaped.translate(_HTML_MAP)
    return escaped.replace("\n", "<br>")


def _find_links(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, href) for every linkable http(s)/www URL in ``text``."""
    links: list[tuple[int, int, str]] = []
    for m in _URL_RE.finditer(text):
        if len(links) == MAX_LINKS:
            break
        start, end = m.span()
        if end - start > MAX_URL_LENGTH:
            continue  # absurd "URLs" stay plain text rather than become huge hrefs
        if start and _is_ascii_word_char(text[start - 1]):
            continue  # inside a word such as "xhttp://", not a link of its own
        # The regex guarantees an alphanumeric first host character, which trimming
        # never removes, so the link always has a host.
        url = _trim_url(m.group())
        href = url if url[0] in "Hh" else "https://" + url
        links.append((start, start + len(url), href))
    return links


def _is_ascii_word_char(ch: str) -> bool:
    """Tell whether ``ch`` glues to a following scheme (CJK text often does not space it)."""
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _trim_url(url: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from a URL's end."""
    end = len(url)
    if url[-1] not in _TRAILING_PUNCT and url[-1] not in _CLOSERS:
        return url  # the common case: nothing to trim
    balance = {close: url.count(close) - url.count(open_) for close, open_ in _CLOSERS.items()}
    while end:
        last = url[end - 1]
        if last in _TRAILING_PUNCT:
            end -= 1
        elif last in _CLOSERS and balance[last] > 0:
            # "(see https://x.org/a)" - the ")" closes the sentence, not the URL.
            balance[last] -= 1
            end -= 1
        else:
            break
    return url[:end]


def _usable_span(
    span: tuple[int, int] | None, length: int, links: list[tuple[int, int, str]]
) -> tuple[int, int] | None:
    """Return the code span if it is valid and does not touch a link, else None."""
    if span is None:
        return None
    start, end = span
    if not 0 <= start < end <= length:
        return None
    # Highlighting inside or across a link would need overlapping tags; skip it.
    for link_start, link_end, _href in links:
        if start < link_end and link_start < end:
            return None
    return start, end
