"""JSON request bodies, read whatever Content-Type the client sent.

`curl -d '{...}'` sends application/x-www-form-urlencoded unless told otherwise; the API
only speaks JSON, so every body is read as JSON. Malformed JSON is a 422 in the same shape
as every other validation error, saying where decoding failed.
"""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework.exceptions import APIException
from rest_framework.parsers import BaseParser

from torale.api.errors import RequestValidationError


class BodyTooLarge(APIException):
    status_code = 413
    default_detail = "Request body too large"


class JSONBodyParser(BaseParser):
    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        # Read one byte past the cap: a larger body is refused without being held in memory.
        cap = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(cap + 1) if stream is not None else b""
        if len(raw) > cap:
            raise BodyTooLarge(f"Request body too large (at most {cap} bytes)")
        if not raw.strip():
            return {}
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestValidationError(
                [
                    {
                        "loc": ["body"],
                        "msg": "Request body is not valid UTF-8",
                        "type": "json_invalid",
                    }
                ]
            ) from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _json_invalid(["body", exc.pos], exc.msg) from None
        # Valid JSON that Python will not decode: arrays or objects nested deeper than the
        # recursion limit, integers with more digits than int() converts.
        except RecursionError:
            raise _json_invalid(["body"], "Nesting too deep") from None
        except ValueError:
            raise _json_invalid(["body"], "Number too large") from None


def _json_invalid(loc: list, error: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": loc, "msg": "JSON decode error", "type": "json_invalid", "ctx": {"error": error}}]
    )
