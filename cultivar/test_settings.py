"""Test settings: the same code paths, with a throwaway var dir and fast hashing."""

import atexit
import os
import shutil
import tempfile

if "CULTIVAR_VAR_DIR" not in os.environ:
    # A throwaway var dir per test process, removed when the process ends so runs leave no litter in /tmp.
    _var_dir = tempfile.mkdtemp(prefix="cultivar-test-")
    os.environ["CULTIVAR_VAR_DIR"] = _var_dir
    atexit.register(shutil.rmtree, _var_dir, ignore_errors=True)

from cultivar.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Unit tests run tasks in-process; tests/test_services_redis.py drives a real worker when a broker is set.
CELERY_TASK_ALWAYS_EAGER = True
