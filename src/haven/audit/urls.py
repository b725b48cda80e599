from django.urls import path

from haven.audit import views

urlpatterns = [path("", views.log, name="log")]
