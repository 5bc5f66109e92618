"""Find the one-time code in a received SMS.

The site highlights the code a visitor is most likely to type, so this module answers
two questions about a message body: *where* the code is written (``find_code_span``) and
*what* a person would type (``extract_code``, the same text without separators).

How it works, in linear passes over (at most) the first ``_SCAN_LIMIT`` characters:

1. Keyword spans ("code", "код", "验证码", "código", ...) are found on a lowercased copy
   of the text, because a case-insensitive alternation is several times slower in ``re``.
2. Digit *chains* are found: runs of digits joined by single separators (``-./:,`` or a
   space). A chain of one group is a plain candidate (``482913``), a chain of two equal
   groups of 3 or 4 digits joined by ``-``, ``.`` or a space is a split code
   (``123-456``); everything longer is a phone number, date, time or amount and is
   ignored.
3. Mixed letter+digit words of 4-10 characters are candidates only next to a keyword.
4. Candidates are ranked by distance to the nearest keyword; with no keyword at all a
   plain 4-8 digit number is still returned ("482913 is yours" style messages).

Every pattern uses bounded quantifiers or unambiguous single-character loops (no
nested quantifiers), so no input can trigger catastrophic backtracking. Only the first
``_SCAN_LIMIT`` characters are examined, which also caps the per-candidate Python work;
a 100 000 character message of any shape takes a few milliseconds.
"""

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

__all__ = ["extract_code", "find_code_span"]

# Characters removed from the span text to get what a person types.
CODE_SEPARATORS = "-. "

# Keywords are matched on ``text.lower()``. Long words may be the tail of a compound
# ("Bestätigungscode") and may carry an inflection ("кода", "kodunuz"), hence the
# trailing letter run. Short Latin words need boundaries so "shipping" is not "pin".
# fmt: off
_KEYWORDS = (
    "code", "c[oó]digo", "codice", "kode", "kod", "код", "κωδικ", "קוד", "कोड", "کد",
    "passwor", "kennwort", "contrase[ñn]a", "clave", "senha", "пароль",
    "parol", "[şs]ifre", "mot de passe", "verif", "v[ée]rif", "bestätigung",
    "подтвержд", "tasdiq", "doğrulama", "one-time", "passcode",
    "验证码", "驗證碼", "校验码", "校驗碼", "动态码", "動態碼", "确认码", "確認碼",
    "认证码", "認證碼", "动态密码", "密码", "密碼", "安全码", "コード", "認証番号",
    "暗証番号", "ワンタイムパスワード", "인증번호", "인증", "코드", "رمز", "كود",
    "التحقق", "تحقق", "รหัส", "mã xác",
)
_SHORT_KEYWORDS = ("otp", "pin", "tan", "2fa", "mfa")
# Phrases where "code" does not mean a one-time code; a number right after one of
# them is a discount, postal or dialling code and must not be highlighted.
_NEGATIVE = (
    "promo code", "promocode", "promo-code", "coupon code", "discount code", "zip code",
    "zipcode", "postcode", "postal code", "post code", "area code", "country code",
    "barcode", "qr code", "qr-code", "decode", "unicode", "código postal",
    "code postal", "промокод", "промо-код", "referral code", "invite code",
)
# fmt: on
_KEYWORD_RE = re.compile(
    "(?P<neg>" + "|".join(re.escape(p) for p in _NEGATIVE) + ")"
    "|(?P<kw>(?:" + "|".join(_KEYWORDS) + r")[^\W\d_]{0,20}"
    "|(?<![a-z])(?:" + "|".join(re.escape(k) for k in _SHORT_KEYWORDS) + ")(?![a-z]))"
)

# A digit chain: digits, single separators followed by a digit. Each loop step eats one
# character, so the loop cannot backtrack into itself; the bound keeps it cheaper still.
_CHAIN_MAX = 40
_CHAIN_RE = re.compile(rf"(?<![0-9A-Za-z])[0-9](?:[0-9]|[-./:, ](?=[0-9])){{0,{_CHAIN_MAX - 1}}}")
_CHAIN_SEPS = "-./:, "
_DIGITS_RE = re.compile(r"[0-9]+")
# 4-10 ASCII letters+digits with at least one of each (checked by bounded lookaheads).
_ALNUM_RE = re.compile(
    r"(?<![0-9A-Za-z])(?=[A-Za-z]{0,9}[0-9])(?=[0-9]{0,9}[A-Za-z])"
    r"[0-9A-Za-z]{4,10}(?![0-9A-Za-z])"
)
_UNIT_RE = re.compile(
    r"[0-9]{1,6}(?:gb|mb|kb|tb|min|mins|sec|secs|hrs|km|kg|st|nd|rd|th|am|pm|px|mp|fps)",
    re.IGNORECASE,
)
# Links: unbounded but unambiguous (nothing follows the loop), so the scan is linear.
# Matched on the lowercased text, which is much faster than re.IGNORECASE.
_URL_RE = re.compile(r"(?:https?://|www\.)\S*")

