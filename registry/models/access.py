"""Who may read or change what: a role per user, district scope, and hashed API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "区县/园区工作人员 officer"
    ANALYST = "analyst", "分析人员 analyst"
    INVESTOR = "investor", "投资团队 investor"
    ADMIN = "admin", "管理员 admin"


class RoleAssignment(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cultivar_role")
    role = models.CharField(max_length=10, choices=Role.choices)
    regions = models.ManyToManyField(
        "registry.Region", blank=True, related_name="+", help_text="Officers see and change these regions and every region under them."
    )

    def __str__(self):
        return f"{self.user} ({self.role})"


class ApiToken(models.Model):
    """A per-user token for scripts and notebooks; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, blank=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key):
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name=""):
        """Create a token and return (token, plaintext key); the key is shown once."""
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[:8], key_hash=cls.hash_key(key))
        return token, key
