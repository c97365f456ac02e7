"""A readable Chinese HTML page of a package (access, portability or explanation):
self-contained, no script, no remote asset; every value escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_TITLES = {
    "customer": "个人基本信息",
    "interactions": "服务记录",
    "orders": "订单记录",
    "consents": "同意记录（授予与撤回）",
    "access_report": "访问记录（谁在何时为何种目的处理了哪些信息）",
    "purposes": "处理规则说明（《个人信息保护法》第四十八条）",
}
_TYPES = {
    "access": "查阅、复制",
    "portability": "转移",
    "explanation": "解释说明处理规则",
}
_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin-bottom:1.5em}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;"
    "vertical-align:top}th{background:#f0f0f0}"
)


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, Mapping):
        return escape("；".join(f"{k}: {v}" for k, v in value.items()))
    if isinstance(value, list | tuple):
        return escape("、".join(str(v) for v in value))
    return escape(str(value))


def _record(record: Mapping[str, object]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in record.items())
    return f"<table>{rows}</table>"


def _rows(items: Sequence[Mapping[str, object]]) -> str:
    if not items:
        return "<p>无</p>"
    columns = list(dict.fromkeys(key for item in items for key in item))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(item.get(c))}</td>" for c in columns) + "</tr>"
        for item in items
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(package: Mapping[str, Any]) -> str:
    request = package.get("request", {})
    kind = _TYPES.get(str(request.get("type")), str(request.get("type")))
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>个人信息{escape(kind)}请求答复</title><style>{_STYLE}</style></head><body>",
        f"<h1>个人信息{escape(kind)}请求答复</h1>",
        f"<p>请求编号：{_cell(request.get('id'))}　收到时间：{_cell(request.get('received_at'))}"
        f"　生成时间：{_cell(request.get('generated_at'))}</p>",
    ]
    for key, title in _TITLES.items():
        if key not in package:
            continue
        value = package[key]
        parts.append(f"<h2>{escape(title)}</h2>")
        parts.append(_record(value) if isinstance(value, Mapping) else _rows(value))
    if package.get("text_zh"):
        parts.append("<h2>说明</h2>")
        parts += [f"<p>{escape(line)}</p>" for line in str(package["text_zh"]).splitlines()]
    parts.append("</body></html>")
    return "".join(parts)