_CURRENCY_SIGNS = "$€£¥₽₹₩₺₴₸元円¢"
_CURRENCY_BEFORE_RE = re.compile(
    r"(?:[$€£¥₽₹₩₺₴₸¢]|r\$|\b(?:usd|eur|rub|gbp|brl|uzs|cny|rmb|inr|rs\.?|руб\.?))\s?$"
)
_CURRENCY_AFTER_RE = re.compile(
    r"^\s?(?:[$€£¥₽₹₩₺₴₸元円¢]|(?:руб|р\.|rub|usd|eur|gbp|brl|reais|euro|dollar|сум|so.m"
    r"|sum|lira|tl|грн|тг|тенге|yuan|rmb|inr|rs)(?![a-zа-я]))"
)
# Neighbours that make a number part of something else (path, query, e-mail, handle,
# percentage, order number) rather than a code someone types.
_BAD_BEFORE = "/\\=?&#@%_+" + _CURRENCY_SIGNS
_BAD_AFTER = "/\\@%_" + _CURRENCY_SIGNS

# Codes sit at the start of a message and real SMS (even concatenated) are far shorter;
# looking further would only let a huge hostile body cost more time.
_SCAN_LIMIT = 5000
_MAX_KEYWORD_DISTANCE = 100
_NEGATIVE_REACH = 25
_ALNUM_REACH = 30
_AFTER_WEIGHT = 2  # "482913 is your code" reads weaker than "code: 482913"
_AFTER_BIAS = 4
_ALNUM_PENALTY = 15
_YEAR_PENALTY = 40
_YEAR_REACH = 3
_BIG = 1 << 62  # sorts after any real span end


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    alnum: bool = False
    year: bool = False


@dataclass(frozen=True)
class _Keywords:
    starts: list[int]
    ends: list[int]
    neg_ends: list[int]


def extract_code(text: str) -> str | None:
    """Return the one-time code in ``text`` without separators, or None."""
    span = find_code_span(text)
    if span is None:
        return None
    return _strip_separators(text[span[0] : span[1]])


def find_code_span(text: str) -> tuple[int, int] | None:
    """Return the (start, end) span of the one-time code as written in ``text``."""
    if not text:
        return None
    limit = min(len(text), _SCAN_LIMIT)
    # U+0130 is the only character whose lowercase form is longer, which would shift
    # every offset after it.
    lowered = text[:limit].replace("\u0130", "i").lower()
    keywords = _find_keywords(lowered)
    urls = [m.span() for m in _URL_RE.finditer(lowered)]
    candidates = _digit_candidates(text, limit, urls)
    if keywords.starts:
        # Letter+digit codes are only trusted when the text says it is a code.
        candidates += _alnum_candidates(text, limit, urls)
    best: tuple[tuple[int, int, int, int], _Candidate] | None = None
    for cand in candidates:
        key = _rank(text, cand, keywords)
        if key is not None and (best is None or key < best[0]):
            best = (key, cand)
    return None if best is None else (best[1].start, best[1].end)


def _strip_separators(code: str) -> str:
    """Drop the separators a person does not type."""
    return "".join(ch for ch in code if ch not in CODE_SEPARATORS)


def _find_keywords(lowered: str) -> _Keywords:
    """Locate code keywords (and "promo code"-style non-keywords) in lowercased text."""
    starts: list[int] = []
    ends: list[int] = []
    neg_ends: list[int] = []
    for m in _KEYWORD_RE.finditer(lowered):
        if m.group("neg") is not None:
            neg_ends.append(m.end())
        else:
            starts.append(m.start())
            ends.append(m.end())
    return _Keywords(starts, ends, neg_ends)


def _in_url(urls: list[tuple[int, int]], pos: int) -> bool:
    """Tell whether ``pos`` falls inside one of the (sorted, disjoint) URL spans."""
    i = bisect_right(urls, (pos, _BIG)) - 1
    return i >= 0 and urls[i][0] <= pos < urls[i][1]


def _digit_candidates(text: str, limit: int, urls: list[tuple[int, int]]) -> list[_Candidate]:
    """Collect plain and split numeric codes from digit chains."""
    found: list[_Candidate] = []
    for m in _CHAIN_RE.finditer(text, 0, limit):
        start, end = m.span()
        if end - start < 4 or _chain_is_context_bound(text, start, end, urls):
            continue
        groups = [(start + g.start(), start + g.end()) for g in _DIGITS_RE.finditer(m.group())]
        found += _groups_to_candidates(text, groups)
    return found


def _chain_is_context_bound(text: str, start: int, end: int, urls: list[tuple[int, int]]) -> bool:
    """Reject chains that continue past the regex bound or belong to a URL, price, etc."""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if before in _CHAIN_SEPS and start >= 2 and text[start - 2].isdigit():
        return True  # tail of a chain longer than _CHAIN_MAX
    if after.isdigit() or (after in _CHAIN_SEPS and text[end + 1 : end + 2].isdigit()):
        return True  # chain longer than _CHAIN_MAX
    if (after.isascii() and after.isalpha()) or (before and before in _BAD_BEFORE):
        return True  # "10min", "+44...", "$1234", "/path/1234"
    if after and after in _BAD_AFTER:
        return True
    if after == "." and text[end + 1 : end + 2].isascii() and text[end + 1 : end + 2].isalnum():
        return True  # "1234.jpg", "1234.example"
    return _in_url(urls, start) or _is_money(text, start, end)


