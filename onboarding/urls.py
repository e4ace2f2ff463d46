"""All of the app's URLs. Each view module owns its own list of routes."""

from .views import (
    accounts,
    calendar,
    catalog,
    dashboard,
    evidence,
    exports,
    hires,
    imports,
    lists,
    me,
    outcomes,
    plans,
    ramp,
    search,
    system,
)

app_name = "onboarding"

urlpatterns = [
    *system.urlpatterns,
    *dashboard.urlpatterns,
    *hires.urlpatterns,
    *plans.urlpatterns,
    *ramp.urlpatterns,
    *catalog.urlpatterns,
    *lists.urlpatterns,
    *outcomes.urlpatterns,
    *exports.urlpatterns,
    *imports.urlpatterns,
    *accounts.urlpatterns,
    *calendar.urlpatterns,
    *me.urlpatterns,
    *evidence.urlpatterns,
    *search.urlpatterns,
]
