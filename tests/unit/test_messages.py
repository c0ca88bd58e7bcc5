"""The message catalogue: every key in both languages, with the same placeholders."""

from __future__ import annotations

import pytest

from wardanalysis import messages
from wardanalysis.messages import message, placeholders


@pytest.mark.parametrize("key", messages.keys())
def test_every_message_has_both_languages_with_the_same_placeholders(key):
    raw = messages._catalogue()[key]
    assert raw["ja"].strip() and raw["en"].strip()
    assert placeholders(raw["ja"]) == placeholders(raw["en"]), key


def test_a_message_is_filled_and_a_missing_fact_is_named():
    assert message("nav.previous_year", "en", year=2022) == "← Previous year (FY2022)"
    with pytest.raises(KeyError, match="needs year"):
        message("nav.previous_year", "ja")
    with pytest.raises(KeyError, match="no message 'nope'"):
        message("nope", "ja")
