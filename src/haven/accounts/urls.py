"""Sign-in flow and the administration of people, agencies, teams and API tokens."""

from django.urls import path

from haven.accounts import admin_views, views

__all__ = ["urlpatterns"]

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.second_factor, name="second-factor"),
    path("login/enroll/", views.enroll, name="enroll"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.change_password, name="password"),
    path("users/", admin_views.users, name="users"),
    path("users/new/", admin_views.user_create, name="user-create"),
    path("users/<int:pk>/", admin_views.user_detail, name="user-detail"),
    path("users/<int:pk>/deactivate/", admin_views.user_deactivate, name="user-deactivate"),
    path("users/<int:pk>/reset-totp/", admin_views.user_reset_totp, name="user-reset-totp"),
    path("users/<int:pk>/unlock/", admin_views.user_unlock, name="user-unlock"),
    path(
        "users/<int:pk>/reset-password/",
        admin_views.user_reset_password,
        name="user-reset-password",
    ),
    path("agencies/", admin_views.agencies, name="agencies"),
    path("teams/", admin_views.teams, name="teams"),
    path("tokens/", admin_views.tokens, name="tokens"),
    path("tokens/new/", admin_views.token_create, name="token-create"),
    path("tokens/<int:pk>/revoke/", admin_views.token_revoke, name="token-revoke"),
]
