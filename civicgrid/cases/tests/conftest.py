import pytest
from django.test import Client

from civicgrid.core.worktime import clear_cache
from civicgrid.grids.locator import locator_reset

from .factories import make_actors, make_category


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """The holiday calendar and the locate index are cached per process; each test starts
    from its own tables (ids and versions repeat across rolled-back tests)."""
    clear_cache()
    locator_reset()
    yield
    clear_cache()
    locator_reset()


@pytest.fixture
def actors(tree):
    return make_actors(tree)


@pytest.fixture
def category(tree):
    return make_category(tree.dept)


@pytest.fixture
def client_as():
    """A test client signed in as the given user."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
