"""All of the app's URLs. Each view module owns its own list of routes."""

from .views import (
    accounts,
    calendar,
    catalog,
    dashboard,
    exports,
    hires,
    imports,
    lists,
    plans,
    system,
)

app_name = "onboarding"

urlpatterns = [
    *system.urlpatterns,
    *dashboard.urlpatterns,
    *hires.urlpatterns,
    *plans.urlpatterns,
    *catalog.urlpatterns,
    *lists.urlpatterns,
    *exports.urlpatterns,
    *imports.urlpatterns,
    *accounts.urlpatterns,
    *calendar.urlpatterns,
]
