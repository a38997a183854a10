"""Accounts over GraphQL, for administrators: list, create, deactivate; issue and revoke tokens.

The same operations as `circle user ...` / `circle token ...` (geo.accounts). A token's
plaintext is in the issueToken answer once and never again; only its hash is stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from api.schema.cases.enums import RoleType, SeatType
from api.schema.common import InvalidArgument, InvalidArgumentError
from api.schema.context import Info
from api.schema.errors import AuthenticationRequiredError, NotPermittedError
from api.schema.permissions import Permission, require
from api.schema.places.args import no_nul
from api.schema.places.errors import NotFoundError
from geo.accounts import service as accounts
from geo.accounts import tokens
from geo.accounts.models import Role, Seat, User

MAX_USERS_PAGE = 100


@strawberry.type(description="A user account (staff or resident).")
class UserAccount:
    id: int
    name: str
    role: RoleType  # type: ignore[valid-type]
    seat: SeatType | None  # type: ignore[valid-type]
    department: str | None
    phone: str | None
    active: bool
    grid_codes: list[str] = strawberry.field(description="The grids the user is bound to.")
    live_tokens: int | None = strawberry.field(
        default=None, description="Tokens neither expired nor revoked (in lists)."
    )

    @classmethod
    def from_user(
        cls, user: User, grid_codes: tuple[str, ...] = (), live_tokens: int | None = None
    ) -> UserAccount:
        return cls(
            id=user.id,
            name=user.name,
            role=Role(user.role),
            seat=Seat(user.seat) if user.seat else None,
            department=user.department,
            phone=user.phone,
            active=user.active,
            grid_codes=list(grid_codes),
            live_tokens=live_tokens,
        )


@strawberry.type
class UserList:
    users: list[UserAccount]
    has_next_page: bool


@strawberry.type
class UserSaved:
    user: UserAccount


@strawberry.type(description="The token's plaintext is shown here once: keep it.")
class TokenIssued:
    token: str
    prefix: str
    expires_at: datetime


@strawberry.type
class TokenRevoked:
    prefix: str
    revoked_at: datetime


@strawberry.input
class CreateUserInput:
    name: str
    role: RoleType  # type: ignore[valid-type]
    seat: SeatType | None = None  # type: ignore[valid-type]
    department: str | None = None
    phone: str | None = None
    grids: list[str] = strawberry.field(default_factory=list, description="Grid codes.")


_REFUSED = AuthenticationRequiredError | NotPermittedError
UsersResult = Annotated[UserList | InvalidArgumentError | _REFUSED, strawberry.union("UsersResult")]
CreateUserResult = Annotated[
    UserSaved | InvalidArgumentError | NotFoundError | _REFUSED,
    strawberry.union("CreateUserResult"),
]
DeactivateUserResult = Annotated[
    UserSaved | NotFoundError | _REFUSED, strawberry.union("DeactivateUserResult")
]
IssueTokenResult = Annotated[
    TokenIssued | InvalidArgumentError | NotFoundError | _REFUSED,
    strawberry.union("IssueTokenResult"),
]
RevokeTokenResult = Annotated[
    TokenRevoked | InvalidArgumentError | NotFoundError | _REFUSED,
    strawberry.union("RevokeTokenResult"),
]


@strawberry.type
class UserQuery:
    @strawberry.field(description="User accounts by id (administrators).")
    async def users(self, info: Info, first: int = 50, after: int | None = None) -> UsersResult:
        require(info, Permission.MANAGE_USERS)
        if not 1 <= first <= MAX_USERS_PAGE:
            raise InvalidArgument("first", f"first must be from 1 to {MAX_USERS_PAGE}")
        async with info.context.read() as session:
            listed = await accounts.list_users(session, after_id=after, limit=first + 1)
        accounts_page = [UserAccount.from_user(x.user, x.grid_codes, x.live_tokens) for x in listed]
        return UserList(users=accounts_page[:first], has_next_page=len(accounts_page) > first)


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Creates a user account (administrators).")
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserResult:
        require(info, Permission.MANAGE_USERS)
        no_nul(name=input.name, department=input.department, phone=input.phone)
        async with info.context.write() as session:
            user = await accounts.create_user(
                session,
                name=input.name,
                role=Role(input.role),
                seat=Seat(input.seat) if input.seat else None,
                department=input.department,
                phone=input.phone,
                grid_ids=await accounts.grid_ids_of_codes(session, input.grids),
            )
        return UserSaved(user=UserAccount.from_user(user, tuple(input.grids)))

    @strawberry.mutation(description="Deactivates a user: their tokens stop working at once.")
    async def deactivate_user(self, info: Info, id: int) -> DeactivateUserResult:
        require(info, Permission.MANAGE_USERS)
        async with info.context.write() as session:
            user = await accounts.deactivate_user(session, user_id=id)
        return UserSaved(user=UserAccount.from_user(user))

    @strawberry.mutation(description="Issues a bearer token for an active user (shown once).")
    async def issue_token(
        self, info: Info, user_id: int, days: int = 30, label: str | None = None
    ) -> IssueTokenResult:
        require(info, Permission.MANAGE_USERS)
        if not 1 <= days <= tokens.MAX_TOKEN_TTL.days:
            raise InvalidArgument("days", f"days must be from 1 to {tokens.MAX_TOKEN_TTL.days}")
        no_nul(label=label)
        async with info.context.write() as session:
            issued = await tokens.issue_token(
                session, user_id=user_id, ttl=timedelta(days=days), label=label
            )
        return TokenIssued(
            token=issued.plaintext, prefix=issued.token.prefix, expires_at=issued.token.expires_at
        )

    @strawberry.mutation(description="Revokes a token by its prefix; revoking twice is harmless.")
    async def revoke_token(self, info: Info, prefix: str) -> RevokeTokenResult:
        require(info, Permission.MANAGE_USERS)
        no_nul(prefix=prefix)
        async with info.context.write() as session:
            token = await tokens.revoke_token(session, prefix=prefix)
        assert token.revoked_at is not None
        return TokenRevoked(prefix=token.prefix, revoked_at=token.revoked_at)
