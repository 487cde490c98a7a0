"""How actions speak: every reply carries ``custom.intent``; knowledge replies also kb_id and source."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.i18n import N_, strip_bidi, t
from bot.kb.index import KnowledgeIndex, current_index
from bot.kb.render import keep_together, render_entries
from bot.kb.schema import KnowledgeEntry

# Topic buttons of the clarifying question (title msgid, payload).
TOPIC_BUTTONS: tuple[tuple[str, str], ...] = (
    (N_("Visa"), "/ask_visa"),
    (N_("Appointment"), "/ask_appointment"),
    (N_("Documents"), "/ask_documents"),
    (N_("Payment"), "/ask_payment"),
    (N_("Insurance"), "/ask_insurance"),
    (N_("Costs"), "/ask_costs"),
    (N_("Hospitals"), "/ask_hospitals"),
)
HUMAN_PAYLOAD = "/request_human"


def button(language: str, title_msgid: str, payload: str) -> dict[str, str]:
    """A localized button (the title is a msgid marked with N_)."""
    return {"title": t(language, title_msgid), "payload": payload}


def topic_buttons(language: str) -> list[dict[str, str]]:
    return [button(language, title, payload) for title, payload in TOPIC_BUTTONS]


def coordinator_button(language: str) -> dict[str, str]:
    return button(language, N_("Talk to a coordinator"), HUMAN_PAYLOAD)


def latest_intent(tracker: Tracker) -> str:
    """The intent of the patient's latest message ("" when unknown)."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or "")


def say(
    dispatcher: CollectingDispatcher,
    text: str,
    intent: str,
    buttons: Sequence[dict[str, str]] | None = None,
    **custom: Any,
) -> None:
    """Send one reply with its machine-readable markers (custom.intent always), as one message.

    Bidi control marks are removed from everything we send (see bot.kb.render): Arabic reads correctly
    without them, and stray ones show up as garbage in clients that do not honour them.
    """
    dispatcher.utter_message(
        text=strip_bidi(keep_together(text)), buttons=list(buttons or []), json_message={"intent": intent, **custom}
    )


def say_knowledge(
    dispatcher: CollectingDispatcher,
    entries: Sequence[KnowledgeEntry],
    language: str,
    intent: str,
    heading: str | None = None,
    buttons: Sequence[dict[str, str]] | None = None,
    **custom: Any,
) -> None:
    """A reply composed from knowledge entries, with the source footer and kb_id/source markers.

    ``kb_id`` and ``source`` name the first (primary) entry; ``kb_ids`` lists all of them.
    """
    primary = entries[0]
    say(
        dispatcher,
        render_entries(entries, language, heading),
        intent,
        buttons,
        kb_id=primary.id,
        source=primary.source.seed,
        kb_ids=[entry.id for entry in entries],
        **custom,
    )


def say_no_knowledge(dispatcher: CollectingDispatcher, language: str, intent: str) -> None:
    """No verified entry answers this yet: say so honestly and offer a coordinator."""
    text = t(language, "I do not have verified information on this yet. A coordinator can help you.")
    say(dispatcher, text, intent, [coordinator_button(language)], kb_id=None)


def pick(
    index: KnowledgeIndex,
    preferred_ids: Sequence[str] = (),
    intents: Sequence[str] = (),
    topics: Sequence[str] | None = None,
    limit: int = 3,
) -> list[KnowledgeEntry]:
    """Entries for a flow: the preferred ids that exist, else the best entries answering the intents.

    Flows name the entries written for them (possibly without intents); when an id is missing the
    flow still answers from whatever entry answers the intent, so a renamed entry degrades gracefully.
    """
    chosen = [entry for entry_id in preferred_ids if (entry := index.get(entry_id)) is not None]
    if not chosen:
        for intent in intents:
            chosen.extend(e for e in index.for_intent(intent, topics) if e not in chosen)
    return chosen[:limit]


def knowledge() -> KnowledgeIndex:
    """The current knowledge index (reloaded when files change)."""
    return current_index()
