"""WeChat turns: the 5-second rule, retries answered once, numbered options, media, events, delivery errors."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from bot.channels.wechat_client import OUTSIDE_WINDOW
from bot.channels.wechat_inbound import CONSENT_NOTICE, MENU_GONE, PLEASE_TYPE, WELCOME
from bot.channels.wechat_render import MAX_MESSAGE_BYTES
from bot.core.messages import Button, OutboundMessage
from bot.core.replies import send_to_patient
from bot.handoff.models import Case, CaseAttachment, CaseTrigger
from bot.i18n import t
from bot.storage.models import Conversation, Message, OutboxItem, OutboxStatus, Patient, utcnow
from tests.channels.wechat_fixtures import (
    WeChatApp,
    fake_wechat,
    slow_engine,
    wechat_app,
    wechat_app_any_db,
    wechat_overrides,
)
from tests.channels.wechat_requests import message_xml, reply_content

__all__ = ["fake_wechat", "slow_engine", "wechat_app", "wechat_app_any_db", "wechat_overrides"]


async def _patient(app: WeChatApp, openid: str) -> Patient:
    async with app.runtime.database.session() as session:
        query = select(Patient).where(Patient.channel == "wechat", Patient.external_id == openid)
        return (await session.execute(query)).scalar_one()


async def test_a_retried_msgid_is_answered_once(wechat_app_any_db: WeChatApp) -> None:
    app = wechat_app_any_db
    answers = [await app.say("openid-retry", "hello", 9001) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    # WeChat retries only when it did not get the passive reply: each retry gets the same one.
    assert len({reply_content(a.text) for a in answers}) == 1
    assert len(app.engine.calls) == 1
    assert await app.count(Message) == 2
    await asyncio.sleep(0.3)
    assert app.fake.sent_texts() == []


async def test_a_slow_answer_goes_out_by_the_customer_service_api_once(wechat_app: WeChatApp) -> None:
    wechat_app.engine.delay = 2.5  # the passive window in these tests is 1.5 s
    started = time.monotonic()
    first = await wechat_app.say("openid-slow", "hello slowly", 9101)
    assert first.text == "success"
    assert time.monotonic() - started < 2.2
    # WeChat's retries, one while the turn still runs and one after the answer went out.
    assert (await wechat_app.say("openid-slow", "hello slowly", 9101)).text == "success"
    sent = await wechat_app.fake.until_sent(1, "openid-slow")
    assert sent == ["echo: hello slowly"]
    assert (await wechat_app.say("openid-slow", "hello slowly", 9101)).text == "success"
    await asyncio.sleep(1.0)
    assert wechat_app.fake.sent_texts("openid-slow") == ["echo: hello slowly"]
    assert len(wechat_app.engine.calls) == 1
    async with wechat_app.runtime.database.session() as session:
        items = list((await session.execute(select(OutboxItem))).scalars())
    assert [item.status for item in items] == [OutboxStatus.SENT]


async def test_concurrent_retries_of_a_slow_message_produce_one_answer(wechat_app: WeChatApp) -> None:
    wechat_app.engine.delay = 2.0
    responses = await asyncio.gather(*(wechat_app.say("openid-burst", "hi", 9201) for _ in range(3)))
    assert [r.text for r in responses] == ["success"] * 3
    await wechat_app.fake.until_sent(1, "openid-burst")
    await asyncio.sleep(1.0)
    assert wechat_app.fake.sent_texts("openid-burst") == ["echo: hi"]
    assert len(wechat_app.engine.calls) == 1


async def test_a_long_answer_is_split_under_the_text_limit(wechat_app: WeChatApp) -> None:
    paragraph = "签证办理需要提前准备材料。" * 40  # 520 characters, 1560 bytes
    wechat_app.engine.answer = lambda *_: [OutboundMessage(text=f"{paragraph}\n\n{paragraph}\n\n{paragraph}")]
    response = await wechat_app.say("openid-long", "visa?", 9301)
    assert response.text == "success"  # too long for one passive reply
    sent = await wechat_app.fake.until_sent(3, "openid-long")
    assert len(sent) == 3
    assert all(len(piece.encode()) <= MAX_MESSAGE_BYTES for piece in sent)
    assert "".join(sent) == paragraph * 3


async def test_buttons_become_numbered_options_and_a_number_picks_the_payload(wechat_app: WeChatApp) -> None:
    def answer(_sender: str, text: str, _meta: dict[str, Any]) -> list[OutboundMessage]:
        if text == "help":
            buttons = [Button("Visa", "/ask_visa"), Button("Payment", "/ask_payment")]
            return [OutboundMessage(text="What do you need?", buttons=buttons)]
        return [OutboundMessage(text=f"got {text}")]

    wechat_app.engine.answer = answer
    offered = reply_content((await wechat_app.say("openid-opt", "help", 9401)).text)
    assert offered == "What do you need?\n1. Visa\n2. Payment"
    picked = reply_content((await wechat_app.say("openid-opt", "２", 9402)).text)
    assert picked == "got /ask_payment"
    # The options are spent once a reply without options was given: "2" is plain text again.
    assert reply_content((await wechat_app.say("openid-opt", "2", 9403)).text) == "got 2"
    assert [call[1] for call in wechat_app.engine.calls] == ["help", "/ask_payment", "2"]


async def test_subscribe_gets_a_welcome_and_consent_notice_in_chinese_unless_known(wechat_app: WeChatApp) -> None:
    event = message_xml("openid-new", "event", Event="subscribe", EventKey="")
    text = reply_content((await wechat_app.post(event)).text)
    assert text == t("zh", WELCOME) + "\n\n" + t("zh", CONSENT_NOTICE)
    assert text != WELCOME + "\n\n" + CONSENT_NOTICE  # really translated
    await wechat_app.say("openid-known", "Здравствуйте, мне нужна виза", 9501)
    event = message_xml("openid-known", "event", Event="subscribe", EventKey="")
    assert reply_content((await wechat_app.post(event)).text).startswith(t("ru", WELCOME))


async def test_menu_clicks_map_to_intents(wechat_app: WeChatApp) -> None:
    click = message_xml("openid-menu", "event", Event="CLICK", EventKey="/ask_visa")
    response = await wechat_app.post(click)
    assert reply_content(response.text) == "echo: /ask_visa"
    assert wechat_app.engine.calls[0][1:] == ("/ask_visa", {"language": "zh", "channel": "wechat"})
    # The same event retried (same FromUserName + CreateTime) is one turn.
    assert reply_content((await wechat_app.post(click)).text) == "echo: /ask_visa"
    assert len(wechat_app.engine.calls) == 1
    unknown = message_xml("openid-menu", "event", Event="CLICK", EventKey="/drop_tables")
    assert reply_content((await wechat_app.post(unknown)).text) == t("zh", MENU_GONE)
    assert len(wechat_app.engine.calls) == 1


async def test_voice_uses_recognition_or_asks_to_type(wechat_app: WeChatApp) -> None:
    recognized = message_xml("openid-voice", "voice", MediaId="m1", Format="amr", Recognition="我需要签证", MsgId=9601)
    assert reply_content((await wechat_app.post(recognized)).text) == "echo: 我需要签证"
    silent = message_xml("openid-voice2", "voice", MediaId="m2", Format="amr", MsgId=9602)
    assert reply_content((await wechat_app.post(silent)).text) == t("zh", PLEASE_TYPE)


async def test_location_link_and_unknown_types_get_polite_replies(wechat_app: WeChatApp) -> None:
    location = message_xml("openid-misc", "location", Location_X="39.9", Location_Y="116.4", Scale=15,
                           Label="Beijing", MsgId=9701)
    assert reply_content((await wechat_app.post(location)).text)
    link = message_xml("openid-misc", "link", Title="Visa rules 2026", Description="d", Url="https://x", MsgId=9702)
    assert reply_content((await wechat_app.post(link)).text) == "echo: Visa rules 2026"
    video = message_xml("openid-misc", "video", MediaId="v", ThumbMediaId="t", MsgId=9703)
    assert reply_content((await wechat_app.post(video)).text)
    unsubscribe = message_xml("openid-misc", "event", Event="unsubscribe")
    assert (await wechat_app.post(unsubscribe)).text == "success"


async def test_an_image_reaches_the_open_case(wechat_app: WeChatApp) -> None:
    await wechat_app.say("openid-img", "hello", 9801)
    patient = await _patient(wechat_app, "openid-img")
    async with wechat_app.runtime.database.session() as session:
        conversation = (await session.execute(
            select(Conversation).where(Conversation.patient_id == patient.id))).scalar_one()
        session.add(Case(patient_id=patient.id, conversation_id=conversation.id, channel="wechat", language="en",
                         trigger=CaseTrigger.REQUEST_HUMAN, sla_due_at=utcnow()))
    image = b"\x89PNG\r\n\x1a\n" + b"scan" * 100
    wechat_app.fake.add_media("media-1", image, "image/png")
    xml = message_xml("openid-img", "image", PicUrl="http://x/p.png", MediaId="media-1", MsgId=9802)
    response = await wechat_app.post(xml)
    assert "to your case" in reply_content(response.text)
    async with wechat_app.runtime.database.session() as session:
        stored = list((await session.execute(select(CaseAttachment))).scalars())
    assert [(a.content_type, a.data) for a in stored] == [("image/png", image)]


async def test_token_expiry_mid_send_refreshes_once_and_delivers(wechat_app: WeChatApp) -> None:
    await wechat_app.say("openid-tok", "hello", 9901)
    patient = await _patient(wechat_app, "openid-tok")
    runtime = wechat_app.runtime
    conversation_id = await _conversation_id(wechat_app, patient.id)
    await send_to_patient(runtime.database, runtime.events, runtime.outbox, conversation_id,
                          OutboundMessage(text="first from a coordinator"))
    assert await wechat_app.fake.until_sent(1, "openid-tok") == ["first from a coordinator"]
    wechat_app.fake.expire_tokens()
    await send_to_patient(runtime.database, runtime.events, runtime.outbox, conversation_id,
                          OutboundMessage(text="second after expiry"))
    sent = await wechat_app.fake.until_sent(2, "openid-tok")
    assert sent == ["first from a coordinator", "second after expiry"]
    assert wechat_app.fake.state.tokens_issued == 2
    assert [code for _path, code in wechat_app.fake.state.rejected_calls] == [42001]


async def test_outside_the_48_hour_window_marks_the_patient_unreachable(wechat_app: WeChatApp) -> None:
    await wechat_app.say("openid-48h", "hello", 9951)
    patient = await _patient(wechat_app, "openid-48h")
    runtime = wechat_app.runtime
    wechat_app.fake.fail_next_sends(45015)
    await send_to_patient(runtime.database, runtime.events, runtime.outbox, await _conversation_id(
        wechat_app, patient.id), OutboundMessage(text="are you there?"))
    for _ in range(100):
        patient = await _patient(wechat_app, "openid-48h")
        if patient.unreachable_reason:
            break
        await asyncio.sleep(0.05)
    assert patient.unreachable_reason == OUTSIDE_WINDOW
    async with runtime.database.session() as session:
        item = (await session.execute(select(OutboxItem))).scalar_one()
    assert item.status == OutboxStatus.FAILED
    assert wechat_app.fake.sent_texts("openid-48h") == []


async def test_api_quota_backs_off_without_losing_the_reply(wechat_app: WeChatApp) -> None:
    await wechat_app.say("openid-quota", "hello", 9961)
    patient = await _patient(wechat_app, "openid-quota")
    runtime = wechat_app.runtime
    wechat_app.fake.fail_next_sends(45009)
    await send_to_patient(runtime.database, runtime.events, runtime.outbox, await _conversation_id(
        wechat_app, patient.id), OutboundMessage(text="later"))
    for _ in range(100):
        async with runtime.database.session() as session:
            item = (await session.execute(select(OutboxItem))).scalar_one()
        if item.attempts:
            break
        await asyncio.sleep(0.05)
    assert item.status == OutboxStatus.PENDING
    assert "45009" in (item.last_error or "")
    wait = item.next_attempt_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert wait.total_seconds() > 200


async def _conversation_id(app: WeChatApp, patient_id: int) -> int:
    async with app.runtime.database.session() as session:
        query = select(Conversation.id).where(Conversation.patient_id == patient_id)
        return int((await session.execute(query)).scalar_one())


async def test_an_engine_outage_apology_is_passive_and_stored(wechat_app: WeChatApp) -> None:
    wechat_app.engine.down = True
    response = await wechat_app.say("openid-down", "hello, is anybody there?", 9971)
    apology = "Sorry, I cannot answer right now. Your message is saved and I will reply as soon as I can."
    assert reply_content(response.text) == t("en", apology)
    assert await wechat_app.count(Message) == 2


async def test_a_database_outage_is_503_and_wechats_retry_is_answered_once(wechat_app: WeChatApp) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    database = wechat_app.runtime.database
    broken = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    database.sessions = async_sessionmaker(broken, expire_on_commit=False)
    assert (await wechat_app.say("openid-outage", "hello", 9981)).status_code == 503
    await broken.dispose()
    database.sessions = async_sessionmaker(database.engine, expire_on_commit=False)
    retried = await wechat_app.say("openid-outage", "hello", 9981)
    assert reply_content(retried.text) == "echo: hello"
    assert len(wechat_app.engine.calls) == 1


async def test_a_deferred_turn_that_fails_is_retried_and_answered_once(
    wechat_app: WeChatApp, monkeypatch: Any
) -> None:
    from bot.channels import wechat as wechat_module

    monkeypatch.setattr(wechat_module, "LATE_RETRY_SECONDS", 0.1)
    service = wechat_app.runtime.conversations
    real_handle = service.handle
    failures = [RuntimeError("redis: too many connections")]

    async def flaky_handle(inbound: Any) -> Any:
        await asyncio.sleep(2.0)  # past the 1.5 s passive window
        if failures:
            raise failures.pop()
        return await real_handle(inbound)

    monkeypatch.setattr(service, "handle", flaky_handle)
    assert (await wechat_app.say("openid-flaky", "hello", 9991)).text == "success"
    assert await wechat_app.fake.until_sent(1, "openid-flaky", timeout=15) == ["echo: hello"]
    await asyncio.sleep(0.5)
    assert wechat_app.fake.sent_texts("openid-flaky") == ["echo: hello"]
