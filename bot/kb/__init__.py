"""The curated knowledge base: entries in ``knowledge/<topic>/<id>.yml``, validated, indexed and rendered.

Public names: :class:`KnowledgeEntry` (schema), :func:`load_knowledge` (loader), :class:`KnowledgeIndex`
(lookup by id and intent), :func:`render_answer` (an answer in a language with its source footer).
"""

from bot.kb.index import KnowledgeIndex, current_index
from bot.kb.loader import KnowledgeError, LoadResult, load_knowledge
from bot.kb.render import render_answer, render_footer
from bot.kb.schema import KnowledgeEntry

__all__ = [
    "KnowledgeEntry",
    "KnowledgeError",
    "KnowledgeIndex",
    "LoadResult",
    "current_index",
    "load_knowledge",
    "render_answer",
    "render_footer",
]
