"""Alerts to send, and real receivers on 127.0.0.1 that each test starts and stops: an HTTP server
that records what it was posted (webhook, Slack) and an SMTP server with STARTTLS and AUTH."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mmwatch.alerts.sinks import AlertMessage
from mmwatch.records import AlertMetric, BaselineKind

HOSTILE_MODEL = "evil/<@channel><!here>-<http://x|click>&co@v1"  # mentions, a link and an entity
MakeAlert = Callable[..., AlertMessage]


def _alert(**changes: Any) -> AlertMessage:
    fields: dict[str, Any] = {
        "alert_id": "alert-0001", "lineage": "acme/guard", "model_id": "acme/guard@v3",
        "baseline_id": "acme/guard@v2", "baseline_kind": BaselineKind.PREDECESSOR, "metric": AlertMetric.ASR,
        "metric_title": "attack success rate", "worse_when_higher": True, "attack": "figstep", "defense": "none",
        "category": "Fraud", "judge": "refusal-keywords", "rate_old": 0.10, "rate_new": 0.45, "diff_low": 0.20,
        "diff_high": 0.50, "n_pairs": 120, "p_adjusted": 0.0012, "run_id": "run-42",
        "board_url": "http://board.example/alerts?alert=alert-0001",
        "raised_at": datetime.now(UTC).replace(microsecond=0),
    }
    return AlertMessage(**{**fields, **changes})


@pytest.fixture
def make_alert() -> MakeAlert:
    """An AlertMessage with the given fields changed."""
    return _alert


@pytest.fixture
def alerts() -> list[AlertMessage]:
    """Two regressions of one model: an ASR rise on a category, a utility drop pooled over categories."""
    return [_alert(), _alert(alert_id="alert-0002", metric=AlertMetric.UTILITY, metric_title="utility",
                             worse_when_higher=False, attack="none", category="", rate_old=0.80, rate_new=0.62,
                             diff_low=-0.30, diff_high=-0.06, baseline_kind=BaselineKind.PINNED,
                             baseline_id="acme/guard@v1", board_url=None)]


@pytest.fixture
def hostile_alert() -> AlertMessage:
    return _alert(alert_id="alert-0666", lineage="evil/<@channel>", model_id=HOSTILE_MODEL,
                  baseline_id="<http://y|here>", judge="<!everyone>", category="a&b<c>")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound for a moment, then released)."""
    return free_port()


# --- HTTP -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class HttpReceiver:
    """Records every POST; answers `status`, and on an error echoes the path, as some servers do."""

    status: int = 200
    posted: list[Posted] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.posted.append(Posted(self.path, dict(self.headers), json.loads(raw)))
                reply = b"ok" if receiver.status < 400 else f"no such hook: {self.path}".encode()
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                pass

        return Handler


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="http-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- SMTP -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made now: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mmwatch test SMTP")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_pem, key_pem = folder / "cert.pem", folder / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert_pem, key_pem


@dataclass(frozen=True)
class Delivered:
    mail: EmailMessage
    mail_from: str
    rcpt_tos: tuple[str, ...]
    tls: bool
    authenticated: bool


@dataclass
class SmtpServer:
    """What it accepted (`inbox`) and each login it was asked for; the one account it knows."""

    port: int
    cert: Path
    user: str = "mmwatch-alerts"
    password: str = "hunter2-correct-horse"
    inbox: list[Delivered] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        mail = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.inbox.append(Delivered(mail, envelope.mail_from, tuple(envelope.rcpt_tos),
                                    tls=session.ssl is not None, authenticated=bool(session.authenticated)))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.user.encode()
              and auth_data.password == self.password.encode())
        self.logins.append(f"{mechanism}:{'ok' if ok else 'refused'}")
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server(tls_cert: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 that takes mail only after STARTTLS and a login, both required."""
    from aiosmtpd.controller import Controller

    cert, key = tls_cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(port=free_port(), cert=cert)
    controller = Controller(server, hostname="127.0.0.1", port=server.port, tls_context=context,
                            require_starttls=True, authenticator=server.authenticate, auth_require_tls=True)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
