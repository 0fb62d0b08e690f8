"""Input serializers of the hot write views, without the per-request deep copy of fields.

DRF gives every serializer instance a deep copy of the class's declared fields, which
re-runs each field's __init__ (validators, messages): for a transfer's four fields that cost
more than validating them. A flat serializer (no nested serializers) can take shallow copies
instead: each request still binds its own field objects, which share only the immutable
parts (validators, messages, choices).
"""

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field


class FlatInputSerializer(serializers.Serializer[Any]):
    def get_fields(self) -> dict[str, Field[Any, Any, Any, Any]]:
        fields: dict[str, Field[Any, Any, Any, Any]] = {}
        for name, field in self._declared_fields.items():
            if isinstance(field, serializers.BaseSerializer):  # nested: keep DRF's deep copy
                fields[name] = copy.deepcopy(field)
            else:
                fields[name] = copy.copy(field)
        return fields
