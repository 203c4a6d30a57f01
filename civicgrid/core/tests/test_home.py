import pytest

from civicgrid.accounts import services
from civicgrid.accounts.choices import Role
from civicgrid.core.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_goes_to_login(client):
    assert "/accounts/login/" in client.get("/")["Location"]


def test_staff_land_on_the_map(client, tree):
    user = UserFactory()
    services.role_assign(user=user, role=Role.OPERATOR, region=tree.street)
    client.force_login(user)
    assert client.get("/")["Location"] == "/grids/map/"


def test_residents_land_on_their_reports(client, tree):
    user = UserFactory()
    services.role_assign(user=user, role=Role.RESIDENT, region=tree.units_a[0])
    client.force_login(user)
    assert client.get("/")["Location"] == "/cases/"
    assert client.get("/cases/")["Location"] == "/cases/mine/"
