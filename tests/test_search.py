"""The search index (webapp/search.py), bare: no app, no database."""

from __future__ import annotations

import pytest

from webapp.search import (
    country_terms,
    match_countries,
    normalize,
    number_digit_patterns,
    query_digits,
    terms_attribute,
)

LISTED = ["AE", "BR", "CN", "DE", "ES", "FR", "GB", "GG", "KZ", "RU", "US"]


@pytest.mark.parametrize("query", ["Россия", "россия", "Russia", "RUSSIA", "Rusia", "Rússia",
                                   "Russie", "Russland", "俄罗斯", "روسيا", "ru", "RU"])
def test_russia_is_found_by_its_name_in_every_language_and_its_code(query: str) -> None:
    assert match_countries(query, LISTED)[0] == "RU"


@pytest.mark.parametrize(("query", "code"), [
    ("Германия", "DE"), ("Alemania", "DE"), ("Deutschland", "DE"), ("ألمانيا", "DE"),
    ("gb", "GB"), ("GB", "GB"), ("Reino Unido", "GB"), ("royaume uni", "GB"), ("uk", "GB"),
    ("Estados Unidos", "US"), ("usa", "US"), ("Brasil", "BR"), ("中国", "CN"),
])
def test_countries_are_found_by_any_name_or_iso_code(query: str, code: str) -> None:
    assert match_countries(query, LISTED)[0] == code


@pytest.mark.parametrize(("query", "codes"), [
    ("+44", ["GB", "GG"]), ("44", ["GB", "GG"]), ("0044", ["GB", "GG"]),
    ("7", ["KZ", "RU"]), ("+7", ["KZ", "RU"]), ("+49", ["DE"]), ("+999", []),
])
def test_countries_are_found_by_calling_code(query: str, codes: list[str]) -> None:
    assert sorted(match_countries(query, LISTED)) == codes


def test_an_exact_code_ranks_before_names_that_contain_it() -> None:
    found = match_countries("us", LISTED)

    assert found[0] == "US"
    assert "RU" in found  # "Russia" contains "us"


def test_nothing_is_found_for_empty_or_unknown_text() -> None:
    assert match_countries("", LISTED) == []
    assert match_countries("   ", LISTED) == []
    assert match_countries("Atlantis", LISTED) == []


def test_only_the_given_countries_are_searched() -> None:
    assert match_countries("Russia", ["DE", "GB"]) == []


def test_normalize_drops_case_accents_and_punctuation() -> None:
    assert normalize("  Côte d’Ivoire ") == "cote d ivoire"
    assert normalize("Royaume-Uni") == "royaume uni"
    assert normalize("Ёлка") == "елка"
    assert normalize("Weiß") == "weiss"


@pytest.mark.parametrize(("query", "digits"), [
    ("+44 7400", "447400"), ("(0)7400-123.456", "07400123456"), ("7400123", "7400123"),
    ("Russia", None), ("", None), ("+", None), ("44a", None),
])
def test_query_digits_reads_phone_like_text_only(query: str, digits: str | None) -> None:
    assert query_digits(query) == digits


@pytest.mark.parametrize(("query", "patterns"), [
    ("+44 7400", ["447400"]), ("7400123", ["7400123"]), ("0044 7400", ["447400"]),
    ("07400 123", ["07400123", "7400123"]), ("44", []), ("Russia", []),
])
def test_number_patterns_need_three_digits_and_drop_dialling_prefixes(
    query: str, patterns: list[str]
) -> None:
    assert number_digit_patterns(query) == patterns


def test_terms_hold_names_in_every_language_iso_and_calling_code() -> None:
    terms = country_terms("RU")

    assert {"russia", "rusia", "россия", "俄罗斯", "ru", "+7"} <= terms
    assert terms_attribute("RU").split("|") == sorted(terms)


def test_terms_of_a_region_without_calling_code_have_none() -> None:
    assert not any(term.startswith("+") for term in country_terms("AQ"))
