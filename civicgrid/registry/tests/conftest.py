import pytest

from civicgrid.accounts.choices import Role

from .factories import staff


@pytest.fixture
def worker_a(tree):
    """The full-time grid worker of grid A."""
    return staff(Role.GRID_WORKER, tree.grid_a)


@pytest.fixture
def worker_b(tree):
    return staff(Role.GRID_WORKER, tree.grid_b)


@pytest.fixture
def unit_a(tree):
    return tree.units_a[0]


@pytest.fixture
def unit_b(tree):
    return tree.units_b[0]
