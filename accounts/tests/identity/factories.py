import factory
from django.contrib.auth.hashers import make_password
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("a-long-test-password-123")


class PhoneUserFactory(UserFactory):
    """A user as phone sign-in makes one: no e-mail, no usable password."""

    phone = factory.Sequence(lambda n: f"+7999{n:07d}")
    email = ""
    password = factory.LazyFunction(lambda: make_password(None))


class OperatorFactory(UserFactory):
    is_staff = True


class AnalystFactory(UserFactory):
    is_analyst = True


def token_for(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def client_for(user: User) -> APIClient:
    """An API client signed in with the user's DRF token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client
