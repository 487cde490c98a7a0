"""The rasa-sdk action server: thin actions that call the knowledge base, storage and handoff.

Run with ``python -m rasa_sdk --actions bot.actions``; every submodule's Action classes register.
"""
