"""The weekly rollup's query and representation."""
from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validates

from ..models import utc_now
from .fields import OffsetDateTime

# Spec section 3, Weekly rollup: `since` is at least 1 hour and at most 90 days in the past.
NEWEST_SINCE = timedelta(hours=1)
OLDEST_SINCE = timedelta(days=90)
DEFAULT_SINCE = timedelta(days=7)


def ago(delta):
    """Return the timestamp delta before now."""
    return utc_now(-delta.total_seconds())


class RollupQuery(Schema):
    since = OffsetDateTime(
        load_default=lambda: ago(DEFAULT_SINCE),
        metadata={"description": "Start of the period, inclusive: at least 1 hour and at most "
                                 "90 days in the past (both bounds inclusive). Default: 7 days "
                                 "ago."})

    @validates("since")
    def within_bounds(self, value, **kwargs):
        """Refuse a since less than 1 hour or more than 90 days in the past."""
        if not ago(OLDEST_SINCE) <= value <= ago(NEWEST_SINCE):
            raise ValidationError("Must be at least 1 hour and at most 90 days in the past.")


class KindCount(Schema):
    kind = fields.String()
    count = fields.Integer()


class RollupOut(Schema):
    since = fields.String()
    computed_at = fields.String()
    qa_avg = fields.Float(allow_none=True)
    qa_p50 = fields.Float(allow_none=True)
    qa_p95 = fields.Float(allow_none=True)
    conversation_count = fields.Integer()
    agent_turn_count = fields.Integer()
    hallucination_flag_count = fields.Integer()
    top_flag_kinds = fields.List(fields.Nested(KindCount))
    top_handoff_reasons = fields.List(fields.Nested(KindCount))
