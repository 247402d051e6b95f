"""Gemini behind Torale's SearchProvider interface: the one module that imports google-genai.

A run is at most two calls: a grounded search (the google_search tool) that answers the
task's query with sources, then an evaluation in JSON mode with a response schema and no
tools, which decides the condition. (Some models refuse tools together with a response
schema, and some silently drop grounding in JSON mode: two steps work everywhere.)

Retries are decided in one place, the run service, from `ProviderError.transient`: the SDK is
built without retry options, so it never retries by itself. Every failure leaves this module
as a ProviderError whose message tells an operator what to fix; the API key never appears in
messages or logs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import httpx2
from django.conf import settings
from django.utils import timezone
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from torale import prompts
from torale.errors import (
    NO_PROVIDER_MESSAGE,
    ProviderError,
    ProviderFailed,
    ProviderTimeout,
    ProviderUnavailable,
)
from torale.model_output import (
    SUGGEST_FIELDS,
    MalformedOutput,
    as_bool,
    as_text,
    clean_current_task,
    parse_object,
    quote,
    repair_suggestion,
)
from torale.search import Evaluation

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "gemini-2.5-flash"
# The search answer is passed to the evaluation call; keep that prompt bounded.
MAX_SEARCH_RESULTS_CHARS = 20_000
NO_REASONING = "The model gave no reasoning."
# Finish reasons meaning the model withheld its answer on purpose.
BLOCKED_FINISH_REASONS = {
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
}

EVALUATION_SCHEMA = types.Schema(
    type=types.Type.OBJECT,
    properties={
        "condition_met": types.Schema(
            type=types.Type.BOOLEAN, description="Whether the condition holds as of today"
        ),
        "reasoning": types.Schema(
            type=types.Type.STRING, description="Why, naming the deciding facts and dates"
        ),
        "answer": types.Schema(
            type=types.Type.STRING, description="Short answer to the search query"
        ),
    },
    required=["condition_met", "reasoning", "answer"],
    property_ordering=["condition_met", "reasoning", "answer"],
)

SUGGESTION_SCHEMA = types.Schema(
    type=types.Type.OBJECT,
    properties={
        "name": types.Schema(type=types.Type.STRING),
        "search_query": types.Schema(type=types.Type.STRING),
        "condition_description": types.Schema(type=types.Type.STRING),
        "schedule": types.Schema(type=types.Type.STRING, description="Five-field cron, UTC"),
        "notify_behavior": types.Schema(type=types.Type.STRING, enum=["once", "always"]),
    },
    required=list(SUGGEST_FIELDS),
    property_ordering=list(SUGGEST_FIELDS),
)


# --- the shared client -----------------------------------------------------------------------
_client_lock = threading.Lock()
_client: genai.Client | None = None
_client_config: tuple | None = None


def _shared_client(
    *, api_key: str, base_url: str, timeout_seconds: float, api_version: str
) -> genai.Client:
    """One long-lived client per process and configuration.

    A temporary client closes its HTTP connections in __del__, even in the middle of a call,
    so callers keep this one. The process id is part of the key so that a forked worker never
    shares its parent's connection pool.
    """
    global _client, _client_config
    config = (
        os.getpid(),
        hashlib.sha256(api_key.encode()).hexdigest(),
        base_url,
        timeout_seconds,
        api_version,
    )
    with _client_lock:
        if _client is None or _client_config != config:
            http_options = types.HttpOptions(
                base_url=base_url or None,
                api_version=api_version or None,
                timeout=max(1, round(timeout_seconds * 1000)),  # milliseconds
                # No retry_options: the SDK must not retry; the run service decides.
            )
            try:
                _client = genai.Client(api_key=api_key, vertexai=False, http_options=http_options)
            except ValueError as exc:
                raise ProviderFailed(
                    f"Could not set up the Gemini client: {exc}. Check GEMINI_* settings"
                ) from None
            _client_config = config
        return _client


def reset_client() -> None:
    """Forget the shared client; the next provider builds a new one (tests use this)."""
    global _client, _client_config
    with _client_lock:
        _client = None
        _client_config = None


# --- the provider ----------------------------------------------------------------------------
class GeminiProvider:
    """Grounded search, evaluation and task suggestions with Gemini."""

    def __init__(
        self,
        *,
        client: genai.Client,
        model: str,
        api_key: str,
        timeout_seconds: float,
        base_url: str = "",
    ):
        self._client = client  # held for the whole call: see _shared_client
        self._model = model
        self._api_key = api_key
        self._timeout_seconds = timeout_seconds
        self._base_url = base_url

    @classmethod
    def from_settings(cls) -> GeminiProvider:
        """A provider on the shared client; raises ProviderUnavailable without an API key."""
        api_key = (settings.GEMINI_API_KEY or "").strip()
        if not api_key:
            raise ProviderUnavailable(NO_PROVIDER_MESSAGE)
        base_url = (getattr(settings, "GEMINI_BASE_URL", "") or "").strip()
        timeout_seconds = float(getattr(settings, "GEMINI_TIMEOUT_SECONDS", 60.0) or 60.0)
        client = _shared_client(
            api_key=api_key,
            base_url=base_url,
            timeout_seconds=timeout_seconds,
            api_version=(getattr(settings, "GEMINI_API_VERSION", "") or "").strip(),
        )
        return cls(
            client=client,
            model=(getattr(settings, "GEMINI_MODEL", "") or DEFAULT_MODEL).strip(),
            api_key=api_key,
            timeout_seconds=timeout_seconds,
            base_url=base_url,
        )

    # --- evaluate ----------------------------------------------------------------------------
    def evaluate(
        self,
        *,
        search_query: str,
        condition_description: str,
        last_known_state: dict | None = None,
        today: date | None = None,
    ) -> Evaluation:
        """Search, then judge the condition. Raises ProviderUnavailable / ProviderFailed /
        ProviderTimeout; `transient` on the error says whether retrying can help."""
        today = today or timezone.now().date()
        search = self._generate(
            step="search",
            contents=prompts.search_contents(
                search_query=search_query, condition_description=condition_description
            ),
            config=types.GenerateContentConfig(
                system_instruction=prompts.search_system(today=today),
                tools=[types.Tool(google_search=types.GoogleSearch())],
            ),
        )
        results = _text_of(search, step="search")
        sources = _sources_of(search)
        if sources is None:
            logger.warning(
                "gemini search answer has no grounding metadata, so the run has no sources: "
                "model=%s finish_reason=%s",
                self._model,
                _finish_reason(search),
            )
            sources = []
        if not results:
            logger.warning("gemini search answer has no text: model=%s", self._model)

        previous_answer, previous_seen_at = _previous_state(last_known_state)
        verdict = self._generate(
            step="evaluation",
            contents=prompts.evaluation_contents(
                search_query=search_query,
                condition_description=condition_description,
                search_results=results[:MAX_SEARCH_RESULTS_CHARS],
                source_titles=[s["title"] for s in sources],
                previous_answer=previous_answer,
                previous_seen_at=previous_seen_at,
            ),
            config=types.GenerateContentConfig(
                system_instruction=prompts.evaluation_system(today=today),
                response_mime_type="application/json",
                response_schema=EVALUATION_SCHEMA,
            ),
        )
        data = parse_object(
            _text_of(verdict, step="evaluation"),
            keys=("condition_met", "reasoning", "answer"),
            what="evaluation",
        )
        condition_met = as_bool(data.get("condition_met"))
        if condition_met is None:
            raise MalformedOutput(
                "Gemini's evaluation has no usable condition_met "
                f"(got {quote(json.dumps(data.get('condition_met')))})"
            )
        answer = as_text(data.get("answer")) or results or "The search found no answer."
        prompt_tokens, output_tokens, total_tokens = _usage(search, verdict)
        return Evaluation(
            condition_met=condition_met,
            answer=answer,
            reasoning=as_text(data.get("reasoning")) or NO_REASONING,
            grounding_sources=sources,
            model=_model_version(verdict) or _model_version(search) or self._model,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            total_tokens=total_tokens,
        )

    # --- suggest -----------------------------------------------------------------------------
    def suggest(self, *, prompt: str, current_task: dict | None = None) -> dict:
        """{name, search_query, condition_description, schedule, notify_behavior}, always
        valid for task creation; asks once more when the first reply is unusable."""
        current = clean_current_task(current_task)
        problem = None
        for attempt in (1, 2):
            response = self._generate(
                step="suggest",
                contents=prompts.suggest_contents(
                    prompt=prompt, current_task=current, problem=problem
                ),
                config=types.GenerateContentConfig(
                    system_instruction=prompts.suggest_system(),
                    response_mime_type="application/json",
                    response_schema=SUGGESTION_SCHEMA,
                ),
            )
            try:
                data = parse_object(
                    _text_of(response, step="suggestion"),
                    keys=("search_query", *SUGGEST_FIELDS),
                    what="suggestion",
                )
            except MalformedOutput as exc:
                if attempt == 2:
                    raise
                logger.warning("gemini suggestion unusable, asking again: %s", exc.detail)
                problem = "it was not a JSON object with the five fields"
                continue
            missing = [
                f
                for f in ("search_query", "condition_description")
                if not as_text(data.get(f)) and not current.get(f)
            ]
            if missing and attempt == 1:
                logger.warning("gemini suggestion incomplete, asking again: missing=%s", missing)
                problem = f"it had no {' and no '.join(missing)}"
                continue
            return repair_suggestion(data, prompt=prompt, current=current)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- one call ----------------------------------------------------------------------------
    def _generate(
        self, *, step: str, contents: str, config: types.GenerateContentConfig
    ) -> types.GenerateContentResponse:
        # No Python tools are passed, so the SDK's automatic function calling has nothing to do.
        config.automatic_function_calling = types.AutomaticFunctionCallingConfig(disable=True)
        started = time.monotonic()
        try:
            response = self._client.models.generate_content(
                model=self._model, contents=contents, config=config
            )
        except genai_errors.APIError as exc:
            error = self._api_error(exc)
        except httpx2.TimeoutException:
            error = ProviderTimeout(
                f"Gemini did not answer within {self._timeout_seconds:g} s: try again later, "
                "or raise GEMINI_TIMEOUT_SECONDS",
                transient=True,
            )
        except (httpx2.UnsupportedProtocol, httpx2.InvalidURL) as exc:
            error = ProviderFailed(
                f"Cannot call Gemini at {self._where()}: {self._redact(str(exc))}. "
                "Check GEMINI_BASE_URL"
            )
        except httpx2.TransportError as exc:  # connection refused, reset, DNS, proxy...
            error = ProviderUnavailable(
                f"Could not reach Gemini at {self._where()} "
                f"({type(exc).__name__}: {self._redact(str(exc)) or 'no details'})",
                transient=True,
            )
        except httpx2.HTTPError as exc:  # redirect loops, undecodable bodies: a gateway's doing
            error = ProviderFailed(
                f"Gemini's HTTP exchange failed ({type(exc).__name__}: {self._redact(str(exc))}). "
                "Check GEMINI_BASE_URL"
            )
        except ValueError as exc:  # the SDK could not read a 200 body (not JSON, bad shape)
            error = ProviderFailed(
                f"Gemini sent a response Torale could not read ({type(exc).__name__}: "
                f"{quote(self._redact(str(exc)))})"
            )
        else:
            usage = getattr(response, "usage_metadata", None)
            logger.info(
                "gemini call done: step=%s model=%s seconds=%.2f total_tokens=%s",
                step,
                self._model,
                time.monotonic() - started,
                getattr(usage, "total_token_count", None),
            )
            return response
        logger.warning(
            "gemini call failed: step=%s model=%s seconds=%.2f transient=%s error=%s",
            step,
            self._model,
            time.monotonic() - started,
            error.transient,
            error.detail,
        )
        raise error

    def _api_error(self, exc: genai_errors.APIError) -> ProviderError:
        code = exc.code
        said = quote(self._redact(exc.message or exc.status or str(exc)))
        if code == 429:
            return ProviderUnavailable(f"Gemini rate limit reached (429): {said}", transient=True)
        if code in (401, 403):
            return ProviderFailed(
                f"Gemini rejected the API key ({code}): check GEMINI_API_KEY. Gemini said: {said}"
            )
        if code == 404:
            hint = f" (and GEMINI_BASE_URL, now {self._base_url})" if self._base_url else ""
            return ProviderFailed(
                f"Model '{self._model}' not found (404): check GEMINI_MODEL{hint}. "
                f"Gemini said: {said}"
            )
        if code == 400:
            return ProviderFailed(f"Gemini rejected the request (400): {said}")
        if code == 503:
            return ProviderUnavailable(
                f"The model is overloaded or unavailable (503): try again later. "
                f"Gemini said: {said}",
                transient=True,
            )
        if code == 504:
            return ProviderTimeout(f"Gemini timed out (504): {said}", transient=True)
        if isinstance(code, int) and code >= 500:
            return ProviderFailed(f"Gemini had a server error ({code}): {said}", transient=True)
        return ProviderFailed(f"Gemini refused the request ({code}): {said}")

    def _where(self) -> str:
        return self._base_url or "its default address"

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if self._api_key else text


# --- reading responses -----------------------------------------------------------------------
def _first_candidate(response: Any) -> Any:
    candidates = getattr(response, "candidates", None) or []
    return candidates[0] if candidates else None


def _finish_reason(response: Any) -> str | None:
    reason = getattr(_first_candidate(response), "finish_reason", None)
    return None if reason is None else str(getattr(reason, "name", reason))


def _text_of(response: Any, *, step: str) -> str:
    """The answer's text ("" when there is none); raises ProviderFailed when it was blocked."""
    candidate = _first_candidate(response)
    if candidate is None:
        feedback = getattr(response, "prompt_feedback", None)
        block = getattr(feedback, "block_reason", None)
        if block is not None:
            reason = getattr(block, "name", block)
            raise ProviderFailed(
                f"Gemini blocked the {step} prompt ({reason}): rephrase the search query "
                "or the condition"
            )
        return ""
    content = getattr(candidate, "content", None)
    parts = getattr(content, "parts", None) or []
    text = "".join(
        part.text
        for part in parts
        if isinstance(getattr(part, "text", None), str) and not getattr(part, "thought", False)
    ).strip()
    reason = _finish_reason(response)
    if not text and reason in BLOCKED_FINISH_REASONS:
        raise ProviderFailed(
            f"Gemini withheld its {step} ({reason}): rephrase the search query or the condition"
        )
    return text


