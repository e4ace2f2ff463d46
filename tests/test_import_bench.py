"""The import benchmark's harness runs and compares like with like (tiny sizes)."""

from __future__ import annotations

from bench import import_bench
from onboarding.models import Assignment, NewHire, TrainingPlan


def test_it_times_the_import_against_the_generator_for_the_same_rows():
    result = import_bench.compare(rows=5, rounds=1)
    assert result["rows"] == 5 and result["assignments_per_hire"] > 0
    assert result["import_s"] > 0 and result["generate_bench_data_s"] > 0
    assert result["x_generate_bench_data"] > 0
    # Two rounds (a warm-up and one timed) of each: as many hires, plans, assignments.
    imported = NewHire.objects.exclude(email__startswith="bench-")
    generated = NewHire.objects.filter(email__startswith="bench-")
    assert imported.count() == generated.count() == 10
    for hires in (imported, generated):
        assert TrainingPlan.objects.filter(hire__in=hires).count() == 10
        assert (
            Assignment.objects.filter(plan__hire__in=hires).count()
            == 10 * (result["assignments_per_hire"])
        )
