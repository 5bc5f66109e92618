"""Which service sent a message: the catalogue and `detect_service`, tested bare (no app)."""

from __future__ import annotations

import pathlib
import re
import time

import pytest

from webapp import services
from webapp.services import detect_service

ROOT = pathlib.Path(__file__).resolve().parent.parent

# (sender as the carrier gave it, text, service): real message shapes, many languages.
BY_SENDER = [
    ("Google", "G-482913 is your Google verification code.", "google"),
    ("GOOGLE", "G-112233 est votre code de validation Google.", "google"),
    ("YouTube", "Your YouTube verification code is 553311", "google"),
    ("WhatsApp", "Your WhatsApp code: 123-456\nDon't share this code with others", "whatsapp"),
    ("TELEGRAM", "Telegram code: 58213", "telegram"),
    ("Facebook", "Your code is 246810", "facebook"),
    ("Instagram", "Use 552 014 to verify your Instagram account.", "instagram"),
    ("Amazon", "Your Amazon OTP is 338190. Do not share it with anyone.", "amazon"),
    ("Apple", "Your Apple Account code is: 712345. Do not share it with anyone.", "apple"),
    ("Microsoft", "Use 90417 as Microsoft account security code", "microsoft"),
    ("TikTok", "[TikTok] 804 112 is your verification code", "tiktok"),
    ("Uber", "Your Uber code is 4821. Never share this code.", "uber"),
    ("Discord", "Your Discord security code is: 667301", "discord"),
    ("PayPal", "PayPal: Your security code is 204871. Your code expires in 10 minutes.", "paypal"),
    ("Tinder", "Your Tinder code is 841192", "tinder"),
    ("LINE", "LINE：認証番号 5512", "line"),
    ("Bolt", "Your Bolt code is 7788", "bolt"),
    ("Grab", "<#> Your Grab verification code is 3391", "grab"),
    ("Signal", "Your Signal code: 381-204", "signal"),
    ("AD-GOOGLE", "G-778812 is your Google verification code", "google"),
    ("VM-AMAZON-S", "123456 is your Amazon OTP. Do not share it.", "amazon"),
    ("JM-WHTSAP", "Your WhatsApp code 221-904", "whatsapp"),
    ("Яндекс", "Код подтверждения: 4418", "yandex"),
]