def _is_money(text: str, start: int, end: int) -> bool:
    """Tell whether the number carries a currency sign or word on either side."""
    before = text[max(0, start - 6) : start].lower()
    after = text[end : end + 8].lower()
    return bool(_CURRENCY_BEFORE_RE.search(before) or _CURRENCY_AFTER_RE.match(after))


def _groups_to_candidates(text: str, groups: list[tuple[int, int]]) -> list[_Candidate]:
    """Turn the digit groups of one chain into code candidates."""
    if len(groups) == 1:
        return _single(text, *groups[0])
    if len(groups) != 2:
        return []  # phone numbers, dates, IP addresses, card numbers
    (s1, e1), (s2, e2) = groups
    sep = text[e1]
    if sep in "-. " and e1 - s1 == e2 - s2 and e1 - s1 in (3, 4):
        return [_Candidate(s1, e2)]
    if sep == " ":
        # Two unrelated numbers that happen to sit side by side ("4821 5 min").
        return _single(text, s1, e1) + _single(text, s2, e2)
    return []  # "12:30", "1,500", "2025-12", "1500.00"


def _single(text: str, start: int, end: int) -> list[_Candidate]:
    """Make a candidate from one 4-8 digit group, flagging likely years."""
    if not 4 <= end - start <= 8:
        return []
    digits = text[start:end]
    year = len(digits) == 4 and 1900 <= int(digits) <= 2099
    return [_Candidate(start, end, year=year)]


def _alnum_candidates(text: str, limit: int, urls: list[tuple[int, int]]) -> list[_Candidate]:
    """Collect mixed letter+digit words that could be codes like ``K7QX9``."""
    found: list[_Candidate] = []
    for m in _ALNUM_RE.finditer(text, 0, limit):
        start, end = m.span()
        before = text[start - 1] if start else ""
        after = text[end : end + 1]
        if before in ("-", "/", "@", ".", "_", "\\", "#", "=") or after in ("-", "@", "/", "_"):
            continue  # part of a hyphenated word, path, address or handle
        if after.isascii() and after.isalnum():
            continue  # the word runs on past the scan limit
        if (after == "." and text[end + 1 : end + 2].isalnum()) or _in_url(urls, start):
            continue
        if _UNIT_RE.fullmatch(m.group()):
            continue
        found.append(_Candidate(start, end, alnum=True))
    return found


def _keyword_distance(cand: _Candidate, kw: _Keywords) -> tuple[int | None, int | None]:
    """Return the distance to the nearest keyword before and after the candidate."""
    before = after = None
    i = bisect_right(kw.ends, cand.start) - 1
    if i >= 0:
        before = cand.start - kw.ends[i]
    j = bisect_left(kw.starts, cand.end)
    if j < len(kw.starts):
        after = kw.starts[j] - cand.end
    return before, after


def _follows_negative(cand: _Candidate, kw: _Keywords) -> bool:
    """Tell whether the candidate sits right after "promo code", "area code", etc."""
    i = bisect_right(kw.neg_ends, cand.start) - 1
    return i >= 0 and cand.start - kw.neg_ends[i] <= _NEGATIVE_REACH


def _rank(text: str, cand: _Candidate, kw: _Keywords) -> tuple[int, int, int, int] | None:
    """Return a sort key (lower is better) or None when the candidate is not a code."""
    if _follows_negative(cand, kw):
        return None
    before, after = _keyword_distance(cand, kw)
    distance = _weighted_distance(before, after)
    if cand.alnum:
        if distance is None or distance > _ALNUM_REACH:
            return None
        if not _alnum_is_plausible(text, cand, before):
            return None
        return (0, distance + _ALNUM_PENALTY, 1, cand.start)
    if cand.year and (before is None or before > _YEAR_REACH):
        return None  # "© 2025" is a year; only "code: 2025" makes it a code
    if distance is None:
        # No keyword anywhere near: prefer the usual 6-digit length, then the first one.
        return (1, 0, 0 if cand.end - cand.start == 6 else 1, cand.start)
    return (0, distance + (_YEAR_PENALTY if cand.year else 0), 0, cand.start)


def _weighted_distance(before: int | None, after: int | None) -> int | None:
    """Combine keyword distances; a keyword after the number counts for less."""
    options = []
    if before is not None:
        options.append(before)
    if after is not None:
        options.append(after * _AFTER_WEIGHT + _AFTER_BIAS)
    distance = min(options, default=None)
    if distance is not None and distance > _MAX_KEYWORD_DISTANCE:
        return None
    return distance


def _alnum_is_plausible(text: str, cand: _Candidate, before: int | None) -> bool:
    """Accept upper-case codes anywhere near a keyword, lower-case only right after one."""
    word = text[cand.start : cand.end]
    if not any(ch.islower() for ch in word):
        return True
    return before is not None and before <= 3
