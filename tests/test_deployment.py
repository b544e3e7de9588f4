"""What an operator relies on: settings refuse unsafe starts, every variable is documented,
and the compose stack describes the services the code routes work to."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PII_KEY"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.base", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


WEB_START = "import config.wsgi"
WORKER_START = (
    "import django; django.setup(); from config.celery import app; "
    "from celery.signals import worker_init; worker_init.send(sender=None)"
)
CHECK = "import django; django.setup(); from django.core.management import call_command; call_command('check'{})"


@pytest.mark.parametrize("start", [WEB_START, WORKER_START], ids=["web", "worker"])
def test_production_refuses_to_start_without_a_secret_key(start):
    result = _run(start, {"PII_KEY": "x" * 40})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY not set" in result.stderr


@pytest.mark.parametrize("start", [WEB_START, WORKER_START], ids=["web", "worker"])
def test_production_refuses_to_start_without_a_pii_key(start):
    result = _run(start, {"DJANGO_SECRET_KEY": "x" * 40})

    assert result.returncode != 0
    assert "PII_KEY not set" in result.stderr


def test_production_starts_with_both_keys():
    result = _run(WEB_START, {"DJANGO_SECRET_KEY": "x" * 40, "PII_KEY": "y" * 40})

    assert result.returncode == 0, result.stderr


def test_offline_commands_work_on_a_fresh_checkout_and_deploy_check_names_missing_secrets():
    plain = _run(CHECK.format(""), {})
    deploy = _run(CHECK.format(", deploy=True"), {})

    assert plain.returncode == 0, plain.stderr
    assert deploy.returncode != 0
    assert "DJANGO_SECRET_KEY, PII_KEY not set" in deploy.stderr


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "config" / "settings" / "base.py").read_text(encoding="utf-8")
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'get_mandatory_secret\(\s*"([A-Z][A-Z0-9_]+)"', source))
    return names


def test_every_environment_variable_is_documented_in_readme_and_env_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    variables = _variables_read_by_settings()

    assert {"DJANGO_SECRET_KEY", "PII_KEY", "DATABASE_URL", "REDIS_URL"} <= variables
    assert sorted(v for v in variables if f"`{v}`" not in readme) == []
    assert sorted(v for v in variables if not re.search(rf"^#?\s*{v}=", example, re.M)) == []


def test_compose_stack_has_every_service_with_a_healthcheck():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]

    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert "healthcheck" in services[name], name
    assert "gunicorn" in services["web"]["command"]


def test_compose_worker_consumes_every_queue_the_code_routes_to():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = compose["services"]["worker"]["command"]
    consumed = set(command[command.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}

    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed
