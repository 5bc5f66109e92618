"""Tests for rendering hostile SMS text as safe HTML."""

from html.parser import HTMLParser

import pytest
from jinja2 import Environment
from markupsafe import Markup

from webapp.otp import find_code_span
from webapp.sanitize import LINK_REL, MAX_LINKS, plain_preview, render_body

BIDI = {
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
}
ALLOWED_TAGS = {"a", "mark", "span", "br"}
VOID_TAGS = {"br"}


class _FragmentChecker(HTMLParser):
    """Collect the visible text of a fragment and check its tags are well formed."""

    def __init__(self) -> None:
        """Start with no text, no open tags and no problems."""
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.stack: list[str] = []
        self.links: list[dict[str, str | None]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record an opening tag; <br> is void and shows as a newline."""
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"unexpected <{tag}>")
        if tag == "br":
            self.text.append("\n")
            return
        if tag == "a":
            self.links.append(dict(attrs))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Check the closing tag matches the innermost open one."""
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        """Collect visible text (entities are already decoded)."""
        self.text.append(data)


def parse(fragment: str) -> _FragmentChecker:
    """Parse a rendered fragment and assert it is well-formed HTML."""
    checker = _FragmentChecker()
    checker.feed(fragment)
    checker.close()
    assert checker.problems == []
    assert checker.stack == []
    for attrs in checker.links:
        href = attrs.get("href") or ""
        assert href.lower().startswith(("http://", "https://"))
        assert attrs.get("rel") == LINK_REL
        assert attrs.get("target") == "_blank"
    return checker


def visible_text(fragment: str) -> str:
    """Return what a reader sees: tags dropped, entities decoded, <br> as a newline."""
    return "".join(parse(fragment).text)


def expected_visible(text: str) -> str:
    """Return the input with the documented replacements applied."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in text:
        code = ord(ch)
        if ch in BIDI:
            out.append(f"\u27e8{BIDI[ch]}\u27e9")
        elif ch not in "\t\n" and (code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


PLAIN_MESSAGES = [
    "Your code is 482913",
    "I <3 you",
    "a < b > c",
    "&amp; &lt; & &#39;",
    "\"quotes' and `backticks`",
    "emoji 😀👍🏽👨‍👩‍👧 ok",
    "Код подтверждения: 7731",
    "【腾讯】验证码：583920，5分钟内有效",
    "رمز التحقق الخاص بك هو 4821",
    "שלום 123 עולם",
    "line one\nline two\n\nline four",
    "tabs\tand   spaces  ",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "{{ 7*7 }} {% raw %} ${7*7}",
    "see https://example.com/a?b=1&c=2 now",
    "(https://en.wikipedia.org/wiki/Foo_(bar)).",
    "www.example.com/path, then",
    "请访问https://x.cn/abc。验证码：123456",
    "zero\u200bwidth and LRM\u200e and RLM\u200f kept",
]


@pytest.mark.parametrize("message", PLAIN_MESSAGES)
def test_visible_text_is_exactly_the_message(message: str) -> None:
    assert visible_text(render_body(message)) == message


@pytest.mark.parametrize(
    "message",
    ["a\x00b", "\x1b[31mred", "bell\x07", "del\x7f", "c1\x85\x9b", "cr\r\nlf\rx", "lone\ud800"],
)
def test_control_characters_are_replaced_visibly(message: str) -> None:
    html = render_body(message)
    assert visible_text(html) == expected_visible(message)
    for ch in message:
        if ch not in "\n\t" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0):
            assert ch not in html
    html.encode("utf-8")  # no lone surrogate survives to break the response encoding


def test_result_is_markup_and_not_double_escaped_by_jinja() -> None:
    html = render_body("<b>hi</b> & https://example.com")
    assert isinstance(html, Markup)
    page = Environment(autoescape=True).from_string("<p dir=auto>{{ body }}</p>").render(body=html)
    assert page == f"<p dir=auto>{html}</p>"
    assert "<b>" not in page


def test_script_is_escaped() -> None:
    assert render_body("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_img_onerror_is_escaped() -> None:
    html = render_body("<img src=x onerror=alert(1)>")
    assert "<img" not in html
    assert html == "&lt;img src=x onerror=alert(1)&gt;"


@pytest.mark.parametrize(
    "message",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "ftp://example.com/file",
        "file:///etc/passwd",
        "mailto:a@example.com",
        "http://",
        "https://(((",
    ],
)
def test_other_schemes_are_not_links(message: str) -> None:
    html = render_body(message)
    assert "<a " not in html
    assert visible_text(html) == message


def test_https_link_exact_markup() -> None:
    html = render_body("https://example.com/a?b=1&c=2")
    assert html == (
        '<a href="https://example.com/a?b=1&amp;c=2" '
        'rel="nofollow noopener noreferrer ugc" target="_blank">'
        "https://example.com/a?b=1&amp;c=2</a>"
    )


@pytest.mark.parametrize(
    ("message", "href"),
    [
        ("Go to https://example.com.", "https://example.com"),
        ("Go to http://example.com/x?y=1, then", "http://example.com/x?y=1"),
        ("(see https://example.com/a)", "https://example.com/a"),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("HTTPS://EXAMPLE.COM/X", "HTTPS://EXAMPLE.COM/X"),
        ("www.example.com!", "https://www.example.com"),
        ("javascript:http://example.com", "http://example.com"),
        ('x "https://example.com/q" y', "https://example.com/q"),
        (
            "https://example.com/'onmouseover='alert(1)",
            "https://example.com/'onmouseover='alert(1)",
        ),
    ],
)
def test_links_have_safe_hrefs(message: str, href: str) -> None:
    html = render_body(message)
    checker = parse(html)
    assert [attrs["href"] for attrs in checker.links] == [href]
    assert visible_text(html) == message


def test_attribute_cannot_be_broken_out_of() -> None:
    html = render_body("https://example.com/'onmouseover='alert(1)")
    assert "'onmouseover" not in html
    assert "&#39;onmouseover=&#39;" in html


def test_url_stops_at_invisible_characters() -> None:
    checker = parse(render_body("http://bank.com\u200b.evil.example"))
    assert [attrs["href"] for attrs in checker.links] == ["http://bank.com"]


def test_link_count_is_capped() -> None:
    message = "http://a.example " * (MAX_LINKS + 10)
    html = render_body(message)
    assert len(parse(html).links) == MAX_LINKS
    assert visible_text(html) == message


def test_rtl_override_cannot_leak() -> None:
    message = "Pay at moc.\u202eknab\u202c or \u2067isolated \u202eopen"
    html = render_body(message)
    # The property: no bidi embedding/override/isolate character reaches the page at all,
    # so nothing can stay open after the fragment; each one is shown as a marker instead.
    assert not any(ch in html for ch in BIDI)
    assert html.count('<span class="ctl"') == 4
    assert visible_text(html) == expected_visible(message)
    assert "\u27e8RLO\u27e9" in visible_text(html)


def test_bidi_marks_are_kept() -> None:
    message = "abc\u200e\u200f\u061cdef"
    assert render_body(message) == message


def test_code_is_highlighted() -> None:
    message = "Your code: 482913. Do not share."
    html = render_body(message, find_code_span(message))
    assert '<mark class="otp">482913</mark>' in html
    assert visible_text(html) == message


def test_split_code_is_highlighted_as_written() -> None:
    message = "Tu código de WhatsApp es 284-193"
    html = render_body(message, find_code_span(message))
    assert html.endswith('<mark class="otp">284-193</mark>')


def test_highlight_escapes_its_content() -> None:
    html = render_body("a<b>c", (1, 4))
    assert html == 'a<mark class="otp">&lt;b&gt;</mark>c'


@pytest.mark.parametrize("span", [(20, 26), (10, 30), (-1, 3), (5, 2), (0, 999), (3, 3)])
def test_overlapping_or_invalid_span_is_not_highlighted(span: tuple[int, int]) -> None:
    message = "Code 482913 https://a.example/482913"
    html = render_body(message, span)
    assert "<mark" not in html
    assert visible_text(html) == message


def test_highlight_next_to_link_stays_valid() -> None:
    message = "482913 https://a.example/x"
    html = render_body(message, (0, 6))
    assert html.startswith('<mark class="otp">482913</mark> <a ')
    assert visible_text(html) == message


PATHOLOGICAL = [
    "(" * 100_000,
    "http://" + "(" * 100_000,
    "https://a.example/" + "(" * 100_000,
    "a.b" * 30_000,
    "http://a " * 11_000,
    "http://" * 14_000,
    "www." * 25_000,
    "<" * 100_000,
    "&" * 100_000,
    "\x01" * 100_000,
    "\u202e" * 5_000,  # 100 000 of them: see test_huge_bidi_run_renders_markers
    "a\u202e" * 2_500,
    "a\r\n" * 33_000,
    "1" * 100_000,
    "абв " * 25_000,
    "https://a.example/" + "x" * 5_000,
]


@pytest.mark.parametrize(
    "message", PATHOLOGICAL, ids=[f"case{i}" for i in range(len(PATHOLOGICAL))]
)
def test_pathological_inputs_render_correctly(message: str) -> None:
    html = render_body(message, (0, 1))
    assert html
    checker = parse(html)
    assert "".join(checker.text) == expected_visible(message)
    assert len(checker.links) <= MAX_LINKS
    preview = plain_preview(message)
    assert len(preview) <= 160
    assert not any(ch in preview for ch in "\x01\r\n\u202e")


@pytest.mark.parametrize("message", ["\u202e" * 100_000, "a\u2067" * 50_000])
def test_huge_bidi_run_renders_markers(message: str) -> None:
    # Checked with string operations: html.parser needs seconds for 100 000 elements.
    html = render_body(message)
    assert not any(ch in html for ch in BIDI)
    markers = html.count('<span class="ctl" title="U+')
    assert markers == html.count("</span>") == sum(ch in BIDI for ch in message)


def test_overlong_url_stays_plain_text() -> None:
    html = render_body("https://a.example/" + "x" * 5_000)
    assert "<a " not in html


def test_preview_collapses_whitespace_and_removes_controls() -> None:
    message = "  Your\tcode\n\nis\x00 48\u202e2913\r\n "
    assert plain_preview(message) == "Your code is 482913"


def test_preview_keeps_short_text() -> None:
    assert plain_preview("Код: 7731") == "Код: 7731"


def test_preview_truncates_at_a_word_boundary() -> None:
    message = "word " * 100
    preview = plain_preview(message, 42)
    assert len(preview) <= 42
    assert preview.endswith("word…")


def test_preview_truncates_text_without_spaces() -> None:
    preview = plain_preview("验证码" * 100, 10)
    assert preview == "验证码验证码验证码…"


@pytest.mark.parametrize("limit", [1, 2, 5, 160])
def test_preview_never_exceeds_limit(limit: int) -> None:
    assert len(plain_preview("x" * 1000, limit)) == limit


def test_preview_rejects_silly_limit() -> None:
    with pytest.raises(ValueError):
        plain_preview("text", 0)
