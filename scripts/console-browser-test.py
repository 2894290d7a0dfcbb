"""The operator console in a real browser (headless Chromium through selenium and chromedriver).

Run by scripts/console-browser-test, which installs what it needs; see there. Starts the sandbox (as
Douyin), two receivers and `certwatch serve` on free loopback ports in a temporary directory, then, as
a person would: signs in with an API key, registers a watch through the API and finds it listed, watches
its events arrive live after a sandbox verification, opens the watch, replays a dead delivery by
clicking, backfills, signs out; after every page it asserts what the page must show and that the
browser logged no console error. Screenshots of each page, at 1280 px and at 375 px wide, are written
to the directory given (default .build/console-screenshots/). Exits 1 naming the first failed check.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BINARY = os.path.abspath(sys.argv[1])
SHOTS = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".build/console-screenshots")
API_KEY = "console-test-key-" + os.urandom(6).hex()
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
started = time.monotonic()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, key=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", "Bearer " + key)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


def wait_until(what, check, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception:  # noqa: BLE001 - retried until the deadline
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Processes:
    def __init__(self, directory):
        self.directory = directory
        self.running = {}

    def start(self, name, *args):
        log = open(os.path.join(self.directory, name + ".log"), "w")
        self.running[name] = subprocess.Popen([BINARY, *args], cwd=self.directory, stdout=log, stderr=subprocess.STDOUT)

    def stop_all(self):
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def logs(self):
        for name in self.running:
            path = os.path.join(self.directory, name + ".log")
            with open(path, errors="replace") as f:
                lines = f.readlines()[-30:]
            print(f"--- {name}.log (last {len(lines)} lines)", file=sys.stderr)
            sys.stderr.writelines(lines)


def main():
    os.makedirs(SHOTS, exist_ok=True)
    for old in os.listdir(SHOTS):
        if old.endswith(".png"):
            os.remove(os.path.join(SHOTS, old))
    work = tempfile.mkdtemp(prefix="certwatch-console-")
    processes = Processes(work)
    driver = None
    try:
        sandbox, erp, flaky, api = free_port(), free_port(), free_port(), free_port()
        base = f"http://127.0.0.1:{api}"
        os.makedirs(os.path.join(work, "rules"))
        with open(os.path.join(work, "certwatch.yaml"), "w") as f:
            f.write(f"""database: certwatch.sqlite
douyin:
  base_url: http://127.0.0.1:{sandbox}
  client_key: sandbox_key
  client_secret: sandbox_secret
poll:
  qps: 10
http:
  listen: 127.0.0.1:{api}
  api_keys: [{API_KEY}]
rules:
  paths: [rules/]
sinks:
  erp:
    type: webhook
    url: http://127.0.0.1:{erp}/douyin/certificates
    allow_private: true
    secret: {SECRET}
  flaky:
    type: webhook
    url: http://127.0.0.1:{flaky}/hook
    allow_private: true
    secret: {SECRET}
    retry_schedule: [0s]
