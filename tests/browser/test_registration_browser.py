"""A person registers with a mobile phone in a real browser: Debian's Chromium driven by Playwright.

The live server runs in this process with the test settings (locmem SMS, eager Celery), so the
code the person "receives" is read from ``verification.sms.outbox``.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import code_from_text

CHROMIUM = Path("/usr/bin/chromium")
# Without the network flags Chromium keeps calling Google's hosts, which this machine refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "Sunny-Meadow-914"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # The sync API keeps an asyncio loop running in this thread, and Django then refuses ORM
    # calls here (the test database flush between tests) as "async-unsafe". Nothing here is async.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh browser profile. It asks for English (Accept-Language), as many browsers do: pages
    must still open in Russian until the person picks English with the switch."""
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1000, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _fill_registration(page: Page, *, phone: str) -> None:
    page.get_by_label("Фамилия", exact=True).fill("Петрова")
    page.get_by_label("Имя", exact=True).fill("Анна")
    page.get_by_label("Регион", exact=True).select_option(label="Москва")
    page.get_by_label("Мобильный телефон").fill(phone)
    page.get_by_role("button", name="Получить код").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("verification:registration_code")) + "$"))


def _last_sms_code(sms_outbox: list) -> str:
    assert sms_outbox, "no SMS was sent"
    return code_from_text(sms_outbox[-1].body)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _submit_code(page: Page, code: str) -> None:
    page.get_by_label("Код", exact=True).fill(code)
    page.get_by_role("button", name="Подтвердить", exact=True).click()


def _set_password(page: Page) -> None:
    expect(page).to_have_url(re.compile(re.escape(reverse("verification:registration_password")) + "$"))
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Повторите пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Сохранить пароль").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("accounts:cabinet")) + "$"))


def test_person_registers_by_phone_in_russian_and_lands_in_cabinet_with_simplified_tier(page, sms_outbox):
    page.goto(reverse("verification:registration_start"))
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text("Регистрация")
    _fill_registration(page, phone="8 912 345-67-89")

    # The code page, for the number the person typed, masked.
    expect(page.locator("h1")).to_have_text("Подтвердите телефон")
    expect(page.locator(".code-status")).to_contain_text("+7 912 ***-**-89")
    assert [message.to for message in sms_outbox] == ["+79123456789"]
    assert sms_outbox[0].body.startswith("Код регистрации: ")
    code = _last_sms_code(sms_outbox)
    code_input = page.get_by_label("Код", exact=True)
    expect(code_input).to_have_attribute("autocomplete", "one-time-code")
    expect(code_input).to_have_attribute("inputmode", "numeric")
    expect(code_input).to_be_focused()

    # The validity countdown runs as a m:ss clock.
    timer = page.locator("[data-countdown] .timer")
    expect(timer).to_have_text(re.compile(r"^\d+:\d\d$"))
    shown = timer.inner_text()
    expect(timer).not_to_have_text(shown, timeout=2_500)
    # A new code cannot be requested right away: the button says when.
    page.get_by_text("Не пришёл код?").click()
    resend = page.locator("[data-available-at]")
    expect(resend).to_be_disabled()
    expect(resend).to_have_text(re.compile(r"^Новый код можно получить через \d+:\d\d$"))
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "registration-code.png", full_page=True)

    # A mistyped code is refused with the number of tries left.
    _submit_code(page, _wrong(code))
    assert settings.VERIFICATION_CODE_MAX_ATTEMPTS == 5
    expect(page.get_by_role("alert")).to_have_text("Неверный код. Осталось 4 попытки.")
    page.screenshot(path=SCREENSHOTS / "registration-code-wrong.png", full_page=True)

    _submit_code(page, code)
    _set_password(page)

    # «Мои данные»: signed in, simplified tier, the confirmed phone.
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text("Мои данные")
    tier = page.locator("[data-tier]")
    expect(tier).to_have_attribute("data-tier", "simplified")
    expect(tier).to_have_text("Упрощённая")
    expect(page.locator(".messages")).to_contain_text("Регистрация завершена")
    expect(page.locator(".contacts")).to_contain_text("+7 912 345-67-89")
    page.screenshot(path=SCREENSHOTS / "cabinet.png", full_page=True)


def test_person_switches_the_site_to_english(page):
    page.goto(reverse("verification:registration_start"))
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    page.get_by_role("button", name="EN", exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Registration")
    expect(page.get_by_role("button", name="Send code")).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(reverse("verification:registration_start")) + "$"))

    # The choice sticks for the next page.
    page.goto(reverse("verification:recovery_start"))
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="RU", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
