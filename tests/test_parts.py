"""count_parts: a text's encoding and parts, counted as Telnyx counts them."""

from __future__ import annotations

import pytest
from telnyx_messages._parts import Parts, count_parts


@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (153 * 3, 3), (153 * 3 + 1, 4)],
)
def test_gsm7_basic_text_fits_160_septets_alone_and_153_per_part(length: int, parts: int) -> None:
    assert count_parts("a" * length) == Parts("GSM-7", parts, length, length)


def test_every_gsm7_basic_character_takes_one_septet() -> None:
    basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà"
    assert count_parts(basic) == Parts("GSM-7", 1, len(basic), len(basic))


@pytest.mark.parametrize("character", list("^{}\\[~]|€"))
def test_a_gsm7_extension_character_takes_two_septets(character: str) -> None:
    assert count_parts(character) == Parts("GSM-7", 1, 1, 2)
    assert count_parts("a" * 158 + character) == Parts("GSM-7", 1, 159, 160)
    assert count_parts("a" * 159 + character) == Parts("GSM-7", 2, 160, 161)


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 152 septets then a two-septet character: the pair starts the second part.
    assert count_parts("a" * 152 + "€" + "a" * 151) == Parts("GSM-7", 2, 304, 305)
    # 306 septets would fill two parts if the pair were split.
    assert count_parts("a" * 152 + "€" + "a" * 152) == Parts("GSM-7", 3, 305, 306)
    # 151 septets then the pair fills the first part exactly.
    assert count_parts("a" * 151 + "€" + "a" * 153) == Parts("GSM-7", 2, 305, 306)
    assert count_parts("a" * 151 + "€" + "a" * 154) == Parts("GSM-7", 3, 306, 307)


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (67 * 4, 4), (67 * 4 + 1, 5)],
)
def test_ucs2_text_fits_70_units_alone_and_67_per_part(length: int, parts: int) -> None:
    text = "é" * (length - 1) + "ж"  # one character outside GSM-7 makes the whole text UCS-2
    assert count_parts(text) == Parts("UCS-2", parts, length, length)


def test_an_extension_character_takes_one_unit_in_ucs2() -> None:
    assert count_parts("ж" + "€" * 69) == Parts("UCS-2", 1, 70, 70)


def test_an_emoji_takes_a_surrogate_pair_never_split() -> None:
    assert count_parts("😀") == Parts("UCS-2", 1, 1, 2)
    assert count_parts("😀" * 35) == Parts("UCS-2", 1, 35, 70)
    assert count_parts("😀" * 35 + "a") == Parts("UCS-2", 2, 36, 71)
    # 66 units then a pair: it starts the second part.
    assert count_parts("a" * 66 + "😀" + "a" * 65) == Parts("UCS-2", 2, 132, 133)
    assert count_parts("a" * 66 + "😀" + "a" * 66) == Parts("UCS-2", 3, 133, 134)
    # 65 units then a pair fills the first part exactly.
    assert count_parts("a" * 65 + "😀" + "a" * 67) == Parts("UCS-2", 2, 133, 134)
    assert count_parts("a" * 65 + "😀" + "a" * 68) == Parts("UCS-2", 3, 134, 135)


def test_a_bmp_character_outside_gsm7_takes_one_unit() -> None:
    assert count_parts("a" * 69 + "中") == Parts("UCS-2", 1, 70, 70)
    assert count_parts("a" * 70 + "中") == Parts("UCS-2", 2, 71, 71)


def test_the_escape_character_itself_is_not_gsm7() -> None:
    assert count_parts("\x1b").encoding == "UCS-2"


def test_the_last_bmp_character_takes_one_unit_and_the_first_beyond_it_two() -> None:
    assert count_parts("\uffff").units == 1
    assert count_parts("\U00010000").units == 2