def _sources_of(response: Any) -> list[dict] | None:
    """[{uri, title}] from the grounding chunks, deduplicated by URI; None without metadata.

    URIs are Google's redirect links: they are the only link Gemini gives, so they stay."""
    metadata = getattr(_first_candidate(response), "grounding_metadata", None)
    if metadata is None:
        return None
    sources: list[dict] = []
    seen: set[str] = set()
    for chunk in getattr(metadata, "grounding_chunks", None) or []:
        web = getattr(chunk, "web", None)
        uri = (getattr(web, "uri", None) or "").strip()
        if not uri or uri in seen:
            continue
        seen.add(uri)
        title = (getattr(web, "title", None) or "").strip() or urlsplit(uri).hostname or uri
        sources.append({"uri": uri, "title": title})
    return sources


def _model_version(response: Any) -> str:
    return (getattr(response, "model_version", None) or "").strip()


def _usage(*responses: Any) -> tuple[int | None, int | None, int | None]:
    """(prompt, output, total) tokens summed over the calls; None where no call reported."""
    totals: list[int | None] = [None, None, None]
    names = ("prompt_token_count", "candidates_token_count", "total_token_count")
    for response in responses:
        usage = getattr(response, "usage_metadata", None)
        for index, name in enumerate(names):
            value = getattr(usage, name, None)
            if isinstance(value, int):
                totals[index] = (totals[index] or 0) + value
    return totals[0], totals[1], totals[2]


def _previous_state(state: Any) -> tuple[str | None, str | None]:
    if not isinstance(state, dict):
        return None, None
    answer = as_text(state.get("answer")) or None
    seen_at = as_text(state.get("timestamp")) or None
    return answer, seen_at
