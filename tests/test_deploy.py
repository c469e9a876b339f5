"""The deploy files (deploy/): the compose stack's shape, that every variable it reads
is explained in .env.example and every setting it gives the bot exists and validates,
that Caddy sends the webhook's path to both workers, that the Dockerfile ships every
package of the wheel, and that the systemd unit starts a verb the bot has.

No container runs here: `docker compose config` is run only where a compose client
exists, and `systemd-analyze verify` only where systemd's is installed."""

from __future__ import annotations

import configparser
import fnmatch
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.__main__ import parser
from ui.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"

# What every worker must be told; each is a setting of ui.settings.Settings.
NEEDED = {
    "BOT_TOKEN",
    "ADMIN_IDS",
    "DATABASE_URL",
    "REDIS_URL",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN_HOST",
    "WEBHOOK_LISTEN_PORT",
    "HEALTH_HOST",
    "HEALTH_PORT",
    "LOG_FORMAT",
    "DATA_DIR",
}
# Values for the variables .env.example leaves for the operator to fill in.
FILLED_IN = {
    "DOMAIN": "bot.example.org",
    "BOT_TOKEN": "123456:deploy-test",
    "ADMIN_IDS": "1001,1002",
    "WEBHOOK_SECRET": "a-secret_of-the-right-shape",
    "POSTGRES_PASSWORD": "0123456789abcdef",
}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def bot_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in services().items()
        if "volunteer-bot" in _words(service.get("command", ""))
    }


def _words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def env_example() -> dict[str, str]:
    """.env.example's variables and values."""
    values = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, as `docker compose` does."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        empty = value is None or (op is not None and op.startswith(":") and value == "")
        if op and op.endswith("-") and empty:
            return arg
        if op and op.endswith("?") and empty:
            raise AssertionError(f"compose refuses to start: {name}: {arg}")
        return value or ""

    return VARIABLE.sub(one, text)


def worker_environment() -> dict[str, str]:
    """A worker's environment as compose would give it, from .env.example filled in."""
    env = env_example() | FILLED_IN
    return {
        name: interpolate(str(value), env)
        for name, value in next(iter(bot_services().values()))["environment"].items()
    }


def test_two_workers_serve_the_webhook_from_the_repository_image() -> None:
    workers = bot_services()
    assert len(workers) == 2
    for name, service in workers.items():
        assert _words(service["command"]) == ["volunteer-bot", "serve"], name
        build = service["build"]
        context = (DEPLOY / build["context"]).resolve()
        assert context == ROOT, name
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == ROOT / "Dockerfile"
        assert service["restart"] == "unless-stopped", name
    # Workers of one bot: the same settings and image.
    environments = [service["environment"] for service in workers.values()]
    assert all(env == environments[0] for env in environments)
    assert len({service["image"] for service in workers.values()}) == 1


def test_every_service_has_a_health_check_and_restarts() -> None:
    for name, service in services().items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name
    every = services()
    assert "pg_isready" in " ".join(every["postgres"]["healthcheck"]["test"])
    assert every["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert every["postgres"]["image"].startswith("postgres:16")
    assert every["redis"]["image"].startswith("redis:7")
    assert every["caddy"]["image"].startswith("caddy:2")


def test_the_workers_health_check_asks_readyz_on_their_health_port() -> None:
    env = worker_environment()
    for name, service in bot_services().items():
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name  # no curl in the image
        code = test[3]
        compile(code, f"{name} healthcheck", "exec")
        assert f"127.0.0.1:{env['HEALTH_PORT']}/readyz" in code, name


def test_the_workers_wait_for_a_healthy_database_and_redis() -> None:
    for name, service in bot_services().items():
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name


def test_the_workers_share_the_data_volume() -> None:
    mounts = [set(service["volumes"]) for service in bot_services().values()]
    data = f"{{}}:{worker_environment()['DATA_DIR']}"
    shared = set.intersection(*mounts)
    assert any(
        fnmatch.fnmatch(m, data.format("*")) and m.split(":")[0] in compose()["volumes"]
        for m in shared
    ), mounts


def test_the_workers_are_told_every_setting_they_need_and_each_is_a_setting() -> None:
    env = worker_environment()
    assert set(env) >= NEEDED
    fields = set(Settings.model_fields)
    unknown = {name for name in env if name.lower() not in fields}
    assert unknown == set(), "not settings of ui.settings.Settings"
    # The values validate as the bot reads them.
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{name.lower(): value for name, value in env.items() if name.lower() in fields},
    )
    assert settings.database_url.startswith("postgresql://volunteer:")
    assert urlsplit(settings.database_url).hostname == "postgres"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert settings.webhook_url == "https://bot.example.org/telegram/webhook"
    assert settings.webhook_listen_host == settings.health_host == "0.0.0.0"
    assert settings.log_format == "json"
    assert settings.admin_ids == {1001, 1002}
    assert settings.health_port is not None


