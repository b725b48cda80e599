"""The review queue's pages (owned by haven.detection.views_review)."""

from __future__ import annotations

from django.urls import URLPattern, path

from haven.detection import views_review as views

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern] = [
    path("", views.review_queue, name="review-queue"),
    path("<int:pk>/", views.review_item, name="review-item"),
    path("<int:pk>/thumb", views.review_thumb, name="review-thumb"),
    path("<int:pk>/reveal/", views.review_reveal, name="review-reveal"),
    path("<int:pk>/file", views.review_file, name="review-file"),
    path("<int:pk>/blur/", views.review_blur, name="review-blur"),
    path("<int:pk>/decide/", views.review_decide, name="review-decide"),
]
