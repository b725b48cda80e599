"""Provider pages, under /provider/ (namespace "detection"): the review queue, reports,
bank policies, uploaders, appeals and the transparency figures."""

from __future__ import annotations

from django.urls import include, path

__all__ = ["urlpatterns"]

urlpatterns = [
    path("review/", include("haven.detection.review_urls")),
    path("reports/", include("haven.detection.reports_urls")),
    path("", include("haven.detection.provider_urls")),
]
