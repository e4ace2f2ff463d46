from .system import csrf_failure

__all__ = ["csrf_failure"]
