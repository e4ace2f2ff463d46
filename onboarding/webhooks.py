"""Outgoing webhooks: payloads, the Standard Webhooks signature, the address guard, delivery.

Rows are written by services (webhook_events_record, in the transaction of the write
that caused the event); the deliver_webhook task calls `deliver` here for one attempt.

Signature (https://www.standardwebhooks.com/): headers webhook-id (the delivery's
message id, the same on every attempt), webhook-timestamp (Unix seconds) and
webhook-signature = "v1," + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), where
the key is the base64 part of the endpoint's "whsec_..." secret.

Address guard: an endpoint must be http(s) and every address its host resolves to must
be public (not loopback, private, link-local, multicast, reserved or unspecified),
unless WEBHOOK_ALLOW_PRIVATE_NETWORKS. It is checked when the endpoint is saved and
again before every attempt, and the connection goes to the address that was checked
(no second lookup an attacker's DNS could answer differently). Redirects are not
followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import WebhookDelivery

logger = logging.getLogger(__name__)

# Seconds before the 2nd, 3rd, ... attempt: seven attempts over about 17.5 hours.
RETRY_DELAYS: tuple[int, ...] = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
USER_AGENT = "onboarding-tracker-webhooks/1"
# What the attempt log keeps of a response body or error.
LOG_TEXT_LIMIT = 300


# --- payloads -----------------------------------------------------------------------------------


def message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def envelope(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The body every event shares: {"type", "timestamp", "data"} as Standard Webhooks suggest."""
    return {"type": event, "timestamp": timezone.now().isoformat(), "data": data}


def _iso(value: datetime.date | datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def hire_payload(hire: Any) -> dict[str, Any]:
    return {
        "id": hire.pk,
        "full_name": hire.full_name,
        "email": hire.email,
        "title": hire.title,
        "start_date": _iso(hire.start_date),
        "hiring_manager": hire.hiring_manager.get_username(),
    }


def plan_payload(plan: Any) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "hire_id": plan.hire_id,
        "title": plan.title,
        "template_id": plan.template_id,
        "target_date": _iso(plan.target_date),
        "owner": plan.owner.get_username() if plan.owner_id else None,
    }


def assignment_payload(assignment: Any, previous_status: str) -> dict[str, Any]:
    return {
        "id": assignment.pk,
        "plan_id": assignment.plan_id,
        "course_id": assignment.course_id,
        "status": assignment.status,
        "previous_status": previous_status,
        "due_date": _iso(assignment.due_date),
        "completed_on": _iso(assignment.completed_on),
    }


def check_in_payload(check_in: Any) -> dict[str, Any]:
    return {
        "id": check_in.pk,
        "hire_id": check_in.hire_id,
        "kind": check_in.kind,
        "due_date": _iso(check_in.due_date),
        "completed_at": _iso(check_in.completed_at),
    }


# --- signing --------------------------------------------------------------------------------------


def signing_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, body: bytes, now: float | None = None) -> dict:
    timestamp = int(now if now is not None else time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


# --- the address guard ---------------------------------------------------------------------


class RefusedAddress(ValueError):
    """The endpoint's URL is not one we may send to."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(url: str) -> tuple[str, str, int, list[str]]:
    """(scheme, host, port, addresses) of an endpoint URL we may send to, or RefusedAddress."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedAddress(f"Not a URL we can read: {error}.") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedAddress("Only http:// and https:// URLs can receive webhooks.")
    host = parts.hostname
    if not host:
        raise RefusedAddress("The URL has no host.")
    if parts.username or parts.password:
        raise RefusedAddress("Put no user name or password in the URL: the signature proves us.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise RefusedAddress(f"The host {host} cannot be resolved ({error}).") from None
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise RefusedAddress(f"The host {host} has no address.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        for raw in addresses:
            if not _is_public(ipaddress.ip_address(raw.split("%", 1)[0])):
                raise RefusedAddress(
                    f"{host} resolves to {raw}, a loopback, private, link-local or otherwise "
                    "non-public address: webhooks are not sent there "
                    "(WEBHOOK_ALLOW_PRIVATE_NETWORKS allows it)."
                )
    return parts.scheme, host, port, addresses


def check_url(url: str) -> None:
    """The save-time check, as a form error."""
    try:
        resolve(url)
    except RefusedAddress as error:
        raise ValidationError({"url": str(error)}) from None


# --- sending ---------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the guard checked, not to whatever DNS answers next."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, as for a normal request.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url` after the address guard; the response's status code."""
    scheme, host, port, addresses = resolve(url)
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    # http.client sends only ASCII: escape what a URLField lets through (é, spaces).
    target = quote(target, safe="/?&=%:@!$'()*+,;~-._")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, addresses[0], settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        response = connection.getresponse()
        response.read(64 * 1024)  # a receiver's answer is not ours to keep
        return response.status
    finally:
        connection.close()


def deliver(*, delivery_id: int, attempt: int) -> str:
    """Make attempt number `attempt` of one delivery and log it; schedule the next on failure.

    A repeated run (the same attempt enqueued twice, a delivery already settled) does
    nothing: the row is locked while deciding, and the log says which attempts ran.
    """
    from . import services

    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return "nothing to do"
        if len(delivery.attempts) >= attempt:
            return "already attempted"
        endpoint = delivery.endpoint
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        headers = signed_headers(endpoint.secret, delivery.message_id, body)
        url, active = endpoint.url, endpoint.active

    started = time.monotonic()
    status_code: int | None = None
    error = ""
    if not active:
        error = "The endpoint is switched off."
    else:
        try:
            status_code = post(url, body, headers)
        except RefusedAddress as refused:
            error = str(refused)
        except Exception as failure:
            # Network errors, TLS, a malformed answer, a URL http.client cannot send:
            # each is an attempt that failed, never a task that dies without a log.
            error = f"{type(failure).__name__}: {failure}"[:LOG_TEXT_LIMIT]
        else:
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
    record = {
        "attempt": attempt,
        "at": timezone.now().isoformat(),
        "status_code": status_code,
        "error": error,
        "ms": round((time.monotonic() - started) * 1000),
    }
    return services.webhook_attempt_record(
        delivery_id=delivery_id, attempt=record, give_up=not active
    )


def attempt_delay(attempt: int) -> datetime.timedelta | None:
    """How long after failed attempt number `attempt` the next one runs; None after the last."""
    if attempt > len(RETRY_DELAYS):
        return None
    return datetime.timedelta(seconds=RETRY_DELAYS[attempt - 1])


def subscribed(endpoints: Iterable[Any], event: str) -> list[Any]:
    return [endpoint for endpoint in endpoints if endpoint.receives(event)]