def test_every_compose_variable_is_explained_in_the_env_example() -> None:
    used = {m.group(1) for m in VARIABLE.finditer(COMPOSE.read_text(encoding="utf-8"))}
    lines = (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
    documented = set(env_example())
    assert used - documented == set()
    for name in used:
        at = next(n for n, line in enumerate(lines) if line.startswith(f"{name}="))
        assert lines[at - 1].startswith("#"), f"{name} has no explanation above it"
    # The example holds no secret: the operator fills each in.
    for name in ("BOT_TOKEN", "WEBHOOK_SECRET", "POSTGRES_PASSWORD"):
        assert env_example()[name] == "", name


def test_caddy_spreads_the_webhook_path_over_both_workers() -> None:
    caddy = services()["caddy"]
    assert any(v.startswith("./Caddyfile:/etc/caddy/Caddyfile") for v in caddy["volumes"])
    assert "DOMAIN" in caddy["environment"]
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    assert "{$DOMAIN} {" in lines
    env = worker_environment()
    path = urlsplit(env["WEBHOOK_URL"]).path
    [handle] = [line for line in lines if line.startswith("handle /")]
    assert fnmatch.fnmatch(path, handle.split()[1]), (path, handle)
    [proxy] = [line for line in lines if line.startswith("reverse_proxy ")]
    upstreams = set(proxy.removesuffix("{").split()[1:])
    assert upstreams == {f"{name}:{env['WEBHOOK_LISTEN_PORT']}" for name in bot_services()}
    assert f"health_port {env['HEALTH_PORT']}" in lines
    assert "health_uri /healthz" in lines


def test_the_dockerfile_copies_every_package_of_the_wheel() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied: set[str] = set()
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not words[1].startswith("--"):
            sources, target = words[1:-1], words[-1]
            if target.startswith("/tmp/src"):
                copied |= {PurePosixPath(s).parts[0] for s in sources}
    assert packages - copied == set()
    assert all((ROOT / p / "__init__.py").is_file() for p in packages - {"locales"})
    # What the build itself reads.
    needed = {"pyproject.toml", project["project"]["readme"], *project["project"]["license-files"]}
    assert needed - copied == set()


def test_compose_config_is_accepted_by_docker_compose(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine: `docker compose config` not run")
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("`docker compose` is not available here: `docker compose config` not run")
    env_file = tmp_path / "deploy.env"
    env_file.write_text(
        "".join(f"{k}={v}\n" for k, v in (env_example() | FILLED_IN).items()), encoding="utf-8"
    )
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "--env-file", str(env_file), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def unit() -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None, strict=True)
    config.optionxform = str  # type: ignore[assignment,method-assign]
    config.read_string((DEPLOY / "volunteer-bot.service").read_text(encoding="utf-8"))
    return config


def test_the_systemd_unit_runs_a_verb_of_the_bot_hardened() -> None:
    service = unit()["Service"]
    program, *args = shlex.split(service["ExecStart"])
    assert program.endswith("/.venv/bin/volunteer-bot")
    assert parser().parse_args(args).command == args[0] == "run"
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["User"] not in ("", "root")
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    # Where the bot writes is writable under ProtectSystem=strict.
    writable = [PurePosixPath(p) for p in service["ReadWritePaths"].split()]
    env = dict(part.split("=", 1) for part in shlex.split(service["Environment"]))
    database = PurePosixPath(env["DATABASE_URL"].removeprefix("sqlite:///"))
    for path in (PurePosixPath(env["DATA_DIR"]), database.parent):
        assert any(path == w or w in path.parents for w in writable), path
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    copy = tmp_path / "volunteer-bot.service"
    copy.write_text((DEPLOY / "volunteer-bot.service").read_text(encoding="utf-8"))
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, check=False, timeout=60
    )
    # The program is only there once installed; anything else is a mistake in the unit.
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "is not executable" not in line
    ]
    assert problems == []
