from django.urls import path

from haven.accounts import admin_views, views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.second_factor, name="second-factor"),
    path("login/enroll/", views.enroll, name="enroll"),
    path("logout/", views.logout_view, name="logout"),
    path("users/", admin_views.users, name="users"),
    path("tokens/", admin_views.tokens, name="tokens"),
]
