"""Conversation core: no web framework and no channel library is imported below this package."""
