"""The `Channel` protocol, the HTTP post every robot channel shares, and `build_channel`."""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from alerts.config import ChannelConfig
from alerts.content import AlertMessage

logger = logging.getLogger(__name__)


class ChannelError(RuntimeError):
    """A delivery failed; the outbox retries it later."""


class Channel(Protocol):
    name: str

    def send(self, message: AlertMessage) -> None:
        """Deliver `message`, or raise ChannelError."""


def post_json(
    url: str, body: bytes, headers: Mapping[str, str] | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """POST a JSON body; the parsed JSON answer ({} if none). Any failure is a ChannelError."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as e:
        raise ChannelError(f"{url}: HTTP {e.code} {e.reason}") from e
    except (urllib.error.URLError, OSError) as e:
        raise ChannelError(f"{url}: {e}") from e
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}


def dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def secret(name: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of the environment variable `name` (None when no variable is named)."""
    if name is None:
        return None
    value = (os.environ if environ is None else environ).get(name)
    if not value:
        raise ChannelError(f"environment variable {name} is not set; set it to the secret")
    return value


def build_channel(config: ChannelConfig, environ: Mapping[str, str] | None = None) -> Channel:
    from alerts.channels.robots import DingTalk, Feishu, WeCom
    from alerts.channels.smtp import Email
    from alerts.channels.webhook import Webhook

    kinds: dict[str, Any] = {
        "smtp": Email,
        "wecom": WeCom,
        "dingtalk": DingTalk,
        "feishu": Feishu,
        "webhook": Webhook,
    }
    return kinds[config.type](config, environ)
