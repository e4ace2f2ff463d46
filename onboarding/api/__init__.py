"""The JSON API at /api/v1/ (Django REST framework).

It reads through the same scoping (`visible_to`) and FilterSets as the pages and writes
through `services.py`, so an API client meets the same rules, validation and history as
a person in the dashboard. See README.md, "API".
"""
