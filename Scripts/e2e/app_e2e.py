#!/usr/bin/env python3
"""End-to-end tests of the chat app in a real headless Chromium (Selenium), against a running
`muse serve`. Scripts/e2e/app_e2e.sh starts the server, creates the users and sets the environment:

  MUSE_APP_BASE_URL     http://127.0.0.1:PORT
  MUSE_APP_LOG          the server's log file (checked for secrets at the end)
  MUSE_APP_ADMIN_USER / MUSE_APP_ADMIN_PASSWORD    an admin with access to every model
  MUSE_APP_LIMITED_USER / MUSE_APP_LIMITED_PASSWORD  a user allowed only the default model
  MUSE_APP_SPENT_USER / MUSE_APP_SPENT_PASSWORD  a user whose token budget (1 token) is spent
  MUSE_APP_DEFAULT_MODEL  the real model (SmolLM2), streams real tokens
  MUSE_APP_OPEN_MODEL     an open-weights model (download link)
  MUSE_APP_XSS_MODEL      the scripted model whose reply holds <script>, <img onerror>, and an
                          HTML document with a script in a fenced block (an artifact that must
                          run in its sandboxed preview frame and nowhere else)
  MUSE_APP_REASONING_MODEL  the scripted model that thinks (<think>…</think>) before answering
  MUSE_APP_TOOLS_MODEL  the scripted model that calls get_weather and get_time (<tool_call> blocks)
  MUSE_APP_SCREENSHOTS  folder for the screenshots (docs/screenshots)
  MUSE_APP_FAILURES     folder for screenshots of failed steps (default: a temporary folder)
  MUSE_APP_PID_FILE / MUSE_APP_SERVE_ARGV  the server's pid file and command line (JSON), for
                        the restart step (skipped with a note when unset)
  MUSE_APP_SECRETS_FILE optional: more strings (one a line) that must not appear in the log

The steps run in order in one browser, as a person would use the app; each prints PASS or
FAIL and the script exits non-zero if any failed.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

BASE = os.environ["MUSE_APP_BASE_URL"].rstrip("/")
LOG = os.environ["MUSE_APP_LOG"]
ADMIN = (os.environ["MUSE_APP_ADMIN_USER"], os.environ["MUSE_APP_ADMIN_PASSWORD"])
LIMITED = (os.environ["MUSE_APP_LIMITED_USER"], os.environ["MUSE_APP_LIMITED_PASSWORD"])
SPENT = (os.environ["MUSE_APP_SPENT_USER"], os.environ["MUSE_APP_SPENT_PASSWORD"])
DEFAULT_MODEL = os.environ["MUSE_APP_DEFAULT_MODEL"]
OPEN_MODEL = os.environ["MUSE_APP_OPEN_MODEL"]
XSS_MODEL = os.environ["MUSE_APP_XSS_MODEL"]
TOOLS_MODEL = os.environ["MUSE_APP_TOOLS_MODEL"]
GUARDED_MODEL = os.environ.get("MUSE_APP_GUARDED_MODEL", "scripted-guarded")
REASONING_MODEL = os.environ["MUSE_APP_REASONING_MODEL"]
SHOTS = os.environ.get("MUSE_APP_SCREENSHOTS", "docs/screenshots")
FAILURES = os.environ.get("MUSE_APP_FAILURES") or tempfile.mkdtemp(prefix="muse-app-e2e-")
EXPIRED = "Your session has expired. Please sign in again."
DESKTOP = (1280, 800)
PHONE = (390, 844)

# Session cookies seen during the run: none may appear in the server's log.
seen_tokens = set()


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("MUSE_APP_CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,800", "--force-device-scale-factor=1", "--lang=en-US",
                     "--force-prefers-reduced-motion", "--hide-scrollbars"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(os.environ.get("MUSE_APP_CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(30)
    return driver


d = make_driver()


def viewport(size, mobile=False):
    width, height = size
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1 if not mobile else 2, "mobile": mobile,
    })


def wait_for(condition, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (StaleElementReferenceException, WebDriverException) as error:
            last_error = error
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                         + (f" (last error: {last_error.msg if hasattr(last_error, 'msg') else last_error})"
                            if last_error else ""))


def q(css):
    return d.find_element(By.CSS_SELECTOR, css)


def qs(css):
    return d.find_elements(By.CSS_SELECTOR, css)


def visible(css):
    elements = qs(css)
    return elements[0] if elements and elements[0].is_displayed() else None


def shot(name, folder=None):
    folder = folder or SHOTS
    os.makedirs(folder, exist_ok=True)
    time.sleep(0.3)  # let fonts and layout settle
    d.save_screenshot(os.path.join(folder, f"{name}.png"))


def remember_token():
    cookie = d.get_cookie("muse_session")
    if cookie and cookie.get("value"):
        seen_tokens.add(cookie["value"])
        return cookie
    return None


def sign_in(user, password):
    wait_for(lambda: visible("#signin-form"), what="the sign-in form")
    name = q("#signin-username")
    name.clear()
    name.send_keys(user)
    field = q("#signin-password")
    field.clear()
    field.send_keys(password, Keys.ENTER)
    wait_for(lambda: visible("#app-view"), what="the app after signing in")
    wait_for(lambda: q("#account-name").text == user, what="the account name")
    remember_token()


def assistant_messages():
    return qs("#messages .message.assistant")


def last_assistant_text():
    messages = assistant_messages()
    return messages[-1].find_element(By.CSS_SELECTOR, ".message-body").text if messages else ""


def send(text):
    prompt = q("#prompt")
    prompt.click()
    prompt.send_keys(text, Keys.ENTER)


def wait_reply_done(timeout=120):
    wait_for(lambda: assistant_messages() and not visible("#stop") and visible("#send"),
             timeout, "the reply to finish")


def select_model(model_id):
    Select(q("#model-select")).select_by_value(model_id)


def sidebar_items():
    return qs("#conversation-list .conversation-item")


def sidebar_titles():
    return [item.find_element(By.CSS_SELECTOR, ".conversation-open").text for item in sidebar_items()]


def open_sidebar_if_narrow():
    if visible("#open-sidebar"):
        q("#open-sidebar").click()
        wait_for(lambda: visible("#sidebar"), what="the sidebar")


def search(text):
    box = q("#search")
    box.clear()
    if text:
        box.send_keys(text)
    else:
        box.send_keys(" ", Keys.BACKSPACE)
    time.sleep(0.6)  # the search waits 250 ms for typing to pause


def api_status(path):
    """Status and headers of a GET without the browser's cookie."""
    request = urllib.request.Request(BASE + path)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# ---------------------------------------------------------------------------------------------

