"""The demo: numbers in the countries visitors ask for most, fed through the real webhooks.

Every message goes through `POST /webhooks/<provider>` like a carrier's would (signed
when the provider's secret is configured), so the demo exercises verification, parsing,
code detection, sanitizing and exactly-once storage. Message ids derive from the content,
so running the demo again provisions nothing twice and stores nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import func, or_, select
from standardwebhooks.webhooks import Webhook

from .extensions import db
from .models import Message
from .numbers.queries import number_by_e164
from .numbers.service import provision
from .phone import region_of
from .providers.twilio import signature
from .timeutil import rfc3339

# E.164           provider: the webhook its messages arrive through
NUMBERS: tuple[tuple[str, str], ...] = (
    ("+12025550143", "twilio"),
    ("+13125550187", "generic"),
    ("+447457123890", "twilio"),
    ("+447418362901", "generic"),
    ("+34622184937", "generic"),
    ("+573154827391", "generic"),
    ("+998935217846", "generic"),
    ("+385915307284", "generic"),
    ("+8613812764590", "generic"),
    ("+79167248315", "generic"),
    ("+4917623849156", "generic"),
    ("+33644873215", "generic"),
    ("+5511961234567", "twilio"),
    ("+919820417365", "generic"),
)

_LONG_NHS = (
    "NHS: Reminder of your appointment at Riverside Medical Centre, 14 Station Road, on "
    "Tuesday 18 June at 10:40 with Dr Patel (GP). Please arrive 10 minutes early and bring a "
    "list of your current medication. If you cannot attend, reply CANCEL or call the surgery on "
    "020 7946 0321 so that the slot can be offered to another patient. Missed appointments cost "
    "the NHS over 200 million pounds a year. Thank you."
)

# Per number: (sender as the carrier gives it, text); long texts are wrapped, not cut.
MESSAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "+12025550143": (
        ("Google", "G-482913 is your Google verification code."),
        ("262966", "Your Amazon OTP is 618204. Do not share it with anyone."),
        ("827222", "Your Uber code: 4821. Never share this code. Reply STOP ALL to unsubscribe."),
        ("24643", "Your Discord security code is: 902 114"),
        ("WhatsApp", "Your WhatsApp code: 731-904\nDon't share this code with others"),
    ),
    "+13125550187": (
        ("Microsoft", "Use 8315 as Microsoft account security code"),
        ("Apple", "Your Apple Account code is: 492017. Don't share it with "
                  "anyone.\n\n@apple.com #492017"),
        ("729725", "PayPal: Your security code is 583716. Your code expires in 10 minutes. "
                   "Please don't reply."),
        ("+14155550199", "Your Tinder code is 719204. Don't share"),
        ("TikTok", "[TikTok] 362918 is your verification code, valid for 5 minutes. To keep "
                   "your account safe, never forward this code."),
        ("262966", "Amazon: your package will be delivered today by 8 PM. Track it: "
                   "https://www.amazon.com/progress-tracker/package/"),
    ),
    "+447457123890": (
        ("Google", "G-715302 is your Google verification code."),
        ("Instagram", "Use 284 519 to verify your Instagram account."),
        ("32665", "FB-39217 is your Facebook confirmation code"),
        ("Monzo", "Your Monzo login code is 193847. Don't share it with anyone, even Monzo staff."),
        ("NHS", _LONG_NHS),
    ),
    "+447418362901": (
        ("TELEGRAM", "Telegram code: 48213\n\nYou can also tap on this link to log "
                     "in:\nhttps://t.me/login/48213\n\nDo not give this code to anyone, even "
                     "if they say they are from Telegram!"),
        ("Uber", "Your Uber code: 5127. Never share this code."),
        ("Deliveroo", "Your Deliveroo verification code is 6021"),
    ),
    "+34622184937": (
        ("WhatsApp", "Tu código de WhatsApp es 284-193\nNo compartas este código con nadie."),
        ("Google", "G-603518 es tu código de verificación de Google."),
        ("TELEGRAM", "Código de Telegram: 51964\n\nNo se lo des a nadie, ni aunque digan que "
                     "son de Telegram."),
        ("BBVA", "BBVA: El código para confirmar tu operación es 830462. No lo compartas con "
                 "nadie."),
    ),
    "+573154827391": (
        ("85954", "Nequi: Tu clave dinámica es 418302. No la compartas con nadie, ni siquiera "
                  "con nosotros."),
        ("85540", "Bancolombia le informa que su clave dinamica es 903117. Recuerde no "
                  "compartirla con nadie."),
        ("Rappi", "Rappi: tu código de verificación es 4826. ¡Parce, no se lo compartas a nadie!"),
        ("32665", "FB-61742 es tu código de confirmación de Facebook"),
    ),
    "+998935217846": (
        ("CLICK", "Sizning tasdiqlash kodingiz: 582931. Kodni hech kimga bermang!"),
        ("Payme", "Payme: tasdiqlash kodi 748210. Uni hech kimga aytmang."),
        ("Telegram", "Telegram kodi: 39482. Bu kodni hech kimga bermang, hatto ular "
                     "Telegramdan ekanliklarini aytishsa ham!"),
        ("Uzum", "Uzum Market: kirish kodi 9051. Kodni hech kimga aytmang."),
    ),
    "+385915307284": (
        ("Google", "G-284103 je vaš Googleov kôd za potvrdu."),
        ("Zaba", "Vaš m-zaba autorizacijski kôd je 739 520. Ne dijelite ga ni s kim."),
        ("Bolt", "Vaš Bolt kôd je 5219. Ne dijelite ga ni s kim."),
        ("WhatsApp", "Vaš WhatsApp kôd: 418-662. Ne dijelite ovaj kôd s drugima."),
    ),
    "+8613812764590": (
        ("1069070069", "【腾讯科技】验证码：583920，5分钟内有效，请勿泄露。"),
        ("95188", "【支付宝】验证码734281，您正在登录支付宝，请勿告诉他人。"),
        ("1069009088", "【淘宝】您的验证码是918364，10分钟内有效。如非本人操作，请忽略本短信。"),
        ("1069118888", "【京东】验证码：402715，您正在登录京东账户，切勿告知他人。"),
    ),
    "+79167248315": (
        ("VK", "VK: 518 204 — код для входа. Никому его не говорите."),
        ("Yandex", "Ваш код подтверждения: 4821. Наберите его в поле ввода. Яндекс"),
        ("900", "Никому не сообщайте код 73920! Вход в СберБанк Онлайн."),
        ("Gosuslugi", "Код подтверждения: 382019. Никому не говорите его. Госуслуги"),
        ("OZON.ru", "Код для входа в Ozon: 614902. Никому не сообщайте."),
    ),
    "+4917623849156": (
        ("Google", "G-913502 ist dein Bestätigungscode von Google."),
        ("WhatsApp", "Dein WhatsApp-Code: 629-114. Gib diesen Code nicht an Dritte weiter."),
        ("Sparkasse", "Sparkasse: Ihre TAN für die Überweisung über 49,90 EUR lautet 824613."),
        ("DHL", "Ihre DHL Sendung kommt heute zwischen 13:00 und 15:00. Verfolgen: "
                "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html"),
    ),
    "+33644873215": (
        ("Instagram", "Utilisez 482 017 pour vérifier votre compte Instagram."),
        ("leboncoin", "Votre code de validation leboncoin est : 5821"),
        ("Doctolib", "Doctolib : votre code de confirmation est 730194. Il expire dans 10 "
                     "minutes."),
        ("Microsoft", "Utilisez le code 6083 pour le compte Microsoft"),
    ),
    "+5511961234567": (
        ("WhatsApp", "Seu código do WhatsApp: 571-320. Não compartilhe este código com ninguém."),
        ("iFood", "iFood: seu código de verificação é 4729. Não compartilhe."),
        ("Nubank", "Nubank: Seu código de acesso é 318402. Nunca compartilhe esse código."),
    ),
    "+919820417365": (
        ("VM-PAYTMB", "582014 is your OTP for login to Paytm. Valid for 10 min. Do not share "
                      "with anyone. -Paytm"),
        ("JD-SWIGGY", "Your Swiggy OTP is 7391. Do not share it with anyone."),
    ),
}

_PROVIDER_OF = dict(NUMBERS)
_SECRET = {"generic": "GENERIC_WEBHOOK_SECRET", "twilio": "TWILIO_AUTH_TOKEN"}


class DemoError(RuntimeError):
    """The demo cannot post its messages, with what the operator should do."""


@dataclass(frozen=True)
class DemoSummary:
    """What a demo run provisioned and posted."""

    numbers: int
    new_numbers: int
    countries: int
    messages: int
    new_messages: int


def demo_messages() -> list[tuple[str, str, str, str]]:
    """Every demo message as (provider, to, sender, text)."""
    return [
        (_PROVIDER_OF[to], to, sender, text)
        for to, messages in MESSAGES.items()
        for sender, text in messages
    ]


def message_id(provider: str, to: str, sender: str, text: str) -> str:
    """A stable provider message id derived from the content (Twilio's look like `SM` + 32 hex)."""
    digest = hashlib.sha256(f"{to}|{sender}|{text}".encode()).hexdigest()
    return "SM" + digest[:32] if provider == "twilio" else "demo_" + digest[:24]


def _secret(provider: str) -> str | None:
    """The configured secret of a provider the demo posts to, or None."""
    return current_app.config["PROVIDER_SECRETS"].get(_SECRET[provider]) or None


def check_can_post() -> None:
    """Refuse before changing anything when a provider would refuse unsigned requests."""
    if current_app.config["WEBHOOK_ALLOW_UNSIGNED"]:
        return
    missing = [_SECRET[p] for p in sorted(set(_PROVIDER_OF.values())) if not _secret(p)]
    if missing:
        raise DemoError(
            f"{' and '.join(missing)} not set and unsigned webhooks are refused: set "
            "WEBHOOK_ALLOW_UNSIGNED=1, or set the secrets so that the demo signs its requests"
        )


def provision_numbers() -> int:
    """Provision the demo numbers not provisioned yet (retired ones stay retired); how many."""
    new = 0
    for e164, provider in NUMBERS:
        if number_by_e164(e164) is None:
            provision(e164, provider)
            new += 1
    return new


def _generic_signature(msg_id: str, moment: datetime, body: str) -> str:
    """The Standard Webhooks signature with the first configured key."""
    secret = _secret("generic") or ""
    try:
        return Webhook(secret.split()[0]).sign(msg_id, moment, body)
    except Exception as exc:  # the library raises several kinds for a bad key
        raise DemoError(f"GENERIC_WEBHOOK_SECRET is not a usable whsec_ key: {exc}") from None


def _post_generic(client: FlaskClient, to: str, sender: str, text: str) -> int:
    """POST one message in our Standard Webhooks format; the HTTP status."""
    msg_id = message_id("generic", to, sender, text)
    moment = datetime.fromtimestamp(int(current_app.config["CLOCK"]()), tz=UTC)
    data = {"id": msg_id, "from": sender, "to": to, "text": text}
    body = json.dumps({"type": "sms.received", "timestamp": rfc3339(moment), "data": data},
                      ensure_ascii=False)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(moment.timestamp()))}
    if _secret("generic"):
        headers["webhook-signature"] = _generic_signature(msg_id, moment, body)
    response = client.post("/webhooks/generic", data=body.encode(), headers=headers,
                           content_type="application/json")
    return response.status_code


