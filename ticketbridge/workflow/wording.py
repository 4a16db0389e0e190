"""What a customer reads of a workflow's own words.

Workflow authors write reasons for the license team and the customer at once, and cite the
rule they apply ("… one demo (R2)"). The rule stays for staff in the timeline's payload; the
customer reads the sentence without it.
"""

from __future__ import annotations

import re

_RULE_CODES = re.compile(r"\s*\(\s*R\d{1,2}(?:\s*(?:,|/|and|&|–|-)\s*R?\d{1,2})*\s*\)")


def customer_words(text: str | None) -> str | None:
    """`text` without its rule citations; None stays None."""
    return None if text is None else _RULE_CODES.sub("", text)