steps = []


def step(function):
    steps.append(function)
    return function


@step
def page_is_served_with_strict_headers():
    status, headers, body = api_status("/")
    assert status == 200, status
    csp = headers.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "object-src 'none'"):
        assert directive in csp, f"CSP lacks {directive!r}: {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert headers.get("X-Content-Type-Options") == "nosniff", headers
    assert headers.get("Referrer-Policy") == "same-origin", headers
    html = body.decode()
    assert "<script>" not in html and " style=" not in html and "onclick" not in html.lower(), \
        "index.html holds inline script or style"
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css"), ("markdown.js", "javascript")):
        status, headers, _ = api_status(f"/app/{name}")
        assert status == 200 and kind in headers.get("Content-Type", ""), (name, status, headers)


@step
def wrong_password_shows_a_clear_message():
    viewport(DESKTOP)
    d.get(BASE + "/")
    wait_for(lambda: visible("#signin-form"), what="the sign-in form")
    shot("desktop-signin")
    q("#signin-username").send_keys(ADMIN[0])
    q("#signin-password").send_keys("not-the-password", Keys.ENTER)
    message = wait_for(lambda: visible("#signin-message"), what="the sign-in error")
    assert message.text == "Wrong username or password.", message.text
    assert not visible("#app-view")
    assert d.get_cookie("muse_session") is None


MARKDOWN_CASES = [
    # (source, CSS selector that must match inside the rendered fragment, expected text of it)
    ("# Title", "h2", "Title"),
    ("a **bold** and *em* and `x<y>`", "strong", "bold"),
    ("a **bold** and *em* and `x<y>`", "em", "em"),
    ("a **bold** and *em* and `x<y>`", "code", "x<y>"),
    ("snake_case_name stays", "p", "snake_case_name stays"),
    ("- one\n- two\n  - nested", "ul > li > ul > li", "nested"),
    ("3. three\n4. four", "ol > li", "three"),
    ("> quoted *text*", "blockquote em", "text"),
    ("| a | b |\n|---|--:|\n| 1 | <b>2</b> |", "table td.align-right", "<b>2</b>"),
    ("```js\nalert('<x>')\n```", "figure.code-block pre code", "alert('<x>')"),
    ("```js\nalert(1)\n```", ".code-language", "js"),
    ("see [docs](https://example.com/a?b=1)", "a[href='https://example.com/a?b=1']", "docs"),
    ("mail <mailto:someone@example.com>", "a[href='mailto:someone@example.com']", "mailto:someone@example.com"),
    ("bare https://example.org/x.", "a[href='https://example.org/x']", "https://example.org/x"),
]
HOSTILE_MARKDOWN = [
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=window.__pwned=2>",
    "[click](javascript:window.__pwned=3)",
    "[click](JaVaScRiPt:window.__pwned=3)",
    "[click](data:text/html,<script>parent.__pwned=4</script>)",
    "[x](https://ok.example/\" onmouseover=\"window.__pwned=5)",
    "![img](https://example.com/a.png)",
    "| h |\n|---|\n| <svg onload=window.__pwned=6> |",
    "> <iframe src=javascript:window.__pwned=7></iframe>",
    "- <a href=javascript:window.__pwned=8>x</a>",
    "**<style>body{display:none}</style>**",
    "`</code><script>window.__pwned=9</script>`",
    "```html\n<!doctype html><script>parent.__pwned=10</script>\n```",
    "<details open ontoggle=window.__pwned=11>",
]


