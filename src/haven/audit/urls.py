"""The audit log for auditors: the filtered pages, the CSV export, the chain check."""

from django.urls import path

from haven.audit import views

__all__ = ["urlpatterns"]

urlpatterns = [
    path("", views.log, name="log"),
    path("export.csv", views.export, name="export"),
    path("verify/", views.verify, name="verify"),
]
