"""Which service sent a message: a catalogue of brands and `detect_service(sender, text)`.

Pure: no Flask, no database. The rules, in order:

1. The sender id. An alphanumeric sender is the brand's own choice ("Google", "TELEGRAM",
   "AD-WHTSAP" in India), so a sender listed in the catalogue decides, whatever the text says.
   Generic senders ("VERIFY", "INFO", "SMS") and phone numbers are not listed and fall through.
2. The text. Keywords are matched case-insensitively, as whole words in alphabetic scripts
   ("Telegram code", "código de WhatsApp", "Ваш код ВКонтакте") and anywhere in Chinese,
   Japanese and Korean text, which has no spaces ("【腾讯科技】"). The leftmost keyword wins.
3. Ambiguous names. Brands that are also everyday words (Apple, Line, Signal, Bolt, Grab,
   Wise, Steam, …) are *weak* keywords: they count only when written with a capital ("Apple",
   "LINE", not "apple pie") in a message that carries a one-time code (`otp.extract_code`).
   Their unambiguous forms ("Apple ID", "Steam Guard") are ordinary keywords.

Linear time: only the first `MAX_SCAN` characters are read, and all keywords are one
alternation of literals with fixed-width lookarounds, compiled once (no nested quantifiers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .otp import extract_code

MAX_SCAN = 1024
_CJK = "\u2e80-\u9fff\u3040-\u30ff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
# A letter or digit of a script that separates words with spaces: a keyword touching one of
# these is part of a longer word ("googled", "xtelegram") and does not count.
_WORD_CHAR = rf"[^\W{_CJK}]"
_INDIAN_HEADER = re.compile(r"^[a-z]{2}-([a-z0-9]{3,11})(?:-[a-z])?$")


@dataclass(frozen=True)
class Service:
    """A brand whose messages we recognise."""

    slug: str
    name: str
    color: str
    senders: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()


def _s(slug: str, name: str, color: str, senders: str = "", keywords: str = "",
       weak: str = "") -> Service:
    """A catalogue entry; lists are `|`-separated so that each entry fits a line or two."""
    return Service(slug, name, color, _split(senders), _split(keywords), _split(weak))


def _split(text: str) -> tuple[str, ...]:
    return tuple(item for item in text.split("|") if item)


# fmt: off
CATALOGUE: tuple[Service, ...] = (
    _s("google", "Google", "#4285F4", "Google|Gmail|YouTube|G-Verify",
       "google|gmail|youtube|g suite|google voice|جوجل|غوغل|гугл|谷歌"),
    _s("whatsapp", "WhatsApp", "#25D366", "WhatsApp|WHTSAP|WhatsApp Business",
       "whatsapp|whats app|واتساب|واتس اب|ватсап|вотсап"),
    _s("telegram", "Telegram", "#26A5E4", "Telegram|TELEGRM",
       "telegram|телеграм|телеграмм|تيليجرام|تلغرام|تليجرام"),
    _s("facebook", "Facebook", "#0866FF", "Facebook|FB|FBOOK|Meta",
       "facebook|فيسبوك|фейсбук|脸书"),
    _s("instagram", "Instagram", "#E4405F", "Instagram|INSTA",
       "instagram|انستغرام|انستقرام|инстаграм"),
    _s("messenger", "Messenger", "#0084FF", "Messenger", "facebook messenger", "Messenger"),
    _s("amazon", "Amazon", "#FF9900", "Amazon|Amazon.com|AMZN", "amazon|amazon.com|アマゾン"),
    _s("apple", "Apple", "#6E6E73", "Apple|iCloud",
       "apple id|apple account|apple pay|icloud|apple-id", "Apple"),
    _s("microsoft", "Microsoft", "#00A4EF", "Microsoft|MSFT|Outlook|Skype|Xbox",
       "microsoft|outlook.com|hotmail|skype|xbox|microsoft 365|微软", "Outlook"),
    _s("tiktok", "TikTok", "#FE2C55", "TikTok|TIKTOK", "tiktok|tik tok|тикток|تيك توك|抖音"),
    _s("uber", "Uber", "#000000", "Uber|UBER|UberEats", "uber|uber eats"),
    _s("discord", "Discord", "#5865F2", "Discord", "discord"),
    _s("signal", "Signal", "#3A76F0", "Signal", "signal messenger", "Signal"),
    _s("paypal", "PayPal", "#003087", "PayPal|PAYPAL", "paypal"),
    _s("tinder", "Tinder", "#FF4458", "Tinder", "tinder"),
    _s("twitter", "X (Twitter)", "#000000", "Twitter|X|XCorp", "twitter|x.com|твиттер"),
    _s("snapchat", "Snapchat", "#FFFC00", "Snapchat|Snap", "snapchat"),
    _s("linkedin", "LinkedIn", "#0A66C2", "LinkedIn", "linkedin"),
    _s("netflix", "Netflix", "#E50914", "Netflix", "netflix"),
    _s("airbnb", "Airbnb", "#FF5A5F", "Airbnb", "airbnb"),
    _s("booking", "Booking.com", "#003580", "Booking|Booking.com", "booking.com"),
    _s("steam", "Steam", "#1B2838", "Steam|Valve", "steam guard|steampowered", "Steam"),
    _s("yahoo", "Yahoo", "#6001D2", "Yahoo", "yahoo"),
    _s("viber", "Viber", "#7360F2", "Viber|Rakuten Viber", "viber|вайбер"),
    _s("wechat", "WeChat", "#07C160", "WeChat|Weixin|Tencent|QQ",
       "wechat|weixin|tencent|微信|腾讯|騰訊"),
    _s("alipay", "Alipay", "#1677FF", "Alipay", "alipay|支付宝|支付寶"),
    _s("taobao", "Taobao", "#FF5000", "Taobao|Alibaba|Tmall",
       "taobao|alibaba|tmall|淘宝|淘寶|阿里巴巴|天猫"),
    _s("aliexpress", "AliExpress", "#E43225", "AliExpress", "aliexpress"),
    _s("vk", "VK", "#0077FF", "VK|VKontakte|VK.com", "vkontakte|вконтакте|vk.com|vk id", "VK"),
    _s("yandex", "Yandex", "#FC3F1D", "Yandex|Яндекс|YandexID|Yandex.Go",
       "yandex|яндекс|яндекса|яндексе|яндекс.id|яндекс id"),
    _s("sberbank", "Sberbank", "#21A038", "Sberbank|SberBank|СберБанк",
       "sberbank|сбербанк|сбербанка|сбер id|сбербанк онлайн|сбер"),
    _s("avito", "Avito", "#00AAFF", "Avito|Авито", "avito|авито"),
    _s("mailru", "Mail.ru", "#005FF9", "Mail.ru|MailRu", "mail.ru"),
    _s("openai", "OpenAI", "#10A37F", "OpenAI|ChatGPT", "openai|chatgpt"),
    _s("coinbase", "Coinbase", "#0052FF", "Coinbase", "coinbase"),
    _s("binance", "Binance", "#F0B90B", "Binance", "binance|币安"),
    _s("revolut", "Revolut", "#191C1F", "Revolut", "revolut"),
    _s("wise", "Wise", "#9FE870", "Wise|TransferWise", "transferwise|wise.com", "Wise"),
    _s("lyft", "Lyft", "#FF00BF", "Lyft", "lyft"),
    _s("bolt", "Bolt", "#34D186", "Bolt|Taxify", "taxify|bolt food|bolt.eu", "Bolt"),
    _s("glovo", "Glovo", "#FFC244", "Glovo", "glovo"),
    _s("wolt", "Wolt", "#009DE0", "Wolt", "wolt"),
    _s("doordash", "DoorDash", "#FF3008", "DoorDash", "doordash|door dash"),
    _s("deliveroo", "Deliveroo", "#00CCBC", "Deliveroo", "deliveroo"),
    _s("shopee", "Shopee", "#EE4D2D", "Shopee", "shopee"),
    _s("grab", "Grab", "#00B14F", "Grab|GrabTaxi", "grabpay|grabfood|grabtaxi", "Grab"),
    _s("line", "LINE", "#06C755", "LINE|LINEcorp", "line corporation|ラインアプリ", "LINE|Line"),
    _s("kakaotalk", "KakaoTalk", "#FEE500", "Kakao|KakaoTalk",
       "kakaotalk|kakao talk|kakao account|카카오", "Kakao"),
    _s("naver", "Naver", "#03C75A", "Naver", "naver|네이버"),
    _s("bumble", "Bumble", "#FFC629", "Bumble", "bumble app", "Bumble"),
    _s("hinge", "Hinge", "#1E1E1E", "Hinge", "hinge app", "Hinge"),
    _s("twitch", "Twitch", "#9146FF", "Twitch", "twitch.tv", "Twitch"),
    _s("reddit", "Reddit", "#FF4500", "Reddit", "reddit"),
    _s("epicgames", "Epic Games", "#313131", "EpicGames|Epic Games", "epic games|epicgames"),
    _s("blizzard", "Blizzard", "#148EFF", "Blizzard|BattleNet", "battle.net|blizzard entertainment",
       "Blizzard"),
    _s("nike", "Nike", "#111111", "Nike", "nike.com|nike app", "Nike"),
    _s("zalo", "Zalo", "#0068FF", "Zalo", "zalo"),
    _s("ebay", "eBay", "#E53238", "eBay", "ebay"),
    _s("github", "GitHub", "#181717", "GitHub", "github"),
    _s("proton", "Proton", "#6D4AFF", "Proton|ProtonMail", "protonmail|proton mail|proton account"),
    _s("truecaller", "Truecaller", "#0087FF", "Truecaller", "truecaller"),
    _s("ozon", "Ozon", "#005BFF", "Ozon|OZON.ru", "ozon.ru", "Ozon|Озон"),
    _s("wildberries", "Wildberries", "#CB11AB", "Wildberries", "wildberries|вайлдберриз"),
    _s("tbank", "T-Bank", "#FFDD2D", "Tinkoff|T-Bank|TBank", "tinkoff|тинькофф|т-банк|t-bank"),
    _s("nubank", "Nubank", "#820AD1", "Nubank", "nubank"),
    _s("mercadolibre", "Mercado Libre", "#FFE600", "MercadoLibre|MercadoPago|MELI",
       "mercado libre|mercado livre|mercado pago|mercadolibre"),
    _s("ifood", "iFood", "#EA1D2C", "iFood", "ifood"),
    _s("rappi", "Rappi", "#FF441F", "Rappi", "rappi"),
    _s("paytm", "Paytm", "#00BAF2", "Paytm|PYTM", "paytm"),
    _s("swiggy", "Swiggy", "#FC8019", "Swiggy|SWIGGY", "swiggy"),
    _s("zomato", "Zomato", "#E23744", "Zomato|ZOMATO", "zomato"),
    _s("didi", "DiDi", "#FF7F41", "DiDi", "滴滴|didi chuxing", "DiDi"),
    _s("meituan", "Meituan", "#FFC300", "Meituan", "meituan|美团"),
    _s("jd", "JD.com", "#E1251B", "JD|JD.com", "jd.com|京东"),
    _s("badoo", "Badoo", "#783BF9", "Badoo", "badoo"),
    _s("careem", "Careem", "#4AB84D", "Careem", "careem"),
)
# fmt: on

SERVICES: dict[str, Service] = {service.slug: service for service in CATALOGUE}


def normalize_sender(sender: str) -> str:
    """A sender id as the catalogue lists it: lower case, letters and digits only.

    Indian DLT headers carry a two-letter operator prefix and maybe a type suffix
    ("AD-GOOGLE", "VM-AMAZON-S"); both are dropped.
    """
    lowered = sender.strip().lower()[:64]
    if match := _INDIAN_HEADER.match(lowered):
        lowered = match.group(1)
    return "".join(ch for ch in lowered if ch.isalnum())


@cache
def _sender_index() -> dict[str, str]:
    """Normalized sender id -> slug."""
    return {normalize_sender(s): svc.slug for svc in CATALOGUE for s in svc.senders}


@cache
def _keyword_index() -> dict[str, tuple[str, bool]]:
    """Lowercase keyword -> (slug, weak)."""
    index: dict[str, tuple[str, bool]] = {}
    for svc in CATALOGUE:
        index.update({word.lower(): (svc.slug, True) for word in svc.weak})
        index.update({word.lower(): (svc.slug, False) for word in svc.keywords})
    return index


def _trie(words: list[str]) -> str:
    """Literals as one prefix tree pattern: one test per character instead of one per word.

    Each node tries longer words first, so "apple id" wins over "apple", and gives way to a
    shorter word when a boundary check after it fails; a node is at most a word long.
    """
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _emit(tree)


def _emit(node: dict[str, dict]) -> str:
    alternatives = [re.escape(ch) + _emit(child) for ch, child in sorted(node.items()) if ch]
    if not alternatives:
        return ""
    body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
    if "" not in node:
        return body
    return f"(?:{body})?" if len(alternatives) == 1 else body + "?"


@cache
def _keyword_pattern() -> re.Pattern[str]:
    """Every keyword in one compiled pattern: whole words in spaced scripts, substrings in CJK."""
    words = list(_keyword_index())
    spaced = [word for word in words if re.match(_WORD_CHAR, word[0])]
    unspaced = [word for word in words if not re.match(_WORD_CHAR, word[0])]
    return re.compile(
        f"{_trie(unspaced)}|(?<!{_WORD_CHAR}){_trie(spaced)}(?!{_WORD_CHAR})"
    )


def detect_service(sender: str, text: str) -> str | None:
    """The slug of the service that sent a message, or None when we cannot tell."""
    if slug := _sender_index().get(normalize_sender(sender or "")):
        return slug
    return detect_in_text(text or "")


def detect_in_text(text: str) -> str | None:
    """The service named first in the text (weak names only beside a one-time code)."""
    original = text[:MAX_SCAN]
    # U+0130 is the only character whose lower case is longer; it would shift offsets.
    lowered = original.replace("\u0130", "i").lower()
    index = _keyword_index()
    has_code: bool | None = None
    for match in _keyword_pattern().finditer(lowered):
        slug, weak = index[match.group()]
        if not weak:
            return slug
        if original[match.start():match.end()] == match.group():
            continue  # written all in lower case: the everyday word
        if has_code is None:
            has_code = extract_code(original) is not None
        if has_code:
            return slug
    return None


def get(slug: str) -> Service | None:
    """The service of a slug, or None."""
    return SERVICES.get(slug)


def by_name() -> list[Service]:
    """Every service, by display name."""
    return sorted(CATALOGUE, key=lambda svc: svc.name.casefold())


STYLESHEET_MARKER = (
    "/* generated by scripts/build_service_css from webapp/services.py: do not edit below */"
)


def stylesheet() -> str:
    """The colour rule of every service's chip (`.svc-<slug>`), as static/services.css holds."""
    return "".join(f".svc-{svc.slug}{{--svc:{svc.color}}}\n" for svc in CATALOGUE)