@step
def markdown_renderer_is_safe_and_structured():
    d.get(BASE + "/")
    wait_for(lambda: visible("#signin-form"), what="the page")
    results = d.execute_async_script("""
        const [cases, hostile, done] = arguments;
        import('/app/markdown.js').then(({ renderMarkdown }) => {
          const allowed = new Set(['H2','H3','H4','H5','H6','P','BR','STRONG','EM','DEL','CODE','PRE','UL','OL',
            'LI','BLOCKQUOTE','HR','TABLE','THEAD','TBODY','TR','TH','TD','DIV','FIGURE','SPAN','BUTTON','A']);
          const out = { cases: [], hostile: [] };
          for (const [source, selector] of cases) {
            const box = document.createElement('div');
            box.append(renderMarkdown(source, { onCopy() {}, onPreview() {} }));
            const found = box.querySelector(selector);
            out.cases.push(found ? found.textContent : null);
          }
          for (const source of hostile) {
            const box = document.createElement('div');
            box.append(renderMarkdown(source, { onCopy() {}, onPreview() {} }));
            document.body.append(box);
            const bad = [...box.querySelectorAll('*')].filter((e) => !allowed.has(e.tagName) ||
              [...e.attributes].some((a) => a.name.startsWith('on') || a.name === 'style' || a.name === 'src') ||
              (e.tagName === 'A' && !/^(https?|mailto):/.test(e.getAttribute('href') || '')));
            out.hostile.push({ bad: bad.map((e) => e.outerHTML.slice(0, 80)), text: box.textContent });
            box.remove();
          }
          setTimeout(() => { out.pwned = window.__pwned === undefined ? null : window.__pwned; done(out); }, 300);
        }, (error) => done({ error: String(error) }));
    """, [[c[0], c[1]] for c in MARKDOWN_CASES], HOSTILE_MARKDOWN)
    assert "error" not in results, results
    for (source, selector, expected), got in zip(MARKDOWN_CASES, results["cases"]):
        assert got == expected, f"{source!r}: {selector} gave {got!r}, expected {expected!r}"
    for source, result in zip(HOSTILE_MARKDOWN, results["hostile"]):
        assert not result["bad"], f"{source!r} created {result['bad']}"
        assert "__pwned" in result["text"] or "<" in result["text"] or "img" in result["text"], (source, result)
    assert results["pwned"] is None, f"hostile Markdown ran script ({results['pwned']})"
    # The page's own CSP still forbids inline script in anything that inherits it (a srcdoc frame),
    # which is why artifacts get a frame document of their own.
    ran = d.execute_async_script("""
        const done = arguments[0];
        let ran = false;
        window.addEventListener('message', () => { ran = true; });
        const frame = document.createElement('iframe');
        frame.setAttribute('sandbox', 'allow-scripts');
        frame.srcdoc = '<!doctype html><script>parent.postMessage("ran", "*")<' + '/script>';
        document.body.append(frame);
        setTimeout(() => { frame.remove(); done(ran); }, 1000);
    """)
    assert ran is False, "an inline script in a sandboxed srcdoc frame ran under the page's CSP"


@step
def sign_in_as_admin():
    sign_in(*ADMIN)
    assert visible("#show-admin"), "an admin sees the Admin page link"
    options = {o.get_attribute("value"): o.text for o in Select(q("#model-select")).options}
    assert {DEFAULT_MODEL, OPEN_MODEL, XSS_MODEL} <= options.keys(), options
    assert Select(q("#model-select")).first_selected_option.get_attribute("value") == DEFAULT_MODEL


@step
def model_picker_shows_closed_and_open():
    select_model(DEFAULT_MODEL)
    badge = q("#model-badge")
    assert badge.text == "Closed" and "closed" in badge.get_attribute("class"), badge.text
    assert not visible("#model-download")
    select_model(OPEN_MODEL)
    wait_for(lambda: q("#model-badge").text == "Open weights", what="the open badge")
    link = wait_for(lambda: visible("#model-download"), what="the download link")
    assert link.get_attribute("href").endswith(f"/v1/models/{OPEN_MODEL}/weights"), link.get_attribute("href")
    # The Thinking toggle is offered exactly for the models whose template supports reasoning.
    me = d.execute_async_script("fetch('/app/api/me').then((r) => r.json()).then(arguments[0])")
    for model in me["models"]:
        select_model(model["id"])
        hidden = q("#thinking-field").get_attribute("hidden") is not None
        assert hidden == (not model["supports_reasoning"]), (model["id"], model["supports_reasoning"])
    select_model(DEFAULT_MODEL)


