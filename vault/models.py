"""The vault's rows: org key pairs, sealed data keys, encrypted items, favourites.

Only ciphertext and non-secret metadata live here (type, collections, dates,
trash state). See DESIGN.md "Encryption" and `vault.crypto`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .content import ItemType


class OrgKey(models.Model):
    """An org's X25519 key pair: public half plain, private half wrapped by a KEK."""

    org = models.ForeignKey(
        "clients.Organization", on_delete=models.CASCADE, related_name="vault_keys"
    )
    version = models.PositiveIntegerField()
    public_key = models.BinaryField()
    wrapped_private_key = models.BinaryField()
    kek_id = models.CharField(
        max_length=32, help_text="The key-encryption key that wraps it and tags the public key."
    )
    public_key_tag = models.BinaryField(
        default=b"", help_text="HMAC over org, version and public key (vault.keys row tags)."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "version"], name="org_key_unique_version"),
            models.UniqueConstraint(
                fields=["org"], condition=models.Q(active=True), name="org_key_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"org key v{self.version} of {self.org_id}"


class DataKeyPurpose(models.TextChoices):
    MEMBERS = "members", "Members' writes"
    IMPORT = "import", "One import"


class DataKey(models.Model):
    """A random AES-256 key, sealed to the org's public key with HPKE."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(
        "clients.Organization", on_delete=models.CASCADE, related_name="vault_data_keys"
    )
    sealed_key = models.BinaryField()
    org_key_version = models.PositiveIntegerField(help_text="The org key it is sealed to.")
    purpose = models.CharField(max_length=20, choices=DataKeyPurpose.choices)
    tag_kek_id = models.CharField(max_length=32, default="", help_text="The KEK behind the tag.")
    tag = models.BinaryField(
        default=b"",
        help_text="HMAC over org, id, org key version, purpose and sealed bytes (vault.keys).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["org", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"data key {self.pk}"


class Item(models.Model):
    """One vault item. The name and the body are separate ciphertexts under one data key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey("clients.Organization", on_delete=models.CASCADE, related_name="items")
    type = models.CharField(max_length=20, choices=ItemType.choices)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="items")
    name_ciphertext = models.BinaryField()
    data_ciphertext = models.BinaryField()
    reprompt = models.BooleanField(
        default=False, help_text="Ask for the account password again before showing secrets."
    )
    collections = models.ManyToManyField("clients.Collection", related_name="items")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Bumped by every write; an edit form carries it to refuse writing over a newer version.
    revision = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Set while in the trash.")

    class Meta:
        indexes = [
            models.Index(fields=["org", "deleted_at", "-updated_at"]),
            models.Index(fields=["deleted_at"]),
            # The list's order, for the items not in the trash: a page is read by walking
            # this index (and, for a member, checking each row's collections) until it is
            # full, instead of sorting every item of the org.
            models.Index(
                fields=["org", "-updated_at", "id"],
                condition=models.Q(deleted_at__isnull=True),
                name="vault_item_live_order",
            ),
            # The items of a type a policy hides (cards), counted apart from the tally.
            models.Index(
                fields=["org", "type"],
                condition=models.Q(deleted_at__isnull=True),
                name="vault_item_live_type",
            ),
        ]

    def __str__(self) -> str:
        # Never the name: it is a secret.
        return f"item {self.pk}"

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None


class NameIndexSegment(models.Model):
    """Some of an org's item names, as one AES-GCM value under one of its data keys.

    See `vault.name_index`: ids, a tag of each name ciphertext, and the names, sealed
    with associated data naming the org, this row and the purpose.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey("clients.Organization", on_delete=models.CASCADE, related_name="+")
    data_key = models.ForeignKey(DataKey, on_delete=models.CASCADE, related_name="+")
    complete = models.BooleanField(
        default=False, help_text="Built from every item of the org when it was written."
    )
    entries = models.PositiveIntegerField(default=0)
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["org", "created_at"])]

    def __str__(self) -> str:
        return f"name index segment {self.pk}"


class ItemTally(models.Model):
    """How many items out of the trash an org holds (`collection` empty) or one collection.

    Kept by the services that change it, in their own transaction (`vault.tallies`), so
    that the vault list counts a member's items without reading them.
    """

    org = models.ForeignKey("clients.Organization", on_delete=models.CASCADE, related_name="+")
    collection = models.OneToOneField(
        "clients.Collection", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    live = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org"],
                condition=models.Q(collection__isnull=True),
                name="item_tally_one_per_org",
            )
        ]

    def __str__(self) -> str:
        return f"tally of {self.collection_id or self.org_id}"


class Favorite(models.Model):
    """Favourites are per user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vault_favorites"
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="favorites")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "item"], name="favorite_unique_user_item")
        ]

    def __str__(self) -> str:
        return f"favourite {self.item_id} of {self.user_id}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"


class ImportTarget(models.TextChoices):
    COLLECTION = "collection", "Into one chosen collection"
    FROM_FILE = "from_file", "Collections named in the file"


class ImportJob(models.Model):
    """One import into an org's vault: what was asked, and what came of it (counts only).

    The upload itself lives in `ImportUploadChunk` rows, encrypted under a one-off key
    that `upload_key_wrapped` holds wrapped by a KEK, until the job ends.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(
        "clients.Organization", on_delete=models.CASCADE, related_name="import_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for the operator's manage.py import_vault.",
    )
    acting_provider = models.ForeignKey(
        "providers.Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=40, blank=True, help_text="Empty: detect from the file.")
    detected_format = models.CharField(max_length=40, blank=True)
    target = models.CharField(max_length=20, choices=ImportTarget.choices)
    collection = models.ForeignKey(
        "clients.Collection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    upload_size = models.PositiveBigIntegerField(default=0)
    upload_kek_id = models.CharField(max_length=32, blank=True)
    upload_key_wrapped = models.BinaryField(default=b"")
    counts = models.JSONField(default=dict, blank=True, help_text="Items imported per type.")
    collections_created = models.JSONField(default=list, blank=True)
    row_errors = models.JSONField(
        default=list, blank=True, help_text="[{'where': 'row 3', 'reason': ...}]; never values."
    )
    row_error_count = models.PositiveIntegerField(default=0)
    failure_message = models.TextField(blank=True)
    data_key = models.ForeignKey(
        DataKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["org", "-created_at"]),
            models.Index(fields=["status", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"import {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def imported_total(self) -> int:
        return sum(self.counts.values()) if self.counts else 0


class ImportUploadChunk(models.Model):
    """About 1 MiB of an upload, AES-GCM under the job's upload key; deleted when it ends."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="upload_chunks")
    index = models.PositiveIntegerField()
    ciphertext = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="import_chunk_unique_index")
        ]

    def __str__(self) -> str:
        return f"chunk {self.index} of import {self.job_id}"
