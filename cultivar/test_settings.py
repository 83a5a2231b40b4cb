"""Test settings: the same code paths, with a throwaway var dir and fast hashing."""

import os
import tempfile

os.environ.setdefault("CULTIVAR_VAR_DIR", tempfile.mkdtemp(prefix="cultivar-test-"))

from cultivar.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Unit tests run tasks in-process; tests/test_services_redis.py drives a real worker when a broker is set.
CELERY_TASK_ALWAYS_EAGER = True
