"""Login, logout, sessions, CSRF and lockout of the console, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from bot.console.security import token_digest
from bot.handoff.models import ConsoleSession, Coordinator, LoginAttempt, Role
from bot.storage.models import utcnow
from tests.console.conftest import PASSWORD, ConsoleHarness, csrf_of, login, session_csrf


async def test_pages_need_a_login(harness: ConsoleHarness) -> None:
    async with harness.client() as client:
        page = await client.get("/console/queue", headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/console/login"
        fragment = await client.get("/console/queue/rows/1")
        assert fragment.status_code == 401


async def test_login_sets_a_hardened_cookie_and_stores_only_the_token_hash(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.client() as client:
        response = await login(client, "Ana@Example.org")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/queue"
        cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "mc_session=" in v)
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie
        token = client.cookies["mc_session"]
        async with harness.database.session() as session:
            stored = list((await session.execute(select(ConsoleSession))).scalars())
        assert [s.token_hash for s in stored] == [token_digest(token)]
        assert token not in {s.token_hash for s in stored}
        page = await client.get("/console/queue")
        assert page.status_code == 200
        assert "Queue" in page.text


async def test_secure_cookie_flag_follows_the_setting(database_url: str, engine: object) -> None:
    from tests.console.conftest import build_harness

    built = build_harness(database_url, engine)  # type: ignore[arg-type]
    built.runtime.settings.console.secure_cookies = True
    try:
        await built.coordinator("ana@example.org")
        async with built.client("https://testserver") as client:
            response = await login(client, "ana@example.org")
        assert response.status_code == 303
        cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "mc_session=" in v)
        assert "Secure" in cookie
    finally:
        await built.database.dispose()


async def test_wrong_password_is_refused(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.client() as client:
        response = await login(client, "ana@example.org", "not the password")
        assert response.status_code == 401
        assert "Wrong e-mail or password" in response.text
        assert "mc_session" not in client.cookies


async def test_login_form_needs_its_own_token(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.client() as client:
        response = await client.post("/console/login", data={"email": "ana@example.org", "password": PASSWORD})
        assert response.status_code == 403
        assert "mc_session" not in client.cookies


async def test_lockout_after_five_failures_even_with_the_right_password(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.client() as client:
        for _ in range(5):
            assert (await login(client, "ana@example.org", "wrong password!")).status_code == 401
        locked = await login(client, "ana@example.org", PASSWORD)
        assert locked.status_code == 429
        assert "Too many failed attempts" in locked.text
        assert "mc_session" not in client.cookies
    # Once the failures are older than the window, the right password works again.
    async with harness.database.session() as session:
        await session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(seconds=301)))
    async with harness.client() as client:
        assert (await login(client, "ana@example.org", PASSWORD)).status_code == 303


async def test_four_failures_do_not_lock(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.client() as client:
        for _ in range(4):
            await login(client, "ana@example.org", "wrong password!")
        assert (await login(client, "ana@example.org", PASSWORD)).status_code == 303
    async with harness.database.session() as session:
        failures = (await session.execute(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
        )).scalar_one()
    assert failures == 4


async def test_unknown_email_and_inactive_account_are_refused(harness: ConsoleHarness) -> None:
    coordinator_id = await harness.coordinator("old@example.org")
    async with harness.database.session() as session:
        await session.execute(update(Coordinator).where(Coordinator.id == coordinator_id).values(active=False))
    async with harness.client() as client:
        assert (await login(client, "nobody@example.org")).status_code == 401
        assert (await login(client, "old@example.org")).status_code == 401


async def test_post_without_or_with_a_wrong_csrf_token_is_rejected(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("csrf-patient")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        token = await session_csrf(client)
        missing = await client.post(f"/console/cases/{case.id}/claim", data={})
        wrong = await client.post(f"/console/cases/{case.id}/claim", data={"csrf_token": token[:-2] + "xx"})
        wrong_header = await client.post(f"/console/cases/{case.id}/claim", headers={"X-CSRF-Token": "nope"})
        assert (missing.status_code, wrong.status_code, wrong_header.status_code) == (403, 403, 403)
        async with harness.database.session() as session:
            assert (await session.get(type(case), case.id)).assignee_id is None  # type: ignore[union-attr]
        right = await client.post(f"/console/cases/{case.id}/claim", data={"csrf_token": token})
        assert right.status_code == 303
        logout_without = await client.post("/console/logout", data={})
        assert logout_without.status_code == 403


async def test_another_sessions_token_does_not_pass(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    await harness.coordinator("ben@example.org")
    case = await harness.patient_case("csrf-cross")
    async with harness.client() as ana, harness.client() as ben:
        await login(ana, "ana@example.org")
        await login(ben, "ben@example.org")
        bens_token = await session_csrf(ben)
        response = await ana.post(f"/console/cases/{case.id}/claim", data={"csrf_token": bens_token})
        assert response.status_code == 403


async def test_logout_ends_the_server_side_session(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        token = client.cookies["mc_session"]
        csrf = await session_csrf(client)
        response = await client.post("/console/logout", data={"csrf_token": csrf})
        assert response.status_code == 303
        async with harness.database.session() as session:
            assert (await session.execute(select(func.count()).select_from(ConsoleSession))).scalar_one() == 0
        # The old cookie no longer works, even if a client kept it.
        client.cookies.set("mc_session", token)
        assert (await client.get("/console/queue")).status_code == 401


async def test_expired_session_is_refused(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        async with harness.database.session() as session:
            await session.execute(update(ConsoleSession).values(expires_at=utcnow() - timedelta(minutes=1)))
        assert (await client.get("/console/queue")).status_code == 401


async def test_security_headers_on_console_pages(harness: ConsoleHarness) -> None:
    async with harness.client() as client:
        page = await client.get("/console/login")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "onclick" not in page.text and "<script>" not in page.text


async def test_admin_pages_refuse_coordinators(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        csrf = await session_csrf(client)
        assert (await client.get("/console/admin/coordinators")).status_code == 403
        assert (await client.get("/console/audit")).status_code == 403
        created = await client.post("/console/admin/coordinators", data={
            "csrf_token": csrf, "email": "evil@example.org", "password": "x" * 6 + "abcdef", "role": "admin"})
        assert created.status_code == 403
    async with harness.database.session() as session:
        assert (await session.execute(select(Coordinator).where(Coordinator.email == "evil@example.org"))
                ).scalar_one_or_none() is None


async def test_admin_manages_coordinators(harness: ConsoleHarness) -> None:
    await harness.coordinator("boss@example.org", Role.ADMIN)
    async with harness.client() as admin:
        await login(admin, "boss@example.org")
        csrf = await session_csrf(admin)
        weak = await admin.post("/console/admin/coordinators", data={
            "csrf_token": csrf, "email": "new@example.org", "password": "short", "role": "coordinator"})
        assert weak.status_code == 422
        created = await admin.post("/console/admin/coordinators", data={
            "csrf_token": csrf, "email": "new@example.org", "display_name": "New <b>one</b>",
            "password": "a-long-enough-password", "role": "coordinator"})
        assert created.status_code == 303
        page = await admin.get("/console/admin/coordinators")
        assert "New &lt;b&gt;one&lt;/b&gt;" in page.text
        async with harness.database.session() as session:
            new = (await session.execute(select(Coordinator).where(Coordinator.email == "new@example.org"))
                   ).scalar_one()
        async with harness.client() as newcomer:
            assert (await login(newcomer, "new@example.org", "a-long-enough-password")).status_code == 303
            assert (await newcomer.get("/console/queue")).status_code == 200
            # Deactivation signs the account out at once.
            assert (await admin.post(f"/console/admin/coordinators/{new.id}/active",
                                     data={"csrf_token": csrf, "active": "false"})).status_code == 303
            assert (await newcomer.get("/console/queue")).status_code == 401
        await admin.post(f"/console/admin/coordinators/{new.id}/active", data={"csrf_token": csrf, "active": "true"})
        assert (await admin.post(f"/console/admin/coordinators/{new.id}/role",
                                 data={"csrf_token": csrf, "role": "admin"})).status_code == 303
        assert (await admin.post(f"/console/admin/coordinators/{new.id}/password",
                                 data={"csrf_token": csrf, "password": "another-long-password"})).status_code == 303
        async with harness.client() as newcomer:
            assert (await login(newcomer, "new@example.org", "a-long-enough-password")).status_code == 401
            assert (await login(newcomer, "new@example.org", "another-long-password")).status_code == 303
        audit = await admin.get("/console/audit")
        for action in ("coordinator_created", "coordinator_deactivated", "coordinator_role_changed",
                       "coordinator_password_reset"):
            assert action in audit.text


async def test_last_admin_cannot_lock_everyone_out(harness: ConsoleHarness) -> None:
    boss = await harness.coordinator("boss@example.org", Role.ADMIN)
    async with harness.client() as admin:
        await login(admin, "boss@example.org")
        csrf = await session_csrf(admin)
        response = await admin.post(f"/console/admin/coordinators/{boss}/active",
                                    data={"csrf_token": csrf, "active": "false"})
        assert response.status_code == 422
        assert "last active admin" in response.text
        assert (await admin.get("/console/queue")).status_code == 200


def test_csrf_helper_finds_the_token() -> None:
    assert csrf_of('<input type="hidden" name="csrf_token" value="abc">') == "abc"




async def test_json_posts_pass_with_the_csrf_header(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    case = await harness.patient_case("csrf-header")
    async with harness.client() as client:
        await login(client, "ana@example.org")
        token = await session_csrf(client)
        response = await client.post(f"/console/cases/{case.id}/claim", headers={"X-CSRF-Token": token})
        assert response.status_code == 303


async def test_old_login_attempts_are_pruned_at_the_next_login(harness: ConsoleHarness) -> None:
    await harness.coordinator("ana@example.org")
    async with harness.database.session() as session:
        session.add(LoginAttempt(email="ana@example.org", succeeded=False, at=utcnow() - timedelta(days=2)))
    async with harness.client() as client:
        assert (await login(client, "ana@example.org")).status_code == 303
    async with harness.database.session() as session:
        attempts = (await session.execute(select(LoginAttempt))).scalars().all()
    assert [a.succeeded for a in attempts] == [True]
