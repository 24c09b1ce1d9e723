"""Request/response plumbing shared by the three replayed APIs."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field


class BadRequest(Exception):
    """A malformed parameter: answered with HTTP 400 like the real API."""


@dataclass
class Req:
    endpoint: str
    path: str
    params: dict[str, str]  # lower-cased names -> last value
    multi: dict[str, list[str]]  # lower-cased names -> every value
    arg: str = ""  # path argument (liveData game id)
    drop: frozenset[str] = frozenset()  # game ids a drop_game fault removes from this answer

    def get(self, name: str, default: str = "") -> str:
        v = self.params.get(name.lower())
        return default if v is None else v

    def values(self, *names: str) -> list[str]:
        out: list[str] = []
        for n in names:
            out += self.multi.get(n.lower(), [])
        return [v for v in out if v != ""]


@dataclass
class Resp:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_resp(obj, status: int = 200) -> Resp:
    return Resp(status, dumps(obj), {"Content-Type": "application/json; charset=utf-8"})


def text_resp(text: str, status: int, content_type: str = "text/plain; charset=utf-8") -> Resp:
    return Resp(status, text.encode("utf-8"), {"Content-Type": content_type})


def result_set(name: str, headers: list[str], rows: list) -> dict:
    return {"name": name, "headers": headers, "rowSet": rows}


_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_date(value: str | None, name: str = "date") -> str | None:
    """'MM/DD/YYYY' or 'YYYY-MM-DD' -> 'YYYY-MM-DD'; '' -> None; anything else -> BadRequest."""
    if value is None or value.strip() == "":
        return None
    v = value.strip()
    m = _MDY.match(v)
    try:
        if m:
            return dt.date(int(m[3]), int(m[1]), int(m[2])).isoformat()
        m = _YMD.match(v)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        pass
    raise BadRequest(f"{name} is not a valid date: {value!r}")


def mdy(date: str) -> str:
    y, m, d = date.split("-")
    return f"{m}/{d}/{y}"


def game_id_param(req: Req) -> str:
    gid = req.get("GameID")
    if not re.fullmatch(r"\d{10}", gid or ""):
        raise BadRequest("The GameID property is required and must be a 10 digit string." if not gid
                         else f"The value '{gid}' is not valid for GameID.")
    return gid
