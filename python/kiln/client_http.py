"""HTTP for the Kiln client (kiln.client): the error classes and one request.

What: ``Transport`` sends one request to a Kiln server's ``/api/v1`` and turns
its answer into JSON, bytes, or a file written piece by piece; an error answer
(``{"error": {"code", "message", ...}}``, docs/api.md "Errors") becomes a
``KilnError`` subclass chosen by the HTTP status.  Bodies can be streamed from
a file (uploads) and answers streamed to a file (downloads), 1 MiB at a time,
so memory does not grow with the file.

Only the standard library: ``http.client`` (``ssl`` only for https URLs).

Thread-safety: a ``Transport`` holds no connection between requests (each
request opens its own and closes it), so one may be shared by threads.
Network failures (refused, reset, timed out) are raised as they come from
``http.client``/``socket`` (``OSError`` subclasses).
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.parse
from typing import Any, BinaryIO, Callable, Mapping, Optional

__all__ = [
    "KilnError", "BadRequest", "Unauthenticated", "PermissionDenied", "NotFound",
    "MethodNotAllowed", "Conflict", "PayloadTooLarge", "FailedPrecondition",
    "TooManyRequests", "ServerError", "Unavailable", "Transport", "CHUNK",
]

CHUNK = 1 << 20  # bytes per read/write when streaming (what the server uses too)

Progress = Callable[[int, Optional[int]], None]  # (bytes so far, total or None)


class KilnError(Exception):
    """An error answer of the server.

    ``status`` is the HTTP status, ``code`` the server's error code
    (``NotFound``, ``FailedPrecondition``...), ``message`` its message and
    ``body`` the whole decoded ``error`` object (it may carry more fields:
    ``line``/``column`` for code, ``conflicts`` for a merge).
    """

    def __init__(self, status: int, code: str, message: str, body: Optional[dict] = None,
                 method: str = "", path: str = ""):
        self.status, self.code, self.message = status, code, message
        self.body = body or {}
        self.method, self.path = method, path
        where = f" ({method} {path})" if method else ""
        super().__init__(f"{status} {code}: {message}{where}")


class BadRequest(KilnError):
    """400: malformed JSON, wrong types, bad names or digests."""


class Unauthenticated(KilnError):
    """401: sign-in needed, or a bad/expired token."""


class PermissionDenied(KilnError):
    """403: the user lacks the role."""


class NotFound(KilnError):
    """404: no such project, ref, node, artifact, execution or route."""


class MethodNotAllowed(KilnError):
    """405: a known path with another method (e.g. a route this server lacks)."""


class Conflict(KilnError):
    """409: a name is taken, a merge has conflicts (``conflicts``), a race was lost."""

    @property
    def conflicts(self) -> list:
        return self.body.get("conflicts") or []


class PayloadTooLarge(KilnError):
    """413 (or 431, 507): a body or artifact over a limit, or no room for it."""


class FailedPrecondition(KilnError):
    """422: a patch breaks a rule, code is wrong (``line``, ``column``), a pipeline cannot run."""

    @property
    def line(self) -> Optional[int]:
        return self.body.get("line")

    @property
    def column(self) -> Optional[int]:
        return self.body.get("column")


class TooManyRequests(KilnError):
    """429: over the server's request rate for this address."""


class ServerError(KilnError):
    """500 and other 5xx: the server's fault."""


class Unavailable(ServerError):
    """503: the server cannot do it now (no Python, busy, too many connections)."""


_BY_STATUS = {400: BadRequest, 401: Unauthenticated, 403: PermissionDenied, 404: NotFound,
              405: MethodNotAllowed, 409: Conflict, 413: PayloadTooLarge, 422: FailedPrecondition,
              429: TooManyRequests, 431: PayloadTooLarge, 503: Unavailable, 507: PayloadTooLarge}


def error_from(status: int, raw: bytes, method: str, path: str) -> KilnError:
    """The KilnError for an error answer; a body that is not the server's shape is kept as text."""
    try:
        err = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        err = None
    if not isinstance(err, dict):
        text = raw.decode("utf-8", "replace").strip()[:500]
        err = {"code": http.client.responses.get(status, "Error"), "message": text}
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else KilnError)
    return cls(status, str(err.get("code", "")), str(err.get("message", "")), err, method, path)


def query(params: Mapping[str, Any]) -> str:
    """``?a=1&b=x`` from the params that are not None (booleans as true/false)."""
    items = [(k, ("true" if v else "false") if isinstance(v, bool) else v)
             for k, v in params.items() if v is not None]
    return "?" + urllib.parse.urlencode(items) if items else ""


def segment(text: str) -> str:
    """One path segment, with '/' and everything else unsafe escaped (a tag 'run/42')."""
    return urllib.parse.quote(str(text), safe="")


