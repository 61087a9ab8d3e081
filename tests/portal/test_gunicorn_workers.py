"""gunicorn.conf.py freezes what a worker has loaded, so that Python's cycle collector
does not walk the application's objects on every full collection."""

from __future__ import annotations

import gc

from gunicorn.app.base import Application

from tests.child_django import ROOT


class _ProjectConfig(Application):
    """Reads gunicorn.conf.py as `gunicorn --config gunicorn.conf.py` does; serves nothing."""

    def load_config(self):
        self.load_config_from_file(str(ROOT / "gunicorn.conf.py"))

    def load(self):
        raise NotImplementedError


def test_a_worker_freezes_the_loaded_application():
    hook = _ProjectConfig().cfg.post_worker_init
    gc.unfreeze()
    try:
        hook(worker=None)
        assert gc.get_freeze_count() > 1000  # the modules, settings and URLs loaded so far
    finally:
        gc.unfreeze()