@step
def keyboard_shift_enter_and_visible_focus():
    prompt = q("#prompt")
    prompt.click()
    prompt.send_keys("first line", Keys.SHIFT, Keys.ENTER, Keys.SHIFT, "second line")
    assert prompt.get_attribute("value") == "first line\nsecond line", repr(prompt.get_attribute("value"))
    assert not qs("#messages .message"), "Shift+Enter must not send"
    prompt.send_keys(Keys.CONTROL, "a")
    prompt.send_keys(Keys.DELETE)
    # Keyboard focus is visible: Tab from the composer reaches Send, which shows an outline.
    prompt.send_keys(Keys.TAB)
    focused = d.switch_to.active_element
    assert focused.get_attribute("id") == "send", focused.get_attribute("outerHTML")[:80]
    outline = d.execute_script(
        "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth];")
    assert outline[0] != "none" and outline[1] != "0px", outline


@step
def streamed_reply_grows_and_stops():
    send("Write a long story about a lighthouse keeper and the sea, in many paragraphs.")
    user = wait_for(lambda: qs("#messages .message.user[data-id]"), what="the stored user message")
    assert "lighthouse keeper" in user[0].text
    wait_for(lambda: visible("#stop"), what="the Stop button")
    lengths = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        current = len(last_assistant_text())
        if not lengths or current != lengths[-1]:
            lengths.append(current)
        if len([n for n in lengths if n > 0]) >= 3:
            break
        time.sleep(0.05)
    growing = [n for n in lengths if n > 0]
    assert len(growing) >= 3 and growing == sorted(growing), f"the reply did not grow over time: {lengths}"
    q("#stop").click()
    wait_for(lambda: visible("#send"), what="Send to come back after Stop")
    reply = assistant_messages()[-1]
    status = reply.find_element(By.CSS_SELECTOR, ".message-status")
    assert status.text == "Stopped", status.text
    assert reply.get_attribute("data-finish-reason") == "cancelled"
    stopped_at = len(last_assistant_text())
    time.sleep(1.0)
    assert len(last_assistant_text()) == stopped_at, "text kept arriving after Stop"
    print(f"E2E-REPORT: streamed reply lengths before Stop: {growing[:6]}")


@step
def reload_finds_conversation_with_messages():
    wait_for(lambda: sidebar_items(), what="the conversation in the sidebar")
    title = sidebar_titles()[0]
    assert title.startswith("Write a long story about a lighthouse"), title
    time.sleep(0.5)  # the server stores the partial reply when it sees the client leave
    d.refresh()
    wait_for(lambda: visible("#app-view"), what="the app after reload")
    item = wait_for(lambda: sidebar_items(), what="the sidebar after reload")[0]
    item.find_element(By.CSS_SELECTOR, ".conversation-open").click()
    wait_for(lambda: len(qs("#messages .message")) == 2, what="both stored messages")
    assert "lighthouse keeper" in q("#messages .message.user").text
    reply = q("#messages .message.assistant")
    assert reply.get_attribute("data-finish-reason") == "cancelled", reply.get_attribute("data-finish-reason")
    assert reply.find_element(By.CSS_SELECTOR, ".message-body").text.strip(), "the partial reply was not kept"


@step
def regenerate_replaces_the_last_reply():
    before = qs("#messages .message.assistant")[-1].get_attribute("data-id")
    wait_for(lambda: qs("#messages .message.assistant .regenerate"), what="Regenerate").pop().click()
    wait_for(lambda: visible("#stop"), what="streaming after Regenerate")
    wait_for(lambda: len(last_assistant_text()) > 0, 90, what="regenerated text")
    q("#prompt").send_keys(Keys.ESCAPE)  # Escape stops, like the Stop button
    wait_for(lambda: visible("#send"), what="Escape to stop")
    messages = qs("#messages .message")
    assert len(messages) == 2, len(messages)
    d.refresh()
    wait_for(lambda: sidebar_items(), what="the sidebar")[0].find_element(By.CSS_SELECTOR, ".conversation-open").click()
    wait_for(lambda: len(qs("#messages .message.assistant")) == 1, what="one reply after regenerate")
    after = q("#messages .message.assistant").get_attribute("data-id")
    assert after and after != before, (before, after)


@step
def switch_model_and_settings_are_kept():
    select_model(OPEN_MODEL)
    q("#toggle-settings").click()
    system = wait_for(lambda: visible("#system-prompt"), what="the settings")
    system.send_keys("Answer in one sentence.", Keys.TAB)  # change fires when the field is left
    slider = q("#temperature")
    slider.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    assert q("#temperature-value").text == "0.5", q("#temperature-value").text
    q("#toggle-settings").click()
    time.sleep(0.8)  # PATCH
    d.refresh()
    wait_for(lambda: sidebar_items(), what="the sidebar")[0].find_element(By.CSS_SELECTOR, ".conversation-open").click()
    wait_for(lambda: len(qs("#messages .message")) >= 2, what="messages")
    wait_for(lambda: Select(q("#model-select")).first_selected_option.get_attribute("value") == OPEN_MODEL,
             what="the conversation's model to be the one switched to")
    assert q("#system-prompt").get_attribute("value") == "Answer in one sentence."
    assert q("#temperature").get_attribute("value") == "0.5", q("#temperature").get_attribute("value")
    select_model(DEFAULT_MODEL)
    time.sleep(0.8)


