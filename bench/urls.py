"""The project's URLs plus the yardstick changelists (bench only, never in config.urls)."""

from bench.yardstick import urlpatterns as yardstick_urlpatterns
from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [*yardstick_urlpatterns, *project_urlpatterns]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
