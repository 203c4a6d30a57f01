"""Suite-wide settings: fast password hashing, tasks run inline, no manifest for static files."""

import pytest


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_locator():
    """Rolled-back tests repeat geo-index versions; never let one test see another's index."""
    from civicgrid.grids.locator import locator_reset

    locator_reset()
    yield
    locator_reset()


@pytest.fixture
def tree(db):
    from civicgrid.core.testing.factories import make_tree

    return make_tree()
