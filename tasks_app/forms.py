"""The task pages' forms. Their rules are the API's (tasks_app/serializers.py): the same
length limits from tasks_app.models, the same cron parser and time-zone check from
tasks_app.cron; tests/tasks_app/pages/test_task_create_page.py holds both to the same inputs."""

from __future__ import annotations

from django import forms

from tasks_app.cron import (
    INVALID_TIMEZONE,
    InvalidCron,
    is_valid_timezone,
    normalize_cron,
    timezone_names,
)
from tasks_app.models import (
    NAME_MAX_LENGTH,
    SCHEDULE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TEXT_MIN_LENGTH,
    NotifyBehavior,
)

SUGGEST_PROMPT_MAX_LENGTH = 2000  # as SuggestInputSerializer.prompt

NOTIFY_CHOICES = [
    (NotifyBehavior.ONCE.value, "Once: tell me the first time, then stop checking"),
    (NotifyBehavior.ALWAYS.value, "Always: tell me every time the condition is met"),
]


def timezone_select() -> forms.Select:
    """A select of every zone the API accepts."""
    return forms.Select(choices=[(name, name) for name in timezone_names()])


def clean_timezone_name(value: str) -> str:
    """The zone rule of tasks and of the user's preference (TimezoneField in the API)."""
    if not is_valid_timezone(value):
        raise forms.ValidationError(INVALID_TIMEZONE)
    return value


def _text_field(label: str, help_text: str, rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        min_length=TEXT_MIN_LENGTH,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class TaskForm(forms.Form):
    """Create or edit a task: the fields of POST /api/v1/tasks with the same rules."""

    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        required=False,
        help_text="Optional: made from the search query when left empty.",
    )
    search_query = _text_field(
        "Search query", f"What Torale searches the web for ({TEXT_MIN_LENGTH}–500 characters)."
    )
    condition_description = _text_field(
        "Condition",
        "When should you hear about it? Torale judges each search result against this "
        f"({TEXT_MIN_LENGTH}–500 characters).",
    )
    schedule = forms.CharField(
        label="Schedule (cron)",
        help_text='Five-field cron: "0 9 * * *" is every day at 09:00, "*/30 * * * *" every '
        "30 minutes.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    timezone = forms.CharField(
        label="Time zone",
        required=False,
        help_text="The schedule is read as wall-clock time in this zone.",
    )
    notify_behavior = forms.ChoiceField(
        label="Notify me",
        choices=NOTIFY_CHOICES,
        required=False,
        initial=NotifyBehavior.ONCE.value,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].widget = timezone_select()

    def clean_schedule(self) -> str:
        try:
            schedule = normalize_cron(self.cleaned_data["schedule"])
        except InvalidCron as exc:
            raise forms.ValidationError(str(exc)) from None
        # As the API: the length is checked on the normalized expression, which is stored.
        if len(schedule) > SCHEDULE_MAX_LENGTH:
            raise forms.ValidationError(
                f"Ensure this value has at most {SCHEDULE_MAX_LENGTH} characters "
                f"(it has {len(schedule)})."
            )
        return schedule

    def clean_timezone(self) -> str:
        return clean_timezone_name(self.cleaned_data["timezone"] or "UTC")

    def clean_notify_behavior(self) -> str:
        return self.cleaned_data["notify_behavior"] or NotifyBehavior.ONCE.value


class TaskCreateForm(TaskForm):
    run_immediately = forms.BooleanField(
        label="Run it once right after saving", required=False, initial=False
    )

    def task_fields(self) -> dict:
        """The keyword arguments of task_create."""
        data = dict(self.cleaned_data)
        data["name"] = data["name"] or None
        return data


class TaskEditForm(TaskForm):
    """Editing: a saved task always has a name."""

    name = forms.CharField(label="Name", max_length=NAME_MAX_LENGTH)

    def changes(self) -> dict:
        """The changed fields only (task_update's partial update)."""
        return {field: self.cleaned_data[field] for field in self.changed_data}


class SuggestForm(forms.Form):
    prompt = forms.CharField(
        label="What should Torale watch for you?",
        max_length=SUGGEST_PROMPT_MAX_LENGTH,
        help_text='In your own words, e.g. "Tell me when the PS5 Pro is in stock at Best Buy".',
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TaskChannelsForm(forms.Form):
    """Which channels a task notifies: the owner's defaults, or a chosen list."""

    USE_DEFAULTS = "defaults"
    CHOSEN = "chosen"

    mode = forms.ChoiceField(
        label="Notify through",
        choices=[(USE_DEFAULTS, "My default channels"), (CHOSEN, "These channels only")],
        widget=forms.RadioSelect,
    )
    channels = forms.MultipleChoiceField(
        label="Channels",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Ticked: the channels this task notifies now. "
        "Your choice applies with “These channels only”.",
    )

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [
            (str(c.pk), f"{c.get_kind_display()}: {c.name}") for c in channels
        ]

    def clean(self):
        data = super().clean()
        if data.get("mode") == self.CHOSEN and not data.get("channels"):
            self.add_error("channels", "Choose at least one channel, or use your defaults.")
        return data

    def channel_ids(self) -> list[str]:
        """The list task_channels_set takes: empty returns the task to the defaults."""
        if self.cleaned_data["mode"] == self.USE_DEFAULTS:
            return []
        return list(self.cleaned_data["channels"])
