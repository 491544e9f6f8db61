"""A scripted OpenAI-compatible HTTP server for tests (stdlib only).

Usage::

    server = ScriptedOpenAIServer().start()
    server.push("theorem t : True := trivial", {"status": 429, "headers": {"Retry-After": "1"}})
    client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    ...
    server.stop()

Each ``POST /v1/chat/completions`` consumes one queued response (arrival order).  A response is
a string (the assistant message content) or a dict with optional keys ``content``, ``usage``,
``status`` (default 200), ``headers``, ``body`` (raw dict/str sent instead of a completion),
``delay`` (seconds, before answering) and ``finish_reason`` (default ``"stop"``).  When the
queue is empty, ``responder(request_json)`` is asked; without one the server answers 500 with
an OpenAI-style error body.  Requests with ``"stream": true`` are answered as server-sent
events in the OpenAI chunk format, one event at a time: ``pieces`` (default 1) splits the
content over that many chunks with ``gap`` seconds between them, and ``stall`` (seconds) stops
after the first piece, sending nothing more, except an empty chunk every ``keepalive`` seconds
when that is set, as some servers do while they are stuck.

``tool_calls`` (a list of ``{"name": …, "arguments": …}``, arguments as JSON text or an object)
makes the answer a function call, ``finish_reason`` ``tool_calls``, in the wire format of
``flavour``:

* ``"mistral"`` (La Plateforme): ids of nine letters and digits (mistral-common's validator, as
  vLLM's Mistral parser cites it), an ``index`` per call, no ``type`` (the Mistral SDK shows
  ``type=None``), ``content`` ``""``; streamed, every call comes whole in one chunk;
* ``"vllm"`` (vLLM's OpenAI server, ``--enable-auto-tool-choice``): ids ``chatcmpl-tool-`` and 32
  hex digits, ``"type": "function"``, ``content`` ``null``; streamed, the first chunk of a call
  carries its id and name and the arguments follow in ``pieces`` chunks;
* ``"openai"`` (the default): ids ``call_…``, ``"type": "function"``, ``content`` ``null``;
  streamed as vLLM's, with ``"arguments": ""`` in the first chunk.

None of the three was recorded here; the shapes follow the providers' documentation and SDKs.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Response = str | dict[str, Any]
Responder = Callable[[dict[str, Any]], Response]

MODEL_ID = "labs-leanstral-2603"
MODELS_BODY: dict[str, Any] = {
    "object": "list",
    "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "mistralai"}],
}

_ERROR_KINDS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "permission_denied"),
    404: ("not_found_error", "not_found"),
    409: ("conflict_error", "conflict"),
    422: ("invalid_request_error", "unprocessable_entity"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("server_error", "internal_error"),
    502: ("server_error", "bad_gateway"),
    503: ("server_error", "service_unavailable"),
}


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """An OpenAI-style error body for ``status``."""
    err_type, code = _ERROR_KINDS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", f"http_{status}")
    )
    return {
        "error": {
            "message": message or f"scripted error (HTTP {status})",
            "type": err_type,
            "param": None,
            "code": code,
        }
    }


def default_usage(messages: list[Any], content: str) -> dict[str, int]:
    prompt = 10 * len(messages)
    completion = len(content) // 4 + 1
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class ScriptedOpenAIServer:
    """Thread-safe scripted OpenAI chat-completions server on 127.0.0.1."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Response] = deque()
        self._counter = 0
        self.responder: Responder | None = None
        self.models_status: int | None = None
        self.requests: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ScriptedOpenAIServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="scripted-openai-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *responses: Response) -> None:
        """Queue responses; each chat-completion request consumes one, in arrival order."""
        with self._lock:
            self._queue.extend(responses)

    @property
    def pending(self) -> int:
        """Number of queued responses not consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The recorded ``POST …/chat/completions`` requests only."""
        with self._lock:
            return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    # -- internals used by the handler -------------------------------------------------------

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def _next_response(self, request_json: dict[str, Any]) -> Response | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            responder = self.responder
        return None if responder is None else responder(request_json)

    def _next_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"chatcmpl-fake-{self._counter}"


