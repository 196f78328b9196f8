"""E-mail over SMTP: one message with a plain-text and an HTML part, STARTTLS optional."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from alerts.channels.base import ChannelError, secret
from alerts.config import ChannelConfig
from alerts.content import AlertMessage


class Email:
    def __init__(self, config: ChannelConfig, environ: Mapping[str, str] | None = None):
        self.name, self.config = config.name, config
        self.username = secret(config.username_env, environ)
        self.password = secret(config.password_env, environ)

    def compose(self, message: AlertMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = str(self.config.sender)
        mail["To"] = ", ".join(self.config.to)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain="yuqing")
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, message: AlertMessage) -> None:
        c = self.config
        try:
            with smtplib.SMTP(str(c.host), c.port, timeout=c.timeout) as smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(self.compose(message))
        except (smtplib.SMTPException, OSError) as e:
            raise ChannelError(f"{self.name}: {c.host}:{c.port}: {e}") from e