class Transport:
    """Requests to one server; ``url`` is its address (``http://host:port``), ``token`` a bearer token."""

    def __init__(self, url: str, token: Optional[str] = None, timeout: float = 60.0):
        parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a Kiln server address: {url!r} (expected http://host:port)")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/") + "/api/v1"
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.token, self.timeout = token, timeout

    def _connect(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        t = self.timeout if timeout is None else timeout
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=t, blocksize=CHUNK)
        return http.client.HTTPConnection(self.host, self.port, timeout=t, blocksize=CHUNK)

    def _headers(self, extra: Optional[Mapping[str, str]]) -> dict:
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        h.update(extra or {})
        return h

    def open(self, method: str, path: str, body: Any = None, *, file: Optional[BinaryIO] = None,
             size: Optional[int] = None, progress: Optional[Progress] = None,
             headers: Optional[Mapping[str, str]] = None, timeout: Optional[float] = None):
        """Sends a request; returns ``(connection, response)`` with the body still unread.

        ``body`` is JSON (a dict or list), or bytes; ``file`` a binary file sent
        in pieces of CHUNK bytes with ``Content-Length: size``, ``progress``
        called after each piece.  An error status raises its KilnError (and
        closes the connection).  The caller closes the connection.
        """
        h = self._headers(headers)
        data = None
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif body is not None:
            data = bytes(body)
        conn = self._connect(timeout)
        full = self.prefix + path
        try:
            if file is None:
                conn.request(method, full, body=data, headers=h)
            else:
                conn.putrequest(method, full, skip_accept_encoding=True)
                h.setdefault("Content-Type", "application/octet-stream")
                h["Content-Length"] = str(size)
                for k, v in h.items():
                    conn.putheader(k, v)
                conn.endheaders()
                self._send_file(conn, file, size, progress)
            resp = conn.getresponse()
        except (BrokenPipeError, ConnectionResetError) as sending:
            # The server may refuse an upload from its headers (413, 507) and
            # close before reading the body: its answer may still be there to read.
            try:
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException):
                conn.close()
                raise sending from None
        except BaseException:
            conn.close()
            raise
        if resp.status >= 400:
            raw = resp.read()
            conn.close()
            raise error_from(resp.status, raw, method, path)
        return conn, resp

    @staticmethod
    def _send_file(conn, file: BinaryIO, size: Optional[int], progress: Optional[Progress]):
        sent = 0
        while True:
            piece = file.read(CHUNK)
            if not piece:
                break
            conn.send(piece)
            sent += len(piece)
            if progress:
                progress(sent, size)
        if size is not None and sent != size:
            raise OSError(f"the file changed while it was sent: {sent} bytes instead of {size}")

    def json(self, method: str, path: str, body: Any = None, **kw) -> Any:
        """The request's answer as JSON (None for an empty body)."""
        conn, resp = self.open(method, path, body, **kw)
        try:
            raw = resp.read()
        finally:
            conn.close()
        return json.loads(raw) if raw else None

    def bytes(self, method: str, path: str, body: Any = None, **kw) -> bytes:
        """The request's answer as bytes (for small answers; ``download`` streams)."""
        conn, resp = self.open(method, path, body, **kw)
        try:
            return resp.read()
        finally:
            conn.close()

    def download(self, method: str, path: str, dest: str, *, progress: Optional[Progress] = None,
                 sha256: Optional[str] = None, **kw) -> int:
        """Streams the answer into ``dest`` (written as ``dest.part``, renamed when complete).

        With ``sha256`` (hex), the bytes must hash to it, else nothing is left
        at ``dest`` and ValueError is raised.  Returns the bytes written.
        """
        hasher = hashlib.sha256() if sha256 else None
        conn, resp = self.open(method, path, **kw)
        length = resp.getheader("Content-Length")
        total = int(length) if length and length.isdigit() else None
        part = os.fspath(dest) + ".part"
        done = 0
        try:
            with open(part, "wb") as out:
                while True:
                    piece = resp.read(CHUNK)
                    if not piece:
                        break
                    out.write(piece)
                    if hasher is not None:
                        hasher.update(piece)
                    done += len(piece)
                    if progress:
                        progress(done, total)
            if total is not None and done != total:
                raise OSError(f"the download of {path} stopped after {done} of {total} bytes")
            if hasher is not None and hasher.hexdigest() != sha256.lower():
                raise ValueError(f"the download of {path} hashes to {hasher.hexdigest()}, "
                                 f"not {sha256}")
            os.replace(part, dest)
        except BaseException:
            if os.path.exists(part):
                os.unlink(part)
            raise
        finally:
            conn.close()
        return done
