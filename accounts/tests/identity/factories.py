import factory
from django.contrib.auth.hashers import make_password
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.tests.factories import AnalystFactory, OperatorFactory, UserFactory

__all__ = [
    "AnalystFactory",
    "OperatorFactory",
    "PhoneUserFactory",
    "UserFactory",
    "token_for",
]


class PhoneUserFactory(UserFactory):
    """A user as phone sign-in makes one: no e-mail, no usable password."""

    phone = factory.Sequence(lambda n: f"+7999{n:07d}")
    email = ""
    password = factory.LazyFunction(lambda: make_password(None))


def token_for(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key
