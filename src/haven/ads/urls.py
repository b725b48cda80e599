"""Ad and cluster pages, under /ads/ (namespace "ads")."""

from __future__ import annotations

from django.urls import path

from haven.ads import views, views_report

__all__ = ["urlpatterns"]

urlpatterns = [
    path("", views.cluster_list, name="clusters"),
    path("ingest/", views.ingest, name="ingest"),
    path("clusters/<int:pk>/", views.cluster_detail, name="cluster"),
    path("clusters/<int:pk>/report/", views_report.cluster_report, name="cluster-report"),
    path("<int:pk>/", views.ad_detail, name="ad"),
]
