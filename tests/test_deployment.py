"""What an operator relies on: settings refuse unsafe starts, every variable is documented,
and the compose stack describes the services the code routes work to."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _settings_import(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PII_KEY"))}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.base"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_import({"PII_KEY": "x" * 40})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_a_pii_key():
    result = _settings_import({"DJANGO_SECRET_KEY": "x" * 40})

    assert result.returncode != 0
    assert "PII_KEY is not set" in result.stderr


def test_production_starts_with_both_keys():
    result = _settings_import({"DJANGO_SECRET_KEY": "x" * 40, "PII_KEY": "y" * 40})

    assert result.returncode == 0, result.stderr


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
