"""The node identity page and the pinning of other nodes' keys."""

from django.urls import path

from haven.exchange import views

__all__ = ["urlpatterns"]

urlpatterns = [
    path("", views.node, name="node"),
    path("pins/", views.pin, name="pin"),
    path("pins/<int:pk>/revoke/", views.unpin, name="unpin"),
]