""")
        with open(os.path.join(work, "rules", "all.yaml"), "w") as f:
            f.write("rules:\n  - name: all\n    on: [certificate.discovered, certificate.verified]\n    deliver: [erp, flaky]\n")
        processes.start("sandbox", "sandbox", "--port", str(sandbox), "--log-level", "warning")
        processes.start("erp", "listen", "--port", str(erp), "--secret", SECRET)
        wait_until("the sandbox", lambda: http("GET", f"http://127.0.0.1:{sandbox}/sandbox/clock") is not None)
        processes.start("serve", "serve", "--config", "certwatch.yaml", "--log-level", "warning")
        wait_until("serve's /readyz", lambda: http("GET", base + "/readyz")["status"] == "ready")

        options = Options()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                         "--lang=zh-CN"]:
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(20)
        shots = []

        def console_errors(page):
            errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
            assert not errors, f"{page}: the browser logged console errors: {errors}"

        def shoot(name):
            """Full-page screenshots at 1280 and 375 px wide; the console log checked."""
            console_errors(name)
            for width in (1280, 375):
                driver.set_window_size(width, 900)
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(width, min(max(height + 140, 600), 6000))
                if width == 375:
                    overflow = driver.execute_script(
                        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
                    assert overflow <= 1, f"{name}: the page is {overflow} px wider than a 375 px screen"
                path = os.path.join(SHOTS, f"{name}-{width}.png")
                driver.save_screenshot(path)
                shots.append(path)
            driver.set_window_size(1280, 900)
            console_errors(name)

        def text():
            return driver.find_element(By.TAG_NAME, "body").text

        def submit(element):
            """Clicks a button that loads a new page, and waits until the old page is gone, so
            nothing read or typed next belongs to it (a stale element otherwise)."""
            element.click()
            WebDriverWait(driver, 10).until(EC.staleness_of(element))

        # 1. Nothing under /console/ without a session: the sign-in page.
        driver.get(base + "/console/watches")
        assert "/console/sign-in" in driver.current_url, f"no redirect to sign-in: {driver.current_url}"
        assert "登录 Sign in" in text()
        shoot("01-sign-in")
        driver.find_element(By.ID, "api_key").send_keys("wrong-key")
        submit(driver.find_element(By.ID, "sign-in"))
        assert "Wrong API key" in text(), "a wrong key was not refused"
        driver.get_log("browser")  # the 401 itself is logged as a failed resource load: expected here
        driver.find_element(By.ID, "api_key").send_keys(API_KEY)
        submit(driver.find_element(By.ID, "sign-in"))
        WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith("/console/watches"))
        cookie = driver.get_cookie("certwatch_session")
        assert cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict", f"session cookie: {cookie}"

        # 2. A watch registered through the API is listed.
        order = http("POST", f"http://127.0.0.1:{sandbox}/sandbox/orders",
                     {"certificates": [{"kind": "voucher"}], "expire_in": 86400})
        order_id, certificate_id = order["order_id"], order["certificates"][0]["certificate_id"]
        watch = http("POST", base + "/v1/watches", {"order_id": order_id, "labels": {"store": "sh-01"}}, key=API_KEY)["watch"]
        driver.get(base + "/console/watches")
        assert order_id in text(), "the registered order is not listed"
        # Once polled, its certificate id finds it too.
        wait_until("the first poll's certificate.discovered",
                   lambda: http("GET", base + f"/v1/events?order_id={order_id}", key=API_KEY)["events"], timeout=30)
        driver.find_element(By.ID, "q").send_keys(certificate_id)
        submit(driver.find_element(By.CSS_SELECTOR, "form.filters button"))
        assert driver.find_elements(By.CSS_SELECTOR, f"a[href='/console/watches/{watch['id']}']"), \
            "the watch is not found by its certificate id"
        shoot("02-watches")

        # 3. The events page follows the stream: the verification appears without a reload.
        driver.get(base + "/console/events")
        wait_until("the live stream", lambda: driver.find_element(By.ID, "live-status").is_displayed(), timeout=15)
        http("POST", f"http://127.0.0.1:{sandbox}/sandbox/certificates/{certificate_id}/verify", {})
        asked = [0.0]

        def verified_live_row():
            # "Poll now" again every 5 s until the poll has seen the verification (a poll request that
            # met the watch mid-poll is not repeated by serve); the row must still arrive live, no reload.
            if time.monotonic() - asked[0] > 5 and not http(
                    "GET", base + f"/v1/events?order_id={order_id}&type=certificate.verified", key=API_KEY)["events"]:
                http("POST", base + f"/v1/watches/{watch['id']}/poll", key=API_KEY)
                asked[0] = time.monotonic()
            return [row for row in driver.find_elements(By.CSS_SELECTOR, "#events tbody tr.fresh")
                    if "certificate.verified" in row.text and certificate_id in row.text]
        wait_until("certificate.verified added live to the events table", verified_live_row, timeout=30)
        shoot("03-events-live")

        # 4. The watch: its certificate verified (cancellable for now), the timeline with deliveries.
        driver.get(base + f"/console/watches/{watch['id']}")
        body = text()
        assert certificate_id in body and "核销 certificate.verified" in body, "the watch page lacks the verification"
        assert "cancellable until" in body or "已使用 used" in body, "no derived state for the verified certificate"
        shoot("04-watch")

        # 5. A dead delivery (nothing listened for `flaky`), replayed by clicking once a receiver is up.
        def dead_delivery():
            driver.get(base + "/console/deliveries?sink=flaky&state=dead")
            links = driver.find_elements(By.CSS_SELECTOR, "#deliveries tbody a")
            return links[0].get_attribute("href") if links else None
        href = wait_until("a dead delivery of flaky", dead_delivery, timeout=30, interval=0.5)
        shoot("05-deliveries")
        driver.get(href)
        assert "死信 dead" in driver.find_element(By.ID, "delivery-state").text
        assert "Connection refused" in text() or "connect" in text().lower(), "the attempt's error is not shown"
        shoot("06-delivery-dead")
        processes.start("flaky", "listen", "--port", str(flaky), "--secret", SECRET)
        wait_until("the flaky receiver", lambda: socket.create_connection(("127.0.0.1", flaky), timeout=1).close() or True)
        submit(driver.find_element(By.ID, "replay"))
        assert "Replaying delivery" in text(), "no notice after the replay"

        def delivered():
            driver.refresh()
            return "已送达 delivered" in driver.find_element(By.ID, "delivery-state").text
        wait_until("the replayed delivery delivered", delivered, timeout=30, interval=0.5)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#attempts tbody tr")) >= 2
        shoot("07-delivery-replayed")

        # 6. Backfill (dry run by default on the form): everything is already delivered to erp.
        driver.get(base + "/console/deliveries")
        submit(driver.find_element(By.CSS_SELECTOR, "form[action='/console/deliveries/backfill'] button"))
        report = driver.find_element(By.ID, "backfill-report").text
        assert "backfill erp: 0 deliveries would be created (dry run)" in report, f"backfill report: {report}"
        shoot("08-backfill")

        # 7. Overview and sinks.
        driver.get(base + "/console/")
        body = text()
        assert "监控 Watches by state" in body and "抖音配额 Poll budget" in body and "flaky" in body
        shoot("09-overview")
        driver.get(base + "/console/sinks")
        assert "erp" in text() and "flaky" in text()
        shoot("10-sinks")

        # 8. Sign out: back at sign-in, and the console is closed again.
        submit(driver.find_element(By.ID, "sign-out"))
        WebDriverWait(driver, 10).until(lambda d: "/console/sign-in" in d.current_url)
        assert "Signed out" in text()
        driver.get(base + "/console/watches")
        assert "/console/sign-in" in driver.current_url, "the console is readable after signing out"
        console_errors("after sign-out")

        print(f"console-browser-test: passed in {time.monotonic() - started:.1f} s; screenshots:")
        for path in shots:
            print("  " + os.path.relpath(path))
        return 0
    except Exception as error:  # noqa: BLE001 - reported with the logs
        print(f"console-browser-test: FAILED: {error}", file=sys.stderr)
        if driver is not None:
            try:
                driver.save_screenshot(os.path.join(SHOTS, "failure.png"))
                print(f"  at {driver.current_url}; screenshot {os.path.join(SHOTS, 'failure.png')}", file=sys.stderr)
            except Exception:  # noqa: BLE001
                pass
        processes.logs()
        return 1
    finally:
        if driver is not None:
            driver.quit()
        processes.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