BY_TEXT = [
    ("+447400123456", "Telegram code: 58213\n\nDo not give this code to anyone!", "telegram"),
    ("+34600000000", "Tu código de WhatsApp es 123-456. No lo compartas.", "whatsapp"),
    ("+5511999999999", "Seu código do WhatsApp: 654-321", "whatsapp"),
    ("+4915123450000", "Ihr Google-Bestätigungscode lautet 771204.", "google"),
    ("VERIFY", "G-482913 is your Google verification code.", "google"),
    ("7777", "Ваш код ВКонтакте: 12345", "vk"),
    ("+79000000000", "VK: 443322 — код для входа в аккаунт", "vk"),
    ("+79000000001", "Код для входа в Яндекс ID: 901233", "yandex"),
    ("900", "СберБанк Онлайн. Никому не сообщайте код: 55123", "sberbank"),
    ("+79000000002", "Код подтверждения для Авито: 1244", "avito"),
    ("+79000000003", "Код для входа в Mail.ru: 553190", "mailru"),
    ("106575", "【腾讯科技】您的验证码是123456，请勿泄露。", "wechat"),
    ("106900", "【微信】验证码：654321", "wechat"),
    ("95188", "【支付宝】校验码 228833，请勿告诉他人。", "alipay"),
    ("106511", "【淘宝网】验证码 119922，5分钟内有效。", "taobao"),
    ("+8613800000000", "【抖音】验证码 8812，用于登录。", "tiktok"),
    ("+971501234567", "رمز واتساب الخاص بك: 123-456", "whatsapp"),
    ("+971501234568", "رمز التحقق من تيليجرام: 99812", "telegram"),
    ("+12025550100", "Your OpenAI verification code is 882211", "openai"),
    ("+12025550101", "Your ChatGPT code is 552200", "openai"),
    ("+12025550102", "Coinbase: Your verification code is 3344551", "coinbase"),
    ("+12025550103", "[Binance] Your verification code: 782341", "binance"),
    ("+447400000001", "Revolut: your verification code is 123-456", "revolut"),
    ("+447400000002", "Your Wise verification code is 512 233", "wise"),
    ("+12025550104", "Your Lyft code is 5523", "lyft"),
    ("+34600000001", "Tu código de Glovo es 8812", "glovo"),
    ("+358400000000", "Your Wolt login code is 441122", "wolt"),
    ("+12025550105", "DoorDash: Your verification code is 773322", "doordash"),
    ("+447400000003", "Your Deliveroo verification code is 4412", "deliveroo"),
    ("+6281234567890", "[Shopee] Kode verifikasi Anda 221144", "shopee"),
    ("+6591234567", "Your GrabPay code is 9911", "grab"),
    ("+821012345678", "[카카오톡] 인증번호 [482913]를 입력해주세요.", "kakaotalk"),
    ("+821012345679", "[네이버] 인증번호 [551200]를 입력해 주세요.", "naver"),
    ("+12025550106", "Your Bumble code is 4432", "bumble"),
    ("+12025550107", "Your Hinge verification code is 221100", "hinge"),
    ("+12025550108", "Your Twitch verification code is 447211", "twitch"),
    ("+12025550109", "Your Reddit verification code is 662299", "reddit"),
    ("+12025550110", "Your Epic Games security code is 110022", "epicgames"),
    ("+12025550111", "Your Battle.net security code: 88213", "blizzard"),
    ("+12025550112", "Your Nike verification code is 332211", "nike"),
    ("+84912345678", "Ma xac thuc Zalo cua ban la 4491", "zalo"),
    ("+12025550113", "Your Snapchat code is 882 002. Happy Snapping!", "snapchat"),
    ("+12025550114", "Your LinkedIn verification code is 552211.", "linkedin"),
    ("+12025550115", "Your Netflix verification code is 2291", "netflix"),
    ("+12025550116", "Airbnb security code: 339201. Don't share it.", "airbnb"),
    ("+12025550117", "Booking.com: your verification code is 442211", "booking"),
    ("+12025550118", "Your Steam Guard code is 7XK2M", "steam"),
    ("+12025550119", "Yahoo: your account key is 99122", "yahoo"),
    ("+12025550120", "Your Viber code is 4412", "viber"),
    ("+12025550121", "Your Apple ID code is: 123456. Don't share it.", "apple"),
    ("+12025550122", "Twitter: 445566 is your verification code.", "twitter"),
    ("+12025550123", "Your Facebook Messenger code is 441299", "messenger"),
    ("+12025550124", "Your Outlook security code is 221177", "microsoft"),
    ("+12025550125", "Your Signal verification code: 911-204", "signal"),
    ("+12025550126", "Your Steam code is 55XKQ", "steam"),
    ("+12025550127", "Use 112233 to log in to your LINE account.", "line"),
]

NOT_A_SERVICE = [
    ("+12025550143", "Hey, running 10 min late, save me a seat!"),
    ("+12025550144", "apple pie recipe: 3 apples, bake 45 minutes"),
    ("+12025550145", "Apple pie is ready, come home"),
    ("+12025550146", "No signal in the tunnel, call you back"),
    ("+12025550147", "Stay in line, your table will be ready soon. Code 4412"),
    ("+12025550148", "Bolt the door tonight please"),
    ("+12025550149", "grab some milk on your way, code for the gate is 4411"),
    ("+12025550150", "Be wise, stay safe"),
    ("+12025550151", "steam the broccoli for 5 min"),
    ("+12025550152", "Your verification code is 552211"),
    ("VERIFY", "Your code is 882211"),
    ("INFO", "Your parcel will arrive tomorrow"),
    ("+12025550153", "I googled it, telegrammed is not a word"),
    ("+12025550154", "Blizzard warning for tonight, stay home"),
    ("+12025550155", ""),
]


@pytest.mark.parametrize(("sender", "text", "slug"), BY_SENDER)
def test_the_sender_id_names_the_service(sender: str, text: str, slug: str) -> None:
    assert detect_service(sender, text) == slug


@pytest.mark.parametrize(("sender", "text", "slug"), BY_TEXT)
def test_the_text_names_the_service_in_any_language(sender: str, text: str, slug: str) -> None:
    assert detect_service(sender, text) == slug


@pytest.mark.parametrize(("sender", "text"), NOT_A_SERVICE)
def test_everyday_words_and_generic_senders_name_no_service(sender: str, text: str) -> None:
    assert detect_service(sender, text) is None


def test_at_least_thirty_services_are_detected_by_these_tests() -> None:
    detected = {slug for _, _, slug in BY_SENDER + BY_TEXT}

    assert len(detected) >= 30, sorted(detected)


