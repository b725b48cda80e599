"""Bank pages and the match debugger, under /banks/ (namespace "banks")."""

from __future__ import annotations

from django.urls import path

from haven.banks import views

__all__ = ["urlpatterns"]

urlpatterns = [
    path("", views.bank_list, name="list"),
    path("new/", views.bank_create, name="create"),
    path("<int:pk>/", views.bank_detail, name="detail"),
    path("<int:pk>/edit/", views.bank_edit, name="edit"),
    path("<int:pk>/toggle/", views.bank_toggle, name="toggle"),
    path("<int:pk>/import/", views.bank_import, name="import"),
    path("<int:pk>/export/", views.bank_export, name="export"),
    path("<int:pk>/entries/<int:entry_pk>/toggle/", views.entry_toggle, name="entry-toggle"),
    path("debugger/", views.debugger, name="debugger"),
    path("debugger/reveal/", views.debugger_reveal, name="debugger-reveal"),
    path("debugger/original/<str:ticket>/", views.debugger_original, name="debugger-original"),
]
