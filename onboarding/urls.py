"""All of the app's URLs. Each view module owns its own list of routes."""

from .views import dashboard, system

app_name = "onboarding"

urlpatterns = [
    *system.urlpatterns,
    *dashboard.urlpatterns,
]
