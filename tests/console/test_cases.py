"""The queue and the case page through HTTP: rights (no IDOR), claims, replies, escaping, downloads."""

from __future__ import annotations

import asyncio
import hashlib

from sqlalchemy import select

from bot.core.messages import InboundMessage
from bot.handoff.models import AuditEvent, Case, CaseAttachment, CaseNote, Role
from bot.storage.models import Author, Conversation, ConversationMode, Direction, Message, OutboxItem, OutboxStatus
from tests.console.conftest import ConsoleHarness, login, session_csrf

XSS = '<script>alert("x")</script><img src=x onerror="alert(1)">'


async def _claim(client, case_id: int, csrf: str) -> int:  # type: ignore[no-untyped-def]
    return (await client.post(f"/console/cases/{case_id}/claim", data={"csrf_token": csrf})).status_code


async def test_queue_lists_unassigned_cases_first_by_sla_and_marks_them(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    first = await harness.patient_case("q-1")
    second = await harness.patient_case("q-2")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        page = (await client.get("/console/queue")).text
    assert page.index(f'id="case-{first.id}"') < page.index(f'id="case-{second.id}"')
    assert 'class="case-row unassigned' in page
    assert first.number is not None and first.number in page


async def test_queue_filters(harness: ConsoleHarness) -> None:
    ana = await harness.coordinator("ana@example.org")
    english = await harness.patient_case("f-en", language="en")
    russian = await harness.patient_case("f-ru", text="Мне нужен человек", language="ru")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        csrf = await session_csrf(client)
        assert await _claim(client, russian.id, csrf) == 303
        await client.post(f"/console/cases/{russian.id}/labels", data={"csrf_token": csrf, "labels": "visa, VIP"})
        by_language = (await client.get("/console/queue", params={"language": "ru"})).text
        by_label = (await client.get("/console/queue", params={"label": "vip"})).text
        mine = (await client.get("/console/queue", params={"assignee": "me"})).text
        unassigned = (await client.get("/console/queue", params={"assignee": "unassigned"})).text
        by_status = (await client.get("/console/queue", params={"status": "closed"})).text
    assert f'id="case-{russian.id}"' in by_language and f'id="case-{english.id}"' not in by_language
    assert f'id="case-{russian.id}"' in by_label and f'id="case-{english.id}"' not in by_label
    assert f'id="case-{russian.id}"' in mine and f'id="case-{english.id}"' not in mine
    assert f'id="case-{english.id}"' in unassigned and f'id="case-{russian.id}"' not in unassigned
    assert "case-row" not in by_status
    assert ana > 0


async def test_coordinator_cannot_open_a_colleagues_case_or_its_files(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    await harness.coordinator("ben@example.org")
    await harness.coordinator("boss@example.org", Role.ADMIN)
    case = await harness.patient_case("idor-1")
    async with harness.database.session() as session:
        file = CaseAttachment(case_id=case.id, filename="report.pdf", content_type="application/pdf", size=4,
                              sha256=hashlib.sha256(b"%PDF").hexdigest(), data=b"%PDF")
        session.add(file)
        await session.flush()
        file_id = file.id
    other = await harness.patient_case("idor-2")
    async with harness.client() as ana, harness.client() as ben, harness.client() as boss:
        await login(ana, "ana@example.org")
        await login(ben, "ben@example.org")
        await login(boss, "boss@example.org")
        ana_csrf, ben_csrf = await session_csrf(ana), await session_csrf(ben)
        # Unassigned: everybody sees it (the shared queue).
        assert (await ben.get(f"/console/cases/{case.id}")).status_code == 200
        assert await _claim(ana, case.id, ana_csrf) == 303
        urls = [
            f"/console/cases/{case.id}",
            f"/console/cases/{case.id}/messages",
            f"/console/cases/{case.id}/attachments/{file_id}",
            f"/console/cases/{case.id}/transcript.json",
            f"/console/cases/{case.id}/transcript.html",
            f"/console/cases/{case.id}/events",
            f"/console/queue/rows/{case.id}",
        ]
        for url in urls:
            response = await ben.get(url)
            assert response.status_code in (404, 204), (url, response.status_code)
            assert "idor-1" not in response.text
        for action, data in [("reply", {"text": "hi"}), ("notes", {"text": "n"}),
                             ("status", {"status": "closed"}), ("return-to-bot", {}),
                             ("assign", {"assignee_id": ""}), ("labels", {"labels": "x"})]:
            response = await ben.post(f"/console/cases/{case.id}/{action}", data={"csrf_token": ben_csrf, **data})
            assert response.status_code == 404, (action, response.status_code)
        # Claiming a taken case says only that it is taken (the answer to a lost race), nothing of the case.
        late = await ben.post(f"/console/cases/{case.id}/claim", data={"csrf_token": ben_csrf})
        assert late.status_code == 409 and "claimed this case first" in late.text and "idor-1" not in late.text
        # The attachment of one case cannot be fetched through another case's URL.
        assert (await ana.get(f"/console/cases/{other.id}/attachments/{file_id}")).status_code == 404
        assert (await ana.get(f"/console/cases/{case.id}/attachments/{file_id}")).status_code == 200
        # An admin sees everything.
        assert (await boss.get(f"/console/cases/{case.id}")).status_code == 200
        # The colleague's queue does not show the case any more, and search does not find it.
        assert f'id="case-{case.id}"' not in (await ben.get("/console/queue")).text
        found = (await ben.get("/console/search", params={"q": case.number})).text
        assert "Cases (0)" in found and f'href="/console/cases/{case.id}"' not in found
    async with harness.database.session() as session:
        row = await session.get(Case, case.id)
        assert row is not None and row.status.value != "closed"
        notes = (await session.execute(select(CaseNote))).scalars().all()
        assert notes == []


async def test_unclaimed_case_cannot_be_worked_before_claiming(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("claim-first")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        csrf = await session_csrf(client)
        response = await client.post(f"/console/cases/{case.id}/reply", data={"csrf_token": csrf, "text": "hi"})
        assert response.status_code == 403
        assert "Claim the case first" in response.text


async def test_simultaneous_claims_exactly_one_wins(harness: ConsoleHarness) -> None:
    emails = [f"c{i}@example.org" for i in range(4)]
    for email in emails:
        await harness.coordinator(email)
    case = await harness.patient_case("race")
    clients = [harness.client() for _ in emails]
    try:
        tokens = []
        for client, email in zip(clients, emails, strict=True):
            await login(client, email)
            tokens.append(await session_csrf(client))
        codes = await asyncio.gather(*(_claim(c, case.id, t) for c, t in zip(clients, tokens, strict=True)))
    finally:
        for client in clients:
            await client.aclose()
    assert sorted(codes) == [303, 409, 409, 409]
    async with harness.database.session() as session:
        row = await session.get(Case, case.id)
        claims = (await session.execute(select(AuditEvent).where(AuditEvent.action == "case_claimed"))).scalars()
        assert row is not None and row.assignee_id is not None
        assert len(list(claims)) == 1


async def test_reply_becomes_a_coordinator_message_queued_on_the_patients_channel(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("reply-1")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        csrf = await session_csrf(client)
        await _claim(client, case.id, csrf)
        response = await client.post(f"/console/cases/{case.id}/reply",
                                     data={"csrf_token": csrf, "text": "Hello, I am Ana, your coordinator."})
        assert response.status_code == 303
        page = (await client.get(f"/console/cases/{case.id}")).text
    assert "Hello, I am Ana, your coordinator." in page
    async with harness.database.session() as session:
        message = (await session.execute(
            select(Message).where(Message.author == Author.COORDINATOR)
        )).scalar_one()
        item = (await session.execute(select(OutboxItem).where(OutboxItem.message_id == message.id))).scalar_one()
        row = await session.get(Case, case.id)
    assert message.direction is Direction.OUTBOUND and message.conversation_id == case.conversation_id
    assert message.channel == "rest" and item.channel == "rest" and item.status is OutboxStatus.PENDING
    assert row is not None and row.first_response_at is not None


async def test_bot_silent_while_owned_then_answers_after_return_to_bot(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("owner-1")
    calls_before = len(harness.engine.calls)
    silent = await harness.runtime.conversations.handle(InboundMessage("rest", "owner-1", "are you there?"))
    assert silent.replies == [] and len(harness.engine.calls) == calls_before
    async with harness.client() as client:
        await login(client, "ana@example.org")
        csrf = await session_csrf(client)
        await _claim(client, case.id, csrf)
        page = (await client.get(f"/console/cases/{case.id}")).text
        assert "are you there?" in page  # the patient's message shows in the console
        response = await client.post(f"/console/cases/{case.id}/return-to-bot", data={"csrf_token": csrf})
        assert response.status_code == 303
    async with harness.database.session() as session:
        conversation = await session.get(Conversation, case.conversation_id)
    assert conversation is not None and conversation.mode is ConversationMode.BOT
    answered = await harness.runtime.conversations.handle(InboundMessage("rest", "owner-1", "hello again"))
    assert [r.text for r in answered.replies] == ["echo: hello again"]


async def test_resolving_gives_the_conversation_back_to_the_bot(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("resolve-1")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        csrf = await session_csrf(client)
        await _claim(client, case.id, csrf)
        response = await client.post(f"/console/cases/{case.id}/status",
                                     data={"csrf_token": csrf, "status": "resolved"})
        assert response.status_code == 303
    async with harness.database.session() as session:
        row = await session.get(Case, case.id)
        conversation = await session.get(Conversation, case.conversation_id)
    assert row is not None and row.status.value == "resolved" and row.resolved_at is not None
    assert conversation is not None and conversation.mode is ConversationMode.BOT


async def test_patient_text_is_escaped_everywhere(harness: ConsoleHarness) -> None:
    await harness.coordinator("boss@example.org", Role.ADMIN)
    case = await harness.patient_case("xss-1", text=XSS, intake={"name": XSS, "treatment": XSS})
    async with harness.client() as client:
        await login(client, "boss@example.org")
        pages = [
            (await client.get(f"/console/cases/{case.id}")).text,
            (await client.get("/console/queue")).text,
            (await client.get(f"/console/queue/rows/{case.id}")).text,
            (await client.get(f"/console/cases/{case.id}/messages")).text,
            (await client.get(f"/console/cases/{case.id}/transcript.html")).text,
            (await client.get("/console/search", params={"q": "script"})).text,
        ]
    for page in pages:
        assert '<script>alert("x")' not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;" in page
        assert 'onerror="alert' not in page


async def test_attachment_is_a_download_with_its_stored_type_never_inline_html(harness: ConsoleHarness) -> None:
    await harness.coordinator("boss@example.org", Role.ADMIN)
    case = await harness.patient_case("files-1")
    async with harness.database.session() as session:
        pdf = CaseAttachment(case_id=case.id, filename="скан отчёт.pdf", content_type="application/pdf", size=8,
                             sha256="0" * 64, data=b"%PDF-1.4")
        html = CaseAttachment(case_id=case.id, filename="x.html", content_type="text/html", size=20,
                              sha256="0" * 64, data=b"<script>1</script>")
        session.add_all([pdf, html])
        await session.flush()
        pdf_id, html_id = pdf.id, html.id
    async with harness.client() as client:
        await login(client, "boss@example.org")
        got = await client.get(f"/console/cases/{case.id}/attachments/{pdf_id}")
        evil = await client.get(f"/console/cases/{case.id}/attachments/{html_id}")
        page = (await client.get(f"/console/cases/{case.id}")).text
    assert got.content == b"%PDF-1.4"
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D1%81%D0%BA%D0%B0%D0%BD" in got.headers["content-disposition"]
    assert evil.headers["content-type"] == "application/octet-stream"
    assert evil.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in evil.headers["content-security-policy"]
    assert f"/console/cases/{case.id}/attachments/{pdf_id}" in page


async def test_notes_stay_internal(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("notes-1")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        csrf = await session_csrf(client)
        await _claim(client, case.id, csrf)
        response = await client.post(f"/console/cases/{case.id}/notes",
                                     data={"csrf_token": csrf, "text": "Prefers morning calls"})
        assert response.status_code == 303
        page = (await client.get(f"/console/cases/{case.id}")).text
    assert "Prefers morning calls" in page
    async with harness.database.session() as session:
        outbound = (await session.execute(select(Message).where(Message.direction == Direction.OUTBOUND))).scalars()
        assert all("Prefers morning calls" not in (m.text or "") for m in outbound)
        assert (await session.execute(select(OutboxItem))).first() is None


async def test_canned_answers_come_in_the_patients_language(harness: ConsoleHarness) -> None:
    from bot.kb.index import current_index

    entries = current_index().entries
    assert entries, "the knowledge base is empty"
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("canned-zh", text="我需要人工客服", language="zh")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        await _claim(client, case.id, await session_csrf(client))
        page = (await client.get(f"/console/cases/{case.id}")).text
    sample = next(e for e in entries if e.answer.get("zh"))
    first_line = sample.answer["zh"].strip().splitlines()[0][:20]
    assert 'id="canned"' in page
    assert first_line.split("{")[0] in page


async def test_search_by_number_name_label_and_message(harness: ConsoleHarness) -> None:
    await harness.coordinator("boss@example.org", Role.ADMIN)
    case = await harness.patient_case("search-1", text="Do you know the Boao pilot zone?",
                                      intake={"name": "王小明", "country": "Singapore"})
    async with harness.client() as client:
        await login(client, "boss@example.org")
        csrf = await session_csrf(client)
        await client.post(f"/console/cases/{case.id}/labels", data={"csrf_token": csrf, "labels": "oncology"})
        by_number = (await client.get("/console/search", params={"q": case.number})).text
        by_name = (await client.get("/console/search", params={"q": "小明"})).text
        by_label = (await client.get("/console/search", params={"q": "oncol"})).text
        by_text = (await client.get("/console/search", params={"q": "pilot zone"})).text
        by_country = (await client.get("/console/search", params={"q": "Singapore"})).text
    link = f'href="/console/cases/{case.id}"'
    assert all(link in page for page in (by_number, by_name, by_label, by_text))
    assert "Cases (0)" in by_country  # other intake fields are not a name
    assert "Do you know the Boao pilot zone?" in by_text


async def test_transcript_exports(harness: ConsoleHarness) -> None:
    await harness.coordinator("boss@example.org", Role.ADMIN)
    case = await harness.patient_case("export-1", text="Здравствуйте", language="ru")
    async with harness.client() as client:
        await login(client, "boss@example.org")
        as_json = await client.get(f"/console/cases/{case.id}/transcript.json")
        as_html = await client.get(f"/console/cases/{case.id}/transcript.html")
    body = as_json.json()
    assert body["case"]["number"] == case.number
    assert next(m["text"] for m in body["messages"]) == "Здравствуйте"
    assert as_json.headers["content-disposition"].startswith("attachment;")
    assert "print.css" in as_html.text and "Здравствуйте" in as_html.text
    async with harness.database.session() as session:
        actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    assert actions.count("transcript_exported") == 2


async def test_metrics_page(harness: ConsoleHarness) -> None:
    from bot.storage.models import UnansweredQuestion

    await harness.coordinator("boss@example.org", Role.ADMIN)
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("metrics-1")
    async with harness.database.session() as session:
        session.add_all([
            UnansweredQuestion(patient_id=case.patient_id, language="en", text="Can I bring my cat?"),
            UnansweredQuestion(patient_id=case.patient_id, language="en", text="can i bring my cat? "),
        ])
    async with harness.client() as boss, harness.client() as ana:
        await login(boss, "boss@example.org")
        await login(ana, "ana@example.org")
        csrf = await session_csrf(boss)
        await _claim(boss, case.id, csrf)
        await boss.post(f"/console/cases/{case.id}/reply", data={"csrf_token": csrf, "text": "Hi"})
        admin_page = (await boss.get("/console/metrics")).text
        coordinator_page = (await ana.get("/console/metrics")).text
    assert "can i bring my cat?" in admin_page
    assert '<td class="num">2</td>' in admin_page
    assert 'id="median-first-response">—' not in admin_page
    assert "bring my cat" not in coordinator_page  # patients' own words: admins only
    assert "Cases by status" in coordinator_page


async def test_unreachable_reason_is_shown_prominently(harness: ConsoleHarness) -> None:
    from bot.storage.models import Patient

    await harness.coordinator("boss@example.org", Role.ADMIN)
    case = await harness.patient_case("blocked-1")
    async with harness.database.session() as session:
        patient = await session.get(Patient, case.patient_id)
        assert patient is not None
        patient.unreachable_reason = "Telegram: the patient blocked the bot <b>"
    async with harness.client() as client:
        await login(client, "boss@example.org")
        page = (await client.get(f"/console/cases/{case.id}")).text
        queue = (await client.get("/console/queue")).text
    assert 'class="alert" role="alert"' in page
    assert "Telegram: the patient blocked the bot &lt;b&gt;" in page
    assert "unreachable" in queue
