"""Account and settings pages: sign up, and /settings (API keys, notification channels, time
zone). Log in, log out and password reset are Django's own views with our templates
(torale/urls.py).

Secrets (a new API key, a webhook's signing secret) appear in the answer to the POST that
made them and nowhere else: they are not stored in the session or put in a redirect, and
that answer is marked no-store.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from executions_app.channels import (
    ChannelInUse,
    InvalidTarget,
    channel_create,
    channel_delete,
    channel_get_for_user,
    channel_list_for_user,
    channel_rotate_secret,
    channel_send_test,
    channel_update,
    webhook_config_get,
    webhook_config_put,
)
from executions_app.models import ChannelRole
from torale.errors import Conflict
from torale.forms import (
    AccountEmailForm,
    ApiKeyForm,
    ChannelForm,
    ChannelToggleForm,
    SignUpForm,
    TimezonePreferenceForm,
    WebhookForm,
)
from torale.inflight import TooManyInFlight
from torale.models import ApiKey
from torale.pages import owned_page, retry_after_if_limited, wants_json
from torale.services import (
    api_key_create,
    api_key_revoke,
    user_email_set,
    user_timezone_set,
)

# --- Accounts ------------------------------------------------------------------------------------


def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST or None)
    user = None
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:  # the same name or address signed up meanwhile (a double click)
            form.add_taken_errors()
    if user is not None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. Create your first task below.")
        return redirect("task-create")
    return render(request, "registration/signup.html", {"form": form})


# --- Settings ------------------------------------------------------------------------------------


def _settings_page(request, *, status: int = 200, **context):
    """The settings page; `context` may carry forms with errors or a secret shown once."""
    user = request.user
    channels = channel_list_for_user(user=user)
    context.setdefault("timezone_form", TimezonePreferenceForm(initial={"timezone": user.timezone}))
    context.setdefault("email_form", AccountEmailForm(user=user, initial={"email": user.email}))
    context.setdefault("api_key_form", ApiKeyForm())
    context.setdefault("webhook_form", WebhookForm())
    context.setdefault("channel_form", ChannelForm())
    response = render(
        request,
        "settings/settings.html",
        {
            "api_keys": ApiKey.objects.filter(user=user).order_by("-created_at"),
            "account_email": next(c for c in channels if c.role == ChannelRole.ACCOUNT_EMAIL),
            "account_webhook": webhook_config_get(user=user),
            "other_channels": [c for c in channels if not c.role],
            **context,
        },
        status=status,
    )
    if "new_key" in context or "new_secret" in context:
        add_never_cache_headers(response)
    return response


def _back_to(section: str):
    return redirect(f"/settings#{section}")


@login_required
def settings_page(request):
    return _settings_page(request)


@require_POST
@login_required
def settings_timezone(request):
    form = TimezonePreferenceForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, status=422, timezone_form=form)
    user_timezone_set(user=request.user, timezone=form.cleaned_data["timezone"])
    messages.success(request, f"Time zone set to {form.cleaned_data['timezone']}.")
    return _back_to("timezone")


@require_POST
@login_required
def settings_email(request):
    form = AccountEmailForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            user_email_set(user=request.user, email=form.cleaned_data["email"])
        except Conflict as exc:
            form.add_error("email", exc.detail)
    if not form.is_valid():
        return _settings_page(request, status=422, email_form=form)
    messages.success(request, f"Your email is now {request.user.email}.")
    return _back_to("account")


@require_POST
@login_required
def settings_api_key_create(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, status=422, api_key_form=form)
    key, raw = api_key_create(user=request.user, name=form.cleaned_data["name"])
    return _settings_page(request, new_key=raw, new_key_info=key)


@require_POST
@owned_page
def settings_api_key_revoke(request, key_id):
    key = api_key_revoke(user=request.user, key_id=key_id)
    messages.success(request, f"Revoked the key “{key.name}”. It stops working now.")
    return _back_to("api-keys")


@require_POST
@login_required
def settings_webhook(request):
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            channel, secret = webhook_config_put(
                user=request.user,
                url=form.cleaned_data["url"],
                enabled=form.cleaned_data["enabled"],
            )
        except InvalidTarget as exc:
            form.add_error("url", str(exc))
        else:
            if secret:
                return _settings_page(request, new_secret=secret, new_secret_channel=channel)
            messages.success(request, "Webhook saved. Its signing secret is unchanged.")
            return _back_to("webhook")
    return _settings_page(request, status=422, webhook_form=form)


@require_POST
@login_required
def settings_channel_add(request):
    form = ChannelForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            channel, secret = channel_create(
                user=request.user,
                kind=data["kind"],
                target=data["target"],
                name=data["name"],
                is_default=data["is_default"],
            )
        except InvalidTarget as exc:
            form.add_error("target", str(exc))
        else:
            if secret:
                return _settings_page(request, new_secret=secret, new_secret_channel=channel)
            messages.success(request, f"Added “{channel.name}”.")
            return _back_to("channels")
    return _settings_page(request, status=422, channel_form=form)


@require_POST
@owned_page
def settings_channel_toggle(request, channel_id):
    channel = channel_get_for_user(channel_id=channel_id, user=request.user)  # else 404
    form = ChannelToggleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That change was not understood; nothing changed.")
        return _back_to("channels")
    field, value = form.cleaned_data["field"], form.cleaned_data["value"]
    channel = channel_update(channel_id=channel.pk, user=request.user, changes={field: value})
    if field == "enabled":
        note = "enabled" if value else "disabled: nothing is sent to it"
    else:
        note = "one of your defaults" if value else "no longer one of your defaults"
    messages.success(request, f"“{channel.name}” is {note}.")
    return _back_to("channels")


@require_POST
@owned_page
def settings_channel_rotate(request, channel_id):
    try:
        channel, secret = channel_rotate_secret(channel_id=channel_id, user=request.user)
    except ChannelInUse as exc:
        messages.error(request, exc.detail)
        return _back_to("channels")
    return _settings_page(request, new_secret=secret, new_secret_channel=channel)


@require_POST
@owned_page
def settings_channel_delete(request, channel_id):
    channel = channel_get_for_user(channel_id=channel_id, user=request.user)
    try:
        channel_delete(channel_id=channel.pk, user=request.user)
    except ChannelInUse as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Removed “{channel.name}”. Its past notifications stay listed.")
    return _back_to("channels")


def _test_refused(request, text: str, retry_after: int):
    """A test send not made now: 429 for the page's script, a message without it."""
    if wants_json(request):
        return JsonResponse({"detail": text, "retry_after": retry_after}, status=429)
    messages.error(request, text)
    return _back_to("channels")


@require_POST
@owned_page
def settings_channel_test(request, channel_id):
    """Send a sample notification now. The page's script asks for JSON and shows the answer
    in place; without JavaScript the answer comes back as a message."""
    channel = channel_get_for_user(channel_id=channel_id, user=request.user)
    wait = retry_after_if_limited(request)
    if wait is not None:
        return _test_refused(
            request, f"Too many requests just now. Try again in {wait} seconds.", wait
        )
    try:
        result = channel_send_test(channel=channel)
    except TooManyInFlight as exc:
        return _test_refused(request, exc.detail, exc.retry_after)
    if result.success:
        code = f" (answer {result.status_code})" if result.status_code else ""
        text = f"Test sent to “{channel.name}”{code} in {result.duration_ms} ms."
        messages_add = messages.success
    else:
        text = f"The test to “{channel.name}” failed: {result.error}"
        messages_add = messages.error
    if wants_json(request):
        return JsonResponse(
            {
                "success": result.success,
                "status_code": result.status_code,
                "error": result.error,
                "duration_ms": result.duration_ms,
                "message": text,
            }
        )
    messages_add(request, text)
    return _back_to("channels")
