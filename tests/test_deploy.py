"""The production deployment (docker-compose.yml, deploy/) runs what the tests run: same entry points,
same configuration file, pinned images, no file that does not exist. Docker itself is not run here."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT
from bot.stack import action_server_args, rasa_server_args

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
DEPLOY = PROJECT_ROOT / "deploy"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def dockerfile_cmd(path: Path) -> list[str]:
    """The image's CMD as words (a ``sh -c "…"`` CMD is split like the shell would)."""
    line = next(line for line in path.read_text().splitlines() if line.startswith("CMD "))
    words: list[str] = json.loads(line[len("CMD "):])
    return shlex.split(words[2]) if words[:2] == ["sh", "-c"] else words


def options(words: list[str]) -> list[str]:
    """The option names of a command line, in order (``--flag=value`` counts as ``--flag``; values dropped)."""
    split = [part for word in words for part in (word.split("=", 1) if word.startswith("--") else [word])]
    return [word for word in split if word.startswith("-")]


def test_the_rasa_image_starts_rasa_as_the_stack_does() -> None:
    stack = rasa_server_args("model.tar.gz", "token", "127.0.0.1", 5005, "endpoints.yml", "credentials.yml")
    image = dockerfile_cmd(DEPLOY / "rasa.Dockerfile")
    assert image[0] == "python"
    assert image[1:4] == stack[:3] == ["-m", "rasa_addons.server", "run"]
    assert options(image[1:]) == options(stack)
    assert image[image.index("-i") + 1] == "127.0.0.1", "Rasa's API must stay on loopback"


def test_the_action_server_runs_as_in_the_stack() -> None:
    command = compose()["services"]["actions"]["command"]
    assert command[0] == "python"
    assert command[1:] == action_server_args(5055)


def test_the_app_uses_the_production_configuration_the_tests_use() -> None:
    app = compose()["services"]["app"]
    assert app["environment"]["MC_CONFIG_FILE"].endswith("/config.production.yml")
    assert (PROJECT_ROOT / "config.production.yml").is_file()
    assert "config.production.yml" in (DEPLOY / "app.Dockerfile").read_text()


def test_images_are_pinned_and_every_referenced_file_exists() -> None:
    services = compose()["services"]
    for name, service in services.items():
        image = service.get("image", "")
        assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{name}: image {image!r} is not pinned to a version"
        build = service.get("build")
        if build:
            assert (PROJECT_ROOT / build["context"] / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (PROJECT_ROOT / source).exists(), f"{name}: {source} does not exist"
    for dockerfile in DEPLOY.glob("*.Dockerfile"):
        base = next(line for line in dockerfile.read_text().splitlines() if line.startswith("FROM "))
        assert re.fullmatch(r"FROM [\w./-]+:\d+\.\d+\.\d+[\w.-]*", base), f"{dockerfile.name}: {base}"
