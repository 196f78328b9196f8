"""A generic JSON webhook, signed with HMAC-SHA256 over the body (X-Yuqing-Signature)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from alerts.channels.base import dump, post_json, secret
from alerts.config import ChannelConfig
from alerts.content import AlertMessage

SIGNATURE_HEADER = "X-Yuqing-Signature"
DELIVERY_HEADER = "X-Yuqing-Delivery"


def signature(secret_value: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret_value.encode(), body, hashlib.sha256).hexdigest()


class Webhook:
    """POSTs {event, title, text, markdown, url, alert} as JSON. The receiver checks
    `X-Yuqing-Signature: sha256=HEX` (HMAC-SHA256 of the raw body with the shared secret) and
    may drop repeats by `X-Yuqing-Delivery` (alert id and event number)."""

    def __init__(self, config: ChannelConfig, environ: Mapping[str, str] | None = None):
        self.name, self.url, self.timeout = config.name, str(config.url), config.timeout
        self.secret = secret(config.secret_env, environ)

    def send(self, message: AlertMessage) -> None:
        body = dump(
            {
                "event": message.event,
                "title": message.title,
                "text": message.text,
                "markdown": message.markdown,
                "url": message.url,
                "alert": message.alert,
            }
        )
        delivery = f"{message.alert_id}#{len(message.alert.get('history', []))}"
        headers = {DELIVERY_HEADER: delivery}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        post_json(self.url, body, headers, timeout=self.timeout)