def _post_twilio(client: FlaskClient, to: str, sender: str, text: str) -> int:
    """POST one message as Twilio's form webhook; the HTTP status."""
    form = {"MessageSid": message_id("twilio", to, sender, text), "From": sender, "To": to,
            "Body": text}
    headers = {}
    token = _secret("twilio")
    if token:
        url = current_app.config["SITE_URL"] + "/webhooks/twilio"
        headers["X-Twilio-Signature"] = signature(token, url, list(form.items()))
    return client.post("/webhooks/twilio", data=form, headers=headers).status_code


def post_messages() -> int:
    """Post every demo message through its number's webhook; how many were posted."""
    client = current_app.test_client()
    post = {"generic": _post_generic, "twilio": _post_twilio}
    messages = demo_messages()
    for provider, to, sender, text in messages:
        status = post[provider](client, to, sender, text)
        if not 200 <= status < 300:
            raise DemoError(f"/webhooks/{provider} answered {status} for a message to {to}")
    return len(messages)


def stored_demo_messages() -> int:
    """How many of the demo messages are stored."""
    ids: dict[str, list[str]] = {provider: [] for provider in _SECRET}
    for provider, to, sender, text in demo_messages():
        ids[provider].append(message_id(provider, to, sender, text))
    matches = [(Message.provider == p) & Message.provider_id.in_(i) for p, i in ids.items()]
    return db.session.scalar(select(func.count()).select_from(Message).where(or_(*matches)))


def run_demo() -> DemoSummary:
    """Provision the demo numbers and post the demo messages; what changed."""
    check_can_post()
    new_numbers = provision_numbers()
    before = stored_demo_messages()
    posted = post_messages()
    new_messages = stored_demo_messages() - before
    countries = len({region_of(e164) for e164, _ in NUMBERS})
    return DemoSummary(len(NUMBERS), new_numbers, countries, posted, new_messages)
