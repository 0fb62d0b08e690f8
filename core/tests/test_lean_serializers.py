"""The hot views' flat input serializers validate exactly as DRF's deep-copying ones."""

import pytest
from rest_framework import serializers

from accounts.balances.serializers import TransferInputSerializer
from stores.serializers import GroupOperationInputSerializer, OperationInputSerializer

INPUTS = {
    TransferInputSerializer: [
        {"from_account": 1, "to_account": 2, "amount": "10.50"},
        {"from_account": 1, "to_account": 1, "amount": "1"},
        {"from_account": "x", "to_account": -2, "amount": "1.001", "comment": "c" * 600},
        {"from_account": 1, "to_account": 2, "amount": "NaN"},
        {},
        {"from_account": 10**30, "to_account": 2, "amount": "-1", "comment": None},
    ],
    OperationInputSerializer: [
        {"operation": "supply", "item_id": "apple", "quantity": 3},
        {"operation": "steal", "item_id": "", "quantity": 0},
        {"operation": "demand", "item_id": "a" * 500, "quantity": 10**12},
        {"item_id": ["x"], "quantity": "many"},
    ],
    GroupOperationInputSerializer: [
        {"operation": "demand", "items": [{"item_id": "a", "quantity": 1}]},
        {"operation": "demand", "items": [{"item_id": "", "quantity": -1}, {"quantity": 2}]},
        {"operation": "supply", "items": []},
    ],
}


def deep_copying_twin(lean_class):
    """The same serializer on DRF's own get_fields (a deep copy per instance)."""
    return type(
        f"Plain{lean_class.__name__}",
        (lean_class,),
        {"get_fields": serializers.Serializer.get_fields},
    )


@pytest.mark.parametrize(
    ("serializer_class", "data"),
    [(cls, data) for cls, inputs in INPUTS.items() for data in inputs],
)
def test_same_validated_data_and_errors(serializer_class, data):
    lean, plain = serializer_class(data=data), deep_copying_twin(serializer_class)(data=data)
    assert lean.is_valid() == plain.is_valid()
    assert lean.errors == plain.errors
    assert dict(lean.validated_data) == dict(plain.validated_data)


def test_every_instance_binds_its_own_fields():
    first, second = TransferInputSerializer(data={}), TransferInputSerializer(data={})
    for name in ("from_account", "amount"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second
        assert TransferInputSerializer._declared_fields[name].parent is None
