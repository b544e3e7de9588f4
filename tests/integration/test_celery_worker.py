"""A real Celery worker process sends the registration SMS through Redis; the web then confirms it.

Runs only against real services (DATABASE_URL on PostgreSQL, REDIS_URL). The worker is a
separate process on the same test database, with a broker namespace of its own on the same Redis.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.urls import reverse

from accounts.models import Tier, User
from config.celery import app as celery_app
from tests.conftest import code_from_text
from verification.models import Delivery, DeliveryStatus, OneTimeCode

BASE_DIR = Path(__file__).resolve().parents[2]
# Starting Django and the worker takes a few seconds on a 2-core machine; this is only a bound.
WORKER_SEND_TIMEOUT = 60
PHONE = "+79123456789"
PASSWORD = "Sunny-Meadow-914"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
        reason="needs DATABASE_URL and REDIS_URL: the worker is another process on a real database and broker",
    ),
]


@dataclass(frozen=True)
class Broker:
    url: str
    key_prefix: str


@dataclass(frozen=True)
class Worker:
    process: subprocess.Popen
    log: Path
    sms_file: Path

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:] if self.log.exists() else ""

    def sms_sent(self) -> list[dict]:
        if not self.sms_file.exists():
            return []
        return [json.loads(line) for line in self.sms_file.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture
def broker() -> Iterator[Broker]:
    """The Redis of REDIS_URL, one database number up, under a key prefix of this run.

    The prefix keeps parallel runs apart; the other database keeps a FLUSHDB of the cache
    (cache.clear() on Redis) from taking queued tasks with it.
    """
    parts = urlsplit(os.environ["REDIS_URL"])
    db = int(parts.path.strip("/") or 0)
    url = urlunsplit(parts._replace(path=f"/{(db + 1) % 16}"))
    broker = Broker(url=url, key_prefix=f"citizen-test-{uuid.uuid4().hex[:12]}:")
    yield broker
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{broker.key_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _test_database_url() -> str:
    """DATABASE_URL pointed at the database pytest-django created for this run."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + quote(connection.settings_dict["NAME"])))


@pytest.fixture
def worker(transactional_db, broker: Broker, tmp_path: Path) -> Iterator[Worker]:
    """`celery -A config worker` on the production settings, as `make run` starts it."""
    if connection.vendor != "postgresql":
        pytest.skip(f"the worker process needs a server database; DATABASE_URL gives {connection.vendor}")
    log = tmp_path / "worker.log"
    sms_file = tmp_path / "sms.jsonl"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        # The same keys as this process, or the code's HMAC made by the worker would not verify here.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "PII_KEY": settings.PII_KEY,
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": broker.url,
        "CELERY_BROKER_KEY_PREFIX": broker.key_prefix,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SMS_BACKEND": "verification.sms.backends.ConsoleBackend",
        "SMS_CONSOLE_FILE": str(sms_file),
        "SITE_URL": settings.SITE_URL,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        "sms,checks,default",
        "--pool",
        "solo",
        "-c",
        "1",
        "-n",
        f"{broker.key_prefix.rstrip(':')}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Worker(process=process, log=log, sms_file=sms_file)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _drop_broker_connections() -> None:
    """Celery caches a producer pool bound to the broker it first used; the next publish must connect anew."""
    celery_app.amqp._producer_pool = None
    celery_app._pool = None
    kombu.pools.reset()


@pytest.fixture
def celery_publishes_to(settings, broker: Broker) -> Iterator[None]:
    """This process enqueues for real, on the worker's broker, instead of running tasks eagerly.

    The Celery app reads Django's settings live (config_from_object on the lazy settings), so
    the settings fixture changes ``celery_app.conf`` too and restores it afterwards. Writing to
    ``celery_app.conf`` instead would pin those keys for every later test.
    """
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker.url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": broker.key_prefix}
    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.broker_url == broker.url, "CELERY_BROKER_URL in the environment overrides the settings"
    assert celery_app.conf.broker_transport_options == {"global_keyprefix": broker.key_prefix}
    _drop_broker_connections()
    try:
        yield
    finally:
        _drop_broker_connections()


def _wait_for(condition: Callable[[], bool], *, worker: Worker, what: str) -> None:
    deadline = time.monotonic() + WORKER_SEND_TIMEOUT
    while not condition():
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}) before {what}:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {WORKER_SEND_TIMEOUT} s; worker log:\n{worker.log_tail()}")
        time.sleep(0.2)


def test_worker_process_sends_the_code_and_the_web_confirms_it(client, worker, celery_publishes_to, sms_outbox):
    response = client.post(
        reverse("verification:registration_start"),
        {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": "8 912 345-67-89", "email": ""},
    )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    assert response.url == reverse("verification:registration_code")
    assert sms_outbox == [], "the code was sent in the web process, not by the worker"

    code_row = OneTimeCode.objects.get()
    _wait_for(
        lambda: OneTimeCode.objects.filter(pk=code_row.pk, sent_at__isnull=False).exists(),
        worker=worker,
        what="SMS sent by the worker",
    )
    sent = worker.sms_sent()
    assert [message["to"] for message in sent] == [PHONE]
    assert sent[-1]["body"].startswith("Код регистрации: ")
    delivery = Delivery.objects.get(code=code_row)
    assert (delivery.backend, delivery.status) == ("ConsoleBackend", DeliveryStatus.SENT)

    page = client.get(reverse("verification:registration_code"))
    assert "+7 912 ***-**-89" in page.content.decode()

    response = client.post(reverse("verification:registration_code"), {"code": code_from_text(sent[-1]["body"])})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("verification:registration_password")

    response = client.post(
        reverse("verification:registration_password"), {"password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:cabinet")
    user = User.objects.get(phone=PHONE)
    assert user.phone_confirmed
    assert user.tier == Tier.SIMPLIFIED
    assert client.get(reverse("accounts:cabinet")).status_code == HTTPStatus.OK
