"""A local stand-in of Gemini's generateContent API, for the real google-genai SDK.

It speaks the wire format of shared/spec/gemini-wire.md, so tests exercise the SDK and
torale.gemini end to end (no patching), and the smoke run points web, worker and beat at it
through GEMINI_BASE_URL.

Two ways to run it:

- in-process (pytest): ``with GeminiStandIn() as standin: ... standin.url ...`` — it listens
  on 127.0.0.1 on a free port; see the ``gemini`` fixture in tests/torale/conftest.py;
- as its own process: ``python -m tests.support.gemini_standin --port 8765`` prints
  ``Gemini stand-in listening on http://127.0.0.1:8765`` and stays up until SIGINT/SIGTERM.

Endpoints:

- ``POST /{v1,v1beta,v1alpha}/models/{model}:generateContent`` — the API;
- ``POST /_standin/script`` — body: a JSON list of canned replies, appended to the queue;
  each later generateContent call consumes the next one, in order (answers ``{"queued": n}``);
- ``POST /_standin/reset`` — forget the queue and the recorded requests;
- ``GET /_standin/requests`` — what it received: ``[{"method", "path", "headers", "body",
  "status"}]``, the ``x-goog-api-key`` value replaced by ``"<redacted>"``;
- ``GET /_standin/health`` — ``{"ok": true}``.

A canned reply (every key optional):

- ``status`` — HTTP status, default 200. An error status without ``body`` answers Google's
  error shape ``{"error": {"code", "message", "status"}}``; ``message`` overrides the text;
- ``delay`` — seconds to wait before answering (for timeouts);
- ``text`` — the model's answer text; ``json`` — a value whose JSON dump is the answer text;
- ``grounding_chunks`` — ``[{"uri", "title"}]`` (title optional): adds ``groundingMetadata``.
  A scripted ``text``/``json`` reply without it has no grounding metadata at all;
- ``body`` — the whole response body, sent as is (an object is JSON-encoded, a string raw);
- ``usage`` (usageMetadata object), ``model_version``, ``finish_reason``.

A 200 reply with none of ``text``/``json``/``body`` gets the default answer for that request
(so ``{"delay": 3}`` is the default answer, late).

Without a script it answers deterministically and plausibly:

- grounded search (the request has a ``googleSearch`` tool): a text that mentions the query
  (the ``<search_query>`` block when present, else the whole user text), with two grounding
  chunks whose URIs are vertexaisearch redirect links and whose titles are bare domains;
- evaluation (JSON mode, schema with ``condition_met``): ``{"condition_met", "reasoning",
  "answer"}``. **Rule:** the condition (the ``<condition>`` block when present, else the user
  text) is *not met* when it mentions "in stock", "available for purchase" or the marker
  "[not met]", and met otherwise. So the reference's examples go: iPhone release date → met,
  PS5 Pro in stock at Best Buy → not met, London apartment under 450,000 GBP → met;
- suggest (JSON mode, schema with ``schedule``): a valid configuration derived from the
  ``<prompt>`` block, refining the JSON in a ``<current_task>`` block when present.

Every 200 answer carries ``usageMetadata`` (about four characters a token) and
``modelVersion`` (the model named in the path).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import signal
import sys
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

API_PATH = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):generateContent$")
REDACTED = "<redacted>"

ERROR_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
ERROR_MESSAGE = {
    400: "Request contains an invalid argument.",
    401: "API key not valid. Please pass a valid API key.",
    403: "Method doesn't allow unregistered callers. Please use API Key or other form of "
    "API consumer identity to call this API.",
    404: "models/{model} is not found for API version {version}, or is not supported for "
    "generateContent.",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}

NOT_MET_MARKERS = ("in stock", "available for purchase", "[not met]")
SOURCE_DOMAINS = (
    "reuters.com",
    "theverge.com",
    "bbc.co.uk",
    "apnews.com",
    "wikipedia.org",
    "bloomberg.com",
)
REDIRECT_PREFIX = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"
LEADING_PHRASES = re.compile(
    r"^(please\s+)?((notify|tell|alert|remind|ping|email)\s+me\s+(when|if|once|whether)\s+"
    r"|let\s+me\s+know\s+(when|if|once|whether)\s+|watch\s+for\s+|monitor\s+|track\s+|add\s+)",
    re.IGNORECASE,
)


class GeminiStandIn:
    """A threaded HTTP server answering generateContent; scriptable in-process or over HTTP."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._lock = threading.Lock()
        self._script: deque[dict] = deque()
        self._requests: list[dict] = []
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> GeminiStandIn:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns quickly
            name="gemini-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes replies that are sleeping through a scripted delay
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in this thread until stop() is called from another one."""
        self._server.serve_forever(poll_interval=0.1)

    def __enter__(self) -> GeminiStandIn:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- scripting ---------------------------------------------------------------------------
    def script(self, *replies: dict) -> None:
        """Queue canned replies, consumed one per generateContent call, in order."""
        for reply in replies:
            if not isinstance(reply, dict):
                raise ValueError("each scripted reply must be a JSON object")
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[dict]:
        """The generateContent requests received so far (API key redacted)."""
        with self._lock:
            return [r for r in self._requests if API_PATH.match(urlsplit(r["path"]).path)]

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    def _next_reply(self) -> dict | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _record(self, entry: dict) -> None:
        with self._lock:
            self._requests.append(entry)

    def _all_requests(self) -> list[dict]:
        with self._lock:
            return list(self._requests)

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _handler_for(standin: GeminiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "GeminiStandIn/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read requests
            pass

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/_standin/requests":
                self._send_json(200, standin._all_requests())
            elif path == "/_standin/health":
                self._send_json(200, {"ok": True})
            else:
                self._send_json(404, _error_body(404, f"Unknown path {path}"))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urlsplit(self.path).path
            if path == "/_standin/script":
                self._control_script(raw)
                return
            if path == "/_standin/reset":
                standin.reset()
                self._send_json(200, {"ok": True})
                return
            match = API_PATH.match(path)
            body = _parse_json(raw)
            entry = {
                "method": "POST",
                "path": _redact_query(self.path),
                "headers": {
                    k: (REDACTED if k.lower() == "x-goog-api-key" else v)
                    for k, v in self.headers.items()
                },
                "body": body if body is not None else raw.decode("utf-8", "replace"),
                "status": None,
            }
            standin._record(entry)
            if not match:
                entry["status"] = 404
                self._send_json(404, _error_body(404, f"Unknown path {path}"))
                return
            version, model = match.groups()
            reply = standin._next_reply() or {}
            if reply.get("delay"):
                standin._sleep(float(reply["delay"]))
            status, payload = _answer(reply, body if isinstance(body, dict) else {}, model, version)
            entry["status"] = status
            self._send(status, payload)

        def _control_script(self, raw: bytes) -> None:
            replies = _parse_json(raw)
            if isinstance(replies, dict):
                replies = [replies]
            if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
                self._send_json(400, {"detail": "send a JSON list of reply objects"})
                return
            standin.script(*replies)
            self._send_json(200, {"queued": standin.pending})

        def _send_json(self, status: int, payload: Any) -> None:
            self._send(status, json.dumps(payload).encode())

        def _send(self, status: int, payload: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. its timeout fired during a scripted delay)

    return Handler


# --- answers -------------------------------------------------------------------------------
def _answer(reply: dict, request: dict, model: str, version: str) -> tuple[int, bytes]:
    status = int(reply.get("status", 200))
    if "body" in reply:
        body = reply["body"]
        return status, (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    if status >= 400:
        message = reply.get("message") or ERROR_MESSAGE.get(status, "Error").format(
            model=model, version=version
        )
        return status, json.dumps(_error_body(status, message)).encode()

    grounding = None
    if "text" in reply or "json" in reply:
        text = reply["text"] if "text" in reply else json.dumps(reply["json"], ensure_ascii=False)
        if reply.get("grounding_chunks") is not None:
            grounding = _grounding(reply["grounding_chunks"], [])
    else:
        text, grounding = _default_answer(request)
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "finishReason": reply.get("finish_reason", "STOP"),
        "index": 0,
    }
    if grounding is not None:
        candidate["groundingMetadata"] = grounding
    prompt_tokens = max(1, len(json.dumps(request.get("contents", ""))) // 4)
    output_tokens = max(1, len(text) // 4)
    body = {
        "candidates": [candidate],
        "usageMetadata": reply.get(
            "usage",
            {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": output_tokens,
                "totalTokenCount": prompt_tokens + output_tokens,
            },
        ),
        "modelVersion": reply.get("model_version", model),
        "responseId": hashlib.sha1(text.encode()).hexdigest()[:20],  # noqa: S324 - an id
    }
    return status, json.dumps(body).encode()


def _default_answer(request: dict) -> tuple[str, dict | None]:
    kind = _kind(request)
    user_text = _user_text(request)
    if kind == "search":
        query = _block(user_text, "search_query") or user_text.strip()
        return _search_answer(query)
    if kind == "evaluate":
        return json.dumps(_evaluation(user_text), ensure_ascii=False), None
    if kind == "suggest":
        return json.dumps(_suggestion(user_text), ensure_ascii=False), None
    return f"Stand-in answer to: {user_text.strip()[:200]}", None


def _kind(request: dict) -> str:
    tools = request.get("tools") or []
    if any(isinstance(t, dict) and ("googleSearch" in t or "google_search" in t) for t in tools):
        return "search"
    config = request.get("generationConfig") or {}
    schema = config.get("responseSchema") or config.get("responseJsonSchema") or {}
    properties = schema.get("properties") or {} if isinstance(schema, dict) else {}
    if "condition_met" in properties:
        return "evaluate"
    if "schedule" in properties:
        return "suggest"
    return "text"


def _search_answer(query: str) -> tuple[str, dict]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    first = int(digest[:8], 16) % len(SOURCE_DOMAINS)
    domains = [SOURCE_DOMAINS[first], SOURCE_DOMAINS[(first + 1) % len(SOURCE_DOMAINS)]]
    text = (
        f"Here is what current web sources report about “{query}”. "
        f"{domains[0]} covers the question directly and gives the latest details [1]. "
        f"{domains[1]} reports the same and adds background on recent developments [2]."
    )
    chunks = [
        {"uri": f"{REDIRECT_PREFIX}{digest[i * 16 : i * 16 + 40]}", "title": domain}
        for i, domain in enumerate(domains)
    ]
    sentences = [s for s in re.split(r"(?<=\.)\s", text) if s]
    supports = []
    start = 0
    for index, sentence in enumerate(sentences[1:3]):
        start = text.index(sentence, start)
        supports.append(
            {
                "segment": {
                    "startIndex": start,
                    "endIndex": start + len(sentence),
                    "text": sentence,
                },
                "groundingChunkIndices": [index],
                "confidenceScores": [0.9],
            }
        )
    return text, _grounding(chunks, supports, queries=[query[:120]])


def _grounding(chunks: list, supports: list, queries: list | None = None) -> dict:
    web_chunks = []
    for chunk in chunks:
        web = {"uri": chunk["uri"]}
        if chunk.get("title") is not None:
            web["title"] = chunk["title"]
        web_chunks.append({"web": web})
    return {
        "webSearchQueries": queries or [],
        "groundingChunks": web_chunks,
        "groundingSupports": supports,
        "searchEntryPoint": {"renderedContent": "<div class='search'>stand-in</div>"},
    }


def _evaluation(user_text: str) -> dict:
    condition = _block(user_text, "condition") or user_text
    results = _block(user_text, "search_results") or ""
    met = not any(marker in condition.lower() for marker in NOT_MET_MARKERS)
    summary = results.strip().split(". ")[0][:300] or "The search found relevant reports"
    if met:
        reasoning = f"The search results support the condition “{condition.strip()[:200]}”."
    else:
        reasoning = (
            f"The search results do not show that “{condition.strip()[:200]}” holds right now."
        )
    return {"condition_met": met, "reasoning": reasoning, "answer": summary.rstrip(".") + "."}


def _suggestion(user_text: str) -> dict:
    prompt = " ".join((_block(user_text, "prompt") or user_text).split())
    current = _parse_json((_block(user_text, "current_task") or "").encode())
    topic = LEADING_PHRASES.sub("", prompt).rstrip(".!? ") or prompt
    if isinstance(current, dict) and current.get("search_query"):
        return {
            "name": current.get("name") or f"{topic[:60]} Monitor",
            "search_query": f"{current['search_query']} {topic}"[:500],
            "condition_description": (
                f"{current.get('condition_description') or current['search_query']} and {topic}"
            )[:500],
            "schedule": current.get("schedule") or "0 9 * * *",
            "notify_behavior": current.get("notify_behavior") or "once",
        }
    query = topic if len(topic) >= 10 else prompt
    if len(query) < 10:
        query = f"{query} latest news"
    stock = "stock" in prompt.lower()
    repeat = re.search(r"\b(every time|each time|always|whenever|price)\b", prompt, re.I)
    return {
        "name": f"{topic[:1].upper()}{topic[1:60]} Monitor",
        "search_query": query[:500],
        "condition_description": f"Recent reports confirm that {topic}"[:500],
        "schedule": "*/30 * * * *" if stock else "0 9 * * *",
        "notify_behavior": "always" if repeat else "once",
    }


# --- helpers -------------------------------------------------------------------------------
def _error_body(status: int, message: str) -> dict:
    return {"error": {"code": status, "message": message, "status": ERROR_STATUS.get(status, "")}}


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def _user_text(request: dict) -> str:
    texts = []
    for content in request.get("contents") or []:
        if isinstance(content, dict) and content.get("role", "user") == "user":
            texts.extend(
                part["text"]
                for part in content.get("parts") or []
                if isinstance(part, dict) and isinstance(part.get("text"), str)
            )
    return "\n".join(texts)


def _block(text: str, tag: str) -> str | None:
    """The unescaped content of the first <tag>...</tag> block, or None. The content may not
    hold another <tag>, so that prose naming the tag ("the request in <prompt>") is skipped."""
    match = re.search(rf"<{tag}>((?:(?!<{tag}>).)*?)</{tag}>", text, re.DOTALL)
    return html.unescape(match.group(1)).strip() if match else None


def _redact_query(path: str) -> str:
    parts = urlsplit(path)
    if not parts.query:
        return path
    query = [(k, REDACTED if k == "key" else v) for k, v in parse_qsl(parts.query)]
    return f"{parts.path}?{urlencode(query)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local stand-in of Gemini's generateContent API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    standin = GeminiStandIn(args.host, args.port)

    def stop(signum, frame):  # serve_forever runs in this thread: shut down from another
        threading.Thread(target=standin.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Gemini stand-in listening on {standin.url}", flush=True)
    standin.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
