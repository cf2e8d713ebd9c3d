"""Griffe extension for the API reference (mkdocs.yml, mkdocstrings `extensions:`).

The package exposes most operations twice: `aload` (async) and `load` (sync), and so on.
Where only one of the pair has a docstring, the other one is documented from it, with a
line saying which twin it is, so no entry of the API reference is left empty. A sync twin
whose docstring only points at its async twin ("Blocking version of ...", which is what an
IDE shows) is documented in full from the twin too: its arguments, result and errors.
Any other docstring written in the package wins.
"""

from __future__ import annotations

from typing import Any

import griffe

SYNC_NOTE = (
    "Synchronous form of [`{twin}`][{path}]. It runs on a private event-loop thread, "
    "so it works in scripts, web handlers and Jupyter cells alike."
)
ASYNC_NOTE = "Asynchronous form of [`{twin}`][{path}]."
POINTER = "Blocking version of "


def _doc(obj: griffe.Object | griffe.Alias) -> str:
    try:
        docstring = obj.docstring
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return ""
    return docstring.value.strip() if docstring else ""


class SyncTwinDocstrings(griffe.Extension):
    """Document `name` from `aname` (and the reverse) when one of them has no docstring."""

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        members = cls.members
        for name, member in list(members.items()):
            if name.startswith("_") or not member.is_function:
                continue
            if name.startswith("a") and name[1:] in members:
                sync_name, async_name = name[1:], name
            elif f"a{name}" in members:
                sync_name, async_name = name, f"a{name}"
            else:
                continue
            sync, asynchronous = members[sync_name], members[async_name]
            if not (sync.is_function and asynchronous.is_function):
                continue
            sync_doc, async_doc = _doc(sync), _doc(asynchronous)
            if sync_doc.startswith(POINTER):
                sync_doc = ""
            if name == sync_name and not sync_doc and async_doc:
                note = SYNC_NOTE.format(twin=async_name, path=asynchronous.path)
                sync.docstring = griffe.Docstring(
                    f"{async_doc}\n\n{note}", parent=sync, parser=asynchronous.docstring.parser
                )
            elif name == async_name and not async_doc and sync_doc:
                note = ASYNC_NOTE.format(twin=sync_name, path=sync.path)
                asynchronous.docstring = griffe.Docstring(
                    f"{sync_doc}\n\n{note}", parent=asynchronous, parser=sync.docstring.parser
                )
