from django.urls import path

from haven.exchange import views

urlpatterns = [path("", views.node, name="node")]
