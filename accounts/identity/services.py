"""Sign-in flows, tokens, invite codes and profile writes. Views stay thin and call these."""

import re

from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import codes, selectors, tokens
from accounts.identity.errors import (
    AccountDisabled,
    AccountNotCreated,
    CodeRejected,
    IdentifierTaken,
    InvalidCredentials,
    InviteCodeRefused,
    SuperuserRequired,
    UsernameTaken,
    WeakPassword,
)
from accounts.identity.tasks import send_signin_code
from accounts.identity.tokens import JwtPair, drf_token, jwt_pair
from accounts.models import SignInCode, User
from core.auth import forget_user

Channel = SignInCode.Channel


# --- helpers --------------------------------------------------------------------------------


def _enqueue_delivery(issued: codes.IssuedCode) -> None:
    # After commit: the worker must find the row, and a rolled-back code is never sent.
    transaction.on_commit(lambda: send_signin_code.delay(issued.code_id, issued.code))


def _reject(field: str, rejection: codes.CodeRejection):
    raise CodeRejected(rejection.message, code=rejection.code, field=field)


def _ensure_active(user: User) -> None:
    if not user.is_active:
        raise AccountDisabled()


def _free_username(base: str) -> str:
    """`base`, or `base-2`, `base-3`, ... whichever no user has (usernames are 150 chars)."""
    base = re.sub(r"[^\w.@+-]", "", base)[:140] or "user"
    candidate, n = base, 1
    while selectors.username_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _get_or_create_user(*, lookup: dict, username_base: str, defaults: dict) -> User:
    """The user matching `lookup`, created without a usable password if there is none."""
    for _attempt in range(3):
        user = User.objects.filter(**lookup).first()
        if user is not None:
            return user
        user = User(username=_free_username(username_base), **defaults)
        user.set_unusable_password()  # code sign-in users have no password until they set one
        try:
            with transaction.atomic():
                user.save()
            return user
        except IntegrityError:
            # A parallel sign-in created this person, or took the same free username: look
            # again, then retry with a fresh username.
            continue
    raise AccountNotCreated()


# --- phone + SMS code -----------------------------------------------------------------------


def request_phone_code(*, phone: str) -> codes.IssuedCode:
    """Issue a 4-digit code for an E.164 `phone` and send it by SMS after commit.

    Raises SignInThrottled (429) when asked again within SIGNIN_CODE_RESEND_SECONDS.
    """
    with transaction.atomic():
        issued = codes.issue_code(channel=Channel.SMS, destination=phone)
        _enqueue_delivery(issued)
    return issued


def sign_in_by_phone(*, phone: str, code: str) -> tuple[User, str]:
    """Check the SMS code and return (user, DRF token key); the first sign-in creates the user.

    A wrong code is counted even though this raises CodeRejected (400).
    """
    with transaction.atomic():
        rejection = codes.consume_code(channel=Channel.SMS, destination=phone, code=code)
        if rejection is None:
            user = _get_or_create_user(
                lookup={"phone": phone}, username_base=phone, defaults={"phone": phone}
            )
    if rejection is not None:
        _reject("token", rejection)
    _ensure_active(user)
    update_last_login(type(user), user)
    return user, drf_token(user)


# --- e-mail + confirmation code -> JWT ------------------------------------------------------


def normalize_email(email: str) -> str:
    return email.strip().lower()


def request_email_code(*, email: str) -> codes.IssuedCode:
    """Issue a 6-digit confirmation code for `email` and mail it after commit."""
    with transaction.atomic():
        issued = codes.issue_code(channel=Channel.EMAIL, destination=normalize_email(email))
        _enqueue_delivery(issued)
    return issued


def sign_in_by_email(*, email: str, code: str) -> tuple[User, JwtPair]:
    """Check the e-mail code and return (user, JWT pair); the first sign-in creates the user."""
    email = normalize_email(email)
    with transaction.atomic():
        rejection = codes.consume_code(channel=Channel.EMAIL, destination=email, code=code)
        if rejection is None:
            user = _get_or_create_user(
                lookup={"email__iexact": email},
                username_base=email.split("@")[0],
                defaults={"email": email},
            )
    if rejection is not None:
        _reject("confirmation_code", rejection)
    _ensure_active(user)
    update_last_login(type(user), user)
    return user, jwt_pair(user)


def refresh_jwt(*, refresh: str) -> JwtPair:
    """A new access JWT and a new refresh JWT; the given refresh JWT is blacklisted.

    The refresh token's row is locked, so two parallel refreshes with one token cannot both
    succeed (a replayed token yields nothing). Raises InvalidToken (401, `token_not_valid`)
    for an expired, malformed or blacklisted refresh token, or one of a deleted or disabled
    user.
    """
    return tokens.rotate_refresh_token(refresh)


