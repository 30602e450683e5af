"""The Web API methods `FakeSlack` answers, as plain functions of its state: `(args, token) -> body`.
A `SlackError` becomes `{"ok": false, "error": ...}`. Answers carry the fields our code and slack_sdk
read, with Slack's errors for the mistakes we could make (unknown ts, expired trigger, stale hash,
Block Kit over its limits)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from tests.fakes.slack_api_state import SlackError, Upload, missing
from tests.fakes.slack_api_streams import StreamMethods

Method = Callable[[dict[str, Any], str | None], dict[str, Any]]
MESSAGE_BLOCKS, VIEW_BLOCKS, TEXT_LIMIT = 50, 100, 40_000
TEXT_LIMITS = {"section": 3000, "header": 150}


def refused(error: str, message: str) -> SlackError:
    """An error with the explanation Slack puts in `response_metadata.messages`."""
    return SlackError(error, response_metadata={"messages": [f"[ERROR] {message}"]})


def check_blocks(blocks: Any, limit: int) -> None:
    """The Block Kit rules Slack enforces on the way in (count, shape, the text limits we might hit)."""
    if blocks is None:
        return
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise refused("invalid_blocks", f"no more than {limit} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise refused("invalid_blocks", f"missing type [json-pointer:/blocks/{index}]")
        text = block["text"].get("text") if isinstance(block.get("text"), dict) else None
        most = TEXT_LIMITS.get(block["type"], 3000)
        if isinstance(text, str) and len(text) > most:
            raise refused("invalid_blocks", f"must be less than {most + 1} characters [json-pointer:/blocks/{index}/text]")
        if len(str(block.get("block_id", ""))) > 255:
            raise refused("invalid_blocks", f"must be less than 256 characters [json-pointer:/blocks/{index}/block_id]")


def _view_hash(view: dict[str, Any], version: str) -> str:
    """Like Slack's, it changes on every write, even one that changes nothing."""
    digest = hashlib.sha256(json.dumps([view, version], sort_keys=True).encode()).hexdigest()[:8]
    return f"{version}.{digest}"


