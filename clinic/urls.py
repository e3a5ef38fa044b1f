from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from clinic.two_factor import two_factor_not_required

from . import views, views_audit

handler403 = "clinic.views.permission_denied"

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", two_factor_not_required(auth_views.LogoutView.as_view()), name="logout"),
    path("two-factor/", include("clinic.two_factor")),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        login_not_required(
            auth_views.PasswordResetView.as_view(
                extra_email_context={"PRACTICE_NAME": settings.PRACTICE_NAME}
            )
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        login_not_required(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        login_not_required(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        login_not_required(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include(views_audit.urlpatterns)),
    path("book/", include("appointments.online_urls")),
    path("accounts/", include(auth_patterns)),
    path("patients/", include("patients.urls")),
    path("appointments/", include("appointments.urls")),
    path("clinical/", include("treatments.urls")),
    path("reports/", include("clinic.reports.views")),
    path(settings.ADMIN_URL, admin.site.urls),
]
