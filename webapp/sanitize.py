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
* The one-time code span, if given, is wrapped in ``<mark class="otp">``. A span that is
  out of range or overlaps a link is not highlighted at all, so tags never overlap.

Linkify decision: links are found with this module's own regex, not ``bleach.linkify``.
bleach re-parses the text as HTML (so its output text can differ from the input) and
is quadratic on long runs of ``(`` (40 000 of them took 24 s). The regex here is a
literal scheme followed by one loop over a character class with nothing after it, so
the regex engine never backtracks, and ``finditer`` resumes after each match: every
character is looked at a constant number of times. Trailing punctuation is trimmed in
plain Python, bounded by the 2000-character URL limit, and at most ``MAX_LINKS`` links
are made per message. Rendering a 100 000-character body of any shape takes at most a
few tens of milliseconds (the worst measured shapes are bodies made only of bidi and
control characters, because each one becomes a marker element or U+FFFD).
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
    "\u202a": "LRE",  # left-to-right embedding
    "\u202b": "RLE",  # right-to-left embedding
    "\u202c": "PDF",  # pop directional formatting
    "\u202d": "LRO",  # left-to-right override
    "\u202e": "RLO",  # right-to-left override
    "\u2066": "LRI",  # left-to-right isolate
    "\u2067": "RLI",  # right-to-left isolate
    "\u2068": "FSI",  # first strong isolate
    "\u2069": "PDI",  # pop directional isolate
}
# Kept short: a hostile body of 100 000 overrides becomes 100 000 of these.
_BIDI_MARKERS = {
    ch: f'<span class="ctl" title="U+{ord(ch):04X}">\u27e8{abbr}\u27e9</span>'
    for ch, abbr in _BIDI_ABBREVIATIONS.items()
}
_BIDI_DROP = dict.fromkeys(_BIDI_ABBREVIATIONS, "")
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# C0/C1 controls other than tab and line breaks, DEL and lone surrogates.
_UNSAFE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_TO_FFFD = {
    code: "\ufffd"
    for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))
} | {code: "\ufffd" for code in range(0xD800, 0xE000)}
# For previews: controls that str.split() does not already treat as whitespace.
_PREVIEW_DROP = {code: None for code in _UNSAFE_TO_FFFD if not chr(code).isspace()}

# A URL ends at whitespace, quotes/angle brackets, controls, invisible format characters
# (so a hidden character cannot make the link differ from what the reader sees), lone
# surrogates and CJK/full-width punctuation (Chinese text often has no space after a URL).
_URL_STOP = (
    '\\s<>"\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u061c\\u200b-\\u200f\\u2028-\\u202e'
    "\\u2060-\\u206f\\ufeff\\ud800-\\udfff\\u3000-\\u303f\\uff01-\\uff0f\\uff1a-\\uff20"
    "\\uff3b-\\uff40\\uff5b-\\uff65"
)
# Case-insensitive by character classes: re.IGNORECASE makes the scan several times slower.
_URL_RE = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)(?=[^\W_])[^" + _URL_STOP + "]*")
_TRAILING_PUNCT = ".,;:!?'*~_-…"
_CLOSERS = {")": "(", "]": "[", "}": "{"}


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
    if _UNSAFE_RE.search(text):
        text = text.translate(_PREVIEW_DROP)
    if _BIDI_RE.search(text):
        text = _replace_bidi(text, _BIDI_DROP)
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
    # Escaping first is safe: escape() only emits ASCII entities, which no step below touches.
    html = str(escape(chunk))
    if "\r" in html:
        html = html.replace("\r\n", "\n").replace("\r", "\n")
    if _UNSAFE_RE.search(html):
        html = html.translate(_UNSAFE_TO_FFFD)
    if _BIDI_RE.search(html):
        html = _replace_bidi(html, _BIDI_MARKERS)
    return html.replace("\n", "<br>")


def _replace_bidi(text: str, replacements: dict[str, str]) -> str:
    """Replace each bidi formatting character present in ``text``.

    str.replace per character is several times faster than str.translate when the
    replacement is long, which matters for a body made of nothing but overrides.
    """
    for ch in [ch for ch in replacements if ch in text]:
        text = text.replace(ch, replacements[ch])
    return text


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
