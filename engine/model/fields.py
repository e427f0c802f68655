"""The contact fields: every field a person may edit, its kind and allowed values.

Derived values (stage, score, ...) are not fields here: the classifier computes them.

Every number field has a range (``FieldSpec.bounds``): its own ``minimum``/``maximum``,
else ``NUMBER_LIMIT`` either way. Beyond 10^15 a float no longer holds every whole
number (99999999999999999999999 was stored as 99999999999999991611392), and no
budget or head count comes near it.
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.engine.errors import FieldError

NUMBER_LIMIT = 10**15  # the largest number any field holds (and -NUMBER_LIMIT the smallest)
TRISTATE = ("yes", "no", "unknown")
OUTCOMES = ("won", "lost")

SOURCES = (
    "web_form",
    "trade_show",
    "newsletter",
    "purchased_list",
    "referral",
    "organic_search",
    "paid_search",
    "social",
    "email_campaign",
    "webinar",
    "partner",
    "inbound_call",
    "chat",
    "other",
)

ACTIVITY_KINDS = (
    "page_visit",
    "newsletter_signup",
    "webinar",
    "content_download",
    "product_info_request",
    "email_open",
    "email_click",
    "demo_request",
    "quote_request",
    "call",
    "meeting",
    "purchase",
    "referral_made",
    # Work a salesperson logs (issue #15): an email they sent and a note to the file.
    # Neither is the contact's engagement, so the shipped rules give them no points;
    # like every activity they count as the contact being worked (no longer rotting).
    # Appended, never inserted: the column cache's codes are positions in this tuple.
    "email_sent",
    "note",
)

# What came of a logged call, email, meeting or note (optional; stored on the activity).
WORK_OUTCOMES = ("reached", "no_answer", "left_message", "interested", "not_interested")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    group: str
    kind: str  # text, email, phone, enum, int, number, date, datetime, tags, stage
    label: str
    choices: tuple[str, ...] = ()
    editable: bool = True
    multiline: bool = False
    minimum: float | None = None
    maximum: float | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value of a number field."""
        low = self.minimum if self.minimum is not None else -NUMBER_LIMIT
        high = self.maximum if self.maximum is not None else NUMBER_LIMIT
        return low, high

    def describe_allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return _KIND_HELP[self.kind]


_KIND_HELP = {
    "text": "text",
    "email": "an email address like name@example.com (or empty)",
    "phone": "a phone number of digits, spaces, + - ( ) . / (or empty)",
    "enum": "",
    "int": "a whole number",
    "number": "a number",
    "date": "a date as YYYY-MM-DD (or empty)",
    "datetime": "a date and time as YYYY-MM-DDTHH:MM:SSZ",
    "tags": "a comma-separated list of words",
    "stage": "a stage id of the active rules (or empty)",
}

FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        # identity
        FieldSpec("name", "identity", "text", "Name"),
        FieldSpec("email", "identity", "email", "Email"),
        FieldSpec("phone", "identity", "phone", "Phone"),
        FieldSpec("company", "identity", "text", "Company"),
        FieldSpec("title", "identity", "text", "Job title"),
        FieldSpec("country", "identity", "text", "Country"),
        FieldSpec("industry", "identity", "text", "Industry"),
        # A billion: far beyond any employer, yet it catches a budget in the wrong column.
        FieldSpec("company_size", "identity", "int", "Company size (employees)", minimum=0,
                  maximum=1_000_000_000),
        # acquisition
        FieldSpec("source", "acquisition", "enum", "Source", choices=SOURCES),
        FieldSpec("created_at", "acquisition", "datetime", "Created", editable=False),
        FieldSpec("referred_by", "acquisition", "text", "Referred by"),
        FieldSpec("external_id", "acquisition", "text", "External id"),
        # qualification (BANT)
        FieldSpec("budget", "qualification", "enum", "Budget", choices=TRISTATE),
        FieldSpec("authority", "qualification", "enum", "Authority", choices=TRISTATE),
        FieldSpec("need", "qualification", "enum", "Need", choices=TRISTATE),
        FieldSpec("timing", "qualification", "enum", "Timing", choices=TRISTATE),
        FieldSpec("budget_amount", "qualification", "number", "Budget amount", minimum=0,
                  maximum=NUMBER_LIMIT),
        # handling
        FieldSpec("owner", "handling", "text", "Owner"),
        FieldSpec("tags", "handling", "tags", "Tags"),
        FieldSpec("notes", "handling", "text", "Notes", multiline=True),
        FieldSpec("next_action", "handling", "text", "Next action"),
        FieldSpec("follow_up", "handling", "date", "Follow-up"),
        FieldSpec("outcome", "handling", "enum", "Outcome", choices=OUTCOMES),
        FieldSpec("outcome_reason", "handling", "text", "Outcome reason"),
        FieldSpec("stage_pin", "handling", "stage", "Pinned stage"),
        FieldSpec("pin_reason", "handling", "text", "Pin reason"),
        FieldSpec("score_adjustment", "handling", "int", "Score adjustment",
                  minimum=-100, maximum=100),
        FieldSpec("score_adjustment_reason", "handling", "text", "Adjustment reason"),
        FieldSpec("disqualify_reason", "handling", "text", "Disqualified because"),
    )
}

# Fields that name a contact's identity for display and search.
TEXT_SEARCH_FIELDS = ("name", "company", "email", "title")

# Engine-managed keys of the document, never set through ``edit``.
STATE_KEYS = ("stage", "stage_since", "stage_rules", "activities", "history", "custom", "rev",
              "updated_at", "after_contact")  # present only when set, like the fields


def field_spec(name: str) -> FieldSpec:
    spec = FIELDS.get(name)
    if spec is None:
        raise FieldError(name, "no such field; fields are " + ", ".join(FIELDS))
    return spec
