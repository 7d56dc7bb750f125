"""The email sink against a real SMTP server (aiosmtpd on 127.0.0.1) that takes mail only after
STARTTLS, with a certificate made for the test, and a login: the mail arrives once, says what got
worse and links to the board, and no failure shows the password."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from mmwatch import plugins
from mmwatch.alerts.sinks import AlertMessage, AlertSink, SinkError
from notifications.email import compose, email

if TYPE_CHECKING:
    from tests.notifications.conftest import MakeAlert, SmtpServer

TO = ["oncall@example.org", "safety@example.org"]


def _sink(server: SmtpServer, **changes: Any) -> AlertSink:
    params: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "sender": "mmwatch@example.org", "to": TO,
                              "username_env": "MMWATCH_SMTP_USER", "password_env": "MMWATCH_SMTP_PASSWORD",
                              "ca_file": str(server.cert), "timeout_s": 10, **changes}
    sink: AlertSink = plugins.sinks.build("email", params).obj
    return sink


@pytest.fixture
def login(smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    monkeypatch.setenv("MMWATCH_SMTP_USER", smtp_server.user)
    monkeypatch.setenv("MMWATCH_SMTP_PASSWORD", smtp_server.password)
    return smtp_server


def test_the_mail_arrives_once_after_starttls_and_a_login(login: SmtpServer, alerts: list[AlertMessage]) -> None:
    _sink(login).send(alerts)

    [delivered] = login.inbox
    assert delivered.tls and delivered.authenticated
    assert delivered.mail_from == "mmwatch@example.org" and list(delivered.rcpt_tos) == TO
    mail = delivered.mail
    assert mail["Subject"] == "mmwatch: 2 safety regressions: acme/guard@v3"
    assert mail["From"] == "mmwatch@example.org" and mail["To"] == ", ".join(TO)
    text = mail.get_content().replace("\r\n", "\n")  # as it came over the wire
    for alert in alerts:
        assert f"- {alert.headline}\n" in text
    assert "  http://board.example/alerts?alert=alert-0001\n" in text
    assert [entry.endswith(":ok") for entry in login.logins] == [True]


def test_a_wrong_password_is_a_sink_error_without_it(smtp_server: SmtpServer, alerts: list[AlertMessage],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "not-the-password-8c1f"
    monkeypatch.setenv("MMWATCH_SMTP_USER", smtp_server.user)
    monkeypatch.setenv("MMWATCH_SMTP_PASSWORD", wrong)
    with pytest.raises(SinkError, match=r"email sink: SMTP server 127\.0\.0\.1:\d+ answered 535") as raised:
        _sink(smtp_server).send(alerts)
    assert wrong not in str(raised.value) and smtp_server.password not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert smtp_server.inbox == []
    assert smtp_server.logins and all(entry.endswith(":refused") for entry in smtp_server.logins)  # PLAIN, LOGIN


def test_an_unset_credential_is_named_and_nothing_is_sent(smtp_server: SmtpServer, alerts: list[AlertMessage],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMWATCH_SMTP_USER", smtp_server.user)
    monkeypatch.delenv("MMWATCH_SMTP_PASSWORD", raising=False)
    with pytest.raises(SinkError, match="environment variable MMWATCH_SMTP_PASSWORD"):
        _sink(smtp_server).send(alerts)
    assert smtp_server.inbox == [] and smtp_server.logins == []


def test_a_server_certificate_nobody_vouches_for_is_refused(login: SmtpServer, alerts: list[AlertMessage]) -> None:
    with pytest.raises(SinkError, match="SSLCertVerificationError") as raised:
        _sink(login, ca_file=None).send(alerts)  # the system's CAs do not know the test's certificate
    assert login.password not in str(raised.value)
    assert login.inbox == [] and login.logins == []  # the password was never sent


def test_a_server_that_requires_starttls_refuses_plain_mail(smtp_server: SmtpServer,
                                                            alerts: list[AlertMessage]) -> None:
    sink = _sink(smtp_server, starttls=False, username_env=None, password_env=None)
    with pytest.raises(SinkError, match="answered 530"):
        sink.send(alerts)
    assert smtp_server.inbox == []


def test_a_closed_port_is_a_sink_error(closed_port: int, alerts: list[AlertMessage]) -> None:
    sink = email(host="127.0.0.1", port=closed_port, sender="a@example.org", to=TO, timeout_s=5)
    with pytest.raises(SinkError, match=r"sending through SMTP server 127\.0\.0\.1:\d+ failed: ConnectionRefusedError"):
        sink.send(alerts)


def test_a_config_that_would_send_a_password_in_clear_is_refused() -> None:
    common: dict[str, Any] = {"host": "smtp.example.org", "sender": "a@example.org", "to": TO}
    with pytest.raises(ValueError, match="without STARTTLS"):
        email(**common, starttls=False, username_env="U", password_env="P")
    with pytest.raises(ValueError, match="both username_env and password_env"):
        email(**common, username_env="U")
    with pytest.raises(ValueError, match="at least one address"):
        email(**{**common, "to": []})


def test_the_subject_counts_and_cannot_carry_a_header(make_alert: MakeAlert) -> None:
    mail = compose([make_alert(model_id="evil@v1\r\nBcc: everyone@example.org")], "a@example.org", ["b@example.org"])
    assert mail["Subject"] == "mmwatch: 1 safety regression: evil@v1 Bcc: everyone@example.org"
    assert mail["Bcc"] is None
    assert "Bcc: everyone" not in mail.as_string().split("\n\n", 1)[0].replace(mail["Subject"], "")