@step
def xss_reply_renders_as_text_and_artifacts_are_sandboxed():
    q("#new-chat").click()
    select_model(XSS_MODEL)
    send("Show me some HTML, please.")
    wait_reply_done()
    body = assistant_messages()[-1].find_element(By.CSS_SELECTOR, ".message-body")
    text = body.text
    assert "<script>" in text, f"the <script> tag is not shown as text: {text!r}"
    assert "onerror" in text and "<img" in text, f"the <img onerror> is not shown as text: {text!r}"
    assert d.execute_script("return window.__pwned") is None, "script from the model ran"
    injected = d.execute_script(
        "return document.querySelectorAll('#messages script, #messages img, #messages iframe:not(.artifact-frame),"
        " #messages [onerror], #messages [onclick], #messages object, #messages embed').length")
    assert injected == 0, f"{injected} elements from the model's markup were created"
    for link in body.find_elements(By.TAG_NAME, "a"):
        href = link.get_attribute("href")
        assert href.startswith(("http:", "https:", "mailto:")), href
        assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    assert body.find_elements(By.CSS_SELECTOR, "table"), "the Markdown table was not rendered"
    copy = body.find_element(By.CSS_SELECTOR, ".copy-code")
    copy.click()
    wait_for(lambda: copy.text == "Copied", 5, what="the code block's Copy button to say Copied")
    previews = body.find_elements(By.CSS_SELECTOR, ".preview-button")
    assert previews, "no Preview button for the HTML/SVG artifact"
    for button in previews:
        button.click()
    frames = wait_for(lambda: body.find_elements(By.CSS_SELECTOR, "iframe.artifact-frame"), what="preview frames")
    assert len(frames) == len(previews)
    for frame in frames:
        sandbox = frame.get_attribute("sandbox")
        assert sandbox == "allow-scripts", sandbox
        assert not frame.get_attribute("srcdoc"), "a srcdoc frame would inherit the page's CSP"
        src = d.execute_script("return arguments[0].src", frame)
        assert src == f"{BASE}/app/artifact-frame.html", src
        # An opaque origin: the page cannot reach into the frame (nor the frame into the page).
        assert d.execute_script("try { return arguments[0].contentDocument === null; } catch (e) { return true; }",
                                frame)
    # The HTML artifact's own script ran inside its frame: it rewrote its paragraph, and its
    # attempts to read parent.document and to write parent.__pwned threw.
    html_frame = next(f for f in frames if "html" in f.get_attribute("class").split())
    d.switch_to.frame(html_frame)
    try:
        wait_for(lambda: d.find_elements(By.ID, "msg") and d.find_element(By.ID, "msg").text == "Script ran.",
                 10, what="the artifact's script to rewrite #msg")
        assert d.find_element(By.TAG_NAME, "h1").text == "Hello from an artifact"
        dataset = d.execute_script("return Object.assign({}, document.body.dataset)")
        assert dataset.get("parent") == "SecurityError", f"the artifact read parent.document: {dataset}"
        assert dataset.get("write") == "SecurityError", f"the artifact wrote to the page: {dataset}"
        assert d.execute_script("return window.origin") == "null", "the artifact frame's origin is not opaque"
        # An opaque origin has no cookie jar at all: reading document.cookie throws.
        cookie = d.execute_script("try { return document.cookie; } catch (e) { return e.name; }")
        assert cookie == "SecurityError", f"the artifact frame can read cookies: {cookie!r}"
    finally:
        d.switch_to.default_content()
    time.sleep(0.5)
    assert d.execute_script("return window.__pwned") is None, "script from an artifact reached the page"
    assert d.execute_script("return document.cookie.includes('muse_session')") is False, "the session cookie is not HttpOnly"


@step
def desktop_screenshots_of_chat_usage_admin():
    d.execute_script("document.getElementById('messages').scrollTop = 0")
    shot("desktop-chat")
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    shot("desktop-chat-dark")
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    q("#show-usage").click()
    wait_for(lambda: qs("#usage-view .stat"), what="the usage panel")
    labels = [e.text for e in qs("#usage-view .stat-label")]
    assert labels[:3] == ["Tokens", "Requests", "Cost"], labels
    values = [e.text.replace(",", "") for e in qs("#usage-view .stat-value")]
    tokens = int(values[0])
    assert tokens > 0, "the chats above used tokens: the usage panel should count them"
    usage = d.execute_async_script(
        "fetch('/app/api/usage').then((r) => r.json()).then(arguments[0])")
    assert tokens == usage["prompt_tokens"] + usage["completion_tokens"], (values, usage)
    assert int(values[1]) == usage["requests"], (values, usage)
    remaining = usage["limits"]["remaining_tokens"]
    assert values[3] == ("Unlimited" if remaining is None else str(remaining)), (values, usage)
    shot("desktop-usage")
    q("#show-admin").click()
    rows = wait_for(lambda: qs("#admin-view tbody tr"), what="the admin users table")
    names = [row.find_element(By.CSS_SELECTOR, "th").text for row in rows]
    assert ADMIN[0] in names and LIMITED[0] in names, names
    shot("desktop-admin")
    q("#new-chat").click()


