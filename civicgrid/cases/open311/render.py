"""Open311 GeoReport v2 output in JSON and XML, and its error shape.

XML is built with xml.etree (every value escaped by the library) and stripped of characters
XML 1.0 cannot carry, so hostile text in a case can never break or inject into a document.
We never parse XML input, so there is no XXE surface.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

# Element name of each item in a list-valued field, as the specification spells them.
LIST_ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def w3c(value: dt.datetime | None) -> str | None:
    """W3C datetime in local time with its offset, e.g. 2025-03-04T09:30:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return w3c(value) or ""
    return _XML_ILLEGAL.sub("", str(value))


def _fill(parent: ET.Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):
            item_name = LIST_ITEMS.get(key, "item")
            for item in value:
                node = ET.SubElement(child, item_name)
                if isinstance(item, dict):
                    _fill(node, item)
                else:
                    node.text = _text(item)
        else:
            child.text = _text(value)


def to_xml(data: Any, root: str, item: str | None = None) -> bytes:
    """`data` is a list of dicts (each an `item` under `root`) or one dict (under `root`)."""
    top = ET.Element(root)
    if isinstance(data, list):
        for row in data:
            _fill(ET.SubElement(top, item or "item"), row)
    else:
        _fill(top, data)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return w3c(value)
    return str(value)


def respond(data: Any, fmt: str, root: str, item: str | None = None, status: int = 200):
    if fmt == "xml":
        body = to_xml(data, root, item)
    else:
        body = json.dumps(data, ensure_ascii=False, default=_json_default).encode("utf-8")
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES.get(fmt, "json"))


class Open311Error(Exception):
    """A refusal in the GeoReport shape: 400 bad input, 403 api_key, 404 not found."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def error_response(fmt: str, status: int, description: str):
    rows = [{"code": status, "description": description}]
    return respond(rows, fmt if fmt in CONTENT_TYPES else "json", "errors", "error", status)
