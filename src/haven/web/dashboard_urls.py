from django.urls import path

from haven.web import views

urlpatterns = [path("", views.dashboard, name="dashboard")]
