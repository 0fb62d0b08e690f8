import re

import pytest
from django.db import IntegrityError

from accounts.models import User
from accounts.tests.identity.factories import UserFactory


@pytest.mark.django_db
class TestInviteCodes:
    def test_every_new_user_gets_a_six_character_invite_code(self):
        users = UserFactory.create_batch(30)

        codes = [u.invite_code for u in users]

        assert all(re.fullmatch(r"[A-Z0-9]{6}", c) for c in codes)
        assert len(set(codes)) == 30

    def test_user_created_through_the_manager_gets_one(self):
        user = User.objects.create_user("dave", password=None)

        assert User.objects.get(pk=user.pk).invite_code

    def test_invite_codes_are_unique_in_the_database(self):
        alice = UserFactory()

        with pytest.raises(IntegrityError):
            UserFactory(invite_code=alice.invite_code)

    def test_database_refuses_a_user_invited_by_themselves(self):
        alice = UserFactory()

        with pytest.raises(IntegrityError):
            User.objects.filter(pk=alice.pk).update(
                invited_by=alice, foreign_invite_code=alice.invite_code
            )

    def test_database_refuses_the_own_code_as_foreign_code(self):
        alice = UserFactory()

        with pytest.raises(IntegrityError):
            User.objects.filter(pk=alice.pk).update(foreign_invite_code=alice.invite_code)
