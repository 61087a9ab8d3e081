"""Client organizations and their structure: members, groups, collections."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper
from django.db.models.lookups import IsNull
from django.utils import timezone


class Plan(models.TextChoices):
    TEAMS = "teams", "Teams"
    ENTERPRISE = "enterprise", "Enterprise"


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.TEAMS)
    seats = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])
    enabled = models.BooleanField(default=True)
    # Set when the org was disabled together with its provider, so that enabling the
    # provider again re-enables exactly these clients and not ones disabled on purpose.
    disabled_with_provider = models.BooleanField(default=False, editable=False)
    provider = models.ForeignKey(
        "providers.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clients",
        help_text="The provider that manages this organization, if any.",
    )
    # Owners and admins reach every item unless this is turned off.
    admins_access_all_items = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["provider", "name"])]

    def __str__(self) -> str:
        return self.name


# The figures a dashboard page can be sorted by.
SORTABLE_FIGURES = (
    "invited",
    "accepted",
    "confirmed",
    "revoked",
    "seats_used",
    "without_two_step",
    "policies_enabled",
    "invitations_pending",
    "last_activity",
)


def figure_sort_key(figure: str, *, descending: bool, prefix: str = "") -> tuple:
    """The sort (and index) expressions of one stored figure, `prefix` naming the figures
    row from another model: clients without any activity come last either way, without
    NULLS LAST (which SQLite's indexes do not take)."""
    column = F(prefix + figure)
    order = column.desc() if descending else column.asc()
    if figure == "last_activity":
        return (IsNull(column, True).asc(), order)
    return (order,)


class ClientFigures(models.Model):
    """One org's health figures as the provider dashboard shows them, kept by the database.

    Triggers on the tables they count (memberships, invitations, TOTP devices, policies,
    events) update this row in the same statement as the change, whichever code made it
    (a service, a cascade, the admin site, a bulk seed): see `clients.figures_triggers`.
    `manage.py recount_client_figures` recomputes every row from the tables and reports
    any difference.
    """

    org = models.OneToOneField(
        Organization, primary_key=True, on_delete=models.CASCADE, related_name="figures"
    )
    # Copies of the org's columns, written by the org's triggers: a sorted page reads its
    # rows in order from one index on (provider, figure, name).
    name = models.CharField(max_length=100, db_default="", default="")
    provider = models.ForeignKey(
        "providers.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,  # every index below starts with it
        related_name="+",
    )
    invited = models.IntegerField(db_default=0, default=0)
    accepted = models.IntegerField(db_default=0, default=0)
    confirmed = models.IntegerField(db_default=0, default=0)
    revoked = models.IntegerField(db_default=0, default=0)
    # Members who are not revoked: each holds a seat.
    seats_used = models.IntegerField(db_default=0, default=0)
    # Confirmed members whose account has no confirmed authenticator.
    without_two_step = models.IntegerField(db_default=0, default=0)
    policies_enabled = models.IntegerField(db_default=0, default=0)
    # Invited members whose link still works, as of the last count of the org's
    # invitations (any change to them recounts), and the moment that count next changes
    # by itself: the earliest of the members' latest expiries. Once that moment has
    # passed, `client_figures_refresh_expired` recounts before the figures are read.
    invitations_pending = models.IntegerField(db_default=0, default=0)
    invitations_expire_next = models.DateTimeField(null=True, blank=True)
    # The newest event's time, to the minute (`LAST_ACTIVITY_RESOLUTION`): a sort key, so
    # that a burst of events does not rewrite the row for each of them.
    last_activity = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "client figures"
        indexes = [
            # Pending invitations due a recount: usually none, found without a scan.
            models.Index(
                fields=["provider", "invitations_expire_next"], name="clientfigures_expire_next"
            ),
            # A dashboard page sorted by a figure, either way, ties by name: read in order
            # from one of these, 25 entries for the first page.
            *(
                models.Index(
                    F("provider"),
                    *figure_sort_key(figure, descending=way == "desc"),
                    F("name"),
                    F("org"),
                    name=f"cf_{figure}_{way}",
                )
                for figure in SORTABLE_FIGURES
                for way in ("asc", "desc")
            ),
        ]

    def __str__(self) -> str:
        return f"figures of {self.org_id}"


class MemberRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    USER = "user", "User"
    CUSTOM = "custom", "Custom"


class MemberStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ACCEPTED = "accepted", "Accepted"
    CONFIRMED = "confirmed", "Confirmed"
    REVOKED = "revoked", "Revoked"


# The custom role's permission flags, Bitwarden's set. The permission layer maps
# each flag to capabilities; nothing else reads them.
CUSTOM_PERMISSION_FLAGS = (
    ("can_access_event_logs", "Access event logs"),
    ("can_access_import_export", "Access import and export"),
    ("can_manage_collections", "Manage all collections"),
    ("can_manage_groups", "Manage groups"),
    ("can_manage_policies", "Manage policies"),
    ("can_manage_users", "Manage users"),
)


class Membership(models.Model):
    """A user's place in an org. Only confirmed rows grant anything."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=MemberRole.choices, default=MemberRole.USER)
    status = models.CharField(
        max_length=20, choices=MemberStatus.choices, default=MemberStatus.INVITED
    )
    prior_status = models.CharField(
        max_length=20,
        choices=MemberStatus.choices,
        blank=True,
        help_text="The status to restore when a revoked member is restored.",
    )
    can_access_event_logs = models.BooleanField(default=False)
    can_access_import_export = models.BooleanField(default=False)
    can_manage_collections = models.BooleanField(default=False)
    can_manage_groups = models.BooleanField(default=False)
    can_manage_policies = models.BooleanField(default=False)
    can_manage_users = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["org", "email"], name="membership_unique_email"),
            models.UniqueConstraint(
                fields=["org", "user"],
                name="membership_unique_user",
                condition=models.Q(user__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["org", "status"]),
            # Invitations by address, whatever its case: the policies that bind an account
            # being created for one (`policies.selectors.binding_settings`).
            models.Index(
                Upper("email"),
                condition=models.Q(status="invited"),
                name="membership_invited_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} in {self.org_id}"

    @property
    def is_confirmed(self) -> bool:
        return self.status == MemberStatus.CONFIRMED

    @property
    def custom_flags(self) -> frozenset[str]:
        return frozenset(flag for flag, _label in CUSTOM_PERMISSION_FLAGS if getattr(self, flag))


class Group(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Membership, blank=True, related_name="groups")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="group_unique_name")]

    def __str__(self) -> str:
        return self.name


class Collection(models.Model):
    """A folder of items. Names may nest with "/" (e.g. "Finance/Banking")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="collection_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.name.count("/")

    @property
    def leaf_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]


class AccessLevel(models.TextChoices):
    """The five sharing levels, ordered from least to most permissive."""

    VIEW_EXCEPT_PASSWORDS = "view_except_passwords", "Can view, except passwords"
    VIEW = "view", "Can view"
    EDIT_EXCEPT_PASSWORDS = "edit_except_passwords", "Can edit, except passwords"
    EDIT = "edit", "Can edit"
    MANAGE = "manage", "Can manage"


class CollectionMemberGrant(models.Model):
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="member_grants"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="collection_grants"
    )
    level = models.CharField(max_length=30, choices=AccessLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "membership"], name="collection_member_grant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.level} {self.collection_id}"


class CollectionGroupGrant(models.Model):
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="group_grants"
    )
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="collection_grants")
    level = models.CharField(max_length=30, choices=AccessLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "group"], name="collection_group_grant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group_id} {self.level} {self.collection_id}"
