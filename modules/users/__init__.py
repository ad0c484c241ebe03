"""End users of a workspace, registered on first sight of their id."""

from modules.users.repository import User
from modules.users.service import MAX_USER_ID_LENGTH, UserService
from modules.users.types import UserType

__all__ = [
    "MAX_USER_ID_LENGTH",
    "User",
    "UserService",
    "UserType",
]
