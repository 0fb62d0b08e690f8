"""Django's createsuperuser, refusing a username that exists in another letter case."""

from django.contrib.auth.management.commands import createsuperuser

from accounts.identity.selectors import username_taken


class Command(createsuperuser.Command):
    def _validate_username(self, username, verbose_field_name, database):
        error = super()._validate_username(username, verbose_field_name, database)
        if error is None and username and username_taken(username):
            return f"Error: That {verbose_field_name} is already taken."
        return error
