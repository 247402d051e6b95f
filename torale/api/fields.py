"""Serializer fields that validate like pydantic: no silent coercion of numbers to strings,
and error codes/messages that the exception handler reports as FastAPI does."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.exceptions import ValidationError


class _PydanticCodes:
    """Raise errors with pydantic's type names as their codes."""

    pydantic_types: dict[str, str] = {}

    def fail(self, key, **kwargs):
        message = self.error_messages[key].format(**kwargs)
        raise ValidationError(message, code=self.pydantic_types.get(key, key))


class StrictCharField(_PydanticCodes, serializers.CharField):
    pydantic_types = {
        "required": "missing",
        "null": "string_type",
        "invalid": "string_type",
        "blank": "string_too_short",
    }
    default_error_messages = {
        "required": "Field required",
        "null": "Input should be a valid string",
        "invalid": "Input should be a valid string",
        "blank": "String should have at least 1 character",
        "max_length": "String should have at most {max_length} characters",
        "min_length": "String should have at least {min_length} characters",
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # DRF answers "" (or only spaces) with `blank` before any length check: say what the
        # length rule says instead.
        if self.min_length:
            self.error_messages["blank"] = self.error_messages["min_length"].format(
                min_length=self.min_length
            )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(_PydanticCodes, serializers.BooleanField):
    pydantic_types = {"required": "missing", "null": "bool_type", "invalid": "bool_type"}
    default_error_messages = {
        "required": "Field required",
        "null": "Input should be a valid boolean",
        "invalid": "Input should be a valid boolean",
    }


class StrictChoiceField(_PydanticCodes, serializers.ChoiceField):
    pydantic_types = {"required": "missing", "null": "enum", "invalid_choice": "enum"}
    default_error_messages = {
        "required": "Field required",
        "null": "Input should be {expected}",
        "invalid_choice": "Input should be {expected}",
    }

    def _expected(self) -> str:
        names = [f"'{c}'" for c in self.choices]
        return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]

    def fail(self, key, **kwargs):
        super().fail(key, expected=self._expected())

    def to_internal_value(self, data):
        if not isinstance(data, str) or data not in self.choices:
            self.fail("invalid_choice")
        return data


class StrictUUIDField(_PydanticCodes, serializers.UUIDField):
    pydantic_types = {"required": "missing", "null": "uuid_type", "invalid": "uuid_parsing"}
    default_error_messages = {
        "required": "Field required",
        "null": "UUID input should be a string, bytes or UUID object",
        "invalid": "Input should be a valid UUID",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("null")
        return super().to_internal_value(data)


class StrictListField(_PydanticCodes, serializers.ListField):
    """A JSON array; an item's errors are located by its index (loc [..., name, index])."""

    pydantic_types = {"required": "missing", "null": "list_type", "not_a_list": "list_type"}
    default_error_messages = {
        "required": "Field required",
        "null": "Input should be a valid list",
        "not_a_list": "Input should be a valid list",
        "too_long": "List should have at most {max_length} items after validation, not {length}",
    }

    def __init__(self, *, max_items: int | None = None, **kwargs):
        # Checked here rather than by DRF's max_length validator, which reports a string's
        # error type and runs only after every item was validated.
        self.max_items = max_items
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list) and self.max_items is not None and len(data) > self.max_items:
            self.fail("too_long", max_length=self.max_items, length=len(data))
        return super().to_internal_value(data)


class ObjectSerializer(serializers.Serializer):
    """A JSON object input; anything else (null included) is pydantic's dict_type error."""

    @staticmethod
    def _not_an_object() -> ValidationError:
        return ValidationError(
            {
                "non_field_errors": [
                    serializers.ErrorDetail(
                        "Input should be a valid dictionary or object to extract fields from",
                        code="dict_type",
                    )
                ]
            }
        )

    def validate_empty_values(self, data):
        # DRF answers null with its own "This field may not be null." (type "null").
        if data is None and not self.allow_null:
            raise self._not_an_object()
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise self._not_an_object()
        return super().to_internal_value(data)
