"""The report pages, under /provider/reports/ (owned by haven.detection.views_reports)."""

from __future__ import annotations

from django.urls import URLPattern, path

from haven.detection import views_reports as views

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern] = [
    path("", views.report_drafts, name="report-drafts"),
    path("outbox/", views.outbox, name="outbox"),
    path("destinations/", views.destination_list, name="destinations"),
    path("destinations/add/", views.destination_add, name="destination-add"),
    path("<int:review_pk>/", views.report_draft, name="report-draft"),
    path("<int:review_pk>/send", views.report_send, name="report-send"),
]
