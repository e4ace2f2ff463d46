"""The Django admin: a workspace people-ops can use all day.

One module per concern; importing them registers their admins. The rules the
whole package follows (scoping, rules from rules.py, writes through
services.py) are written down in `scoping`.
"""

from django.contrib import admin

from . import catalog, hire_area, hires, plans, ramp, users

admin.site.site_header = "Onboarding tracker"
admin.site.site_title = "Onboarding tracker admin"
# Managers use the admin too: the title names no role.
admin.site.index_title = "Your workspace"
# The app list beside every page left a changelist 630 of 1280 px; the breadcrumbs
# and the home page lead everywhere it did.
admin.site.enable_nav_sidebar = False

__all__ = ["catalog", "hire_area", "hires", "plans", "ramp", "users"]