@step
def thinking_toggle_and_reasoning():
    q("#new-chat").click()
    select_model(REASONING_MODEL)
    assert q("#thinking-field").get_attribute("hidden") is None, "the reasoning model offers Thinking"
    q("#toggle-settings").click()
    box = wait_for(lambda: visible("#thinking"), what="the Thinking switch")
    if not box.is_selected():
        box.click()
    q("#toggle-settings").click()
    send("Think about it.")
    wait_reply_done()
    reply = assistant_messages()[-1]
    details = reply.find_element(By.CSS_SELECTOR, ".reasoning")
    assert details.is_displayed(), "the reasoning is offered above the answer"
    thought = reply.find_element(By.CSS_SELECTOR, ".reasoning-text").get_attribute("textContent")
    assert thought.strip() == "The user wants to see reasoning. I will answer briefly.", repr(thought)
    body = reply.find_element(By.CSS_SELECTOR, ".message-body")
    assert body.text == "The answer is 42.", repr(body.text)
    assert body.find_element(By.TAG_NAME, "strong").text == "42"
    conversation = d.execute_script("return document.querySelector('.conversation-item.active').dataset.id")
    stored = d.execute_async_script(
        "fetch('/app/api/conversations/' + arguments[0]).then((r) => r.json()).then(arguments[1])", conversation)
    assert stored["conversation"]["thinking"] is True, stored["conversation"]


TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"], "additionalProperties": False}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
]


@step
def content_policy_notices():
    q("#new-chat").click()
    select_model(GUARDED_MODEL)
    # A message the input rails block is refused with a clear notice, and nothing is kept.
    send("Please charge my card 4111 1111 1111 1111")
    banner = wait_for(lambda: visible(".chat-error"), what="the content policy notice")
    assert "Blocked by the content policy" in banner.text, banner.text
    assert banner.get_attribute("data-code") == "content_policy_violation"
    assert "4111" not in "".join(m.text for m in assistant_messages())
    # The refused text is back in the box for the user to change.
    prompt = q("#prompt")
    assert "4111" in prompt.get_attribute("value")
    prompt.clear()
    # A reply the output rails end says so under the reply; the flagged word never arrives.
    send("Say something that tests the renderer.")
    wait_reply_done()
    reply = assistant_messages()[-1]
    assert reply.get_attribute("data-finish-reason") == "content_filter"
    status = reply.find_element(By.CSS_SELECTOR, ".message-status").text
    assert "Stopped by the content policy" in status, status
    assert "onerror" not in reply.text
    shot("desktop-content-filter")


@step
def tool_calls_are_shown_and_answered():
    q("#new-chat").click()
    select_model(TOOLS_MODEL)
    q("#toggle-settings").click()
    area = wait_for(lambda: visible("#tools"), what="the Tools field")
    area.send_keys("[not json")
    q("#system-prompt").click()  # leaving the field saves it, or says why not
    error = wait_for(lambda: visible("#tools-error"), what="the tools error")
    assert "JSON" in error.text, error.text
    area.clear()
    d.execute_script("arguments[0].value = arguments[1]", area, json.dumps(TOOLS))
    q("#toggle-settings").click()
    send("What is the weather and the time in Paris?")
    wait_reply_done()
    reply = assistant_messages()[-1]
    calls = reply.find_elements(By.CSS_SELECTOR, ".tool-call")
    names = [c.find_element(By.CSS_SELECTOR, "summary code").text for c in calls]
    assert names == ["get_weather", "get_time"], names
    assert all(c.get_attribute("open") is None for c in calls), "calls start collapsed"
    calls[0].find_element(By.TAG_NAME, "summary").click()
    shown = json.loads(calls[0].find_element(By.CSS_SELECTOR, ".tool-arguments").text)
    assert shown == {"city": "Paris", "unit": "celsius"}, shown
    shot("desktop-tool-calls")
    form = wait_for(lambda: visible(".tool-results-form"), what="the tool results form")
    inputs = form.find_elements(By.CSS_SELECTOR, "textarea")
    assert len(inputs) == 2
    inputs[0].send_keys('{"temperature": 21}')
    inputs[1].send_keys('{"time": "12:00"}')
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: len(qs(".message.tool")) == 2, what="two tool results")
    wait_reply_done()
    results = qs(".message.tool .tool-result")
    assert [r.find_element(By.CSS_SELECTOR, "summary code").text for r in results] == ["get_weather", "get_time"]
    # Reloaded, the conversation shows the same calls and results.
    d.refresh()
    wait_for(lambda: visible("#app-view"), what="the app after reload")
    item = wait_for(lambda: sidebar_items(), what="the sidebar after reload")[0]
    item.find_element(By.CSS_SELECTOR, ".conversation-open").click()
    wait_for(lambda: len(qs(".message.tool")) == 2, what="tool results after a reload")
    assert len(qs(".tool-call")) == 4, len(qs(".tool-call"))


