"""Per-org policies: one row per org and type; the types themselves live in policies/types/."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class PolicyType(models.TextChoices):
    TWO_STEP_LOGIN = "two_step_login", "Require two-step login"
    MASTER_PASSWORD = "master_password", "Master password requirements"
    PASSWORD_GENERATOR = "password_generator", "Password generator"
    SINGLE_ORG = "single_org", "Single organization"
    PERSONAL_OWNERSHIP = "personal_ownership", "Remove individual vault"
    DISABLE_EXPORT = "disable_export", "Remove individual vault export"
    ACCOUNT_RECOVERY = "account_recovery", "Account recovery administration"
    VAULT_TIMEOUT = "vault_timeout", "Vault timeout"
    REMOVE_CARD_ITEM_TYPE = "remove_card_item_type", "Remove card item type"


class Policy(models.Model):
    org = models.ForeignKey(
        "clients.Organization", on_delete=models.CASCADE, related_name="policies"
    )
    type = models.CharField(max_length=40, choices=PolicyType.choices)
    enabled = models.BooleanField(default=False)
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["type"]
        constraints = [models.UniqueConstraint(fields=["org", "type"], name="policy_unique_type")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} ({'on' if self.enabled else 'off'})"


class AccountRecoveryEnrollment(models.Model):
    """A member who agreed that the org's owners and admins may set a new password for
    them (the account recovery administration policy). Withdrawing deletes the row."""

    membership = models.OneToOneField(
        "clients.Membership", on_delete=models.CASCADE, related_name="recovery_enrollment"
    )
    enrolled_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Account recovery for {self.membership_id}"


# --- Provider baselines -------------------------------------------------------------------


class Baseline(models.Model):
    """A provider's named set of policy settings, to apply to many clients at once.

    `settings` holds, per policy type key, {"enabled": bool, "settings": {...}}: the
    type's own settings form validated them (policies.baselines.forms).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.CASCADE, related_name="policy_baselines"
    )
    name = models.CharField(max_length=100)
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="baseline_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class BaselineAssignment(models.Model):
    """Which baseline a client was last given, what it set, and how the client differs now.

    `drift` (the keys of the policy types that differ from `applied_settings`) is kept up to
    date in the transaction of every policy change, so the provider dashboard reads it
    with the client row and computes nothing per client.
    """

    org = models.OneToOneField(
        "clients.Organization",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="baseline_assignment",
    )
    baseline = models.ForeignKey(Baseline, on_delete=models.CASCADE, related_name="assignments")
    applied_settings = models.JSONField(default=dict)
    applied_at = models.DateTimeField(default=timezone.now)
    drift = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"{self.baseline_id} on {self.org_id}"

    @property
    def drift_titles(self) -> list[str]:
        from .types import policy_type_for

        titles = []
        for key in self.drift:
            policy_type = policy_type_for(key)
            titles.append(policy_type.title if policy_type else key)
        return titles

    @property
    def baseline_edited_since(self) -> bool:
        """The baseline was changed after it was applied here (applying it again updates)."""
        return self.baseline.settings != self.applied_settings


class BaselineJobStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Applying"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"


class BaselineApplyJob(models.Model):
    """One "apply this baseline to these clients": the clients chosen, and the counts.

    Clients are applied in batches of one transaction each, so a job that stops half-way
    leaves whole clients done and the rest untouched; applying again skips those done.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.CASCADE, related_name="baseline_jobs"
    )
    baseline = models.ForeignKey(
        Baseline, null=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    baseline_name = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_ids = models.JSONField(default=list, help_text="The chosen clients' ids.")
    status = models.CharField(
        max_length=20, choices=BaselineJobStatus.choices, default=BaselineJobStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(
        default=list, blank=True, help_text="[{'client': name, 'reason': ...}]"
    )
    failure_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "-created_at"])]

    def __str__(self) -> str:
        return f"baseline job {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in (BaselineJobStatus.QUEUED, BaselineJobStatus.RUNNING)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100
