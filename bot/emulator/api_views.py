"""views.*: modals (a stack of at most three per person) and Home tabs.

Slack validates the view before it spends the trigger, so a rejected view leaves the trigger
usable; hashes guard against overwriting a view someone changed in the meantime.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.emulator.backend import Backend
from bot.emulator.blockkit import assign_ids, check_view
from bot.emulator.params import ApiError, Args
from bot.emulator.shapes import view_json
from bot.emulator.state import JSON, View


def _view(args: Args, *, kind: str) -> JSON:
    spec: Any = args.json("view")
    errors = check_view(spec)
    if not errors and spec.get("type") != kind:
        errors = [f"[ERROR] must be {kind} [json-pointer:/view/type]"]
    if errors:
        raise ApiError("invalid_arguments", messages=errors)
    assert isinstance(spec, dict)
    return {**spec, "blocks": assign_ids(spec.get("blocks", []))}


def _check_external_id(backend: Backend, spec: JSON, own: View | None = None) -> None:
    external_id = spec.get("external_id")
    if external_id:
        other = backend.state.find_view(external_id=str(external_id))
        if other is not None and (own is None or other.id != own.id):
            raise ApiError("duplicate_external_id")


def _check_hash(view: View, args: Args) -> None:
    wanted = args.opt("hash")
    if wanted and wanted != view.hash:
        raise ApiError("hash_conflict")


def views_open(backend: Backend, args: Args) -> JSON:
    spec = _view(args, kind="modal")
    _check_external_id(backend, spec)
    user = backend.redeem_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))
    return {"view": view_json(backend, backend.state.open_modal(user, spec))}


def views_push(backend: Backend, args: Args) -> JSON:
    spec = _view(args, kind="modal")
    _check_external_id(backend, spec)
    user = backend.redeem_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))
    try:
        view = backend.state.push_modal(user, spec)
    except KeyError as exc:
        raise ApiError("view_not_found", messages=["[ERROR] no modal is open"]) from exc
    except OverflowError as exc:
        raise ApiError("push_limit_reached") from exc
    return {"view": view_json(backend, view)}


def views_update(backend: Backend, args: Args) -> JSON:
    view_id, external_id = args.opt("view_id"), args.opt("external_id")
    if not view_id and not external_id:
        raise ApiError("invalid_arguments", messages=["[ERROR] view_id or external_id is required"])
    current = backend.state.find_view(view_id=view_id, external_id=external_id)
    if current is None:
        raise ApiError("view_not_found")
    spec = _view(args, kind=current.type)
    _check_external_id(backend, spec, own=current)
    _check_hash(current, args)
    return {"view": view_json(backend, backend.state.replace_view(current, spec))}


def views_publish(backend: Backend, args: Args) -> JSON:
    user = backend.user(args.get("user_id"))
    spec = _view(args, kind="home")
    current = backend.state.home(user.id)
    if current is not None:
        _check_hash(current, args)
    return {"view": view_json(backend, backend.state.publish_home(user.id, spec))}


METHODS: dict[str, Callable[[Backend, Args], JSON]] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
