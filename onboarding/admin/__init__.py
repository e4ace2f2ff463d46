"""The Django admin: a workspace people-ops can use all day.

One module per concern; importing them registers their admins. The rules the
whole package follows (scoping, rules from rules.py, writes through
services.py) are written down in `scoping`; what every admin gets from the
site itself (ours and third-party ones) in `onboarding/admin_site.py`.
"""

from . import api, catalog, hire_area, hires, integrations, plans, ramp, users

__all__ = ["api", "catalog", "hire_area", "hires", "integrations", "plans", "ramp", "users"]
