from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from torale.api.keys import ApiKeyViewSet, MeViewSet

handler404 = "torale.api.errors.not_found"
handler500 = "torale.api.errors.server_error"

api_keys = ApiKeyViewSet.as_view({"get": "list", "post": "create"})
api_key = ApiKeyViewSet.as_view({"delete": "destroy"})
me = MeViewSet.as_view({"get": "retrieve"})

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
]
