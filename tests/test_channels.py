"""Every channel against a real receiver on loopback: an aiosmtpd SMTP server, and an HTTP
server that checks DingTalk's, Feishu's and the webhook's signatures the way those services do
(written here from their documentation, not with Yuqing's own signing code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from alerts.channels import ChannelError, build_channel
from alerts.config import ChannelConfig
from alerts.content import AlertMessage, render

SECRETS = {"DING_SECRET": "SECdingtalk-test", "FEISHU_SECRET": "feishu-test", "HOOK_SECRET": "hook"}


def sample_message(event: str = "new", severity: str = "warning") -> AlertMessage:
    alert = {
        "id": "theme-spike-0123456789ab",
        "severity": severity,
        "title": "【负面声量激增】薪酬分配 · 钻井二公司",
        "summary": "近24小时负面帖文 12 条，基线预期 0.3 条（40 倍，p=2.7e-13）。",
        "department_name": "人力资源部",
        "sensitive_period": None,
        "top_words": ["工资", "拖欠", "<b>"],
        "dashboard_url": "http://127.0.0.1:8501/search?themes=wages&sentiments=negative",
        "history": [{"event": "fired"}],
    }
    posts = [
        {
            "id": f"p{i}",
            "title": f"工资拖欠第{i}个月 <script>",
            "excerpt": "我是一线员工，工资已经四个月没发了 *急*",
            "url": f"http://127.0.0.1:8765/forum/thread/t{i}.html",
            "dashboard_url": f"http://127.0.0.1:8501/post?post=p{i}",
        }
        for i in range(1, 4)
    ]
    return render(alert, event, posts)


class Receiver(ThreadingHTTPServer):
    """Robot and webhook endpoints that verify signatures and keep what they accepted."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.accepted: list[tuple[str, dict, dict]] = []
        self.rejected: list[str] = []
        self.down = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.down:
            return self._answer(503, {"error": "down"})
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        body = json.loads(raw)
        path = split.path
        ok, answer = True, {"errcode": 0, "errmsg": "ok"}
        if path == "/dingtalk":
            secret = SECRETS["DING_SECRET"]
            ts = query.get("timestamp", "0")
            want = base64.b64encode(
                hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
            ).decode()
            fresh = abs(int(ts) - time.time() * 1000) < 3600_000
            ok = fresh and query.get("sign") == want and body["msgtype"] == "markdown"
            answer = answer if ok else {"errcode": 310000, "errmsg": "sign not match"}
        elif path == "/feishu":
            key = f"{body.get('timestamp')}\n{SECRETS['FEISHU_SECRET']}".encode()
            want = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            ok = body.get("sign") == want
            answer = (
                {"code": 0, "msg": "success"} if ok else {"code": 19021, "msg": "sign match fail"}
            )
        elif path == "/webhook":
            want = "sha256=" + hmac.new(b"hook", raw, hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(self.headers.get("X-Yuqing-Signature", ""), want)
            if not ok:
                self.server.rejected.append(path)
                return self._answer(401, {"error": "bad signature"})
        elif path == "/wecom":
            ok = body["msgtype"] == "markdown" and query.get("key") == "k1"
            answer = answer if ok else {"errcode": 93000, "errmsg": "invalid webhook url"}
        (self.server.accepted if ok else self.server.rejected).append(
            (path, body, dict(self.headers)) if ok else path
        )
        self._answer(200, answer)

    def _answer(self, status: int, data: dict) -> None:
        out = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def channel(kind: str, url: str, secret_env: str | None = None, environ=SECRETS):
    spec = {"name": kind, "type": kind, "url": url, "secret_env": secret_env}
    return build_channel(ChannelConfig.model_validate(spec), environ)


def test_dingtalk_signs_and_a_wrong_secret_is_refused(receiver) -> None:
    ding = channel("dingtalk", receiver.url + "/dingtalk?access_token=t0", "DING_SECRET")
    ding.send(sample_message())
    path, body, _ = receiver.accepted[-1]
    assert path == "/dingtalk" and body["markdown"]["title"].startswith("[警告·预警]")
    assert "工资拖欠第1个月" in body["markdown"]["text"]
    assert "\\<script\\>" in body["markdown"]["text"]  # post text is escaped, never markup
    wrong = channel("dingtalk", receiver.url + "/dingtalk?access_token=t0", "X", {"X": "wrong"})
    with pytest.raises(ChannelError, match="sign not match"):
        wrong.send(sample_message())
    assert receiver.rejected == ["/dingtalk"]


def test_feishu_signs_and_a_wrong_secret_is_refused(receiver) -> None:
    channel("feishu", receiver.url + "/feishu", "FEISHU_SECRET").send(sample_message())
    _path, body, _ = receiver.accepted[-1]
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["title"]["content"].endswith("薪酬分配 · 钻井二公司")
    with pytest.raises(ChannelError, match="sign match fail"):
        channel("feishu", receiver.url + "/feishu", "X", {"X": "wrong"}).send(sample_message())


def test_webhook_signs_the_body_and_a_wrong_secret_is_refused(receiver) -> None:
    channel("webhook", receiver.url + "/webhook", "HOOK_SECRET").send(sample_message("update"))
    _path, body, headers = receiver.accepted[-1]
    assert body["event"] == "update" and body["alert"]["id"] == "theme-spike-0123456789ab"
    assert headers["X-Yuqing-Delivery"] == "theme-spike-0123456789ab#1"
    with pytest.raises(ChannelError, match="401"):
        channel("webhook", receiver.url + "/webhook", "X", {"X": "nope"}).send(sample_message())
    assert receiver.rejected == ["/webhook"]


def test_wecom_sends_markdown(receiver) -> None:
    channel("wecom", receiver.url + "/wecom?key=k1").send(sample_message())
    _path, body, _ = receiver.accepted[-1]
    assert body["markdown"]["content"].startswith("### ")
    with pytest.raises(ChannelError, match="invalid webhook url"):
        channel("wecom", receiver.url + "/wecom?key=other").send(sample_message())


def test_a_missing_secret_and_an_unreachable_host_are_channel_errors(receiver) -> None:
    with pytest.raises(ChannelError, match="DING_SECRET is not set"):
        channel("dingtalk", receiver.url + "/dingtalk", "DING_SECRET", {})
    port = free_port()  # nothing listens there
    with pytest.raises(ChannelError):
        channel("webhook", f"http://127.0.0.1:{port}/webhook").send(sample_message())


def test_smtp_delivers_text_and_html_parts() -> None:
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.mails: list = []

        async def handle_DATA(self, server, session, envelope):
            self.mails.append(envelope)
            return "250 OK"

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        spec = {
            "name": "hr-mail", "type": "smtp", "host": "127.0.0.1", "port": port,
            "starttls": False, "from": "yuqing@example.com", "to": ["hr@example.com", "ops@example.com"],
        }  # fmt: skip
        build_channel(ChannelConfig.model_validate(spec), {}).send(sample_message())
    finally:
        controller.stop()
    (envelope,) = inbox.mails
    assert envelope.mail_from == "yuqing@example.com"
    assert envelope.rcpt_tos == ["hr@example.com", "ops@example.com"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"].startswith("[警告·预警] 【负面声量激增】")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "近24小时负面帖文 12 条" in text and "http://127.0.0.1:8765/forum/thread/t1.html" in text
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'href="http://127.0.0.1:8501/post?post=p1"' in html
