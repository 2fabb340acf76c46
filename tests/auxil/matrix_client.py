"""A coordinator on Matrix: a matrix-nio client with end-to-end encryption that talks to the bot."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomPreset,
    RoomSendResponse,
)

from tests.auxil.synapse import PASSWORD

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class Coordinator:
    """One user with one device, syncing in the background; the bot's notices are collected in order."""

    def __init__(self, homeserver: str, user_id: str, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        self.client = AsyncClient(homeserver, user_id, store_path=str(store), config=config)
        #: (room id, notice) of every notice others sent, in arrival order.
        self.notices: list[tuple[str, RoomMessageNotice]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Coordinator:
        response = await self.client.login(PASSWORD, device_name="coordinator")
        assert isinstance(response, LoginResponse), response
        self.client.add_event_callback(self._on_notice, RoomMessageNotice)  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)
        await self._keys()
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()

    async def _on_notice(self, room: Any, event: RoomMessageNotice) -> None:
        if event.sender != self.client.user_id:
            self.notices.append((room.room_id, event))

    async def _keys(self) -> None:
        client = self.client
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def _loop(self) -> None:
        while True:
            await self.client.sync(timeout=30000)
            await self._keys()

    async def wait(self, predicate: Callable[[], Any], within: float = 20.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    # ------------------------------------------------------------------ rooms
    async def direct_chat(self, bot: str, *, encrypted: bool = True) -> str:
        """A direct chat with ``bot``, once the bot joined it."""
        response = await self.client.room_create(
            is_direct=True,
            invite=[bot],
            preset=RoomPreset.trusted_private_chat,
            initial_state=[ENCRYPTION] if encrypted else [],
        )
        assert isinstance(response, RoomCreateResponse), response
        await self.joined(response.room_id, bot)
        return str(response.room_id)

    async def group_room(self, bot: str, *, encrypted: bool = True, others: tuple[str, ...] = ()) -> str:
        response = await self.client.room_create(
            name="District coordinators",
            invite=[bot, *others],
            preset=RoomPreset.private_chat,
            initial_state=[ENCRYPTION] if encrypted else [],
        )
        assert isinstance(response, RoomCreateResponse), response
        await self.joined(response.room_id, bot)
        return str(response.room_id)

    async def joined(self, room_id: str, user: str, within: float = 20.0) -> None:
        def done() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and user in room.users and not room.users[user].invited

        await self.wait(done, within, f"{user} to join {room_id}")

    async def membership(self, room_id: str, user: str) -> str | None:
        response = await self.client.room_get_state_event(room_id, "m.room.member", user)
        content = getattr(response, "content", None)
        return content.get("membership") if isinstance(content, dict) else None

    # ------------------------------------------------------------------ messages
    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        content = {"msgtype": "m.text", "body": text, **extra}
        response = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def react(self, room_id: str, event_id: str, key: str, *, encrypted: bool) -> str:
        """React to ``event_id``; encrypted as Element does it (the relation stays in clear), or in clear."""
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        if not encrypted:
            # nio never encrypts m.reaction.
            response = await self.client.room_send(room_id, "m.reaction", content)
            assert isinstance(response, RoomSendResponse), response
            return str(response.event_id)
        client = self.client
        if client.olm is not None and client.olm.should_share_group_session(room_id):
            await client.share_group_session(room_id, ignore_unverified_devices=True)
        event_type, encrypted_content = client.encrypt(room_id, "m.reaction", content)
        encrypted_content["m.relates_to"] = content["m.relates_to"]
        return await self.raw(room_id, event_type, encrypted_content)

    async def raw(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Send an event as it is (no encryption by the client)."""
        url = f"{self.client.homeserver}/_matrix/client/v3/rooms/{room_id}/send/{event_type}/{uuid.uuid4().hex}"
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        async with aiohttp.ClientSession() as http, http.put(url, json=content, headers=headers) as response:
            assert response.status == 200, await response.text()
            return str((await response.json())["event_id"])

    def in_room(self, room_id: str) -> list[RoomMessageNotice]:
        return [notice for room, notice in self.notices if room == room_id]

    async def reply(self, room_id: str, after: int = 0, within: float = 20.0) -> RoomMessageNotice:
        """The bot's notice number ``after`` (from 0) in ``room_id``."""

        def found() -> RoomMessageNotice | None:
            mine = self.in_room(room_id)
            return mine[after] if len(mine) > after else None

        notice: RoomMessageNotice = await self.wait(found, within, f"notice #{after + 1} in {room_id}")
        return notice
