"""Plain values for the data generator: valid numbers per region, senders and message texts.

Everything is derived from a seeded `random.Random`, so two runs with the same seed build
the same data. Numbers come from phonenumbers' example numbers plus offsets, each one
checked with `is_valid_number`; texts mix languages, code formats, links, markup-looking
text, emoji, bidi controls and a few long messages, like what public numbers receive.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

#: Regions that get more numbers than the others, as on real sites of this kind.
POPULAR = ("US", "GB", "CA", "DE", "FR", "NL", "SE", "FI", "PL", "RU", "IN", "ID", "BR", "ES")
_OFFSET_STEP = 7
_MAX_TRIES = 400


def _example(region: str) -> PhoneNumber | None:
    return (phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
            or phonenumbers.example_number(region))


def region_numbers(region: str, count: int, skip: int = 0) -> list[tuple[str, str]]:
    """Up to `count` valid (E.164, region) pairs near the region's example number."""
    example = _example(region)
    if example is None:
        return []
    found: list[tuple[str, str]] = []
    for k in range(skip, skip + _MAX_TRIES):
        candidate = PhoneNumber(
            country_code=example.country_code,
            national_number=example.national_number + k * _OFFSET_STEP,
            italian_leading_zero=example.italian_leading_zero,
        )
        if not phonenumbers.is_valid_number(candidate):
            continue
        owner = phonenumbers.region_code_for_number(candidate)
        if owner and len(owner) == 2:  # the country column is what phonenumbers says
            e164 = phonenumbers.format_number(candidate, PhoneNumberFormat.E164)
            found.append((e164, owner))
            if len(found) == count:
                break
    return found


def many_numbers(total: int, exclude: set[str], skip: int = 0) -> list[tuple[str, str]]:
    """`total` distinct valid numbers spread over every region, popular regions ×10."""
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    weight = {r: (10 if r in POPULAR else 1) for r in regions}
    share = total / sum(weight.values())
    out: dict[str, str] = {}
    for region in regions:
        want = max(1, round(share * weight[region])) + 2
        for e164, owner in region_numbers(region, want, skip):
            if e164 not in exclude:
                out.setdefault(e164, owner)
    numbers = sorted(out.items())
    random.Random(total).shuffle(numbers)
    if len(numbers) < total:
        raise SystemExit(f"only {len(numbers)} valid numbers found for {total}")
    return numbers[:total]


SENDER_IDS = [
    "Google", "WhatsApp", "Telegram", "Microsoft", "Amazon", "Uber", "TikTok", "PayPal",
    "Apple", "Facebook", "Instagram", "Discord", "Steam", "Yandex", "VK", "Tinder", "Bolt",
    "Netflix", "Twitter", "Signal", "Viber", "WeChat", "LINE", "Airbnb", "Binance", "Coinbase",
]
SHORT_CODES = ["32665", "22000", "40404", "26266", "900", "1234", "88336", "69866"]

_CODE_SHAPES = ("{d6}", "{d4}", "G-{d6}", "{d3}-{d3}", "{d3} {d3}", "{d5}", "{d8}")
_TEMPLATES = [
    "Your {svc} verification code is {code}. Don't share it with anyone.",
    "{code} is your {svc} code",
    "Tu código de {svc} es {code}. No lo compartas.",
    "Ваш код подтверждения {svc}: {code}. Никому его не сообщайте.",
    "【{svc}】验证码：{code}，{m}分钟内有效。",
    "Seu código {svc} é {code}",
    "Votre code {svc} est {code}. Il expire dans {m} minutes.",
    "Ihr {svc}-Bestätigungscode lautet {code}.",
    "رمز التحقق الخاص بك في {svc} هو {code}",
    "Il tuo codice {svc} è {code}",
    "{svc} doğrulama kodunuz: {code}",
    "{svc} tasdiqlash kodi: {code}",
    "Use {code} to sign in to {svc}. Visit https://{host}/login?c={n} if this wasn't you.",
    "{svc}: your login code is {code}\nValid for {m} min.\nwww.{host}/help",
    "Your {svc} order #{n} has shipped! Track it: https://{host}/t/{n}",
    "Hi! <b>{svc}</b> says: reply STOP to opt out & save {m}% today 🎉",
    "Code {alnum} for {svc} (verification code). Expires in {m} minutes.",
    "{svc} alert: a sign-in from a new device. Not you? Call {n}.",
    "\u202e{svc} {code} moc.{host}\u202c please confirm",
    "Payment of ${m}.{d2} to {svc} approved. Ref {n}.",
]
_HOSTS = ["example.com", "accounts.example.org", "sms.example.net", "t.co", "bit.ly"]
_LONG_FILLER = (
    "This is a long promotional message with plenty of text in it, sent in many parts. "
)


def _code(rng: random.Random) -> str:
    shape = rng.choice(_CODE_SHAPES)
    return shape.format(
        d3=rng.randint(100, 999), d4=rng.randint(1000, 9999), d5=rng.randint(10000, 99999),
        d6=rng.randint(100000, 999999), d8=rng.randint(10000000, 99999999),
    )


def message_text(rng: random.Random) -> str:
    """One realistic message body (about 1 in 200 longer than 1 200 characters)."""
    if rng.random() < 0.005:
        return f"{rng.choice(SENDER_IDS)}: " + _LONG_FILLER * rng.randint(15, 40) + _code(rng)
    alnum = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
    return rng.choice(_TEMPLATES).format(
        svc=rng.choice(SENDER_IDS), code=_code(rng), alnum=alnum, host=rng.choice(_HOSTS),
        n=rng.randint(10_000, 99_999_999), m=rng.randint(2, 60), d2=rng.randint(10, 99),
    )


def senders(rng: random.Random, phones: list[str]) -> Iterator[str]:
    """Raw sender addresses: sender ids, short codes and phone numbers, some without `+`."""
    while True:
        roll = rng.random()
        if roll < 0.55:
            yield rng.choice(SENDER_IDS)
        elif roll < 0.65:
            yield rng.choice(SHORT_CODES)
        else:
            phone = rng.choice(phones)
            yield phone if roll < 0.9 else phone.lstrip("+")
