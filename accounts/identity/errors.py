"""The refusals of sign-in, tokens, invite codes and profile writes (see core.errors)."""

from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, InternalError, Invalid, RateLimited, Unauthenticated, Unavailable


class CodeRejected(Invalid):
    """A sign-in code that is wrong, expired or used; the code says which (`invalid_code`...)."""


class SignInThrottled(RateLimited):
    """Too many codes or wrong codes for one destination (`signin_locked`, `too_many_codes`,
    `code_resend_too_soon`), with the seconds to wait."""


class ThrottleUnavailable(Unavailable):
    default_code = "throttle_unavailable"
    # Not translated (it never was): the same English text in every language.
    default_message = "Sign-in is unavailable for a moment (its rate limits cannot be checked)."


class AccountDisabled(Forbidden):
    default_code = "account_disabled"
    default_message = _("This account is disabled.")


class SuperuserRequired(Forbidden):
    default_code = "superuser_required"


class AccountNotCreated(InternalError):
    """Parallel sign-ins kept taking the username drawn for a new user."""

    default_message = _("Could not create the account; try again.")


class InvalidToken(Unauthenticated):
    """An expired, malformed or blacklisted JWT (simplejwt's own errors nest a dict)."""

    default_code = "token_not_valid"


class WeakPassword(Invalid):
    """A password AUTH_PASSWORD_VALIDATORS refuse; `fields` holds every message."""


class UsernameTaken(Invalid):
    default_code = "unique"
    default_message = _("This username is taken.")


class IdentifierTaken(Invalid):
    default_code = "unique"
    default_message = _("This username or e-mail is taken.")


class InvalidCredentials(Invalid):
    default_code = "invalid_credentials"
    default_message = _("Unable to sign in with the given username and password.")


class InviteCodeRefused(Invalid):
    """An invite code that is unknown, the user's own, or a second one."""
