"""The request type of views that only signed-in users reach (for the type checker).

Behind IsAuthenticated `request.user` is never AnonymousUser, which DRF's stubs cannot know;
annotating such a view's `request` with `AuthenticatedRequest` says so once, where the
permission is declared, instead of a cast at every use. Never instantiated: DRF builds the
request as usual.
"""

from rest_framework.request import Request

from accounts.models import User


class AuthenticatedRequest(Request):
    user: User  # narrows `User | AnonymousUser`
