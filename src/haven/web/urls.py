"""Every URL of the node. The permission matrix test walks all of them with every role."""

from __future__ import annotations

from django.urls import include, path

from haven.web import views
from haven.web.api import api

urlpatterns = [
    path("", views.dashboard, name="dashboard-root"),
    path("dashboard/", include(("haven.web.dashboard_urls", "web"))),
    path("accounts/", include(("haven.accounts.urls", "accounts"))),
    path("audit/", include(("haven.audit.urls", "audit"))),
    path("banks/", include(("haven.banks.urls", "banks"))),
    path("ads/", include(("haven.ads.urls", "ads"))),
    path("provider/", include(("haven.detection.urls", "detection"))),
    path("node/", include(("haven.exchange.urls", "exchange"))),
    path("healthz", views.health, name="health"),
    path("api/", api.urls),
]

handler400 = "haven.web.views.bad_request"
handler403 = "haven.web.views.forbidden"
handler404 = "haven.web.views.not_found"
handler500 = "haven.web.views.server_error"