@step
def rename_search_delete():
    items = sidebar_items()
    assert len(items) >= 2, sidebar_titles()
    first = items[0]
    first.find_element(By.CSS_SELECTOR, ".rename").click()
    field = wait_for(lambda: visible("#conversation-list .rename-input"), what="the rename field")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("Renamed chat about HTML", Keys.ENTER)
    wait_for(lambda: "Renamed chat about HTML" in sidebar_titles(), what="the new title")
    search("lighthouse")  # matches message text and the other title
    wait_for(lambda: len(sidebar_items()) == 1, what="search to narrow the list")
    assert sidebar_titles()[0].startswith("Write a long story"), sidebar_titles()
    search("renamed chat")
    wait_for(lambda: sidebar_titles() == ["Renamed chat about HTML"], what="search by title")
    search("no conversation has this text zq")
    wait_for(lambda: not sidebar_items() and visible("#conversation-empty"), what="an empty search result")
    search("")
    wait_for(lambda: len(sidebar_items()) >= 2, what="the full list again")
    count = len(sidebar_items())
    target = [i for i in sidebar_items() if i.text.startswith("Renamed chat")][0]
    target.find_element(By.CSS_SELECTOR, ".delete").click()
    wait_for(lambda: visible("#conversation-list .confirm-delete"), what="the delete confirmation").click()
    wait_for(lambda: len(sidebar_items()) == count - 1, what="the list without the deleted chat")
    d.refresh()
    wait_for(lambda: sidebar_items(), what="the sidebar after reload")
    assert "Renamed chat about HTML" not in sidebar_titles(), sidebar_titles()


@step
def edit_and_resend():
    q("#new-chat").click()
    select_model(XSS_MODEL)
    send("First version of the question")
    wait_reply_done()
    user = wait_for(lambda: qs("#messages .message.user[data-id]"), what="the user message")[0]
    user.find_element(By.CSS_SELECTOR, ".edit-message").click()
    area = wait_for(lambda: visible("#messages .edit-area"), what="the editor")
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys("Second version of the question", Keys.ENTER)
    wait_for(lambda: visible("#stop") or visible("#send"), what="resend")
    wait_reply_done()
    d.refresh()
    wait_for(lambda: sidebar_items(), what="the sidebar")[0].find_element(By.CSS_SELECTOR, ".conversation-open").click()
    wait_for(lambda: len(qs("#messages .message")) == 2, what="exactly the edited question and one reply")
    assert q("#messages .message.user .message-body").text == "Second version of the question"


