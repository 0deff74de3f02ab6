"""A referral's refusals name what was typed and what may be typed (the detail their English carried)."""

from __future__ import annotations

import pytest

from verifier.domain.errors import ValidationFailed
from verifier.referrals.service import _check_target


def test_an_unknown_channel_and_a_bad_county_code_are_named_with_the_choices() -> None:
    with pytest.raises(ValidationFailed) as raised:
        _check_target("hospital", "34022", None)  # type: ignore[arg-type]
    said = {e.field: e.message for e in raised.value.errors}
    assert said["channel"].startswith("没有“hospital”这个来源渠道，可选：医保局(medical_insurance)、民政局(civil_affairs)")
    assert said["county_code"] == "县（区）代码为 6 位数字，填写的是“34022”"
