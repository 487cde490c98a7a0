"""The schema of one knowledge entry, exactly as ``knowledge/README.md`` describes it."""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.settings import SUPPORTED_LANGUAGES

TOPICS = (
    "visa", "boao", "appointment", "documents", "interpreters", "hospitals", "payment",
    "insurance", "costs", "process", "emergency", "general",
)
Topic = Literal[
    "visa", "boao", "appointment", "documents", "interpreters", "hospitals", "payment",
    "insurance", "costs", "process", "emergency", "general",
]
# The five seed documents every fact must trace to (/work/shared/seeds).
SEED_FILES = (
    "000_e5898c86aad5bbb4.txt",
    "001_dde2f40eac474dcf.txt",
    "002_0d4801e7e7da959f.txt",
    "003_ba1fba177aa0bb0e.txt",
    "004_14334f2c18ba43ef.txt",
)
# The intent contract of dialogs/INTENTS.md (a test keeps the two in step).
KNOWN_INTENTS = frozenset({
    "greet", "goodbye", "affirm", "deny", "ask_visa", "ask_visa_short_term", "ask_visa_long_term",
    "ask_visa_companion", "ask_visa_work", "ask_boao", "ask_appointment", "ask_documents", "ask_interpreter",
    "ask_hospitals", "ask_payment", "ask_deposit_refund", "ask_insurance", "ask_costs", "ask_process",
    "emergency", "medical_advice", "out_of_scope", "request_human", "request_service", "ask_status",
    "change_language",
})
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
AMOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Amount(BaseModel):
    """A money amount shown in the patient's locale (``{name}`` in the answers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Decimal = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Source(BaseModel):
    """Where the facts of an entry come from: a seed file and its section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: Literal[
        "000_e5898c86aad5bbb4.txt",
        "001_dde2f40eac474dcf.txt",
        "002_0d4801e7e7da959f.txt",
        "003_ba1fba177aa0bb0e.txt",
        "004_14334f2c18ba43ef.txt",
    ]
    section: str = Field(min_length=1)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of an answer (raises ValueError on unbalanced braces)."""
    return {field for _literal, field, _spec, _conv in string.Formatter().parse(text) if field is not None}


class KnowledgeEntry(BaseModel):
    """One curated answer in every supported language, with its source and review date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    topic: Topic
    intents: list[str] = Field(default_factory=list)
    questions: list[str] = Field(min_length=1)
    answer: dict[str, str]
    amounts: dict[str, Amount] = Field(default_factory=dict)
    source: Source
    reviewed: date

    @field_validator("id")
    @classmethod
    def _id_format(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("must be lowercase letters, digits and single hyphens, e.g. visa-s1-long-treatment")
        return value

    @field_validator("intents")
    @classmethod
    def _known_intents(cls, intents: list[str]) -> list[str]:
        unknown = [name for name in intents if name not in KNOWN_INTENTS]
        if unknown:
            raise ValueError(f"unknown intent(s) {unknown}; see dialogs/INTENTS.md")
        if len(set(intents)) != len(intents):
            raise ValueError("an intent is listed twice")
        return intents

    @field_validator("questions")
    @classmethod
    def _questions_not_blank(cls, questions: list[str]) -> list[str]:
        if any(not q.strip() for q in questions):
            raise ValueError("a question is empty")
        return questions

    @field_validator("answer")
    @classmethod
    def _answer_languages(cls, answer: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(answer) - set(SUPPORTED_LANGUAGES))
        if unknown:
            raise ValueError(f"unsupported language(s) {unknown}; supported: {list(SUPPORTED_LANGUAGES)}")
        return {language: text.strip() for language, text in answer.items()}

    @field_validator("amounts")
    @classmethod
    def _amount_names(cls, amounts: dict[str, Amount]) -> dict[str, Amount]:
        bad = [name for name in amounts if not AMOUNT_NAME.match(name)]
        if bad:
            raise ValueError(f"amount name(s) {bad} must be lowercase identifiers such as mri_rmb")
        return amounts

    @model_validator(mode="after")
    def _answers_complete(self) -> KnowledgeEntry:
        for language, text in self.answer.items():
            if not text:
                raise ValueError(f"answer.{language}: the answer is empty")
            try:
                fields = placeholders(text)
            except ValueError as exc:
                raise ValueError(f"answer.{language}: {exc} (write amounts as {{name}})") from None
            undefined = sorted(fields - set(self.amounts))
            if undefined:
                raise ValueError(f"answer.{language}: placeholder(s) {undefined} not defined under amounts")
        return self

    def missing_languages(self, languages: tuple[str, ...] | list[str]) -> list[str]:
        """The supported languages this entry has no answer in."""
        return [language for language in languages if language not in self.answer]
