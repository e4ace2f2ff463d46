"""/api/v1/ and the API's schema and docs."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("hires", views.HireViewSet, basename="hire")
router.register("plans", views.PlanViewSet, basename="plan")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("plan-guidance", views.PlanGuidanceViewSet, basename="planguidance")
router.register("held-certifications", views.HeldCertificationViewSet, basename="heldcertification")
router.register("check-ins", views.CheckInViewSet, basename="checkin")
router.register("courses", views.CourseViewSet, basename="course")
router.register("certifications", views.CertificationViewSet, basename="certification")
router.register("role-profiles", views.RoleProfileViewSet, basename="roleprofile")
router.register("plan-templates", views.PlanTemplateViewSet, basename="plantemplate")
router.register("guidance", views.GuidanceViewSet, basename="guidance")
router.register("competencies", views.CompetencyViewSet, basename="competency")

app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The page signs a browser in first; the schema it loads then comes with the session.
    path(
        "docs/",
        login_required(
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", template_name="onboarding/api_docs.html"
            )
        ),
        name="docs",
    ),
]
