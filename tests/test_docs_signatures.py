"""Opening, loading and listing take the constructor's options as named keywords.

IDEs and the API reference show a method's parameters from its signature, so `create`,
`load`, `list_sessions` and `list_conversations` (and their `a` twins) name every option
instead of hiding them in `**options`. The sync and async twins have the same signature, and
every keyword option of the constructor is accepted by the methods that return sessions
(`create`, `load`, `list_conversations`): a new constructor option fails these tests until
they pass it on too. `list_sessions` returns `SessionInfo` and takes only where to read
(`redis_client`, `prefix`) and which conversations (`tags`); `list_conversations` takes `tags`
too. Each option is checked to take effect, against a real Redis. `search`,
`enable_search`, `disable_search`, `enable_message_index`, `disable_message_index` and the tag
methods have one signature with their twins.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import redis
from agents.memory import SessionSettings

from redis_openai_agents import AgentSession

TWINS = ("create", "load", "list_sessions", "list_conversations")
# A listing of SessionInfo only needs to know where to read, and which conversations.
LISTING_OPTIONS = {"redis_client", "prefix", "tags"}
OTHER_TWINS = (
    "search",
    "enable_search",
    "disable_search",
    "enable_message_index",
    "disable_message_index",
)
TAG_TWINS = ("tags", "set_tags", "add_tags", "remove_tags")


def keyword_options(function: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    return {
        name: parameter
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }


def constructor_options() -> set[str]:
    return set(keyword_options(AgentSession.__init__)) - {"user_id", "redis_url"}


@pytest.mark.parametrize("name", TWINS)
def test_no_options_are_hidden_in_kwargs(name: str) -> None:
    for method in (getattr(AgentSession, name), getattr(AgentSession, f"a{name}")):
        kinds = {p.kind for p in inspect.signature(method).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{method.__name__} takes **kwargs"


@pytest.mark.parametrize("name", TWINS)
def test_sync_and_async_twins_have_one_signature(name: str) -> None:
    sync = inspect.signature(getattr(AgentSession, name))
    asynchronous = inspect.signature(getattr(AgentSession, f"a{name}"))
    assert list(sync.parameters.values()) == list(asynchronous.parameters.values())
    assert inspect.iscoroutinefunction(getattr(AgentSession, f"a{name}"))


@pytest.mark.parametrize("name", TWINS)
def test_every_constructor_option_is_accepted(name: str) -> None:
    method = getattr(AgentSession, name)
    params = inspect.signature(method).parameters
    wanted = LISTING_OPTIONS if name == "list_sessions" else constructor_options()
    if name == "list_conversations":
        wanted = wanted | {"tags"}
    if name == "create":
        wanted = wanted | {"conversation_id"}
    missing = wanted - set(params)
    assert not missing, f"AgentSession.{name} does not take {sorted(missing)}"
    for option, parameter in keyword_options(AgentSession.__init__).items():
        if option in params:
            assert params[option].default == parameter.default, (
                f"{name}({option}=...) defaults differently from the constructor"
            )


@pytest.mark.parametrize("name", OTHER_TWINS + TAG_TWINS)
def test_search_and_tag_twins_have_one_signature(name: str) -> None:
    sync = inspect.signature(getattr(AgentSession, name))
    asynchronous = inspect.signature(getattr(AgentSession, f"a{name}"))
    assert list(sync.parameters.values()) == list(asynchronous.parameters.values())
    assert inspect.iscoroutinefunction(getattr(AgentSession, f"a{name}"))
    kinds = {p.kind for p in sync.parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    if name in OTHER_TWINS:
        assert {"redis_client", "prefix"} <= set(sync.parameters)


def test_the_options_take_effect(redis_url: str, prefix: str, user_id: str) -> None:
    client = redis.Redis.from_url(redis_url)
    settings = SessionSettings(limit=1)
    created = AgentSession.create(
        user_id,
        ttl=60,
        conversation_id="named-by-caller",
        redis_client=client,
        prefix=prefix,
        session_settings=settings,
    )
    assert created.conversation_id == "named-by-caller"
    assert created.prefix == prefix and created.session_settings is settings
    created.store_exchange("first", "second")
    assert len(AgentSession._sync(created.get_items())) == 1  # the session_settings limit
    assert client.exists(f"{prefix}:conv:{{{user_id}}}:named-by-caller")
    assert 0 < client.ttl(f"{prefix}:conv:{{{user_id}}}:named-by-caller") <= 60

    loaded = AgentSession.load(
        "named-by-caller",
        user_id,
        ttl=120,
        redis_client=client,
        prefix=prefix,
        session_settings=settings,
    )
    assert loaded.ttl == 120 and loaded.session_settings is settings

    infos = AgentSession.list_sessions(user_id, redis_client=client, prefix=prefix)
    assert [info.conversation_id for info in infos] == ["named-by-caller"]
    assert AgentSession.list_sessions(user_id, redis_client=client) == []  # default prefix
    created.set_tags(["t"])
    tagged = AgentSession.list_sessions(user_id, redis_client=client, prefix=prefix, tags=["t"])
    assert [info.conversation_id for info in tagged] == ["named-by-caller"]
    assert AgentSession.list_sessions(user_id, redis_client=client, prefix=prefix, tags=["x"]) == []
    listed_by_tag = AgentSession.list_conversations(
        user_id, redis_client=client, prefix=prefix, tags=["x"]
    )
    assert listed_by_tag == []

    listed = AgentSession.list_conversations(
        user_id, ttl=30, redis_client=client, prefix=prefix, session_settings=settings
    )
    assert [(s.conversation_id, s.ttl, s.prefix) for s in listed] == [
        ("named-by-caller", 30, prefix)
    ]
    assert listed[0].session_settings is settings
    assert listed[0].message_count() == 2
    created.clear()
    client.close()


async def test_the_async_listing_of_conversations(
    redis_url: str, prefix: str, user_id: str
) -> None:
    created = await AgentSession.acreate(user_id, redis_url, prefix=prefix)
    listed = await AgentSession.alist_conversations(user_id, redis_url, prefix=prefix)
    assert [s.conversation_id for s in listed] == [created.conversation_id]
    await created.aclear()
    await created.aclose()