class SlackMethods(StreamMethods):
    def methods(self) -> dict[str, Method]:
        return {
            "auth.test": self._auth_test, "team.info": self._team_info, "users.info": self._users_info,
            "chat.postMessage": self._post_message, "chat.update": self._update, "chat.delete": self._delete,
            "chat.postEphemeral": self._post_ephemeral, "views.open": self._views_open,
            "views.update": self._views_update, "views.publish": self._views_publish,
            "conversations.open": self._conversations_open, "conversations.info": self._conversations_info,
            "oauth.v2.access": self._oauth_v2_access, "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload, **self.stream_methods(),
        }  # fmt: skip

    def _team(self, token: str | None) -> str:
        return self.tokens.get(token or "", self.team_id)

    # ---- identity ---------------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        team = self._team(token)
        return {"ok": True, "url": f"https://{team.lower()}.slack.com/", "team": self.teams.get(team, team),
                "user": "resolutionflow", "team_id": team, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}  # fmt: skip

    def _team_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        team = args.get("team") or self._team(token)
        if team not in self.teams:
            raise SlackError("team_not_found")
        return {"ok": True, "team": {"id": team, "name": self.teams[team], "domain": team.lower(),
                                     "email_domain": "", "icon": {}}}  # fmt: skip

    def _users_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user = self.users.get(args.get("user") or "")
        if user is None:
            raise SlackError("user_not_found")
        shown = json.loads(json.dumps(user))
        if not self.email_scope:
            shown["profile"].pop("email", None)
        return {"ok": True, "user": shown}

    # ---- messages ---------------------------------------------------------------------------

    def _channel(self, args: dict[str, Any]) -> str:
        channel = str(args.get("channel") or "")
        if not channel:
            raise SlackError("channel_not_found")
        if channel[0] in "UW":  # posting to a user id lands in the DM with them
            channel = self.dm_channel(channel)[0]
        return channel

    def _content(self, args: dict[str, Any]) -> dict[str, Any]:
        text, blocks = args.get("text"), args.get("blocks")
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if text and len(str(text)) > TEXT_LIMIT:
            raise SlackError("msg_too_long")
        check_blocks(blocks, MESSAGE_BLOCKS)
        content: dict[str, Any] = {"text": text or ""}
        if blocks is not None:
            content["blocks"] = blocks
        if args.get("attachments"):
            content["attachments"] = args["attachments"]
        return content

    def _post_message(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, content = self._channel(args), self._content(args)
        ts = self.next_ts()
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id,
                   "team": self._team(token), "ts": ts, **content}  # fmt: skip
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
            parent = self.message(channel, message["thread_ts"])
            if parent is not None:
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = parent.get("reply_count", 0) + 1
            self.set_status(channel, message["thread_ts"], "", "chat.postMessage")  # a reply clears the status
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.messages.setdefault(channel, {})[ts] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, ts = self._channel(args), str(args.get("ts") or "")
        message = self.message(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        if message.get("bot_id") != self.bot_id:
            raise SlackError("cant_update_message")
        content = self._content(args)
        message.update(content)  # blocks left out keep the old ones, as Slack does
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": dict(message)}

    def _delete(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, ts = self._channel(args), str(args.get("ts") or "")
        if self.messages.get(channel, {}).pop(ts, None) is None:
            raise SlackError("message_not_found")
        self.deleted.append((channel, ts))
        return {"ok": True, "channel": channel, "ts": ts}

    def _post_ephemeral(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, content = self._channel(args), self._content(args)
        if not args.get("user"):
            raise SlackError("user_not_in_channel")
        ts = self.next_ts()
        self.ephemerals.append({"channel": channel, "user": args["user"], "ts": ts,
                                "thread_ts": args.get("thread_ts"), **content})  # fmt: skip
        return {"ok": True, "message_ts": ts}

    # ---- views ------------------------------------------------------------------------------

    def _view(self, args: dict[str, Any], kind: str, token: str | None) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            raise missing("view")
        if view.get("type") != kind:
            raise refused("invalid_arguments", f"must be '{kind}' [json-pointer:/view/type]")
        check_blocks(view.get("blocks", []), VIEW_BLOCKS)
        for part in ("title", "submit", "close"):
            if len(str((view.get(part) or {}).get("text", ""))) > 24:
                raise refused("invalid_arguments", f"must be less than 25 characters [json-pointer:/view/{part}/text]")
        if len(str(view.get("private_metadata", ""))) > 3000:
            raise refused("invalid_arguments", "must be less than 3001 characters [json-pointer:/view/private_metadata]")
        return {"team_id": self._team(token), "app_id": self.app_id, "bot_id": self.bot_id, "blocks": [],
                "private_metadata": "", "callback_id": "", "external_id": "", "state": {"values": {}},
                "previous_view_id": None, "clear_on_close": False, "notify_on_close": False, **view}  # fmt: skip

    def _store_view(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        view["id"] = view_id
        view.setdefault("root_view_id", view_id)
        view["hash"] = _view_hash({k: v for k, v in view.items() if k != "hash"}, self.next_ts())
        self.views[view_id] = view
        return {"ok": True, "view": dict(view)}

    def _views_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        trigger = str(args.get("trigger_id") or "")
        if not trigger:
            raise missing("trigger_id")
        if problem := self.trigger_problem(trigger):
            raise SlackError(problem)
        view = self._view(args, "modal", token)
        self.used_trigger_ids.add(trigger)
        return self._store_view(view, self.new_id("V"))

    def _existing_view(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next((v["id"] for v in self.views.values() if v.get("external_id") == args["external_id"]), None)
        if not view_id or view_id not in self.views:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != self.views[view_id]["hash"]:
            raise SlackError("hash_conflict")
        return self.views[view_id]

    def _views_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        current = self._existing_view(args)
        view = self._view(args, current["type"], token)
        view["root_view_id"] = current.get("root_view_id")
        return self._store_view(view, current["id"])

    def _views_publish(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if not user:
            raise missing("user_id")
        current = self.home_views.get(user)
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        reply = self._store_view(self._view(args, "home", token), current["id"] if current else self.new_id("V"))
        self.home_views[user] = self.views[reply["view"]["id"]]
        return reply

    # ---- conversations ----------------------------------------------------------------------

    def _conversations_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if args.get("channel"):
            return self._conversations_info(args, token)
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            channel = self.new_id("G")
            self.channels[channel] = {"id": channel, "is_mpim": True, "is_im": False, "members": users}
            return {"ok": True, "channel": {"id": channel}}
        channel, existed = self.dm_channel(users[0])
        return {"ok": True, "no_op": existed, "already_open": existed, "channel": {"id": channel}}

    def _conversations_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if channel in self.channels:
            return {"ok": True, "channel": dict(self.channels[channel])}
        user = next((u for u, d in self.dms.items() if d == channel), None)
        if user is None:
            raise SlackError("channel_not_found")
        return {"ok": True, "channel": {"id": channel, "is_im": True, "user": user, "is_open": True}}

    # ---- installation -----------------------------------------------------------------------

    def _oauth_v2_access(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        client_id, secret = args.get("client_id"), args.get("client_secret")
        if self.oauth_client is not None and client_id != self.oauth_client[0]:
            raise SlackError("invalid_client_id")
        if self.oauth_client is not None and secret != self.oauth_client[1]:
            raise SlackError("bad_client_secret")
        code = str(args.get("code") or "")
        if not code or (self.oauth_codes is not None and code not in self.oauth_codes):
            raise SlackError("invalid_code")
        if self.oauth_codes is not None:
            self.oauth_codes.discard(code)  # a code is good once
        reply: dict[str, Any] = json.loads(json.dumps(self.oauth_reply))
        self.add_token(reply["access_token"], reply["team"]["id"], reply["team"]["name"])
        return reply

    # ---- files (the files_upload_v2 flow) ---------------------------------------------------

    def _get_upload_url(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("filename"):
            raise missing("filename")
        if not str(args.get("length") or "").isdigit():
            raise missing("length")
        file_id = self.new_id("F")
        self.uploads[file_id] = Upload(file_id, str(args["filename"]), int(args["length"]))
        return {"ok": True, "upload_url": f"{self.root_url}upload/v1/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise missing("files")
        done = []
        for item in files:
            upload = self.uploads.get(str(item.get("id")))
            if upload is None or upload.content is None:
                raise SlackError("file_not_found")
            upload.title, upload.completed = item.get("title") or upload.filename, True
            upload.channel_id, upload.thread_ts = args.get("channel_id"), args.get("thread_ts")
            upload.initial_comment = args.get("initial_comment")
            if upload.channel_id and upload.thread_ts:  # the file lands as a message in the thread
                self.set_status(str(upload.channel_id), str(upload.thread_ts), "", "files.completeUploadExternal")
            channels = [upload.channel_id] if upload.channel_id else []
            done.append({"id": upload.file_id, "name": upload.filename, "title": upload.title,
                         "size": len(upload.content), "channels": channels})  # fmt: skip
        return {"ok": True, "files": done}
