"""factory-boy factories for every model."""

import factory
from django.utils import timezone

from clients.models import (
    AccessLevel,
    Collection,
    CollectionGroupGrant,
    CollectionMemberGrant,
    Group,
    MemberRole,
    Membership,
    MemberStatus,
    Organization,
)
from policies.models import Policy, PolicyType
from portal.models import Event, EventType, Invitation, User
from portal.services import INVITATION_LIFETIME
from providers.models import Provider, ProviderRole, ProviderUser, ProviderUserStatus

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")
    password = factory.django.Password(TEST_PASSWORD)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Provider {n}")
    business_name = factory.LazyAttribute(lambda o: f"{o.name} Ltd")
    billing_email = factory.Sequence(lambda n: f"billing{n}@provider.test")


class ProviderUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderUser

    provider = factory.SubFactory(ProviderFactory)
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else "invitee@example.test")
    role = ProviderRole.ADMIN
    status = ProviderUserStatus.CONFIRMED


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    seats = 10


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    org = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else "member@example.test")
    role = MemberRole.USER
    status = MemberStatus.CONFIRMED


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    org = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection

    org = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Collection {n}")


class CollectionMemberGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionMemberGrant

    collection = factory.SubFactory(CollectionFactory)
    membership = factory.SubFactory(
        MembershipFactory, org=factory.SelfAttribute("..collection.org")
    )
    level = AccessLevel.VIEW


class CollectionGroupGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionGroupGrant

    collection = factory.SubFactory(CollectionFactory)
    group = factory.SubFactory(GroupFactory, org=factory.SelfAttribute("..collection.org"))
    level = AccessLevel.VIEW


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    org = factory.SubFactory(OrganizationFactory)
    type = PolicyType.TWO_STEP_LOGIN
    enabled = True


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    membership = factory.SubFactory(MembershipFactory, user=None, status=MemberStatus.INVITED)
    email = factory.LazyAttribute(lambda o: o.membership.email)
    expires_at = factory.LazyFunction(lambda: timezone.now() + INVITATION_LIFETIME)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    type = EventType.ORG_UPDATED
    org = factory.SubFactory(OrganizationFactory)
