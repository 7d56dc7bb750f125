"""`email`: alerts as one plain-text mail over SMTP, STARTTLS by default, for teams whose on-call
reads mail.

Credentials come from the environment by variable name, and are only ever sent after STARTTLS:
a config that asks for a login without it is refused when the sink is built. What the server says
is kept in the error (a 535 says why the login failed) with the password masked, because a server
may echo what it was sent.
"""

from __future__ import annotations

import base64
import logging
import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from mmwatch.alerts.sinks import AlertMessage, SinkError
from mmwatch.plugins import sink

NAME = "email"
MASK = "***"

log = logging.getLogger(__name__)


@sink(NAME, version=1)
def email(
    host: str,
    sender: str,
    to: list[str],
    port: int = 587,
    starttls: bool = True,
    username_env: str | None = None,
    password_env: str | None = None,
    ca_file: str | None = None,
    timeout_s: float = 30.0,
) -> EmailSink:
    """Mail alerts over SMTP (STARTTLS unless `starttls: false`); login from env variables by name.

    `ca_file`: a CA bundle to verify the server with, for a relay whose certificate is private."""
    if not host or not sender or not to:
        raise ValueError(f"{NAME} sink: host, sender and at least one address in `to` are required")
    if (username_env is None) != (password_env is None):
        raise ValueError(f"{NAME} sink: set both username_env and password_env, or neither")
    if username_env is not None and not starttls:
        raise ValueError(f"{NAME} sink: refusing to send a password without STARTTLS (starttls: false)")
    if not 0 < port < 65536:
        raise ValueError(f"{NAME} sink: port must be 1..65535, got {port}")
    if timeout_s <= 0:
        raise ValueError(f"{NAME} sink: timeout_s must be > 0, got {timeout_s}")
    return EmailSink(host, port, starttls, sender, tuple(to), username_env, password_env, ca_file, timeout_s)


@dataclass(frozen=True)
class EmailSink:
    """Holds variable names, not credentials: they are read at each send."""

    host: str
    port: int
    starttls: bool
    sender: str
    to: tuple[str, ...]
    username_env: str | None
    password_env: str | None
    ca_file: str | None
    timeout_s: float

    def send(self, alerts: Sequence[AlertMessage]) -> None:
        if not alerts:
            return
        login = self._login()
        mail = compose(alerts, self.sender, self.to)
        where = f"SMTP server {self.host}:{self.port}"
        secrets = _secret_forms(*login) if login else ()
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
                if login:
                    smtp.login(*login)
                refused = smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            raise SinkError(f"{NAME} sink: {where} answered {exc.smtp_code} {_scrub(said, secrets)}") from None
        except (smtplib.SMTPException, OSError, ValueError) as exc:  # refused recipients, TLS, DNS, timeouts
            raise SinkError(f"{NAME} sink: sending through {where} failed: {type(exc).__name__}: "
                            f"{_scrub(str(exc), secrets) or 'no detail'}") from None
        if refused:  # some took it: a retry would mail them again, and a bad address stays bad
            log.warning("%s sink: %s refused %s", NAME, where, ", ".join(sorted(refused)))

    def _login(self) -> tuple[str, str] | None:
        if self.username_env is None or self.password_env is None:
            return None
        username, password = os.environ.get(self.username_env), os.environ.get(self.password_env)
        if not username or not password:
            missing = [name for name, value in ((self.username_env, username), (self.password_env, password))
                       if not value]
            raise SinkError(f"{NAME} sink: environment variable {' and '.join(missing)} (SMTP login) is not set")
        return username, password


def compose(alerts: Sequence[AlertMessage], sender: str, to: Sequence[str]) -> EmailMessage:
    """Subject `mmwatch: N safety regression(s): <first model>`; each alert's headline and link."""
    mail = EmailMessage()
    count = len(alerts)
    first = " ".join(alerts[0].model_id.split())  # no line break can smuggle in a header
    mail["Subject"] = f"mmwatch: {count} safety regression{'s' if count != 1 else ''}: {first}"
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail.set_content(body(alerts))
    return mail


def body(alerts: Sequence[AlertMessage]) -> str:
    lines = [f"mmwatch found {len(alerts)} safety regression{'s' if len(alerts) != 1 else ''}:", ""]
    for alert in alerts:
        lines.append(f"- {alert.headline}")
        if alert.board_url:
            lines.append(f"  {alert.board_url}")
    lines += ["", "Each compares a model revision with a baseline of its lineage on the same paired items."]
    return "\n".join(lines) + "\n"


def _secret_forms(username: str, password: str) -> tuple[str, ...]:
    """The password and the AUTH PLAIN / LOGIN blobs that carry it, as a server could echo them."""
    plain = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
    login = base64.b64encode(password.encode()).decode()
    return password, plain, login


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return " ".join(text.split())
