"""The HTML of the circle page (/c/{code}) and of its 404: server-rendered, self-contained.

No script, font, image or map tile comes from elsewhere: the page must open fast in WeChat's
in-app browser on a weak connection, and must not leak a resident's visit to third parties.
Every text from the database passes through ``html.escape``.
"""

from __future__ import annotations

from html import escape

from geo.circles.queries import CircleCodeRow
from geo.circles.reach import CategoryReach, KindReach, ServiceCircle
from geo.merchants.taxonomy import CategoryGroup
from geo.places.phones import tel_uri

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 -apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",
sans-serif;color:#1f2328;background:#f6f7f9}
header{background:#0b6e4f;color:#fff;padding:16px}
header h1{margin:0;font-size:20px}header p{margin:4px 0 0;font-size:14px;opacity:.9}
main{padding:8px 12px 24px;max-width:640px;margin:0 auto}
h2{font-size:17px;margin:20px 4px 8px}
section{background:#fff;border-radius:10px;margin:10px 0;padding:10px 12px}
h3{font-size:16px;margin:0 0 6px}h3 small{color:#57606a;font-weight:normal}
ul{list-style:none;margin:0;padding:0}
li{padding:8px 0;border-top:1px solid #eaeef2}li:first-child{border-top:0}
.name{font-weight:600}.meta{color:#57606a;font-size:14px}
a.tel{display:inline-block;margin-top:4px;padding:4px 12px;border-radius:14px;
background:#e7f5ee;color:#0b6e4f;text-decoration:none;font-size:14px}
.gaps{background:#fff8e1;border-radius:10px;padding:10px 12px;margin:10px 0;font-size:14px}
footer{color:#57606a;font-size:12px;text-align:center;padding:16px}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def circle_page(place: CircleCodeRow, circle: ServiceCircle) -> str:
    """The place's service circle: by category, nearest first, with tap-to-call links."""
    minutes = f"{circle.minutes:g}"
    head = (
        f"<header><h1>{escape(place.name)}</h1>"
        f"<p>15分钟便民生活圈 · 步行{minutes}分钟（直线约{circle.radius_m:.0f}米）内</p></header>"
    )
    parts = [_gaps(circle)]
    for group, title in ((CategoryGroup.BASIC, "基本保障"), (CategoryGroup.QUALITY, "品质提升")):
        sections = [_category(r) for r in circle.categories if r.category.group is group]
        parts.append(_group(title, sections))
    parts.append(_group("社区服务", [_kind(k) for k in circle.service_points]))
    footer = (
        "<footer>距离为直线距离；步行时间按绕行系数1.3、每分钟80米估算。"
        "营业中的商户才计入。</footer>"
    )
    return _page(
        f"{place.name} · 15分钟生活圈", head + "<main>" + "".join(parts) + "</main>" + footer
    )


def not_found_page() -> str:
    body = (
        "<header><h1>找不到这个生活圈</h1><p>This circle code is unknown or no longer in use.</p>"
        "</header><main><section><p>这个二维码不存在或已停用。请联系社区服务站，"
        "或扫描社区公告栏上的新二维码。</p></section></main>"
    )
    return _page("找不到这个生活圈", body)


def _group(title: str, sections: list[str]) -> str:
    shown = [s for s in sections if s]
    return f"<h2>{escape(title)}</h2>{''.join(shown)}" if shown else ""


def _gaps(circle: ServiceCircle) -> str:
    if not circle.gaps:
        return ""
    names = "、".join(escape(g.zh) for g in circle.gaps)
    return f'<div class="gaps">步行可达范围内暂缺：{names}</div>'


def _category(reach: CategoryReach) -> str:
    if not reach.nearest:
        return ""
    items = "".join(
        _item(n.item.name, n.item.address, n.item.phone, n.distance_m, n.walking_minutes)
        for n in reach.nearest
    )
    count = f"<small>{reach.count}家</small>"
    return f"<section><h3>{escape(reach.category.zh)} {count}</h3><ul>{items}</ul></section>"


def _kind(reach: KindReach) -> str:
    if not reach.nearest:
        return ""
    items = "".join(
        _item(n.item.name, n.item.address, n.item.phone, n.distance_m, n.walking_minutes)
        for n in reach.nearest
    )
    count = f"<small>{reach.count}处</small>"
    return f"<section><h3>{escape(reach.kind.zh)} {count}</h3><ul>{items}</ul></section>"


def _item(name: str, address: str, phone: str | None, metres: float, minutes: float) -> str:
    where = f" · {escape(address)}" if address else ""
    call = ""
    if phone:
        call = f'<br><a class="tel" href="{escape(tel_uri(phone))}">拨打 {escape(phone)}</a>'
    return (
        f'<li><span class="name">{escape(name)}</span><br>'
        f'<span class="meta">{metres:.0f}米 · 步行约{max(1, round(minutes))}分钟{where}</span>'
        f"{call}</li>"
    )
