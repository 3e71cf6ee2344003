"""The weekly rollup's query and representation."""
from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validates
from marshmallow.validate import Length, Range

from ..models import utc_now
from .common import Representation
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


NO_AGENT = "vorel-lite runs no AI agent."


def no_data_field():
    """Return a QA figure: always null, as vorel-lite keeps no QA scores."""
    return fields.Float(allow_none=True, metadata={
        "description": "Always null: vorel-lite keeps no QA scores (null means no data, never "
                       "0)."})


def kind_counts_field(most, description):
    """Return a list of at most `most` {kind, count}, most frequent first."""
    return fields.List(fields.Nested(KindCount), validate=Length(max=most),
                       metadata={"description": description})


class KindCount(Representation):
    kind = fields.String()
    count = fields.Integer(validate=Range(min=1))


class RollupOut(Representation):
    since = OffsetDateTime(metadata={"description": "Start of the period (inclusive), in UTC."})
    computed_at = OffsetDateTime()
    qa_avg = no_data_field()
    qa_p50 = no_data_field()
    qa_p95 = no_data_field()
    conversation_count = fields.Integer(validate=Range(min=0), metadata={
        "description": "Conversations created since `since`."})
    agent_turn_count = fields.Integer(validate=Range(min=0), metadata={
        "description": "Outbound messages stored by `send` since `since`."})
    hallucination_flag_count = fields.Constant(0, metadata={
        "description": f"Always 0: {NO_AGENT}"})
    top_flag_kinds = kind_counts_field(0, f"Always empty: {NO_AGENT}")
    top_handoff_reasons = kind_counts_field(5, (
        "Up to 5 handoff reasons since `since`, most frequent first (ties by reason); handoffs "
        "without a reason are left out."))
