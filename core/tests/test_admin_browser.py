"""The operators' journeys in a real browser: headless Chromium (selenium) against a live
server, with a real Celery worker for the rent run. Screenshots go to var/test-artifacts/admin/.
"""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from accounts.models import User
from billing.models import RentRun
from core.testing import celery_worker, headless_chromium
from core.tests.admin_helpers import admin_pages, business_data
from housing.models import Flat, House, MeterReading, Street, WaterMeter
from housing.tests.factories import global_tariffs
from stores.models import StockItem, StockMovement, Store

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts" / "admin"
PASSWORD = "operator-pass"


@pytest.fixture(scope="module")
def russian():
    with headless_chromium("ru") as driver:
        yield driver


@pytest.fixture(scope="module")
def english():
    with headless_chromium("en-US") as driver:
        yield driver


@pytest.fixture
def operator(db):
    return User.objects.create_superuser(username="operator", password=PASSWORD)


class Operator:
    """The operator's browser on the live server."""

    def __init__(self, driver, base_url: str):
        self.driver, self.base_url = driver, base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def sign_in(self) -> "Operator":
        self.driver.delete_all_cookies()
        self.open("/admin/login/?next=/admin/")
        self.driver.find_element(By.NAME, "username").send_keys("operator")
        self.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "input[type=submit]"), "#user-tools")
        return self

    def submit(self, element, then: str, timeout: float = 20):
        """Click `element` and wait for the NEXT page's `then`: the page being left may hold the
        same selector (a message list, #content-main), so first wait until it is gone."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.driver, timeout).until(expected_conditions.staleness_of(page))
        return self.wait_for(then, timeout)

    def wait_for(self, css: str, timeout: float = 20):
        return WebDriverWait(self.driver, timeout).until(
            lambda d: d.find_element(By.CSS_SELECTOR, css)
        )

    def wait_until(self, predicate, timeout: float = 60):
        # The run page reloads itself when the run ends: elements come and go meanwhile.
        return WebDriverWait(
            self.driver,
            timeout,
            poll_frequency=0.1,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        ).until(lambda d: predicate())

    def texts(self, css: str) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]

    def fill(self, name: str, value) -> None:
        field = self.driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(str(value))

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def as_operator(live_server, operator):
    def sign_in(driver) -> Operator:
        return Operator(driver, live_server.url).sign_in()

    return sign_in


def test_operator_starts_a_rent_run_and_watches_it_reach_100_percent(as_operator, russian):
    global_tariffs()
    house = House.objects.create(street=Street.objects.create(name="Садовая"), number=5)
    Flat.objects.bulk_create(
        Flat(house=house, number=n, area=Decimal("40.5")) for n in range(1, 61)
    )
    browser = as_operator(russian)
    # Small batches with a pause: the run takes a few seconds, long enough to be watched.
    with celery_worker(RENT_BATCH_SIZE="4", RENT_BATCH_PAUSE_SECONDS="0.5"):
        browser.open("/admin/billing/rentrun/add/")
        Select(browser.driver.find_element(By.NAME, "house")).select_by_visible_text("Садовая 5")
        browser.fill("year", 2024)
        browser.fill("month", 1)
        browser.submit(browser.driver.find_element(By.NAME, "apply"), ".rent-progress progress")
        assert "Расчёт запущен" in browser.texts(".messagelist")[0]
        # The bar moves by itself (the page polls the run's progress).
        browser.wait_until(
            lambda: 0 < float(_bar(browser).get_attribute("value") or 0) < 100, timeout=30
        )
        browser.screenshot("rent-run-in-progress")
        browser.wait_until(lambda: "60 / 60 (100,0 %)" in _progress_text(browser), timeout=60)
        browser.wait_until(lambda: "завершён" in browser.texts(".field-status .readonly"))

    run = RentRun.objects.get()
    assert (run.status, run.done_flats, run.total_flats) == ("COMPLETED", 60, 60)
    assert "Садовая 5, кв. 1" in browser.texts(".field-flat")
    assert not browser.driver.find_elements(By.NAME, "_save")
    browser.screenshot("rent-run-completed")
    browser.open("/admin/billing/rentrun/")
    assert browser.texts("#result_list tbody td.field-house") == ["Садовая 5"]
    assert "60 / 60" in browser.texts("#result_list tbody td.field-progress")[0]
    browser.screenshot("rent-runs-list")


def _bar(browser):
    return browser.driver.find_element(By.CSS_SELECTOR, ".rent-progress progress")


def _progress_text(browser) -> str:
    return browser.driver.find_element(By.CSS_SELECTOR, ".rent-progress-text").text


def test_operator_supplies_and_demands_and_a_shortage_is_refused(as_operator, russian):
    store = Store.objects.create(store_id="abc111")
    browser = as_operator(russian)
    browser.open(f"/admin/stores/store/{store.pk}/change/")

    def operate(operation: str, item: str, quantity: int) -> None:
        form = browser.driver.find_element(By.CSS_SELECTOR, "#stock-operation form")
        Select(form.find_element(By.NAME, "operation")).select_by_value(operation)
        browser.fill("item_id", item)
        browser.fill("quantity", quantity)
        browser.submit(form.find_element(By.NAME, "apply"), ".messagelist")

    operate("supply", "apple", 10)
    operate("supply", "pear", 4)
    assert "Записано" in browser.texts(".messagelist .success")[0]
    operate("demand", "apple", 3)
    operate("demand", "apple", 50)
    [error] = browser.texts(".messagelist .error")
    assert "Недостаточно товара: apple запрошено 50, в наличии 7" in error
    stock = dict(
        zip(
            browser.texts(".inline-group td.field-item_id"),
            browser.texts(".inline-group td.field-quantity"),
            strict=True,
        )
    )
    assert stock == {"apple": "7", "pear": "4"}
    browser.screenshot("store-with-stock")

    assert dict(StockItem.objects.values_list("item_id", "quantity")) == {"apple": 7, "pear": 4}
    assert list(StockMovement.objects.order_by("id").values_list("delta", flat=True)) == [
        10,
        4,
        -3,
    ]


def test_operator_adds_a_reading_and_a_lower_one_is_refused(as_operator, russian):
    house = House.objects.create(street=Street.objects.create(name="Садовая"), number=5)
    flat = Flat.objects.create(house=house, number=12, area=Decimal("40"))
    meter = WaterMeter.objects.create(flat=flat, serial="SN-42", installed_on=date(2020, 1, 1))
    MeterReading.objects.create(meter=meter, year=2024, month=1, value=Decimal("10"))
    browser = as_operator(russian)

    browser.open(f"/admin/housing/meterreading/add/?meter={meter.pk}&year=2024&month=2")
    browser.fill("value", "12.5")
    browser.submit(browser.driver.find_element(By.NAME, "_save"), ".messagelist .success")
    browser.open("/admin/housing/meterreading/?q=Садовая")
    # The last column is who submitted the reading: "—" means an operator entered it.
    assert browser.texts("#result_list tbody tr") == [
        "Садовая 5 12 SN-42 2024 1 10,000 —",
        "Садовая 5 12 SN-42 2024 2 12,500 —",
    ]
    browser.screenshot("readings-list")

    browser.open(f"/admin/housing/meterreading/add/?meter={meter.pk}&year=2024&month=3")
    browser.fill("value", "11")
    error = browser.submit(browser.driver.find_element(By.NAME, "_save"), ".errorlist").text
    assert "меньше прежнего показания 12.500" in error
    browser.screenshot("reading-refused")
    assert not MeterReading.objects.filter(month=3).exists()


def test_operator_imports_a_month_of_readings_from_the_readings_list(
    as_operator, russian, tmp_path
):
    """From the readings list's "Import…" to the readings in the table: upload, the dry run's
    preview and errors, confirm, the progress bar to 100 %, with a real worker."""
    from imports.tests.conftest import xlsx_bytes

    house = House.objects.create(street=Street.objects.create(name="Садовая"), number=5)
    for number in range(1, 7):
        flat = Flat.objects.create(house=house, number=number, area=Decimal("40"))
        WaterMeter.objects.create(flat=flat, serial=f"SN-{number}", installed_on=date(2020, 1, 1))
    rows = [["Улица", "Дом", "Квартира", "Год", "Месяц", "Показание"]]
    rows += [["Садовая", 5, number, 2024, 2, f"{number}.5"] for number in range(1, 7)]
    rows.append(["Садовая", 99, 1, 2024, 2, "1"])  # no such house
    path = tmp_path / "февраль.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    browser = as_operator(russian)

    # Batches of one row with a pause: the bar moves for a few seconds.
    with celery_worker(IMPORT_BATCH_SIZE="1", IMPORT_BATCH_PAUSE_SECONDS="0.3"):
        browser.open("/admin/housing/meterreading/")
        link = browser.driver.find_element(By.CSS_SELECTOR, ".object-tools a[href$='/upload/']")
        assert link.text.lower() == "импорт…"
        browser.submit(link, "input[name=file]")
        browser.driver.find_element(By.NAME, "file").send_keys(str(path))
        Select(browser.driver.find_element(By.NAME, "kind")).select_by_value("readings")
        Select(browser.driver.find_element(By.NAME, "mode")).select_by_value("valid_rows")
        assert browser.driver.find_element(By.NAME, "dry_run").is_selected()
        browser.submit(browser.driver.find_element(By.NAME, "upload"), "#bar")
        # The page follows the job and reloads when it ends: the preview and the errors.
        browser.wait_until(lambda: "Первые строки" in browser.texts("h2"), timeout=60)
        assert "Первые ошибки" in browser.texts("h2")
        assert browser.texts("#status") == ["завершён"]
        assert browser.texts("#failed") == ["1"]
        headers = [h.lower() for h in browser.texts("#preview thead th")]
        assert headers[:8] == [
            "строка", "улица", "дом", "квартира", "серийный номер", "год", "месяц", "показание",
        ]  # fmt: skip
        assert browser.texts("#preview tbody tr:first-child td") == [
            "2", "Садовая", "5", "1", "", "2024", "2", "1.500", "создано", "",
        ]  # fmt: skip
        # The row errors are in the uploader's language too.
        last_row = browser.texts("#preview tbody tr:last-child td")
        assert last_row[-1] == "Нет дома 99 на улице Садовая."
        assert not MeterReading.objects.filter(year=2024, month=2).exists()  # a dry run
        browser.screenshot("import-dry-run")

        browser.submit(browser.driver.find_element(By.NAME, "confirm"), "#bar")
        browser.wait_until(
            lambda: (
                0 < float(browser.driver.find_element(By.ID, "bar").get_attribute("value")) < 100
            ),
            timeout=30,
        )
        browser.screenshot("import-in-progress")
        browser.wait_until(lambda: browser.texts("#status") == ["завершён"], timeout=60)
        assert browser.texts("#created") == ["6"]
        assert browser.texts("#failed") == ["1"]
        assert browser.driver.find_element(By.ID, "errors-file").is_displayed()
        browser.screenshot("import-completed")

    values = MeterReading.objects.filter(year=2024, month=2).order_by("meter__flat__number")
    assert [str(v) for v in values.values_list("value", flat=True)] == [
        f"{n}.500" for n in range(1, 7)
    ]


READ_ONLY_PAGES = ["billing/charge", "stores/stockitem", "accounts/movement", "receipts/placehour"]


def test_read_only_pages_offer_no_add_save_or_delete(as_operator, english):
    business_data()
    browser = as_operator(english)
    for page in READ_ONLY_PAGES:
        browser.open(f"/admin/{page}/")
        actions = browser.driver.find_elements(By.CSS_SELECTOR, "select[name=action] option")
        assert "delete_selected" not in [a.get_attribute("value") for a in actions], page
        assert not browser.driver.find_elements(By.CSS_SELECTOR, ".object-tools .addlink")
        browser.submit(
            browser.driver.find_element(By.CSS_SELECTOR, "#result_list tbody a"), "#content-main"
        )
        for css in (".deletelink", "input[name=_save]", "input[name=_continue]"):
            assert not browser.driver.find_elements(By.CSS_SELECTOR, css), (page, css)
    browser.screenshot("read-only-charge")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_admin_page_loads_in_the_browser(as_operator, operator, english, russian, language):
    business_data()
    browser = as_operator(russian if language == "ru" else english)
    pages = admin_pages(operator)
    for url in pages:
        browser.open(url)
        html = browser.driver.find_element(By.TAG_NAME, "html")
        assert html.get_attribute("lang") == language, url
        assert browser.driver.find_elements(By.CSS_SELECTOR, "#content"), url
        assert not re.search(r"Server Error|server_error", browser.driver.page_source), url
    browser.open("/admin/")
    header = browser.driver.find_element(By.CSS_SELECTOR, "#site-name").text
    assert header == (
        "ЖКХ и торговля: операторы" if language == "ru" else "Housing & commerce: operators"
    )
    browser.screenshot(f"index-{language}")
