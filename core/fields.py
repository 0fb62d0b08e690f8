"""Serializer fields shared by several apps."""

from rest_framework import serializers


class TextField(serializers.CharField):
    """Text only: DRF's CharField would turn a JSON number into text, which the schema refuses."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
