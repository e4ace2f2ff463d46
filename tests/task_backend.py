"""The tasks backend of the test suite: runs a task at once, or keeps it when it must wait.

Django-tasks' immediate backend cannot run a task later, so the retries our tasks
schedule would be lost; this one keeps them in `deferred` for a test to run by hand
(tests/test_tasks.py, tests/test_webhooks.py), and runs everything else at once, as
a worker would right after the commit.
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id


class ImmediateUnlessDeferred(ImmediateBackend):
    supports_defer = True

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self.deferred: list[TaskResult] = []

    def enqueue(self, task, args, kwargs) -> TaskResult:
        if task.run_after is None or task.run_after <= timezone.now():
            return super().enqueue(task.using(backend=self.alias), args, kwargs)
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        self.deferred.append(result)
        return result
