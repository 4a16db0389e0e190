"""Shared fixtures: the shipped catalogue, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketbridge.licenses.catalogue import Catalogue, load_catalogue

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "config" / "catalogue.yaml"


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE_PATH)
