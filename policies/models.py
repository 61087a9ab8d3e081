"""Per-org policies: one row per org and type; the types themselves live in policies/types/."""

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
