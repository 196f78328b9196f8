"""Group robots: WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书), each with its signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import quote_plus

from alerts.channels.base import ChannelError, dump, post_json, secret
from alerts.config import ChannelConfig
from alerts.content import AlertMessage


def _check(name: str, answer: dict, code_keys: tuple[str, ...]) -> None:
    for key in code_keys:
        if key in answer and answer[key] not in (0, "0"):
            raise ChannelError(f"{name}: refused: {answer}")


class WeCom:
    """A WeCom group robot: a markdown message to its webhook URL (the key is in the URL)."""

    def __init__(self, config: ChannelConfig, environ: Mapping[str, str] | None = None):
        self.name, self.url, self.timeout = config.name, str(config.url), config.timeout

    def send(self, message: AlertMessage) -> None:
        body = {"msgtype": "markdown", "markdown": {"content": message.markdown}}
        _check(self.name, post_json(self.url, dump(body), timeout=self.timeout), ("errcode",))


def dingtalk_sign(secret_value: str, timestamp_ms: int) -> str:
    """DingTalk's `sign`: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret_value}".encode()
    digest = hmac.new(secret_value.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


class DingTalk:
    """A DingTalk robot: markdown, signed with `timestamp` and `sign` query parameters."""

    def __init__(self, config: ChannelConfig, environ: Mapping[str, str] | None = None):
        self.name, self.url, self.timeout = config.name, str(config.url), config.timeout
        self.secret = secret(config.secret_env, environ)

    def send(self, message: AlertMessage) -> None:
        url = self.url
        if self.secret:
            ts = int(time.time() * 1000)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(self.secret, ts)}"
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": message.markdown},
        }
        _check(self.name, post_json(url, dump(body), timeout=self.timeout), ("errcode",))


def feishu_sign(secret_value: str, timestamp_s: int) -> str:
    """Feishu's `sign`: base64(HMAC-SHA256 keyed with "timestamp\\nsecret" over nothing)."""
    key = f"{timestamp_s}\n{secret_value}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class Feishu:
    """A Feishu custom bot: an interactive card, with `timestamp` and `sign` in the body."""

    def __init__(self, config: ChannelConfig, environ: Mapping[str, str] | None = None):
        self.name, self.url, self.timeout = config.name, str(config.url), config.timeout
        self.secret = secret(config.secret_env, environ)

    def send(self, message: AlertMessage) -> None:
        body: dict = {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": message.title}},
                "elements": [{"tag": "markdown", "content": message.markdown}],
            },
        }
        if self.secret:
            ts = int(time.time())
            body = {"timestamp": str(ts), "sign": feishu_sign(self.secret, ts), **body}
        answer = post_json(self.url, dump(body), timeout=self.timeout)
        _check(self.name, answer, ("code", "StatusCode"))