@step
def conversations_survive_a_server_restart():
    pid_file, argv = os.environ.get("MUSE_APP_PID_FILE"), os.environ.get("MUSE_APP_SERVE_ARGV")
    assert pid_file and argv, "MUSE_APP_PID_FILE and MUSE_APP_SERVE_ARGV are needed (run Scripts/e2e/app_e2e.sh)"
    titles = sidebar_titles()
    with open(pid_file) as handle:
        pid = int(handle.read().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        raise AssertionError(f"the server (pid {pid}) had already exited before the restart step") from None
    wait_for(lambda: subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0, 20,
             "the server to stop")
    with open(LOG, "a") as log:
        server = subprocess.Popen(json.loads(argv), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    with open(pid_file, "w") as handle:
        handle.write(str(server.pid))  # app_e2e.sh stops this one at the end

    def healthy():
        try:
            return api_status("/health")[0] == 200
        except OSError:
            return False

    wait_for(healthy, 90, "the restarted server")
    d.refresh()  # same cookie: sessions are stored server-side too
    wait_for(lambda: visible("#app-view"), what="the app after the restart")
    wait_for(lambda: sidebar_titles() == titles, what="the same conversations after the restart")
    sidebar_items()[0].find_element(By.CSS_SELECTOR, ".conversation-open").click()
    wait_for(lambda: len(qs("#messages .message")) == 2, what="the messages after the restart")
    assert q("#messages .message.user .message-body").text == "Second version of the question"


@step
def phone_layout_and_screenshots():
    viewport(PHONE, mobile=True)
    d.refresh()
    wait_for(lambda: visible("#app-view"), what="the app")
    assert not visible("#sidebar"), "the sidebar is hidden behind the menu on a phone"
    width = d.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the page scrolls sideways on a phone ({width} px)"
    q("#open-sidebar").click()
    wait_for(lambda: visible("#sidebar") and visible("#conversation-list .conversation-open"), what="the menu")
    shot("phone-menu")
    [i for i in sidebar_items() if "Second version" in i.text or "First version" in i.text][0] \
        .find_element(By.CSS_SELECTOR, ".conversation-open").click()
    wait_for(lambda: not visible("#sidebar"), what="the menu to close after choosing a chat")
    wait_for(lambda: len(qs("#messages .message")) == 2, what="the chat")
    d.execute_script("document.getElementById('messages').scrollTop = 0")
    shot("phone-chat")
    open_sidebar_if_narrow()
    q("#show-usage").click()
    wait_for(lambda: qs("#usage-view .stat"), what="the usage panel")
    shot("phone-usage")
    viewport(DESKTOP)


@step
def expired_session_sends_back_to_sign_in_with_message():
    d.refresh()
    wait_for(lambda: visible("#app-view"), what="the app")
    remember_token()
    d.delete_cookie("muse_session")
    search("anything")  # any call now answers 401
    message = wait_for(lambda: visible("#signin-message"), what="the expired-session message")
    assert message.text == EXPIRED, message.text
    assert not visible("#app-view")


@step
def user_without_access_sees_clear_message():
    sign_in(*LIMITED)
    assert not visible("#show-admin"), "a plain user has no Admin link"
    labels = {o.get_attribute("value"): o.text for o in Select(q("#model-select")).options}
    assert "(no access)" in labels[XSS_MODEL], labels
    select_model(XSS_MODEL)
    send("Hello?")
    banner = wait_for(lambda: visible("#messages .chat-error"), what="the access message")
    assert f"Your account does not have access to the model '{XSS_MODEL}'." in banner.text, banner.text
    assert banner.get_attribute("data-code") == "model_not_allowed"
    assert q("#prompt").get_attribute("value") == "Hello?", "the refused message goes back to the composer"
    status, _, body = api_status("/app/api/admin/users")
    assert status == 401, status
    adminless = d.execute_script("return fetch('/app/api/admin/users').then(r => r.status)")
    assert adminless == 403, adminless


@step
def spent_budget_shows_the_limit_message():
    q("#sign-out").click()
    sign_in(*SPENT)
    select_model(DEFAULT_MODEL)
    send("Anything left?")
    banner = wait_for(lambda: visible("#messages .chat-error"), what="the quota message")
    assert banner.get_attribute("data-code") == "insufficient_quota", banner.get_attribute("data-code")
    assert banner.text.startswith("Limit reached."), banner.text
    assert q("#prompt").get_attribute("value") == "Anything left?"
    assert not qs("#messages .message"), "a refused message is not shown as sent"


@step
def sign_out():
    q("#sign-out").click()
    wait_for(lambda: visible("#signin-form"), what="the sign-in screen")
    assert d.get_cookie("muse_session") is None or not d.get_cookie("muse_session").get("value")
    d.refresh()
    wait_for(lambda: visible("#signin-form"), what="the sign-in screen after reload")
    assert not visible("#signin-message"), "a fresh visit after sign-out shows no error"


@step
def phone_signin_screenshot():
    viewport(PHONE, mobile=True)
    d.refresh()
    wait_for(lambda: visible("#signin-form"), what="the sign-in form")
    shot("phone-signin")
    viewport(DESKTOP)


@step
def no_csp_violations_or_script_errors():
    problems = [entry["message"] for entry in d.get_log("browser")
                if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]
    assert not problems, f"{len(problems)} console error(s), first: {problems[:3]}"


@step
def server_log_holds_no_secrets():
    with open(LOG, encoding="utf-8", errors="replace") as handle:
        # The first-run banner shows the admin key (and a first password) once, by design.
        log = "\n".join(line for line in handle.read().splitlines() if "(shown once" not in line)
    secrets = {ADMIN[1], LIMITED[1], SPENT[1], "not-the-password"} | seen_tokens
    extra = os.environ.get("MUSE_APP_SECRETS_FILE")
    if extra and os.path.exists(extra):
        with open(extra, encoding="utf-8") as handle:
            secrets |= {line.strip() for line in handle if line.strip()}
    # Not vacuous: the log is the live server's and records the app's sign-ins.
    assert ADMIN[0] in log and LIMITED[0] in log, "the server log does not mention the users' sign-ins"
    leaked = [s for s in secrets if s and s in log]
    assert not leaked, f"{len(leaked)} secret(s) found in the server log"
    assert seen_tokens, "no session cookie was seen"


def main():
    failures = 0
    started = time.monotonic()
    try:
        for function in steps:
            t0 = time.monotonic()
            try:
                function()
                print(f"PASS {function.__name__} ({time.monotonic() - t0:.1f} s)", flush=True)
            except Exception:  # noqa: BLE001 - every failure is reported, then the run goes on
                failures += 1
                print(f"FAIL {function.__name__} ({time.monotonic() - t0:.1f} s)", flush=True)
                traceback.print_exc()
                try:
                    shot(function.__name__, FAILURES)
                    print(f"  screenshot: {FAILURES}/{function.__name__}.png")
                except WebDriverException:
                    pass
    finally:
        d.quit()
    print(f"E2E-REPORT: app end-to-end: {len(steps) - failures}/{len(steps)} passed in "
          f"{time.monotonic() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
