"""Ad and cluster pages, under /ads/ (namespace "ads")."""

from __future__ import annotations

from django.urls import path

from haven.ads import views

__all__ = ["urlpatterns"]

urlpatterns = [
    path("", views.cluster_list, name="clusters"),
    path("ingest/", views.ingest, name="ingest"),
    path("clusters/<int:pk>/", views.cluster_detail, name="cluster"),
    path("<int:pk>/", views.ad_detail, name="ad"),
]
