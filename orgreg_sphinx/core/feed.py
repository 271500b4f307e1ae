"""``feed.xml``: an Atom feed (RFC 4287) of what is new in the registry.

No Sphinx here. :func:`feed_files` returns ``{"feed.xml": bytes}`` from a
:class:`~.model.Registry`: the newest tags, the tags that moved to another image
and the deprecations, newest first and capped, each entry linking to its tag's
row on the namespace page. Written with the standard library's XML writer
(:mod:`xml.etree.ElementTree`), so every value from the tree is escaped.

Deterministic: entries are dated by the manifests (``created``) or by the
commit that made the change (:mod:`.history`), never by the build, so the same
tree and history give the same bytes. A tag with neither date is not in the feed.
"""

from __future__ import annotations

import heapq
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

from .._version import __version__
from .model import Namespace, Registry, Tag, utc_stamp

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_PATH = "feed.xml"
#: entries in the feed when not told otherwise
MAX_ENTRIES = 50
#: ``updated`` of a feed without entries (a fixed time: the bytes stay the same)
EPOCH = "1970-01-01T00:00:00Z"
EventKind = Literal["new", "changed", "deprecated"]


#: what XML 1.0 cannot hold (its ``Char`` production): C0 controls but tab,
#: newline and carriage return, surrogates, U+FFFE and U+FFFF
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def atom_date(value: str | None) -> str | None:
    """A time stamp as RFC 3339 in UTC (:func:`~.model.utc_stamp`)."""
    return utc_stamp(value)


def xml_text(text: str) -> str:
    """*text* with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


@dataclass(frozen=True)
class Event:
    """One entry of the feed: a tag that appeared, moved, or was deprecated."""

    kind: EventKind
    namespace: Namespace
    tag: Tag
    updated: str

    @property
    def title(self) -> str:
        name = f"{self.namespace.name}:{self.tag.name}"
        return f"{name} deprecated" if self.kind == "deprecated" else name

    def key(self) -> str:
        """What identifies the event for good: the tag, its image, and the kind."""
        return f"{self.namespace.name}:{self.tag.name}@{self.tag.digest}#{self.kind}"

    def summary(self) -> str:
        tag = self.tag
        if self.kind == "deprecated":
            return f"Deprecated: {tag.deprecated}"
        text = f"{self.namespace.name}:{tag.name} is {tag.digest} ({tag.size_bytes} bytes)"
        if self.kind == "changed" and tag.history is not None and tag.history.former:
            text += f"; it was {tag.history.former[0].digest} before"
        if tag.deprecated:
            text += f". Deprecated: {tag.deprecated}"
        return text


def tag_events(ns: Namespace, tag: Tag) -> list[Event]:
    """The feed entries of one tag (none when it has no date)."""
    history = tag.history
    found: list[Event] = []
    updated = atom_date(tag.created) or atom_date(history.since if history else None)
    if updated is not None:
        kind: EventKind = "changed" if history is not None and history.former else "new"
        found.append(Event(kind, ns, tag, updated))
    if tag.deprecated:
        when = atom_date(history.deprecated_since if history else None) or updated
        if when is not None:
            found.append(Event("deprecated", ns, tag, when))
    return found


def events(registry: Registry, limit: int = MAX_ENTRIES) -> list[Event]:
    """The newest *limit* events of the registry, newest first."""
    found = [e for ns in registry.namespaces for tag in ns.tags for e in tag_events(ns, tag)]
    if len(found) > limit > 0:  # only those as new as the limit-th newest can be kept
        cut = heapq.nlargest(limit, (e.updated for e in found))[-1]
        found = [e for e in found if e.updated >= cut]
    found.sort(key=Event.key)
    found.sort(key=lambda e: e.updated, reverse=True)
    return found[:limit]


def tag_url(site: str, ns: Namespace, tag: Tag) -> str:
    """The absolute address of a tag's row on its namespace page."""
    return f"{site}{ns.name}/#tag-{tag.name}"


def _text(parent: ET.Element, name: str, text: str, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, name, attrs)
    child.text = xml_text(text)
    return child


def feed_xml(registry: Registry, site: str, title: str, limit: int = MAX_ENTRIES) -> bytes:
    """The Atom feed of *registry* published at *site* (absolute, ending in ``/``)."""
    chosen = events(registry, limit)
    # plain names under a default namespace declared once: ElementTree writes no prefixes
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _text(feed, "id", site + FEED_PATH)
    _text(feed, "title", title)
    _text(feed, "updated", chosen[0].updated if chosen else EPOCH)
    ET.SubElement(
        feed, "link", {"rel": "self", "href": site + FEED_PATH, "type": "application/atom+xml"}
    )
    ET.SubElement(feed, "link", {"rel": "alternate", "href": site, "type": "text/html"})
    author = ET.SubElement(feed, "author")
    _text(author, "name", title)
    _text(feed, "generator", "orgreg-sphinx", version=__version__)
    for event in chosen:
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", uuid.uuid5(uuid.NAMESPACE_URL, site + event.key()).urn)
        _text(entry, "title", event.title)
        _text(entry, "updated", event.updated)
        ET.SubElement(
            entry,
            "link",
            {
                "rel": "alternate",
                "type": "text/html",
                "href": tag_url(site, event.namespace, event.tag),
            },
        )
        ET.SubElement(entry, "category", {"term": event.kind})
        _text(entry, "summary", event.summary())
    ET.indent(feed)
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def feed_files(
    registry: Registry, site: str, title: str, limit: int = MAX_ENTRIES
) -> dict[str, bytes]:
    """``{"feed.xml": bytes}``; empty without the site's absolute address (an
    Atom feed's links must be absolute)."""
    if not site.startswith(("https://", "http://")):
        return {}
    if not site.endswith("/"):
        site += "/"
    return {FEED_PATH: feed_xml(registry, site, title, limit)}
