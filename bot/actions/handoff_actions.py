"""Handoff actions: consent, the intake form, opening cases, emergencies and /status (thin: see bot/handoff)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from bot.actions.context import database, language_of, patient_of
from bot.actions.forms import AskSlot, close_form
from bot.handoff import cases, patient_texts
from bot.handoff.intake import SLOT_FIELDS, intake_from_slots, normalize_answer
from bot.handoff.models import CasePriority, CaseTrigger
from bot.i18n import t
from bot.settings import get_settings

logger = logging.getLogger(__name__)

FORM = "handoff_intake_form"
TRIGGERS = {"request_service": CaseTrigger.SERVICE_REQUEST, "fallback": CaseTrigger.FALLBACK}


def _intent(tracker: Tracker) -> str:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or "")


def _say(
    dispatcher: CollectingDispatcher, text: str, intent: str, buttons: list[dict[str, str]] | None = None,
    **custom: Any,
) -> None:
    """One reply with its machine-readable markers (custom.intent always, custom.handoff for this flow)."""
    dispatcher.utter_message(text=text, buttons=buttons or [], json_message={"intent": intent, **custom})


def _clear_intake() -> list[EventType]:
    """Forget the intake answers in the tracker's slots once they are on the case (or abandoned)."""
    return [SlotSet(slot, None) for slot in SLOT_FIELDS]


async def _ask_consent(
    dispatcher: CollectingDispatcher, tracker: Tracker, trigger: CaseTrigger
) -> list[EventType]:
    """Ask for consent before an intake, or, when the patient already has an open case, hand over at once."""
    language = language_of(tracker)
    intent = _intent(tracker) or trigger.value
    patient = await patient_of(tracker)
    if patient is None:
        _say(dispatcher, patient_texts.cannot_open(language), intent, handoff="unavailable")
        return [SlotSet("handoff_pending", False)]
    try:
        async with database().session() as session:
            existing = await cases.find_open_case(session, patient.id)
            if existing is not None:
                # The same case goes back to the coordinators: no second consent, no new intake.
                case, _ = await cases.open_case(session, patient.id, trigger, language)
                number = case.number or ""
    except SQLAlchemyError:
        logger.exception("handoff: cannot look up the patient's case")
        _say(dispatcher, patient_texts.cannot_open(language), intent, handoff="unavailable")
        return [SlotSet("handoff_pending", False)]
    if existing is not None:
        _say(dispatcher, patient_texts.case_already_open(language, number), intent,
             handoff="case_opened", case_number=number, existing=True)
        return [SlotSet("handoff_pending", False)]
    text = patient_texts.consent_question(language, after_fallback=trigger is CaseTrigger.FALLBACK)
    _say(dispatcher, text, intent, patient_texts.consent_buttons(language), handoff="consent_requested")
    return [SlotSet("handoff_pending", True), SlotSet("handoff_trigger", trigger.value)]


class ActionHandoffRequest(Action):
    """request_human / request_service: the consent question (or the open case, if there is one)."""

    def name(self) -> str:
        return "action_handoff_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        trigger = TRIGGERS.get(_intent(tracker), CaseTrigger.REQUEST_HUMAN)
        return await _ask_consent(dispatcher, tracker, trigger)


class ActionOfferHandoff(Action):
    """After two misses in a row (the fallback flow): offer a coordinator, which is the consent question."""

    def name(self) -> str:
        return "action_offer_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await _ask_consent(dispatcher, tracker, CaseTrigger.FALLBACK)
        # Reached through the fallback's FollowupAction, which no rule predicts: wait for the answer
        # explicitly, or the policies would fall back again and loop until Rasa's circuit breaker trips.
        return [*events, FollowupAction("action_listen")]


class ActionHandoffConsentGiven(Action):
    """The patient agreed: record the consent, then the intake form asks its questions."""

    def name(self) -> str:
        return "action_handoff_consent_given"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        patient = await patient_of(tracker)
        if patient is not None:
            async with database().session() as session:
                await cases.record_consent(session, patient.id)
        _say(dispatcher, patient_texts.intake_intro(language), _intent(tracker) or "affirm", handoff="intake")
        return [SlotSet("handoff_pending", False)]


class ActionHandoffDeclined(Action):
    """The patient refused: nothing is stored, the bot keeps answering general questions."""

    def name(self) -> str:
        return "action_handoff_declined"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _say(dispatcher, patient_texts.declined(language_of(tracker)), _intent(tracker) or "deny", handoff="declined")
        return [SlotSet("handoff_pending", False), SlotSet("handoff_trigger", None), *_clear_intake()]


