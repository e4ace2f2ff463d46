from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from onboarding.forms import SignInForm

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=SignInForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("api/", include("onboarding.api.urls")),
    path("", include("onboarding.urls")),
]

handler400 = "onboarding.views.system.bad_request"
handler403 = "onboarding.views.system.permission_denied"
handler404 = "onboarding.views.system.page_not_found"
handler500 = "onboarding.views.system.server_error"
