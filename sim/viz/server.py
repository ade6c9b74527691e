"""Serving the trainer app: solara's Starlette app behind a Host/Origin guard, run by uvicorn
in the process that calls :func:`serve` (``peacesim viz``).

Why in-process: a signal sent to ``peacesim viz`` (Ctrl+C, ``kill``, a closed terminal) then
reaches the server itself, which stops listening and exits; there is no child server left
behind, as there was with ``solara run`` in a subprocess.

Why the guard: the app has no login, and a page on any web site can make the visitor's browser
send requests and open websockets to ``localhost``; with DNS rebinding (a site's name that
resolves to 127.0.0.1) they even look same-origin to the browser. So:

* bound to loopback (``localhost``, ``127.0.0.1``, ``::1``): the ``Host`` header must be a
  loopback name with the server's port (or a name given with ``--allow-host``), and an
  ``Origin`` header, when present (always on a websocket), must be the app's own origin;
* bound to a wildcard or a LAN address (the trainer asked for the room's network): the
  ``Origin`` must still be the page's own (``http(s)://`` + ``Host``), but the ``Host`` is
  checked only if names are given with ``--allow-host`` (then: those names, the loopback
  names and the bound address). Anyone on the network can use the app; see the README.

Refused HTTP requests get ``403``; a refused websocket is closed before the handshake (the
browser sees ``403``). The guard wraps solara's ASGI app as a whole, the way solara's docs
mount that app into other Starlette/FastAPI apps, so pages, static files and the websocket
all pass through it.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import signal
import socket
import threading
import time
import webbrowser
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

#: the solara app module served (solara reads it from this variable when its server starts)
APP_MODULE = "sim.viz.app"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
#: seconds the server waits for open pages (websockets) to close after a stop signal
SHUTDOWN_GRACE_S = 2
#: quiet logs like ``solara run``: errors only, plus the guard's refusals
LOGGING_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"default": {"format": "%(levelname)s: %(message)s"}},
    "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default",
                             "stream": "ext://sys.stderr"}},
    "loggers": {
        "solara": {"handlers": ["default"], "level": "ERROR", "propagate": False},
        "reacton": {"handlers": ["default"], "level": "ERROR", "propagate": False},
        "uvicorn": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "ERROR", "propagate": False},
        __name__: {"handlers": ["default"], "level": "WARNING", "propagate": False},
    },
}

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ServeError(ValueError):
    """The server cannot start for a reason the user can fix (host, port, --allow-host)."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def netloc(host: str, port: int) -> str:
    """``host:port`` as in a URL or a ``Host`` header (IPv6 addresses in brackets)."""
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_allowed_host(value: str) -> str:
    """A ``--allow-host`` value: a host name or IP address, without scheme, port or path."""
    name = value.strip().lower()
    bare = name.strip("[]")
    try:
        ipaddress.ip_address(bare)
        return bare
    except ValueError:
        pass
    labels = name.split(".")
    if not name or len(name) > 253 or not all(
            label and len(label) <= 63 and label.replace("-", "").replace("_", "").isalnum()
            for label in labels):
        raise ServeError(f"--allow-host {value!r}: give a host name or IP address as typed in "
                         "the address bar, without http://, port or path (e.g. trainer-pc.local)")
    return name


