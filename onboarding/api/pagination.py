"""Cursor pagination: stable pages while rows are added, and no deep OFFSET scans."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    # The id is unique and never changes: the one ordering a cursor can rest on.
    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
