"""GET/PATCH /api/profile/ and the invite-code rules."""

import pytest

from accounts.models import User
from accounts.tests.identity.factories import PhoneUserFactory


def _snapshot(*users: User) -> list[tuple]:
    return [
        User.objects.filter(pk=u.pk)
        .values_list("foreign_invite_code", "invited_by_id", "invite_activated_at", "invite_code")
        .get()
        for u in users
    ]


@pytest.mark.django_db
class TestProfile:
    def test_shows_phone_codes_and_who_activated_mine(self, client_for):
        alice = PhoneUserFactory()
        bob, carol = PhoneUserFactory(), PhoneUserFactory()
        for invitee in (bob, carol):
            client_for(invitee).patch("/api/profile/", {"foreign_invite_code": alice.invite_code})

        response = client_for(alice).get("/api/profile/")

        assert response.status_code == 200
        assert response.data == {
            "phone": alice.phone,
            "invite_code": alice.invite_code,
            "foreign_invite_code": None,
            "activated_your_code": [{"phone": bob.phone}, {"phone": carol.phone}],
        }

    def test_query_count_does_not_grow_with_invitees(
        self, django_assert_max_num_queries, client_for
    ):
        alice = PhoneUserFactory()
        PhoneUserFactory.create_batch(20, invited_by=alice, foreign_invite_code=alice.invite_code)
        client = client_for(alice)

        with django_assert_max_num_queries(3):  # token + user + invitees
            response = client.get("/api/profile")

        assert len(response.data["activated_your_code"]) == 20

    def test_anonymous_gets_401_with_www_authenticate(self, api_client):
        response = api_client.get("/api/profile/")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_bad_token_gets_401(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

        response = api_client.get("/api/profile/")

        assert response.status_code == 401


@pytest.mark.django_db
class TestActivateInviteCode:
    def test_activates_another_users_code(self, client_for):
        alice, bob = PhoneUserFactory(), PhoneUserFactory()

        response = client_for(bob).patch(
            "/api/profile/", {"foreign_invite_code": alice.invite_code.lower()}
        )

        assert response.status_code == 200
        assert response.data["foreign_invite_code"] == alice.invite_code
        bob.refresh_from_db()
        assert bob.invited_by == alice
        assert bob.invite_activated_at is not None

    def test_unknown_code_is_refused_and_nothing_changes(self, client_for):
        bob = PhoneUserFactory()
        before = _snapshot(bob)

        response = client_for(bob).patch("/api/profile/", {"foreign_invite_code": "NOPE00"})

        assert response.status_code == 400
        assert response.data["code"] == "invite_code_not_found"
        assert _snapshot(bob) == before

    def test_own_code_is_refused_and_nothing_changes(self, client_for):
        bob = PhoneUserFactory()
        before = _snapshot(bob)

        response = client_for(bob).patch("/api/profile/", {"foreign_invite_code": bob.invite_code})

        assert response.status_code == 400
        assert response.data["code"] == "own_invite_code"
        assert _snapshot(bob) == before

    def test_second_activation_is_refused_even_with_the_same_code(self, client_for):
        alice, carol, bob = PhoneUserFactory(), PhoneUserFactory(), PhoneUserFactory()
        client = client_for(bob)
        client.patch("/api/profile/", {"foreign_invite_code": alice.invite_code})
        before = _snapshot(bob, alice, carol)

        other = client.patch("/api/profile/", {"foreign_invite_code": carol.invite_code})
        same = client.patch("/api/profile/", {"foreign_invite_code": alice.invite_code})

        assert (other.status_code, same.status_code) == (400, 400)
        assert other.data["code"] == same.data["code"] == "invite_code_already_activated"
        assert _snapshot(bob, alice, carol) == before

    def test_activation_survives_the_inviter_being_deleted(self, client_for):
        alice, bob = PhoneUserFactory(), PhoneUserFactory()
        client = client_for(bob)
        client.patch("/api/profile/", {"foreign_invite_code": alice.invite_code})
        alice.delete()
        carol = PhoneUserFactory()

        response = client.patch("/api/profile/", {"foreign_invite_code": carol.invite_code})

        assert response.status_code == 400
        assert response.data["code"] == "invite_code_already_activated"

    @pytest.mark.parametrize("body", [{}, {"foreign_invite_code": None}])
    def test_empty_patch_changes_nothing(self, body, client_for):
        bob = PhoneUserFactory()
        before = _snapshot(bob)

        response = client_for(bob).patch("/api/profile/", body, format="json")

        assert response.status_code == 200
        assert response.data["foreign_invite_code"] is None
        assert _snapshot(bob) == before

    def test_users_token_changes_only_their_own_profile(self, client_for):
        alice, bob, carol = PhoneUserFactory(), PhoneUserFactory(), PhoneUserFactory()
        before = _snapshot(alice)

        client_for(bob).patch("/api/profile/", {"foreign_invite_code": carol.invite_code})
        seen_by_bob = client_for(bob).get("/api/profile/").data

        assert seen_by_bob["phone"] == bob.phone
        assert _snapshot(alice) == before

    def test_invite_code_is_never_changed_by_saving(self):
        bob = PhoneUserFactory()
        code = bob.invite_code

        bob.first_name = "Bob"
        bob.save()

        bob.refresh_from_db()
        assert bob.invite_code == code
