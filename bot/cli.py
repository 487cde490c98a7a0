"""Command line: ``python -m bot <command>``. Each command imports what it needs lazily."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bot.settings import SettingsError, get_settings

Handler = Callable[[argparse.Namespace], int]


def cmd_run(args: argparse.Namespace) -> int:
    """Train if needed, migrate, start action server + Rasa + app; stop all on Ctrl-C."""
    from bot.stack import build_stack, child_environment, run_forever

    settings = get_settings()
    env = child_environment(settings)
    print("Preparing: checking the Rasa model (trains only when dialogs/ changed) and the database…", flush=True)
    stack = build_stack(settings, env, settings.path(settings.var_dir) / "run", workers=args.workers)
    return run_forever(stack)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply Alembic migrations to the configured database."""
    from bot.storage.migrate import upgrade

    upgrade(get_settings().database_url, args.revision)
    print(f"database migrated to {args.revision}")
    return 0


def cmd_train(_args: argparse.Namespace) -> int:
    """Train the Rasa model if dialogs/ changed since the last training."""
    from bot.rasa_project import ensure_model

    path, trained = ensure_model(get_settings())
    print(f"{'trained' if trained else 'up to date'}: {path}")
    return 0


def cmd_rasa_endpoints(args: argparse.Namespace) -> int:
    """Write Rasa's endpoints.yml and credentials.yml (tracker store, lock store, action server) for this config."""
    from pathlib import Path

    from bot.rasa_project import write_endpoint_files

    endpoints, credentials = write_endpoint_files(get_settings(), Path(args.out))
    print(f"wrote {endpoints} and {credentials}")
    return 0


def cmd_check_config(_args: argparse.Namespace) -> int:
    """Validate config.yml and the environment."""
    from bot.app import enabled_channels

    settings = get_settings()
    print(f"configuration ok ({settings.environment}); channels on: {', '.join(enabled_channels(settings))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="MedConcierge")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help=cmd_run.__doc__)
    run.add_argument("--workers", type=int, default=1, help="application worker processes")
    run.set_defaults(handler=cmd_run)
    migrate = sub.add_parser("migrate", help=cmd_migrate.__doc__)
    migrate.add_argument("revision", nargs="?", default="heads")
    migrate.set_defaults(handler=cmd_migrate)
    sub.add_parser("train", help=cmd_train.__doc__).set_defaults(handler=cmd_train)
    sub.add_parser("check-config", help=cmd_check_config.__doc__).set_defaults(handler=cmd_check_config)
    endpoints = sub.add_parser("rasa-endpoints", help=cmd_rasa_endpoints.__doc__)
    endpoints.add_argument("--out", default="var/run", help="folder for endpoints.yml and credentials.yml")
    endpoints.set_defaults(handler=cmd_rasa_endpoints)
    for register in extra_commands():
        register(sub)
    return parser


def extra_commands() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    """Sub-commands contributed by feature packages (each module exposes ``register(sub)``)."""
    import importlib
    import importlib.util

    registrars = []
    for module_name in COMMAND_MODULES:
        package = module_name.rsplit(".", 1)[0]
        if importlib.util.find_spec(package) is None or importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        registrars.append(module.register)
    return registrars


# Feature modules that contribute sub-commands (each exposes ``register(sub)``).
COMMAND_MODULES: list[str] = [
    "bot.kb.cli",  # knowledge check
    "bot.handoff.cli",  # erase
    "bot.console.cli",  # create-admin
    "bot.channels.telegram_cli",  # telegram set-webhook
    "bot.channels.wechat_cli",  # wechat push-menu
    "bot.webchat.shell",  # shell (terminal chat)
    "bot.observability.cli",  # retention
]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler: Handler = args.handler
        return handler(args)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


__all__ = ["main"]