def revoke_jwt(*, refresh: str) -> None:
    """Blacklist a refresh token so that it can no longer be refreshed.

    Raises InvalidToken (401, `token_not_valid`) for a bad or already revoked token.
    """
    tokens.blacklist_refresh_token(refresh)


# --- username + password -> DRF token -------------------------------------------------------


def register_with_password(*, username: str, password: str) -> tuple[User, str]:
    """Create a user with a password checked by AUTH_PASSWORD_VALIDATORS; (user, token key)."""
    user = User(username=username)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise WeakPassword(
            fields={"password1": exc.messages}, code=exc.error_list[0].code or "invalid"
        ) from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise UsernameTaken(field="username") from exc
    update_last_login(type(user), user)
    return user, drf_token(user)


def sign_in_with_password(*, username: str, password: str, request=None) -> tuple[User, str]:
    """(user, DRF token key) for valid credentials; InvalidCredentials (400) otherwise."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise InvalidCredentials(field="non_field_errors")
    update_last_login(type(user), user)
    return user, drf_token(user)


def sign_out_token(*, user: User) -> None:
    """Delete the user's DRF token: every client using it is signed out."""
    tokens.delete_drf_token(user)


# --- invite codes and profile ---------------------------------------------------------------


def _invite_error(message: str, code: str) -> InviteCodeRefused:
    return InviteCodeRefused(message, code=code, field="foreign_invite_code")


def activate_invite_code(*, user: User, code: str) -> User:
    """Record that `user` entered another user's invite code. Allowed once per user, ever.

    Refused with InviteCodeRefused (400) when the code is unknown, is the user's own, or the
    user already activated a code; a refusal changes nothing.
    """
    code = code.strip().upper()
    if code == user.invite_code:
        raise _invite_error(_("You cannot activate your own invite code."), "own_invite_code")
    if user.foreign_invite_code:
        raise _invite_error(
            _("You already activated invite code %(code)s; it cannot be changed.")
            % {"code": user.foreign_invite_code},
            "invite_code_already_activated",
        )
    inviter = User.objects.filter(invite_code=code).first()
    if inviter is None:
        raise _invite_error(_("No user has this invite code."), "invite_code_not_found")
    # Conditional UPDATE: of two parallel activations only one matches `foreign_invite_code
    # IS NULL`, so "once ever" holds without a lock.
    now = timezone.now()
    updated = User.objects.filter(pk=user.pk, foreign_invite_code__isnull=True).update(
        foreign_invite_code=code, invited_by=inviter, invite_activated_at=now
    )
    if not updated:
        user.refresh_from_db(fields=["foreign_invite_code"])
        raise _invite_error(
            _("You already activated an invite code; it cannot be changed."),
            "invite_code_already_activated",
        )
    forget_user(user.pk)  # an UPDATE sends no signal: drop the cached lookups by hand
    user.foreign_invite_code, user.invited_by, user.invite_activated_at = code, inviter, now
    return user


ME_FIELDS = ("first_name", "last_name", "username", "bio")
ADMIN_FIELDS = (*ME_FIELDS, "email", "is_analyst", "is_active")
# What a person signs in with: whoever may change them for another user may become that user.
SIGN_IN_IDENTIFIERS = ("username", "email", "phone", "password")


def update_user_as_operator(*, actor: User, user: User, **fields) -> User:
    """An operator's change to a user (ADMIN_FIELDS). Changing another user's sign-in
    identifiers takes a superuser: SuperuserRequired (403) otherwise, and nothing changes."""
    if actor.pk != user.pk and not actor.is_superuser:
        changed = [
            name
            for name in SIGN_IN_IDENTIFIERS
            if name in fields and fields[name] != getattr(user, name)
        ]
        if changed:
            raise SuperuserRequired(
                f"Only a superuser may change another user's {', '.join(changed)}."
            )
    return update_user(user=user, allowed=ADMIN_FIELDS, **fields)


def update_user(*, user: User, allowed: tuple[str, ...] = ME_FIELDS, **fields) -> User:
    """Set the given (already validated) fields; fields outside `allowed` are a bug."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValueError(f"Not updatable here: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(user, name, value)
    if fields:
        try:
            with transaction.atomic():
                user.save(update_fields=list(fields))
        except IntegrityError as exc:
            raise IdentifierTaken(field="non_field_errors") from exc
    return user
