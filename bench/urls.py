"""The project's URLs plus the yardstick changelists (bench only, never in config.urls)."""

from config.urls import handler403, handler404, handler500, urlpatterns as project_urlpatterns

from bench.yardstick import urlpatterns as yardstick_urlpatterns

urlpatterns = [*yardstick_urlpatterns, *project_urlpatterns]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