class _AskIntake(AskSlot):
    """Asks one intake question, with a Skip button (``action_ask_<slot>``). Abstract: not registered itself."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        text = t(language, patient_texts.INTAKE_QUESTIONS[self.slot])
        _say(dispatcher, text, _intent(tracker) or "request_human", [patient_texts.skip_button(language)],
             handoff="intake", field=SLOT_FIELDS[self.slot])
        return []


class ActionAskIntakeName(_AskIntake):
    slot = "intake_name"


class ActionAskIntakeCountry(_AskIntake):
    slot = "intake_country"


class ActionAskIntakeTreatment(_AskIntake):
    slot = "intake_treatment"


class ActionAskIntakePlace(_AskIntake):
    slot = "intake_place"


class ActionAskIntakeTravelWindow(_AskIntake):
    slot = "intake_travel_window"


class ActionAskIntakeContact(_AskIntake):
    slot = "intake_contact"


def _skip_titles() -> tuple[str, ...]:
    """The Skip button's title in every language (a client may send the title instead of the payload)."""
    return tuple(patient_texts.skip_button(language)["title"] for language in get_settings().languages)


class ValidateHandoffIntakeForm(FormValidationAction):
    """Trims each answer and turns "skip" (any language, or the button) into a skipped answer."""

    def name(self) -> str:
        return "validate_handoff_intake_form"

    @staticmethod
    def _clean(slot: str, value: Any) -> dict[str, Any]:
        # A slot cleared (None) is not an answer: it must stay empty so that the form asks for it.
        if value is None:
            return {slot: None}
        return {slot: normalize_answer(value, _skip_titles())}

    async def validate_intake_name(self, value: Any, *_: Any) -> dict[str, Any]:
        return self._clean("intake_name", value)

    async def validate_intake_country(self, value: Any, *_: Any) -> dict[str, Any]:
        return self._clean("intake_country", value)

    async def validate_intake_treatment(self, value: Any, *_: Any) -> dict[str, Any]:
        return self._clean("intake_treatment", value)

    async def validate_intake_place(self, value: Any, *_: Any) -> dict[str, Any]:
        return self._clean("intake_place", value)

    async def validate_intake_travel_window(self, value: Any, *_: Any) -> dict[str, Any]:
        return self._clean("intake_travel_window", value)

    async def validate_intake_contact(self, value: Any, *_: Any) -> dict[str, Any]:
        return self._clean("intake_contact", value)


class ActionHandoffSubmit(Action):
    """The intake is complete: open the case with the answers and give the patient the case number."""

    def name(self) -> str:
        return "action_handoff_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        done: list[EventType] = [SlotSet("handoff_trigger", None), SlotSet("handoff_pending", False),
                                 *_clear_intake()]
        patient = await patient_of(tracker)
        trigger = CaseTrigger(tracker.get_slot("handoff_trigger") or CaseTrigger.REQUEST_HUMAN.value)
        if patient is None:
            _say(dispatcher, patient_texts.cannot_open(language), "request_human", handoff="unavailable")
            return done
        # Health data only with consent: without a recorded consent the case opens without intake.
        consent_at = patient.consent_given_at
        intake = intake_from_slots(tracker.slots) if consent_at is not None else None
        try:
            async with database().session() as session:
                case, _ = await cases.open_case(session, patient.id, trigger, language,
                                                intake=intake, consent_at=consent_at)
                number = case.number or ""
        except SQLAlchemyError:
            logger.exception("handoff: cannot open a case")
            _say(dispatcher, patient_texts.cannot_open(language), "request_human", handoff="unavailable")
            return done
        _say(dispatcher, patient_texts.case_opened(language, number), "request_human",
             handoff="case_opened", case_number=number)
        return done


class ActionHandoffEmergency(Action):
    """After the emergency reply: an urgent case without intake (no consent question now), and one line."""

    def name(self) -> str:
        return "action_handoff_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        done: list[EventType] = [*close_form(), SlotSet("handoff_pending", False), SlotSet("handoff_trigger", None),
                                 *_clear_intake()]
        patient = await patient_of(tracker)
        if patient is None:
            return done
        try:
            async with database().session() as session:
                case, _ = await cases.open_case(session, patient.id, CaseTrigger.EMERGENCY, language,
                                                priority=CasePriority.URGENT)
                number = case.number or ""
        except SQLAlchemyError:
            # The emergency reply already went out; losing the case must not hide it.
            logger.exception("handoff: cannot open an emergency case")
            return done
        _say(dispatcher, patient_texts.emergency_alerted(language, number), "emergency",
             handoff="case_opened", case_number=number, priority=CasePriority.URGENT.value)
        return done


class ActionHandoffStatus(Action):
    """``/status``: the stage of the patient's case and whether a coordinator has replied."""

    def name(self) -> str:
        return "action_handoff_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        patient = await patient_of(tracker)
        summary = None
        if patient is not None:
            async with database().session() as session:
                summary = await cases.status_summary(session, patient.id)
        if summary is None:
            _say(dispatcher, patient_texts.no_case(language), "ask_status", handoff="status")
            return []
        _say(dispatcher, patient_texts.status(language, summary), "ask_status", handoff="status",
             case_number=summary.number, stage=summary.stage.value,
             coordinator_replied=summary.coordinator_replied)
        return []
