"""Core models: the user, invitations and the append-only event log."""

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May sign in to the operators' admin site."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Invitation(models.Model):
    """An emailed, single-use invitation. Only a hash of its token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Filled when the email is sent (by the task, so the token never crosses the broker).
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    email = models.EmailField()
    membership = models.ForeignKey(
        "clients.Membership",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    provider_user = models.ForeignKey(
        "providers.ProviderUser",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Set when the one reminder went out (a periodic job, 3 days after the email).
    reminded_at = models.DateTimeField(null=True, blank=True)
    # Set when the expiry job wrote "invitation expired" to the log; a new link clears it.
    expiry_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="invitation_has_one_target",
                condition=(
                    models.Q(membership__isnull=False, provider_user__isnull=True)
                    | models.Q(membership__isnull=True, provider_user__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()

    @property
    def is_expired(self) -> bool:
        """Unused and past its lifetime: the list shows "expired"; a resend issues a new one."""
        return self.used_at is None and self.expires_at <= timezone.now()


class EventType(models.TextChoices):
    # Accounts
    USER_LOGGED_IN = "user.logged_in", "Logged in"
    USER_LOGIN_FAILED = "user.login_failed", "Failed login"
    USER_PASSWORD_CHANGED = "user.password_changed", "Changed password"
    USER_TWO_STEP_ENABLED = "user.two_step_enabled", "Turned on two-step login"
    USER_TWO_STEP_DISABLED = "user.two_step_disabled", "Turned off two-step login"
    USER_RECOVERY_CODES_REGENERATED = (
        "user.recovery_codes_regenerated",
        "Generated new two-step recovery codes",
    )
    USER_RECOVERY_CODE_USED = "user.recovery_code_used", "Signed in with a recovery code"
    # Organizations
    ORG_CREATED = "org.created", "Organization created"
    ORG_UPDATED = "org.updated", "Organization updated"
    ORG_ACCESSED_BY_PROVIDER = "org.accessed_by_provider", "Accessed by provider"
    MEMBER_INVITED = "member.invited", "Member invited"
    MEMBER_INVITATION_EXPIRED = "member.invitation_expired", "Member's invitation expired"
    MEMBER_ACCEPTED = "member.accepted", "Member accepted invitation"
    MEMBER_CONFIRMED = "member.confirmed", "Member confirmed"
    MEMBER_UPDATED = "member.updated", "Member updated"
    MEMBER_REVOKED = "member.revoked", "Member revoked"
    MEMBER_RESTORED = "member.restored", "Member restored"
    MEMBER_REMOVED = "member.removed", "Member removed"
    MEMBER_LEFT = "member.left", "Member left organization"
    MEMBER_ACCOUNT_RECOVERED = "member.account_recovered", "Member's account recovered"
    GROUP_CREATED = "group.created", "Group created"
    GROUP_UPDATED = "group.updated", "Group updated"
    GROUP_DELETED = "group.deleted", "Group deleted"
    COLLECTION_CREATED = "collection.created", "Collection created"
    COLLECTION_UPDATED = "collection.updated", "Collection updated"
    COLLECTION_DELETED = "collection.deleted", "Collection deleted"
    POLICY_UPDATED = "policy.updated", "Policy updated"
    # Providers
    PROVIDER_CREATED = "provider.created", "Provider created"
    PROVIDER_UPDATED = "provider.updated", "Provider updated"
    PROVIDER_USER_INVITED = "provider_user.invited", "Provider user invited"
    PROVIDER_USER_INVITATION_EXPIRED = (
        "provider_user.invitation_expired",
        "Provider user's invitation expired",
    )
    PROVIDER_USER_ACCEPTED = "provider_user.accepted", "Provider user accepted invitation"
    PROVIDER_USER_CONFIRMED = "provider_user.confirmed", "Provider user confirmed"
    PROVIDER_USER_UPDATED = "provider_user.updated", "Provider user updated"
    PROVIDER_USER_REMOVED = "provider_user.removed", "Provider user removed"
    CLIENT_CREATED = "client.created", "Client created"
    CLIENT_ADDED = "client.added", "Existing organization added as client"
    CLIENT_UPDATED = "client.updated", "Client updated"
    CLIENT_UNLINKED = "client.unlinked", "Client unlinked"
    CLIENT_ACCESSED = "client.accessed", "Client accessed by provider"
    # Vault items (Bitwarden's item events)
    ITEM_CREATED = "item.created", "Item created"
    ITEM_UPDATED = "item.updated", "Item updated"
    ITEM_VIEWED = "item.viewed", "Item viewed"
    ITEM_PASSWORD_REVEALED = "item.password_revealed", "Password revealed"
    ITEM_HIDDEN_FIELD_REVEALED = "item.hidden_field_revealed", "Hidden field revealed"
    ITEM_CARD_CODE_REVEALED = "item.card_code_revealed", "Card code revealed"
    ITEM_CARD_NUMBER_REVEALED = "item.card_number_revealed", "Card number revealed"
    ITEM_TOTP_REVEALED = "item.totp_revealed", "TOTP revealed"
    ITEM_PASSWORD_COPIED = "item.password_copied", "Password copied"
    ITEM_MOVED = "item.moved", "Item moved"
    ITEM_TRASHED = "item.trashed", "Item sent to trash"
    ITEM_RESTORED = "item.restored", "Item restored"
    ITEM_DELETED = "item.deleted", "Item deleted"
    ITEM_DECRYPTION_FAILED = "item.decryption_failed", "Item failed to decrypt"
    IMPORT_COMPLETED = "import.completed", "Data imported"
    VAULT_EXPORTED = "vault.exported", "Vault exported"


class AppendOnlyError(RuntimeError):
    pass


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The event log is append-only.")

    def delete(self):
        raise AppendOnlyError("The event log is append-only.")


class Event(models.Model):
    """One entry of the audit log. Names objects by id, never by a secret field."""

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    type = models.CharField(max_length=40, choices=EventType.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acting_provider = models.ForeignKey(
        "providers.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when the actor acted through a provider.",
    )
    org = models.ForeignKey(
        "clients.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    provider = models.ForeignKey(
        "providers.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The id of the request (or Celery task) that wrote it, as in the logs.",
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["org", "-occurred_at"]),
            models.Index(fields=["provider", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The event log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The event log is append-only.")
