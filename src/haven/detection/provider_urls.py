"""Policies, uploaders, appeals, alerts and transparency pages, under /provider/."""

from __future__ import annotations

from django.urls import path

from haven.detection import views_provider as views
from haven.detection import views_transparency

__all__ = ["urlpatterns"]

urlpatterns = [
    path("policies/", views.policy_list, name="policies"),
    path("policies/<int:bank_id>/", views.policy_detail, name="policy"),
    path("alerts/", views.alert_list, name="alerts"),
    path("uploaders/", views.uploader_list, name="uploaders"),
    path("uploaders/<int:pk>/", views.uploader_detail, name="uploader"),
    path("appeals/", views.appeal_list, name="appeals"),
    path("appeals/<int:pk>/", views.appeal_detail, name="appeal"),
    path("transparency/", views_transparency.transparency, name="transparency"),
    path("transparency.csv", views_transparency.transparency_csv, name="transparency-csv"),
]
