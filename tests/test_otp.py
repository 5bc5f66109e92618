"""Tests for one-time code detection in SMS bodies."""

import random

import pytest

from webapp.otp import extract_code, find_code_span

POSITIVE = [
    # English
    ("Your Uber code: 0082", "0082"),
    ("G-482913 is your Google verification code.", "482913"),
    ("123-456", "123456"),
    ("123 456", "123456"),
    ("Telegram code: 60412", "60412"),
    ("Your Microsoft account code is 8842", "8842"),
    ("WhatsApp code 123-456", "123456"),
    ("482913 is your Instagram code. Don't share it.", "482913"),
    ("Your verification code is 1234 5678", "12345678"),
    ("PIN: 4821", "4821"),
    ("Your OTP for txn of Rs 1500.00 is 482913", "482913"),
    ("Your verification code for account 1234567890 is 4821", "4821"),
    ("Your code 123456 expires at 12:30 on 01.02.2025", "123456"),
    ("Order 55821 shipped. Your login code: 7731", "7731"),
    ("Your code is 4821. Valid until 2025", "4821"),
    ("Your code: 2024", "2024"),
    ("Use 4821 to sign in", "4821"),
    ("Your Steam Guard code: K7QX9", "K7QX9"),
    ("Your code: AB12CD", "AB12CD"),
    ("Code: ab12cd", "ab12cd"),
    ("Amazon: Your one-time passcode is 392011.", "392011"),
    # Spanish
    ("Tu código de WhatsApp es 284-193", "284193"),
    ("Tu codigo de verificacion es 5512. No lo compartas.", "5512"),
    ("Su clave de acceso: 77123", "77123"),
    # Russian
    ("Код подтверждения: 7731. Никому не сообщайте", "7731"),
    ("Ваш код для входа 58 раз не нужен: 902341", "902341"),
    ("Пароль: 4417. Списано 1500 руб", "4417"),
    # Chinese / Japanese / Korean
    ("【腾讯】验证码：583920，5分钟内有效", "583920"),
    ("【支付宝】校验码 771203，请勿泄露", "771203"),
    ("您的动态码为449102，10分钟内有效。", "449102"),
    ("認証コード：381920", "381920"),
    ("[Web발신] 인증번호 [482913]를 입력해주세요", "482913"),
    # Portuguese
    ("Seu código de verificação é 558201", "558201"),
    ("Sua senha temporária: 3391", "3391"),
    # French
    ("Votre code de vérification est 482 913", "482913"),
    ("Ne partagez pas ce code : 7745", "7745"),
    # German
    ("Ihr Bestätigungscode lautet 839201", "839201"),
    ("Dein Code: 4451-8812", "44518812"),
    # Arabic
    ("رمز التحقق الخاص بك هو 4821", "4821"),
    ("كود التفعيل: 66120", "66120"),
    # Italian, Turkish, Uzbek
    ("Il tuo codice di verifica è 663311", "663311"),
    ("Doğrulama kodunuz: 123456", "123456"),
    ("Tasdiqlash kodi: 4455", "4455"),
]

NEGATIVE = [
    "Your package has shipped",
    "+44 7700 900123",
    "Sale 50% off until 2025-12-01",
    "$1234",
    "Payment of $1234 received",
    "Списано 1500 руб",
    "Total: 1234 €",
    "Call us at +7 (495) 123-45-67",
    "Call 555-1234",
    "Meet me at 12:30",
    "Delivery on 12/05/2025",
    "Happy New Year 2025!",
    "Don't share this code with anyone. © 2025 Example Inc",
    "Track it at https://example.com/t/123456",
    "Use promo code 1234 for 10% off",
    "Model AB12CD is back in stock",
    "Download 1234.jpg from the share",
    "Card 4111 1111 1111 1111 charged",
    "Reply STOP to opt out",
    "",
]


@pytest.mark.parametrize(("message", "expected"), POSITIVE)
def test_extract_code_finds_the_code(message: str, expected: str) -> None:
    assert extract_code(message) == expected


@pytest.mark.parametrize("message", NEGATIVE)
def test_extract_code_returns_none_without_a_code(message: str) -> None:
    assert extract_code(message) is None
    assert find_code_span(message) is None


@pytest.mark.parametrize(("message", "expected"), POSITIVE)
def test_span_text_without_separators_is_the_code(message: str, expected: str) -> None:
    span = find_code_span(message)
    assert span is not None
    start, end = span
    written = message[start:end]
    assert written.replace("-", "").replace(" ", "").replace(".", "") == expected
    # The span is exactly the code: no surrounding separators or prefix.
    assert written[0].isalnum() and written[-1].isalnum()


def test_span_excludes_letter_prefix() -> None:
    message = "G-482913 is your Google verification code."
    assert find_code_span(message) == (2, 8)


def test_span_includes_inner_separator() -> None:
    message = "Tu código de WhatsApp es 284-193"
    start, end = find_code_span(message) or (0, 0)
    assert message[start:end] == "284-193"


def test_keyword_proximity_beats_position() -> None:
    message = "Ref 55821. Some text here. Your code is 7731"
    assert extract_code(message) == "7731"


def test_year_loses_to_real_code() -> None:
    assert extract_code("Code valid in 2025: 482913") == "482913"


def test_digits_win_over_words_far_from_keyword() -> None:
    assert extract_code("Your account user123 code 482913") == "482913"


PATHOLOGICAL = [
    ("(" * 100_000, None),
    ("1" * 100_000, None),
    ("a1" * 50_000, None),
    ("code" * 25_000, None),
    ("1 " * 50_000, None),
    ("1234-" * 20_000, None),
    ("http://" * 14_000, None),
    ("Your code: 482913 " + "(" * 100_000, "482913"),
    ("код 1234 " * 11_000, "1234"),
    ("code AB12 " * 10_000, "AB12"),
]


@pytest.mark.parametrize(
    ("message", "expected"), PATHOLOGICAL, ids=[f"case{i}" for i in range(len(PATHOLOGICAL))]
)
def test_pathological_inputs_give_correct_results(message: str, expected: str | None) -> None:
    assert extract_code(message) == expected


def test_random_mixes_keep_the_span_contract() -> None:
    rng = random.Random(20250101)
    alphabet = "0123456789 -.:/+$code(a1Z验证码：\n"
    for _ in range(20):
        message = "".join(rng.choice(alphabet) for _ in range(5_000))
        code = extract_code(message)
        span = find_code_span(message)
        if span is None:
            assert code is None
            continue
        written = message[span[0] : span[1]]
        assert code == written.replace("-", "").replace(" ", "").replace(".", "")
        assert code is not None and 4 <= len(code) <= 10
