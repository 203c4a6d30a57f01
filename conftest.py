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
    """Rolled-back tests repeat geo-index and reference-data versions; never let one test see
    another's index or snapshots (core/refcache.py)."""
    from civicgrid.core.refcache import refcache_drop_all
    from civicgrid.grids.locator import locator_reset

    locator_reset()
    refcache_drop_all()
    yield
    locator_reset()
    refcache_drop_all()


@pytest.fixture
def tree(db):
    from civicgrid.core.testing.factories import make_tree

    return make_tree()


@pytest.fixture(autouse=True)
def _default_language():
    """A request through the test client leaves its language active in the thread; each test
    starts (and code outside a request runs) in the default language, whatever ran before."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
