"""Ids no row can have match nothing, on every database, instead of raising.

Django already answers `id=<beyond the column's range>` with an empty result.
Its `in` lookups and a foreign key's `exact` do not: a value from a request
such as `role_profile=99999999999999999999999` or a select box posted as
`abc` reaches them through the admin (autocomplete widgets re-rendering a
refused form, multiple-choice fields, changelist filters) and ends as an
OverflowError on SQLite or a ValueError anywhere. These lookups drop such
values first, so the admin, forms and filters answer "no such row" as they
do for any id that does not exist.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import models
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedExact, RelatedIn
from django.db.models.lookups import In

# The widest integer any supported database stores (SQLite and bigint columns).
SMALLEST, LARGEST = -(2**63), 2**63 - 1


def _could_be_stored(field: models.Field, value: object) -> bool:
    """False for a raw value (text or number) no row's `field` can hold."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return True  # model instances, expressions: Django's own handling applies
    try:
        prepared = field.get_prep_value(value)
    except (TypeError, ValueError, ValidationError):
        return False
    return not isinstance(prepared, int) or SMALLEST <= prepared <= LARGEST


def _target(field: models.Field) -> models.Field:
    return getattr(field, "target_field", field)


class StorableIntegerIn(In):
    def get_prep_lookup(self):
        if self.rhs_is_direct_value():
            field = _target(self.lhs.output_field)
            self.rhs = [value for value in self.rhs if _could_be_stored(field, value)]
        return super().get_prep_lookup()


class StorableRelatedIn(RelatedIn):
    def get_prep_lookup(self):
        if self.rhs_is_direct_value() and isinstance(
            _target(self.lhs.output_field), models.IntegerField
        ):
            field = _target(self.lhs.output_field)
            self.rhs = [value for value in self.rhs if _could_be_stored(field, value)]
        return super().get_prep_lookup()


class StorableRelatedExact(RelatedExact):
    def process_rhs(self, compiler, connection):
        if isinstance(self.rhs, int) and not SMALLEST <= self.rhs <= LARGEST:
            raise EmptyResultSet
        return super().process_rhs(compiler, connection)


def register() -> None:
    models.IntegerField.register_lookup(StorableIntegerIn)
    ForeignObject.register_lookup(StorableRelatedIn)
    ForeignObject.register_lookup(StorableRelatedExact)
