"""DRF permission: an authenticated, active member. Finer rules live in `intel.policies`
(who may change) and in the models' `visible_to` (who may see)."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class IsNetworkMember(BasePermission):
    message = "Authentication with a member's token or session is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and user.is_active)
