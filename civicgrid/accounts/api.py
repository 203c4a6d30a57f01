"""Who am I, and personal API tokens."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from ninja.security import SessionAuth
from pydantic import Field

from civicgrid.accounts.scope import scope_of

from . import services
from .models import ApiToken

router = Router(tags=["accounts"])


class AssignmentOut(Schema):
    role: str
    region_code: str
    department_id: int | None


class MeOut(Schema):
    id: int
    username: str
    name: str
    is_superuser: bool
    assignments: list[AssignmentOut]


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    days: int | None = Field(default=365, ge=1, le=3650)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


@router.get("/me", response=MeOut)
def me(request):
    user = request.user
    rows = user.assignments.select_related("region").order_by("id")
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "is_superuser": user.is_superuser,
        "assignments": [
            {"role": a.role, "region_code": a.region.code, "department_id": a.department_id}
            for a in rows
        ],
    }


@router.get("/tokens", response=list[TokenOut])
@paginate
def token_list(request):
    return ApiToken.objects.filter(user=request.user).order_by("-id")


@router.post("/tokens", response={201: TokenCreatedOut}, auth=SessionAuth())
def token_create(request, payload: TokenIn):
    """Signed-in sessions only: a leaked token must not be able to mint fresh tokens that
    outlive its own revocation. The raw token is in this answer and nowhere else."""
    token, raw = services.api_token_create(user=request.user, name=payload.name, days=payload.days)
    data = TokenOut.model_validate(token).model_dump()
    return Status(201, {**data, "token": raw})


@router.delete("/tokens/{token_id}", response={204: None})
def token_revoke(request, token_id: int):
    """Another user's token id answers 404, like a token that does not exist."""
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(token=token)
    return Status(204, None)


__all__ = ["router", "scope_of"]
