"""The optional e-mail to staff when a resident's callback request is stored (via the city's SMTP relay).

Configured by the environment only (never in the repository):

``MADOGUCHI_SMTP_HOST``   the relay; unset: no mail is sent (the console's count badge remains).
``MADOGUCHI_SMTP_PORT``   25 by default (587 with STARTTLS).
``MADOGUCHI_SMTP_FROM``   the sender address.
``MADOGUCHI_SMTP_TO``     the recipients, comma-separated (e.g. the 折り返し担当 team's shared mailbox).
``MADOGUCHI_SMTP_STARTTLS=1``  upgrade the connection with STARTTLS (certificate verified).
``MADOGUCHI_SMTP_USER`` / ``MADOGUCHI_SMTP_PASSWORD``  sign in to the relay (only with STARTTLS).
``MADOGUCHI_SMTP_TIMEOUT``  seconds for the connection and each SMTP command (default 10).
``STAFF_URL``            the console's address as staff open it (behind the city's proxy); default
                          ``http://STAFF_HOST:STAFF_PORT``.

The mail carries no personal data: only that a request arrived, its 受付番号, 担当課, time slot, the time
it was received and the console link; its wording is in ``data/staff/callback_mail.yml``.

Sending uses the standard library's :mod:`smtplib` (no new dependency: one message to a relay needs no
more). It runs on its own single thread, so a slow or unreachable relay never holds the event loop, the
stores' threads or the resident's turn; every connection and command is bounded by the timeout. A failure
is logged with a code (``MAIL-…``) and the exception's class only: never an address, a ticket's resident
or the relay's reply text.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import yaml

from bot.clock import JST

logger = logging.getLogger(__name__)

MAIL_FILE = Path("staff") / "callback_mail.yml"
DEFAULT_PORT = 25
STARTTLS_PORT = 587
#: Seconds for the connection and each SMTP command: a relay on the 庁内 network answers in well under
#: a second; 10 s rides out a busy relay, and a hung one costs only the mail thread, never a turn.
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_STAFF_URL = "http://127.0.0.1:5080"

#: Log codes (the README's staff section lists them).
CODE_CONFIG = "MAIL-001"  # MADOGUCHI_SMTP_HOST set but FROM/TO missing or a number malformed: mail off
CODE_CONNECT = "MAIL-002"  # the relay could not be reached (refused, timed out, name not resolved)
CODE_REFUSED = "MAIL-003"  # the relay refused the sign-in, a sender or every recipient
CODE_SMTP = "MAIL-004"  # any other SMTP or TLS error while sending


class MailConfigError(ValueError):
    """The SMTP variables are incomplete or malformed (the message names the variable, not its value)."""


@dataclass(frozen=True)
class MailSettings:
    """Where and how the notification is sent."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    staff_url: str = DEFAULT_STAFF_URL
    starttls: bool = False
    user: str = ""
    password: str = ""
    timeout: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> MailSettings | None:
        """The settings, or None when ``MADOGUCHI_SMTP_HOST`` is unset; :class:`MailConfigError` when
        the host is set but the rest cannot be used."""
        env = dict(os.environ if env is None else env)
        host = (env.get("MADOGUCHI_SMTP_HOST") or "").strip()
        if not host:
            return None
        starttls = (env.get("MADOGUCHI_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes")
        sender = (env.get("MADOGUCHI_SMTP_FROM") or "").strip()
        recipients = tuple(a.strip() for a in (env.get("MADOGUCHI_SMTP_TO") or "").split(",") if a.strip())
        if not sender:
            raise MailConfigError("MADOGUCHI_SMTP_FROM is not set")
        if not recipients:
            raise MailConfigError("MADOGUCHI_SMTP_TO is not set")
        user = env.get("MADOGUCHI_SMTP_USER") or ""
        if user and not starttls:
            raise MailConfigError(
                "MADOGUCHI_SMTP_USER needs MADOGUCHI_SMTP_STARTTLS=1 (no clear-text password)"
            )
        return cls(
            host=host,
            port=_number(env, "MADOGUCHI_SMTP_PORT", int, STARTTLS_PORT if starttls else DEFAULT_PORT),
            sender=sender,
            recipients=recipients,
            staff_url=(env.get("STAFF_URL") or _console_url(env)).rstrip("/"),
            starttls=starttls,
            user=user,
            password=env.get("MADOGUCHI_SMTP_PASSWORD") or "",
            timeout=_number(env, "MADOGUCHI_SMTP_TIMEOUT", float, DEFAULT_TIMEOUT_S),
        )


def _number(env: dict[str, str], name: str, kind: type, default: Any) -> Any:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise MailConfigError(f"{name} is not a number") from None
    if value <= 0:
        raise MailConfigError(f"{name} must be positive")
    return value


def _console_url(env: dict[str, str]) -> str:
    host = env.get("STAFF_HOST") or "127.0.0.1"
    port = env.get("STAFF_PORT") or "5080"
    return f"http://{host}:{port}"


@dataclass(frozen=True)
class Notice:
    """What the mail says: no phone, name or topic (the resident's own words) can be put in it."""

    ticket: str
    department: str | None
    slot: str | None
    received: datetime


def load_wording(data_dir: Path) -> dict[str, str]:
    """The mail's subject, body and fallbacks from ``data/staff/callback_mail.yml``."""
    return yaml.safe_load((data_dir / MAIL_FILE).read_text(encoding="utf-8"))


def compose(notice: Notice, settings: MailSettings, wording: dict[str, str]) -> EmailMessage:
    """The message for ``notice`` (UTF-8, plain text)."""
    fields = {
        "ticket": notice.ticket,
        "department": notice.department or wording["no_department"],
        "slot": notice.slot or wording["no_slot"],
        "received": notice.received.astimezone(JST).strftime("%Y-%m-%d %H:%M JST"),
        "url": f"{settings.staff_url}/callbacks/{notice.ticket}",
        "queue_url": f"{settings.staff_url}/callbacks",
    }
    message = EmailMessage()
    message["Subject"] = wording["subject"].format(**fields)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(wording["body"].format(**fields), charset="utf-8")
    return message


def send(message: EmailMessage, settings: MailSettings) -> None:
    """Hands ``message`` to the relay; raises what :mod:`smtplib` raises (see :func:`failure_code`)."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(message)


def failure_code(error: BaseException) -> str:
    """The log code of a failed send."""
    refused = (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)
    if isinstance(error, refused):
        return CODE_REFUSED
    if isinstance(error, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)):
        return CODE_CONNECT
    if isinstance(error, (smtplib.SMTPException, ssl.SSLError)):
        return CODE_SMTP
    if isinstance(error, OSError):  # refused, timed out, name not resolved
        return CODE_CONNECT
    return CODE_SMTP


class CallbackMailer:
    """Sends one notice per stored request on its own thread; :meth:`notify` returns at once."""

    def __init__(self, settings: MailSettings | None, data_dir: Path) -> None:
        """``settings``: None turns mail off (every :meth:`notify` returns None)."""
        self.settings = settings
        self._data_dir = data_dir
        self._wording: dict[str, str] | None = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_env(cls, data_dir: Path, env: dict[str, str] | None = None) -> CallbackMailer:
        """From the environment; a configuration error is logged (coded) and turns mail off."""
        try:
            settings = MailSettings.from_env(env)
        except MailConfigError as error:
            logger.error("callback mail off: code=%s %s", CODE_CONFIG, error)
            settings = None
        return cls(settings, data_dir)

    def notify(self, notice: Notice) -> Future | None:
        """Queues the mail of ``notice``; the future resolves to True (sent) or False (failed, logged)."""
        if self.settings is None:
            return None
        with self._lock:
            if self._pool is None:
                # one thread: mails go out in order, and a hung relay holds only this thread
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="madoguchi-mail")
            pool = self._pool
        return pool.submit(self._deliver, notice, self.settings)

    def _deliver(self, notice: Notice, settings: MailSettings) -> bool:
        try:
            if self._wording is None:
                self._wording = load_wording(self._data_dir)
            send(compose(notice, settings, self._wording), settings)
        except Exception as error:  # noqa: BLE001 — a mail must never break anything; coded log below
            logger.warning(
                "callback mail not sent: code=%s ticket=%s error=%s",
                failure_code(error),
                notice.ticket,
                type(error).__name__,
            )
            return False
        logger.info("callback mail sent: ticket=%s", notice.ticket)
        return True

    def close(self) -> None:
        """Waits for queued mails (each bounded by the timeout), then stops the thread."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