def _header_forms(host: str, port: int) -> set[str]:
    """The ``Host`` header values that name ``host`` on ``port`` (bare name on port 80)."""
    forms = {netloc(host, port).lower()}
    if port == 80:
        bare = host.strip("[]").lower()
        forms.add(f"[{bare}]" if ":" in bare else bare)
    return forms


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` headers the app answers (None: any) and the Origin rule."""

    hosts: frozenset[str] | None

    def refusal(self, hosts: Sequence[str], origins: Sequence[str],
                websocket: bool) -> str | None:
        """Why a request with these ``Host`` and ``Origin`` headers is refused, or None."""
        if len(hosts) > 1 or len(origins) > 1:
            return "more than one Host or Origin header"
        host = hosts[0].lower() if hosts else ""
        if self.hosts is not None and host not in self.hosts:
            return f"Host {host or '(none)'!r} is not a name of this app"
        if not origins:
            # browsers send Origin on every websocket; only plain navigations go without
            return "a websocket needs an Origin header" if websocket else None
        origin = origins[0].lower()
        if not host or origin not in (f"http://{host}", f"https://{host}"):
            return f"Origin {origin!r} is not this app's own"
        return None


def host_policy(bind_host: str, port: int, allow_hosts: Iterable[str] = ()) -> HostPolicy:
    """The policy for a server bound to ``bind_host:port`` (see the module docstring)."""
    extra = [check_allowed_host(h) for h in allow_hosts]
    if not is_loopback(bind_host) and not extra:
        return HostPolicy(None)
    names = {*LOOPBACK_NAMES, *extra}
    if bind_host not in WILDCARD_HOSTS:
        names.add(bind_host)
    return HostPolicy(frozenset(f for name in names for f in _header_forms(name, port)))


def _headers(scope: Scope, name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]


class HostOriginGuard:
    """ASGI middleware: refuse HTTP requests and websockets that :class:`HostPolicy` refuses."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer it with 403 / close the websocket."""
        kind = scope["type"]
        if kind in ("http", "websocket"):
            reason = self.policy.refusal(_headers(scope, b"host"), _headers(scope, b"origin"),
                                         kind == "websocket")
            if reason is not None:
                log.warning("refused %s %s: %s", "websocket" if kind == "websocket" else
                            scope.get("method", "GET"), scope.get("path", ""), reason)
                await _refuse(kind, receive, send, reason)
                return
        await self.app(scope, receive, send)


async def _refuse(kind: str, receive: Receive, send: Send, reason: str) -> None:
    if kind == "websocket":
        await receive()  # websocket.connect
        # closing before accepting makes the server answer the handshake with 403
        await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
        return
    body = f"403 Forbidden: {reason}\n".encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"x-content-type-options", b"nosniff"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def guarded_solara_app(policy: HostPolicy) -> ASGIApp:
    """Solara's Starlette app serving :data:`APP_MODULE`, behind the guard."""
    os.environ["SOLARA_APP"] = APP_MODULE  # read when solara.server.app is first imported
    import solara.server.starlette

    return HostOriginGuard(solara.server.starlette.app, policy)


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one), as uvicorn would bind it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"--port {port}: already in use on {host}; stop the other "
                             "server or pick another port (--port 0 picks a free one)") from None
        detail = exc.strerror or str(exc)
        raise ServeError(f"--host {host}: cannot serve there ({detail}); use localhost, "
                         "0.0.0.0 or an address of this machine") from None
    sock.set_inheritable(True)
    return sock


def browser_url(host: str, port: int) -> str:
    """The address to open on this machine (``localhost`` for a wildcard bind)."""
    return f"http://{netloc('localhost' if host in WILDCARD_HOSTS else host, port)}/"


def exposure_warning(host: str, port: int, policy: HostPolicy) -> str | None:
    """What serving beyond this machine means, in one paragraph (None on loopback)."""
    if is_loopback(host):
        return None
    names = "any name" if policy.hosts is None else "the --allow-host names"
    return (f"warning: serving on {host}, not on loopback: anyone who can reach this machine "
            f"on port {port} can open the app and drive the model; there is no password. "
            f"Requests under {names} are answered. Stop the server after the session; "
            "without --host (or with --host localhost) the app stays on this machine.")


def serve(host: str, port: int, *, open_browser: bool = True, allow_hosts: Sequence[str] = (),
          on_ready: Callable[[str], None] | None = None,
          log: Callable[[str], None] = lambda message: None) -> None:
    """Serve the trainer app on ``host:port`` until SIGINT, SIGTERM or SIGHUP.

    ``on_ready(url)`` is called once the server answers; ``log`` receives the address and, off
    loopback, the exposure warning (the command line prints them). Raises :class:`ServeError` if the
    address cannot be used or an ``--allow-host`` value is not a host name.
    """
    import uvicorn

    allowed = [check_allowed_host(h) for h in allow_hosts]  # before anything is bound
    sock = bind(host, port)
    port = sock.getsockname()[1]
    policy = host_policy(host, port, allowed)
    url = browser_url(host, port)
    log(f"PeaceSim trainer app on {url} (Ctrl+C stops it)")
    warning = exposure_warning(host, port, policy)
    if warning:
        log(warning)
    config = uvicorn.Config(guarded_solara_app(policy), log_config=LOGGING_CONFIG,
                            timeout_graceful_shutdown=SHUTDOWN_GRACE_S, access_log=False)
    server = uvicorn.Server(config)
    done = threading.Event()

    def when_ready() -> None:
        while not server.started and not done.is_set():
            time.sleep(0.05)
        if server.started:
            if open_browser:
                webbrowser.open(url)
            if on_ready is not None:
                on_ready(url)

    threading.Thread(target=when_ready, name="peacesim-viz-ready", daemon=True).start()
    # uvicorn stops gracefully on SIGINT and SIGTERM; a hang-up (closed terminal) does the same
    hup = getattr(signal, "SIGHUP", None)
    if threading.current_thread() is not threading.main_thread():
        hup = None  # signal handlers can only be set in the main thread
    previous = signal.getsignal(hup) if hup is not None else None
    if hup is not None:
        signal.signal(hup, lambda sig, frame: server.handle_exit(signal.SIGTERM, frame))
    try:
        server.run(sockets=[sock])
    finally:
        done.set()
        sock.close()
        if hup is not None:
            signal.signal(hup, previous)
    if not server.started:
        raise RuntimeError("the trainer app's server did not start (see the messages above)")
