"""The Telegram channel in webhook mode: real HTTP into the app, the real PTB library out to a fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.telegram_commands import CONSENT_NOTICE
from bot.channels.telegram_render import MAX_CALLBACK_BYTES, utf16_units
from bot.channels.telegram_updates import PLEASE_TYPE, UNSUPPORTED
from bot.core.messages import Button, OutboundMessage
from bot.core.replies import send_to_patient
from bot.handoff.attachments import TOO_LARGE, WRONG_TYPE
from bot.handoff.models import Case, CaseAttachment, CaseTrigger
from bot.i18n import t
from bot.storage.models import Conversation, Message, OutboxItem, OutboxStatus, Patient, utcnow
from tests.channels.fake_telegram import (
    FakeTelegram,
    callback_update,
    member_update,
    message_update,
    text_update,
)
from tests.channels.telegram_harness import ClosableEngine, RunningApp, running_app

CHAT = 5550001


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


# Verification --------------------------------------------------------------------------------------

async def test_secret_mismatch_is_refused_and_nothing_is_stored(database_url: str, fake: FakeTelegram) -> None:
    async with running_app(database_url, fake) as app:
        wrong = await app.post(text_update(1, CHAT, "hello"), secret="not-the-secret-at-all-000")
        missing = await app.post(text_update(2, CHAT, "hello"), secret=None)
        assert (wrong.status_code, missing.status_code) == (403, 403)
        assert await app.count(Message) == 0
        assert await app.count(Patient) == 0
        assert app.engine.calls == []
        assert fake.requests("sendMessage") == []


async def test_malformed_json_is_a_400(database_url: str, fake: FakeTelegram) -> None:
    async with running_app(database_url, fake) as app:
        broken = await app.post(None, raw=b'{"update_id": 1, "message": ')
        not_an_update = await app.post({"message": {"text": "no update id"}})
        not_a_message = await app.post({"update_id": 3, "message": {"text": "no chat, no date"}})
        assert broken.status_code == 400 and broken.json()["error"] == "invalid_json"
        assert not_an_update.status_code == 400
        assert not_a_message.status_code == 400
        assert await app.count(Message) == 0


# Delivery semantics -----------------------------------------------------------------------------------

async def test_update_delivered_three_times_is_answered_once(database_url: str, fake: FakeTelegram) -> None:
    async with running_app(database_url, fake) as app:
        update = text_update(10, CHAT, "Hello there")
        responses = await asyncio.gather(*(app.post(update) for _ in range(3)))
        assert [r.status_code for r in responses] == [200, 200, 200]
        again = await app.post(update)
        assert again.status_code == 200
        await asyncio.sleep(0.3)  # give a wrongly queued second reply time to appear
        assert fake.texts(CHAT) == ["echo: Hello there"]
        assert len(app.engine.calls) == 1


async def test_ten_fast_messages_from_one_chat_are_answered_in_order(database_url: str, fake: FakeTelegram) -> None:
    # Earlier replies take longer at the Bot API: only a channel that keeps the chat in order
    # (sending each reply before answering the next message) keeps the replies in order.
    fake.delay = lambda method, params: (
        0.03 * (10 - int(str(params["text"]).split()[-1])) if method == "sendMessage" else 0.0
    )
    async with running_app(database_url, fake) as app:
        async def send(n: int) -> int:
            await asyncio.sleep(0.005 * n)  # concurrent, overlapping requests in sending order
            return (await app.post(text_update(100 + n, CHAT, f"message {n}"))).status_code

        statuses = await asyncio.gather(*(send(n) for n in range(10)))
        assert statuses == [200] * 10
        assert fake.texts(CHAT) == [f"echo: message {n}" for n in range(10)]
        assert [call[1] for call in app.engine.calls] == [f"message {n}" for n in range(10)]


async def test_429_is_retried_through_the_outbox_after_retry_after(database_url: str, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", 1, status=429, retry_after=1)
    async with running_app(database_url, fake) as app:
        response = await app.post(text_update(20, CHAT, "Are you there?"))
        assert response.status_code == 200
        await fake.wait_for(lambda: len(fake.sent(CHAT)) == 1, timeout=10)
        attempts = fake.requests("sendMessage")
        assert [c.status for c in attempts] == [429, 200]
        assert attempts[1].at - attempts[0].at >= 0.95  # honoured retry_after (1 s)
        assert fake.texts(CHAT) == ["echo: Are you there?"]
        sent = OutboxItem.status == OutboxStatus.SENT
        for _ in range(100):  # the outbox commits just after the Bot API answered
            if await app.count(OutboxItem, sent, OutboxItem.channel == "telegram") == 1:
                break
            await asyncio.sleep(0.05)
        assert await app.count(OutboxItem) == await app.count(OutboxItem, sent) == 1


async def test_blocked_user_is_marked_unreachable(database_url: str, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", 1, status=403)
    async with running_app(database_url, fake) as app:
        response = await app.post(text_update(30, CHAT, "hello"))
        assert response.status_code == 200
        patient = await app.patient(CHAT)
        assert patient is not None and patient.unreachable_reason is not None
        assert "blocked" in patient.unreachable_reason
        assert fake.sent(CHAT) == []


async def test_blocked_user_on_a_coordinator_reply_fails_the_outbox_item(
    database_url: str, fake: FakeTelegram
) -> None:
    async with running_app(database_url, fake) as app:
        await app.post(text_update(31, CHAT, "hello"))
        patient = await app.patient(CHAT)
        assert patient is not None and patient.unreachable_reason is None
        conversation_id = await _conversation_id(app, patient.id)
        fake.fail_next("sendMessage", 1, status=403)
        await send_to_patient(
            app.runtime.database, app.runtime.events, app.runtime.outbox, conversation_id,
            OutboundMessage(text="A coordinator writes"),
        )
        await fake.wait_for(lambda: len(fake.requests("sendMessage")) == 2)
        failed = OutboxItem.status == OutboxStatus.FAILED
        for _ in range(100):  # the outbox commits just after the Bot API answered
            if await app.count(OutboxItem, failed) == 1:
                break
            await asyncio.sleep(0.05)
        async with app.runtime.database.session() as session:
            item = (await session.execute(select(OutboxItem))).scalar_one()
            patient = await session.get(Patient, patient.id)
        assert item.status == OutboxStatus.FAILED
        assert patient is not None and "blocked" in (patient.unreachable_reason or "")


async def test_my_chat_member_kicked_and_restarted_updates_reachability(
    database_url: str, fake: FakeTelegram
) -> None:
    async with running_app(database_url, fake) as app:
        await app.post(text_update(32, CHAT, "hello"))
        assert (await app.post(member_update(33, CHAT, "kicked"))).status_code == 200
        patient = await app.patient(CHAT)
        assert patient is not None and patient.unreachable_reason == "bot was blocked by the user"
        assert (await app.post(member_update(34, CHAT, "member"))).status_code == 200
        patient = await app.patient(CHAT)
        assert patient is not None and patient.unreachable_reason is None


async def test_coordinator_reply_arrives_in_the_chat(database_url: str, fake: FakeTelegram) -> None:
    async with running_app(database_url, fake) as app:
        await app.post(text_update(40, CHAT, "I need help"))
        patient = await app.patient(CHAT)
        assert patient is not None
        conversation_id = await _conversation_id(app, patient.id)
        await send_to_patient(
            app.runtime.database, app.runtime.events, app.runtime.outbox, conversation_id,
            OutboundMessage(text="Hello, I am Li from the coordination team."),
        )
        await fake.wait_for(lambda: "Hello, I am Li from the coordination team." in fake.texts(CHAT))
        assert fake.texts(CHAT) == ["echo: I need help", "Hello, I am Li from the coordination team."]


# Rendering ---------------------------------------------------------------------------------------------

async def test_long_text_is_split_on_paragraphs_and_special_characters_arrive_verbatim(
    database_url: str, fake: FakeTelegram
) -> None:
    paragraphs = [f"Paragraph {n}: " + ("*bold* _x_ <b>&amp; [a](b) `c` " * 60) for n in range(6)]
    long_text = "\n\n".join(paragraphs)
    engine = ClosableEngine(lambda sender, text, metadata: [OutboundMessage(text=long_text)])
    async with running_app(database_url, fake, engine) as app:
        await app.post(text_update(50, CHAT, "tell me everything"))
        sent = fake.sent(CHAT)
        assert len(sent) >= 3
        assert all(utf16_units(str(p["text"])) <= 4096 for p in sent)
        assert all("parse_mode" not in p for p in sent)
        assert "\n\n".join(str(p["text"]) for p in sent) == long_text
        assert all(str(p["text"]).startswith("Paragraph") for p in sent)


async def test_buttons_become_an_inline_keyboard_and_a_press_sends_the_payload(
    database_url: str, fake: FakeTelegram
) -> None:
    long_payload = '/inform{"treatment": "' + "proton therapy for a long named condition " * 3 + '"}'

    def answer(sender: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        if text == "menu":
            return [OutboundMessage(text="Choose", buttons=[Button("Visa", "/ask_visa"), Button("Long", long_payload)])]
        return [OutboundMessage(text=f"got {text}")]

    async with running_app(database_url, fake, ClosableEngine(answer)) as app:
        await app.post(text_update(60, CHAT, "menu"))
        keyboard = fake.sent(CHAT)[0]["reply_markup"]["inline_keyboard"]
        data = [row[0]["callback_data"] for row in keyboard]
        assert [row[0]["text"] for row in keyboard] == ["Visa", "Long"]
        assert data[0] == "p:/ask_visa"
        assert all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in data)
        assert long_payload not in data[1]

        pressed = callback_update(61, CHAT, data[1], query_id="q-61")
        assert (await app.post(pressed)).status_code == 200
        assert (await app.post(pressed)).status_code == 200  # redelivered: nothing more
        assert app.engine.calls[-1][1] == long_payload
        assert fake.texts(CHAT)[-1] == f"got {long_payload}"
        answered = fake.requests("answerCallbackQuery")
        assert [c.params["callback_query_id"] for c in answered] == ["q-61"]
        assert len(fake.sent(CHAT)) == 2

        await app.post(callback_update(62, CHAT, data[0]))
        assert app.engine.calls[-1][1] == "/ask_visa"

        await app.post(callback_update(63, CHAT, "k:unknownkey0000000000"))
        assert fake.texts(CHAT)[-1].startswith("This button is no longer available")
        assert len(app.engine.calls) == 3


async def test_start_sends_the_greet_payload_then_the_consent_card_with_topics(
    database_url: str, fake: FakeTelegram
) -> None:
    async with running_app(database_url, fake) as app:
        await app.post(text_update(70, CHAT, "/start", language_code="ru"))
        assert app.engine.calls[0][1] == "/greet"
        sent = fake.sent(CHAT)
        assert len(sent) == 2
        card = sent[1]
        assert t("ru", CONSENT_NOTICE) in str(card["text"])
        assert t("ru", CONSENT_NOTICE) != CONSENT_NOTICE  # really localized
        payloads = [row[0]["callback_data"] for row in card["reply_markup"]["inline_keyboard"]]
        assert "p:/ask_visa" in payloads and "p:/request_human" in payloads
        stored = [m.custom for m in await app.messages() if m.custom and "telegram_card" in m.custom]
        assert stored == [{"telegram_card": "start"}]

        await app.post(text_update(71, CHAT, "/human@medconcierge_test_bot", language_code="ru"))
        await app.post(text_update(72, CHAT, "/status"))
        await app.post(text_update(73, CHAT, "/language"))
        await app.post(text_update(74, CHAT, "/nonsense"))
        assert [c[1] for c in app.engine.calls[1:]] == ["/request_human", "/ask_status", "/change_language", "/greet"]


async def test_language_code_is_the_language_hint(database_url: str, fake: FakeTelegram) -> None:
    async with running_app(database_url, fake) as app:
        await app.post(text_update(80, CHAT, "12", language_code="ko-KR"))  # no letters: the hint decides
        assert app.engine.calls[0][2]["language"] == "ko"
        assert app.engine.calls[0][2]["channel"] == "telegram"


# Files -------------------------------------------------------------------------------------------------

async def test_photo_reaches_the_open_case(database_url: str, fake: FakeTelegram) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"scan of a report" * 100
    fake.add_file("photo-large", jpeg, "photos/file_7.jpg")
    async with running_app(database_url, fake) as app:
        case_id = await _open_case(app, CHAT)
        photo = [
            {"file_id": "photo-small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 100},
            {"file_id": "photo-large", "file_unique_id": "l", "width": 1280, "height": 960, "file_size": len(jpeg)},
        ]
        response = await app.post(message_update(90, CHAT, photo=photo, caption="my MRI report"))
        assert response.status_code == 200
        async with app.runtime.database.session() as session:
            rows = list((await session.execute(select(CaseAttachment))).scalars())
        assert [(r.case_id, r.content_type, r.data) for r in rows] == [(case_id, "image/jpeg", jpeg)]
        assert fake.texts(CHAT) == [t("en", "Thank you, I added {filename} to your case.", filename=rows[0].filename)]
        assert [c.params["file_id"] for c in fake.requests("getFile")] == ["photo-large"]


async def test_pdf_document_reaches_the_case_and_a_refused_type_is_never_downloaded(
    database_url: str, fake: FakeTelegram
) -> None:
    pdf = b"%PDF-1.4 discharge summary"
    fake.add_file("doc-pdf", pdf, "documents/file_1.pdf")
    async with running_app(database_url, fake) as app:
        await _open_case(app, CHAT)
        document = {"file_id": "doc-pdf", "file_unique_id": "d", "file_name": "summary.pdf",
                    "mime_type": "application/pdf", "file_size": len(pdf)}
        await app.post(message_update(91, CHAT, document=document))
        exe = {"file_id": "doc-exe", "file_unique_id": "e", "file_name": "tool.exe",
               "mime_type": "application/x-msdownload", "file_size": 10}
        await app.post(message_update(92, CHAT, document=exe))
        huge = {"file_id": "doc-huge", "file_unique_id": "h", "file_name": "scan.pdf",
                "mime_type": "application/pdf", "file_size": 50 * 1024 * 1024}
        await app.post(message_update(93, CHAT, document=huge))
        assert await app.count(CaseAttachment) == 1
        texts = fake.texts(CHAT)
        assert texts[0] == t("en", "Thank you, I added {filename} to your case.", filename="summary.pdf")
        assert texts[1:] == [t("en", WRONG_TYPE), t("en", TOO_LARGE, limit_mb=20)]
        assert [c.params["file_id"] for c in fake.requests("getFile")] == ["doc-pdf"]


async def test_voice_and_sticker_get_please_type_in_the_patients_language(
    database_url: str, fake: FakeTelegram
) -> None:
    async with running_app(database_url, fake) as app:
        voice = {"file_id": "v", "file_unique_id": "v", "duration": 3}
        update = message_update(95, CHAT, language_code="ru", voice=voice)
        for _ in range(2):  # a redelivered voice update gets one notice
            assert (await app.post(update)).status_code == 200
        sticker = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False}
        await app.post(message_update(96, CHAT, language_code="ru", sticker=sticker))
        video = {"file_id": "vid", "file_unique_id": "vid", "width": 1, "height": 1, "duration": 1}
        await app.post(message_update(97, CHAT, language_code="ru", video=video))
        expected = [t("ru", PLEASE_TYPE), t("ru", PLEASE_TYPE), t("ru", UNSUPPORTED)]
        assert fake.texts(CHAT) == expected
        assert expected[0] != PLEASE_TYPE and expected[2] != UNSUPPORTED  # really localized
        assert app.engine.calls == []


# Chats and updates the bot does not answer ------------------------------------------------------------

async def test_edits_groups_and_channel_posts_are_acknowledged_and_ignored(
    database_url: str, fake: FakeTelegram
) -> None:
    async with running_app(database_url, fake) as app:
        updates = [
            message_update(200, CHAT, kind="edited_message", text="hello (edited)"),
            message_update(201, -100123, chat_type="supergroup", text="hello group"),
            message_update(202, -100456, chat_type="channel", kind="channel_post", text="news"),
            {"update_id": 203, "inline_query": {"id": "iq", "query": "visa", "offset": "",
                                                 "from": {"id": CHAT, "is_bot": False, "first_name": "Pat"}}},
        ]
        for update in updates:
            assert (await app.post(update)).status_code == 200
        assert fake.requests("sendMessage") == []
        assert await app.count(Message) == 0


# Helpers -----------------------------------------------------------------------------------------------

async def _conversation_id(app: RunningApp, patient_id: int) -> int:
    async with app.runtime.database.session() as session:
        query = select(Conversation.id).where(Conversation.patient_id == patient_id)
        return int((await session.execute(query)).scalar_one())


async def _open_case(app: RunningApp, chat_id: int) -> int:
    """A patient of this chat with an open case, created directly with the handoff models."""
    async with app.runtime.database.session() as session:
        patient = Patient(channel="telegram", external_id=str(chat_id), language="en")
        session.add(patient)
        await session.flush()
        conversation = Conversation(patient_id=patient.id)
        session.add(conversation)
        await session.flush()
        case = Case(
            number=f"MC-T-{chat_id}", patient_id=patient.id, conversation_id=conversation.id, channel="telegram",
            language="en", trigger=CaseTrigger.REQUEST_HUMAN, sla_due_at=utcnow() + timedelta(hours=24),
        )
        session.add(case)
        await session.flush()
        return case.id
