"""The chat page and the widget script are served; Arabic is laid out right to left; labels are localized."""

from __future__ import annotations

from typing import Any

import httpx

from bot.app import create_app
from tests.conftest import ScriptedEngine, make_runtime


async def test_chat_page_has_the_form_and_the_language_picker(app_client: Any) -> None:
    for path in ("/", "/chat"):
        response = await app_client.get(path, headers={"accept-language": "en-US,en;q=0.9"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        assert '<form class="composer" id="composer"' in page
        assert 'id="input"' in page and 'id="send"' in page
        assert 'aria-live="polite"' in page
        assert '<html lang="en" dir="ltr">' in page
        for name in ("English", "中文", "Русский", "العربية", "한국어", "日本語"):
            assert f">{name}</option>" in page
        assert "/webchat/static/chat.js" in page


async def test_arabic_page_is_right_to_left_with_arabic_labels(app_client: Any) -> None:
    page = (await app_client.get("/chat?lang=ar")).text
    assert '<html lang="ar" dir="rtl">' in page
    assert ">إرسال</button>" in page  # "Send" from the Arabic catalog
    assert 'placeholder="اكتب رسالتك…"' in page


async def test_accept_language_chooses_the_page_language(app_client: Any) -> None:
    page = (await app_client.get("/chat", headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.5"})).text
    assert '<html lang="ru" dir="ltr">' in page
    assert ">Отправить</button>" in page


async def test_unknown_language_falls_back_to_the_default(app_client: Any) -> None:
    page = (await app_client.get("/chat?lang=xx", headers={"accept-language": "de"})).text
    assert '<html lang="en" dir="ltr">' in page


async def test_static_files_and_widget_script_are_served(app_client: Any) -> None:
    for path, kind in (("/webchat/static/chat.js", "javascript"), ("/webchat/static/chat.css", "text/css"),
                       ("/webchat/widget.js", "javascript")):
        response = await app_client.get(path)
        assert response.status_code == 200, path
        assert kind in response.headers["content-type"], path
    widget = (await app_client.get("/webchat/widget.js")).text
    assert "/chat?embed=1" in widget
    assert "document.currentScript" in widget


async def test_page_may_be_framed_only_by_itself_by_default(app_client: Any) -> None:
    for path in ("/chat", "/chat?embed=1"):
        policy = (await app_client.get(path)).headers["content-security-policy"]
        assert policy.endswith("frame-ancestors 'self'"), policy
        assert "script-src 'self'" in policy


async def test_embedded_page_may_be_framed_by_configured_origins(database_url: str, engine: ScriptedEngine) -> None:
    runtime = make_runtime(database_url, engine, http={"cors_origins": ["https://hospital.example"]})
    app = create_app(runtime.settings, runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            embedded = (await client.get("/chat?embed=1")).headers["content-security-policy"]
            full = (await client.get("/chat")).headers["content-security-policy"]
    assert "frame-ancestors 'self' https://hospital.example" in embedded
    assert full.endswith("frame-ancestors 'self'")
