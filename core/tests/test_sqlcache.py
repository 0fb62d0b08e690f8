import pytest
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts.models import User
from core.sqlcache import INT_SENTINEL, CompiledLookup

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_a_compiled_lookup_reads_the_same_row_as_the_orm_in_one_query():
    user = User.objects.create_user(username="ann", email="ann@example.com", bio="hi")
    lookup = CompiledLookup(lambda: User.objects.all(), "pk", sentinel=INT_SENTINEL)
    lookup.get(user.pk)  # compiles

    with CaptureQueriesContext(connection) as queries:
        found = lookup.get(user.pk)

    assert len(queries) == 1
    assert _fields(found) == _fields(User.objects.get(pk=user.pk))
    assert found._state.adding is False and found._state.db == "default"


def test_a_compiled_lookup_converts_the_value_as_the_orm_and_answers_none_when_missing():
    user = User.objects.create_user(username="bea")
    lookup = CompiledLookup(lambda: User.objects.all(), "pk", sentinel=INT_SENTINEL)

    assert lookup.get(str(user.pk)).username == "bea"
    assert lookup.get(user.pk + 1000) is None
    with pytest.raises(ValueError):
        lookup.get("not a number")


def test_a_compiled_lookup_follows_select_related_without_another_query():
    user = User.objects.create_user(username="cid")
    token = Token.objects.create(user=user)
    lookup = CompiledLookup(lambda: Token.objects.select_related("user"), "key")

    with CaptureQueriesContext(connection) as queries:
        found = lookup.get(token.key)
        assert found.user.username == "cid"

    assert len(queries) == 1
    assert (found.key, found.user_id, found.created) == (token.key, user.pk, token.created)
    assert lookup.get("0" * 40) is None


def test_a_queryset_the_shortcut_cannot_build_falls_back_to_the_orm():
    user = User.objects.create_user(username="dot")
    lookup = CompiledLookup(
        lambda: User.objects.annotate(marker=Value(7)), "pk", sentinel=INT_SENTINEL
    )

    found = lookup.get(user.pk)

    assert found.username == "dot"
    assert found.marker == 7  # built by the ORM: annotations are not handled by the shortcut
