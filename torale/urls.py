from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from torale import views
from torale.api.keys import ApiKeyViewSet, MeViewSet

handler400 = "torale.api.errors.bad_request"
handler404 = "torale.api.errors.not_found"
handler500 = "torale.api.errors.server_error"

api_keys = ApiKeyViewSet.as_view({"get": "list", "post": "create"})
api_key = ApiKeyViewSet.as_view({"delete": "destroy"})
me = MeViewSet.as_view({"get": "retrieve"})


def page(route: str, view, name: str):
    """A page path that answers with and without a trailing slash (APPEND_SLASH is off)."""
    return re_path(rf"^{route}/?$", view, name=name)


account_urls = [
    page("signup", views.signup, "signup"),
    page("login", auth_views.LoginView.as_view(redirect_authenticated_user=True), "login"),
    page("logout", auth_views.LogoutView.as_view(), "logout"),
    page("password-reset", auth_views.PasswordResetView.as_view(), "password_reset"),
    page("password-reset/sent", auth_views.PasswordResetDoneView.as_view(), "password_reset_done"),
    page(
        r"reset/(?P<uidb64>[0-9A-Za-z_\-]+)/(?P<token>[0-9A-Za-z-]+)",
        auth_views.PasswordResetConfirmView.as_view(),
        "password_reset_confirm",
    ),
    page("reset/done", auth_views.PasswordResetCompleteView.as_view(), "password_reset_complete"),
    page("password", auth_views.PasswordChangeView.as_view(), "password_change"),
    page("password/done", auth_views.PasswordChangeDoneView.as_view(), "password_change_done"),
]

ID = r"(?P<{}>[0-9a-fA-F-]{{32,36}})"
settings_urls = [
    page("timezone", views.settings_timezone, "settings-timezone"),
    page("email", views.settings_email, "settings-email"),
    page("api-keys", views.settings_api_key_create, "settings-api-key-create"),
    page(
        f"api-keys/{ID.format('key_id')}/revoke",
        views.settings_api_key_revoke,
        "settings-api-key-revoke",
    ),
    page("webhook", views.settings_webhook, "settings-webhook"),
    page("channels", views.settings_channel_add, "settings-channel-add"),
    page(
        f"channels/{ID.format('channel_id')}/toggle",
        views.settings_channel_toggle,
        "settings-channel-toggle",
    ),
    page(
        f"channels/{ID.format('channel_id')}/rotate-secret",
        views.settings_channel_rotate,
        "settings-channel-rotate",
    ),
    page(
        f"channels/{ID.format('channel_id')}/delete",
        views.settings_channel_delete,
        "settings-channel-delete",
    ),
    page(
        f"channels/{ID.format('channel_id')}/test",
        views.settings_channel_test,
        "settings-channel-test",
    ),
]

# "(?:/)?": optional trailing slash, left out of the OpenAPI paths (see tasks_app.urls).
urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("tasks_app.urls")),
    path("api/v1/", include("executions_app.urls")),
    re_path(r"^auth/api-keys(?:/)?$", api_keys, name="api-keys"),
    re_path(r"^auth/api-keys/(?P<id>[^/]+)(?:/)?$", api_key, name="api-key"),
    re_path(r"^auth/me(?:/)?$", me, name="me"),
    re_path(
        r"^api/schema(?:/)?$",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="schema",
    ),
    re_path(
        r"^api/docs(?:/)?$",
        SpectacularSwaggerView.as_view(
            url_name="schema", authentication_classes=[], permission_classes=[]
        ),
        name="api-docs",
    ),
    # Pages: accounts (Django's auth views with our templates), settings, then the task pages.
    path("accounts/", include(account_urls)),
    page("settings", views.settings_page, "settings"),
    path("settings/", include(settings_urls)),
    path("", include("tasks_app.page_urls")),
]