def test_the_sender_wins_over_a_service_named_in_the_text() -> None:
    assert detect_service("Uber", "Your WhatsApp code is 1234") == "uber"


def test_the_first_service_named_in_the_text_wins() -> None:
    text = "Your Glovo code is 8812. Get the app on Google Play."

    assert detect_service("+34600000001", text) == "glovo"


def test_the_longer_name_wins_where_two_start_together() -> None:
    assert detect_service("+1", "Your Apple ID code is 123456") == "apple"
    assert detect_service("+1", "Facebook Messenger: code 441299") == "messenger"


def test_a_name_inside_a_longer_word_does_not_count() -> None:
    assert detect_service("+1", "xtelegram code 1234") is None
    assert detect_service("+1", "Telegrams code 1234") is None


def test_names_touching_chinese_text_count() -> None:
    assert detect_service("+86", "您的Telegram验证码是 5521") == "telegram"


def test_weak_names_need_a_code_and_a_capital() -> None:
    assert detect_service("+1", "Apple: your code is 654321") == "apple"
    assert detect_service("+1", "apple: your code is 654321") is None
    assert detect_service("+1", "Apple: see you at noon") is None


def test_turkish_dotted_capital_i_does_not_shift_the_scan() -> None:
    assert detect_service("+90", "İİİİ Telegram kodunuz: 55123") == "telegram"


def test_only_the_start_of_a_huge_text_is_read_and_quickly() -> None:
    far = "a " * services.MAX_SCAN + "Telegram code 1234"
    hostile = "Apple " * 50_000 + "x" * 100_000

    started = time.perf_counter()
    assert detect_service("+1", far) is None
    detect_service("+1", hostile)
    assert time.perf_counter() - started < 0.5


def test_none_or_empty_values_are_no_service() -> None:
    assert detect_service("", "") is None
    assert detect_service(None, None) is None  # type: ignore[arg-type]


def test_normalize_sender_drops_indian_operator_prefixes_and_punctuation() -> None:
    assert services.normalize_sender("AD-GOOGLE") == "google"
    assert services.normalize_sender("VM-AMAZON-S") == "amazon"
    assert services.normalize_sender("Amazon.com") == "amazoncom"
    assert services.normalize_sender(" Epic Games ") == "epicgames"


# The catalogue


def test_the_catalogue_has_forty_services_or_more_with_unique_slugs() -> None:
    slugs = [svc.slug for svc in services.CATALOGUE]

    assert len(slugs) >= 40
    assert len(set(slugs)) == len(slugs)
    assert services.SERVICES.keys() == set(slugs)


@pytest.mark.parametrize("svc", services.CATALOGUE, ids=lambda svc: svc.slug)
def test_every_entry_is_well_formed(svc: services.Service) -> None:
    assert re.fullmatch(r"[a-z0-9]{1,32}", svc.slug)  # a URL segment, a CSS class, String(32)
    assert re.fullmatch(r"#[0-9A-F]{6}", svc.color)
    assert svc.name and svc.senders
    assert svc.keywords or svc.weak


def test_no_sender_id_or_keyword_belongs_to_two_services() -> None:
    senders: dict[str, str] = {}
    words: dict[str, str] = {}
    for svc in services.CATALOGUE:
        for sender in svc.senders:
            key = services.normalize_sender(sender)
            assert senders.setdefault(key, svc.slug) == svc.slug, sender
        for word in svc.keywords + svc.weak:
            assert words.setdefault(word.lower(), svc.slug) == svc.slug, word


def test_every_service_is_found_by_its_own_sender_id() -> None:
    for svc in services.CATALOGUE:
        assert detect_service(svc.senders[0], "hello") == svc.slug


def test_get_and_by_name() -> None:
    assert services.get("telegram").name == "Telegram"
    assert services.get("nope") is None
    names = [svc.name.casefold() for svc in services.by_name()]
    assert names == sorted(names)


def test_the_committed_stylesheet_matches_the_catalogue() -> None:
    """Run scripts/build_service_css after changing a colour or adding a service."""
    css = (ROOT / "static" / "services.css").read_text(encoding="utf-8")
    _, marker, generated = css.partition(services.STYLESHEET_MARKER)

    assert marker, "the marker line of static/services.css is missing"
    assert generated.lstrip("\n") == services.stylesheet()
    assert ".svc-telegram{--svc:#26A5E4}" in generated
