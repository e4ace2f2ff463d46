"""The cohort import as a background task (Django's Tasks API, django-tasks backport).

The view records a HireImport and enqueues this task when that transaction commits
(services.hire_import_start); the work and its rules live in imports.run.
"""

from __future__ import annotations

from django_tasks import task

from . import imports


@task()
def hire_import_task(run_id: int) -> str:
    """Check and write the import `run_id`; the HireImport row tells how it went."""
    return imports.run(run_id=run_id)
