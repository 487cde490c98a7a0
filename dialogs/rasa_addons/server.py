"""Rasa's own command line with the server add-ons installed: ``python -m rasa_addons.server run ARGS``.

Takes the same arguments as ``rasa``; Sanic forks its workers from this process, so they inherit
the add-ons.
"""

from __future__ import annotations

from rasa.__main__ import main

from rasa_addons import action_validation


def run() -> None:
    action_validation.install()
    main()


if __name__ == "__main__":
    run()
