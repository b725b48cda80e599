from django.urls import path

from haven.banks import views

urlpatterns = [
    path("", views.bank_list, name="list"),
    path("debugger/", views.debugger, name="debugger"),
]