def _make_handler(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ScriptedOpenAI/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        # -- helpers -------------------------------------------------------------------------

        def _send(
            self,
            status: int,
            body: bytes,
            headers: dict[str, str] | None = None,
            content_type: str = "application/json",
        ) -> None:
            try:
                self.send_response(status)
                extra = {k.lower(): v for k, v in (headers or {}).items()}
                if "content-type" not in extra:
                    self.send_header("Content-Type", content_type)
                for key, value in (headers or {}).items():
                    self.send_header(key, str(value))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. its timeout fired during `delay`)

        def _send_json(
            self, status: int, payload: Any, headers: dict[str, str] | None = None
        ) -> None:
            self._send(status, json.dumps(payload).encode("utf-8"), headers)

        def _path(self) -> str:
            return self.path.split("?", 1)[0].rstrip("/")

        def _record(self, payload: Any) -> None:
            server._record(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "json": payload,
                }
            )

        # -- verbs ---------------------------------------------------------------------------

        def do_GET(self) -> None:
            self._record(None)
            if self._path() in ("/v1/models", "/models"):
                status = server.models_status
                if status is not None and status != 200:
                    self._send_json(status, error_body(status))
                else:
                    self._send_json(200, MODELS_BODY)
                return
            self._send_json(404, error_body(404, f"unknown path {self.path}"))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                payload = json.loads(raw.decode("utf-8")) if raw else {}
            except (UnicodeDecodeError, json.JSONDecodeError):
                self._record(None)
                self._send_json(400, error_body(400, "request body is not valid JSON"))
                return
            self._record(payload)
            if self._path() not in ("/v1/chat/completions", "/chat/completions"):
                self._send_json(404, error_body(404, f"unknown path {self.path}"))
                return
            if not isinstance(payload, dict):
                self._send_json(400, error_body(400, "request body must be a JSON object"))
                return
            try:
                response = server._next_response(payload)
            except Exception as exc:  # a failing responder shows up as a 500 in the client
                self._send_json(500, error_body(500, f"responder raised {exc!r}"))
                return
            if response is None:
                self._send_json(
                    500,
                    error_body(
                        500, "openai_server: no scripted response left and no responder set"
                    ),
                )
                return
            self._answer(payload, response)

        def _answer(self, request: dict[str, Any], response: Response) -> None:
            spec: dict[str, Any] = {"content": response} if isinstance(response, str) else response
            if spec.get("delay"):
                time.sleep(float(spec["delay"]))
            status = int(spec.get("status", 200))
            headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
            if "body" in spec:
                body = spec["body"]
                data = (
                    body.encode("utf-8")
                    if isinstance(body, str)
                    else json.dumps(body).encode("utf-8")
                )
                self._send(status, data, headers)
                return
            if status >= 400:
                self._send_json(status, error_body(status, spec.get("content")), headers)
                return
            content = str(spec.get("content") or "")
            messages = request.get("messages")
            usage = default_usage(messages if isinstance(messages, list) else [], content)
            if spec.get("usage") is not None:
                given = dict(spec["usage"])
                usage.update(given)
                if "total_tokens" not in given:
                    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            model = str(request.get("model") or MODEL_ID)
            finish = str(spec.get("finish_reason", "stop"))
            cid = server._next_id()
            created = int(time.time())
            if request.get("stream"):
                self._stream(cid, created, model, content, finish, usage, request, spec, headers)
                return
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if spec.get("tool_calls"):
                message = _tool_call_message(spec["tool_calls"], str(spec.get("flavour", "openai")))
                finish = str(spec.get("finish_reason", "tool_calls"))
            completion = {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            }
            self._send_json(status, completion, headers)

        def _stream(
            self,
            cid: str,
            created: int,
            model: str,
            content: str,
            finish: str,
            usage: dict[str, int],
            request: dict[str, Any],
            spec: dict[str, Any],
            headers: dict[str, str],
        ) -> None:
            def chunk(delta: dict[str, Any], reason: str | None) -> dict[str, Any]:
                return {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [
                        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
                    ],
                }

            n = max(1, int(spec.get("pieces", 1)))
            size = -(-len(content) // n) if content else 0
            pieces = [content[i * size : (i + 1) * size] for i in range(n)] if size else [""]
            options = request.get("stream_options") or {}
            try:
                self.send_response(200)
                for key, value in {"Content-Type": "text/event-stream", **headers}.items():
                    self.send_header(key, str(value))
                self.end_headers()

                def send(event: dict[str, Any] | str) -> None:
                    data = event if isinstance(event, str) else json.dumps(event)
                    self.wfile.write(f"data: {data}\n\n".encode())
                    self.wfile.flush()

                deltas: list[dict[str, Any]] = [{"content": piece} for piece in pieces]
                if spec.get("tool_calls"):
                    flavour = str(spec.get("flavour", "openai"))
                    deltas = _tool_call_deltas(spec["tool_calls"], flavour, n)
                    finish = str(spec.get("finish_reason", "tool_calls"))
                send(chunk({"role": "assistant", "content": ""}, None))
                for i, delta in enumerate(deltas):
                    if i and spec.get("gap"):
                        time.sleep(float(spec["gap"]))
                    send(chunk(delta, None))
                    if i == 0 and spec.get("stall"):
                        end = time.monotonic() + float(spec["stall"])
                        every = float(spec.get("keepalive") or 0)
                        while time.monotonic() < end:
                            time.sleep(min(every or 0.05, max(0.0, end - time.monotonic())))
                            if every:
                                send(chunk({}, None))
                        return  # a stalled stream never finishes
                send(chunk({}, finish))
                if isinstance(options, dict) and options.get("include_usage"):
                    send(
                        {
                            "id": cid,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model,
                            "choices": [],
                            "usage": usage,
                        }
                    )
                send("[DONE]")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up

    return Handler


def _tool_call_message(calls: list[dict[str, Any]], flavour: str) -> dict[str, Any]:
    rng = random.Random()
    out = []
    for i, call in enumerate(calls):
        args = call.get("arguments", {})
        if not isinstance(args, str) and not call.get("raw_object"):
            args = json.dumps(args)
        if flavour == "mistral":
            cid = call.get("id") or "".join(rng.choices(string.ascii_letters + string.digits, k=9))
            out.append(
                {"id": cid, "function": {"name": call["name"], "arguments": args}, "index": i}
            )
        else:
            prefix = "chatcmpl-tool-" if flavour == "vllm" else "call_"
            cid = call.get("id") or prefix + "".join(rng.choices("0123456789abcdef", k=32))
            out.append(
                {
                    "id": cid,
                    "type": "function",
                    "function": {"name": call["name"], "arguments": args},
                }
            )
    content: str | None = "" if flavour == "mistral" else None
    return {"role": "assistant", "content": content, "tool_calls": out}


def _tool_call_deltas(
    calls: list[dict[str, Any]], flavour: str, pieces: int
) -> list[dict[str, Any]]:
    """The stream's deltas for ``calls``: Mistral's API sends each call whole in one chunk;
    OpenAI and vLLM send the id and name first, then the arguments in ``pieces`` parts."""
    whole = _tool_call_message(calls, flavour)["tool_calls"]
    if flavour == "mistral":
        return [{"content": "", "tool_calls": [call]} for call in whole]
    deltas: list[dict[str, Any]] = []
    for i, call in enumerate(whole):
        fn = call["function"]
        head: dict[str, Any] = {"name": fn["name"]}
        if flavour == "openai":
            head["arguments"] = ""
        deltas.append(
            {"tool_calls": [{"index": i, "id": call["id"], "type": "function", "function": head}]}
        )
        args = fn["arguments"]
        if not isinstance(args, str):
            parts: list[Any] = [args]
        else:
            size = max(1, -(-len(args) // pieces))
            parts = [args[k : k + size] for k in range(0, len(args), size)] or [""]
        deltas += [{"tool_calls": [{"index": i, "function": {"arguments": p}}]} for p in parts]
    return deltas
