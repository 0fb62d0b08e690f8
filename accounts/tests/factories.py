"""Users for every app's tests; each app's factories add what its roles need."""

import factory
from rest_framework.authtoken.models import Token

from accounts.models import User

TEST_PASSWORD = "a-long-test-password-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)


class TokenUserFactory(UserFactory):
    """A user who already has a DRF token (`user.auth_token`)."""

    @factory.post_generation
    def token(obj, create, extracted, **kwargs):
        if create:
            Token.objects.get_or_create(user=obj)


class OperatorFactory(TokenUserFactory):
    is_staff = True
    is_superuser = True


class AnalystFactory(TokenUserFactory):
    is_analyst = True
