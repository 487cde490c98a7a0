"""The coordinator console: server-rendered pages (FastAPI + Jinja2) with live updates over SSE."""
