"""Forms of the account and settings pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from executions_app.channels import URL_MAX_LENGTH
from executions_app.models import ChannelKind
from tasks_app.forms import clean_timezone_name, timezone_select
from torale.models import EMAIL_TAKEN, User

API_KEY_NAME_MAX_LENGTH = 100  # as ApiKeyCreateInputSerializer.name
CHANNEL_NAME_MAX_LENGTH = 100  # Channel.name
EMAIL_TAKEN_AT_SIGNUP = f"{EMAIL_TAKEN} Log in, or reset its password."


class SignUpForm(UserCreationForm):
    """Username, email, password twice; the email receives notifications and password resets."""

    email = forms.EmailField(
        label="Email",
        help_text="Notifications and password resets go here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(EMAIL_TAKEN_AT_SIGNUP)
        return email

    def add_taken_errors(self) -> None:
        """After the save lost a race: say which of name and address another sign-up took."""
        username, email = self.cleaned_data["username"], self.cleaned_data["email"]
        if User.objects.filter(username=username).exists():
            self.add_error("username", self.instance.unique_error_message(User, ["username"]))
        if User.objects.filter(email__iexact=email).exists():
            self.add_error("email", EMAIL_TAKEN_AT_SIGNUP)
        if not self.errors:
            self.add_error(None, "That did not work just now; send the form again.")


class SettingsForm(forms.Form):
    """The settings page shows several forms at once: each one's element ids get a prefix."""

    id_prefix = "settings"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class TimezonePreferenceForm(SettingsForm):
    id_prefix = "tz"
    timezone = forms.CharField(
        label="Your time zone",
        help_text="New tasks start in this zone, and pages show times in it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].widget = timezone_select()

    def clean_timezone(self) -> str:
        return clean_timezone_name(self.cleaned_data["timezone"])


class AccountEmailForm(SettingsForm):
    """The account's address; changing it takes the current password, as it is where
    password resets go."""

    id_prefix = "email"
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="Notifications to your account email and password resets go here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_current_password(self) -> str:
        password = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password


class ApiKeyForm(SettingsForm):
    id_prefix = "key"
    name = forms.CharField(
        label="Key name",
        max_length=API_KEY_NAME_MAX_LENGTH,
        help_text="What the key is for, e.g. “laptop script”.",
    )


class WebhookForm(SettingsForm):
    """The account webhook: every task without its own channels notifies it while enabled."""

    id_prefix = "webhook"

    url = forms.CharField(
        label="Webhook URL",
        max_length=URL_MAX_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/torale-hook"}),
        help_text="Torale POSTs signed JSON here when a condition is met.",
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)


class ChannelForm(SettingsForm):
    """Another place to notify: an email address, a webhook or an Apprise URL."""

    id_prefix = "channel"

    kind = forms.ChoiceField(label="Kind", choices=ChannelKind.choices)
    target = forms.CharField(
        label="Address or URL",
        max_length=URL_MAX_LENGTH,
        help_text="An email address, an https webhook URL, or an Apprise URL "
        "(e.g. tgram://bot-token/chat-id).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(
        label="Name (optional)", max_length=CHANNEL_NAME_MAX_LENGTH, required=False
    )
    is_default = forms.BooleanField(
        label="Use it for every task that has not chosen its own channels",
        required=False,
        initial=True,
    )


class ChannelToggleForm(forms.Form):
    """Switch a channel on or off, or in or out of the defaults."""

    field = forms.ChoiceField(choices=[("enabled", "enabled"), ("is_default", "is_default")])
    value = forms.TypedChoiceField(choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1")
