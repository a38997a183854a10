"""Constants of the demo year: category and channel mix, units, wording, outcome shares.

The mix is an assumption drawn from the seed (street vending, renovation noise, flying-wire
charging and sanitation are its examples; grid patrols and resident reports dominate) and
from published 数字城管 monthly bulletins, where sanitation and street order lead.
"""

from __future__ import annotations

from typing import Final

from geo.cases.categories import Channel

#: Share of received cases per category.
CATEGORY_WEIGHTS: Final = {
    "sanitation": 0.24,
    "street_vending": 0.21,
    "municipal_facilities": 0.12,
    "renovation_noise": 0.08,
    "property_management": 0.08,
    "fire_safety": 0.07,
    "greening": 0.06,
    "other": 0.05,
    "public_safety": 0.05,
    "illegal_construction": 0.04,
}

#: Share of received cases per channel.
CHANNEL_WEIGHTS: Final = {
    Channel.RESIDENT_APP: 0.42,
    Channel.HOTLINE: 0.20,
    Channel.PATROL: 0.19,
    Channel.QUICK_NOTE: 0.09,
    Channel.COURTYARD_VOICE: 0.06,
    Channel.MEETING_LEDGER: 0.03,
    Channel.DEPUTY_PROPOSAL: 0.01,
}

#: The unit each category is normally dispatched to; None: the grid team.
DEPARTMENT_OF: Final[dict[str, str | None]] = {
    "street_vending": "区城市管理局",
    "renovation_noise": "区城市管理局",
    "illegal_construction": "区城市管理局",
    "fire_safety": "二七区消防救援大队",
    "sanitation": "区环卫中心",
    "municipal_facilities": "区住房和城乡建设局",
    "property_management": "区住房和城乡建设局",
    "public_safety": "公安二七分局",
    "greening": "区园林绿化中心",
    "other": None,
}
DEPARTMENTS: Final = sorted({d for d in DEPARTMENT_OF.values() if d})
#: The unit whose seat the demo has (its name says 城管).
CITY_MANAGEMENT: Final = "区城市管理局"
#: The district's registered units (职能部门, geo.accounts.units): the six above handle the
#: demo cases; the rest are registered, as a district has them, for dispatch by agents.
DISTRICT_UNITS: Final = (
    *DEPARTMENTS,
    "区市场监督管理局", "区生态环境分局", "区交通运输局", "区卫生健康委员会", "区教育局",
    "区民政局", "区人力资源和社会保障局", "区应急管理局", "区自然资源和规划分局", "区水利局",
    "区商务局", "区文化广电和旅游局", "区农业农村工作委员会", "区退役军人事务局",
    "区医疗保障局", "区司法局", "区信访局", "区数据局", "国网二七供电公司",
)  # fmt: skip
#: Share of cases sent to the grid team instead of the category's department.
GRID_TEAM_SHARE: Final = 0.2

DESCRIPTIONS: Final[dict[str, tuple[str, ...]]] = {
    "street_vending": ("小游园门口占道经营", "人行道流动摊贩", "早市摊点占用盲道"),
    "renovation_noise": ("周末装修电钻噪音", "夜间装修施工扰民"),
    "fire_safety": ("三楼窗口飞线充电", "楼道堆放杂物堵塞消防通道", "电动车楼道内充电"),
    "sanitation": ("垃圾桶满溢未清运", "绿化带内堆放建筑垃圾", "路面油污未清理"),
    "municipal_facilities": ("雨水井盖破损", "路灯不亮", "人行道地砖松动"),
    "public_safety": ("小区门口群租隐患", "路口交通秩序混乱"),
    "greening": ("行道树枝条遮挡信号灯", "绿地被毁种菜"),
    "illegal_construction": ("楼顶私搭乱建", "院内违规搭建彩钢房"),
    "property_management": ("物业不作为楼道灯不亮", "电梯长期停运"),
    "other": ("共享单车乱停放", "小广告乱贴乱画"),
}

#: Shares of the closed cases' life stories (the rest are the plain closed loop).
CLOSED_VARIANTS: Final = {
    "unevaluated": 0.06,  # the reporter never answered: the system closes after the window
    "return": 0.02,  # first unit returns it as "not ours"
    "extend": 0.015,
    "late": 0.01,  # handled after the deadline
    "rework": 0.01,  # failed on-site check
    "escalate": 0.008,  # 三跨: centre leads, departments co-handle
    "postpone": 0.005,
    "shelve_reopen": 0.002,
}
#: Channels whose reporter is the grid worker on patrol (no resident evaluates those cases).
PATROL_CHANNELS: Final = frozenset({Channel.PATROL, Channel.QUICK_NOTE})
#: Share of plain patrol cases the worker fixed on the spot (自行处置, e.g. the seed's e-bike
#: charging cable taken down once the owner was found).
SELF_HANDLED_SHARE: Final = 0.3
#: Share of evaluations that are "basically satisfied" rather than "satisfied".
BASICALLY_SHARE: Final = 0.12
#: The seed's satisfaction rate; the number of unsatisfied evaluations is chosen to match it.
SATISFACTION_TARGET: Final = 0.9934
REJECTED_SHARE: Final = 0.012
MERGED_SHARE: Final = 0.005
OUTSIDE_REPORTS: Final = 40
NETWORK_SHARE: Final = 0.05  # of resident-app reports: fuzzy location, confirmed by an agent
AWAITING: Final = 3  # reports not yet accepted when the year ends
#: How the 28 open received cases of the seed are split (scaled for other counts).
OPEN_SPLIT: Final = {
    "accepted": 3,  # in time
    "dispatched": 3,  # in time
    "in_progress": 2,  # in time
    "dispatched_overdue": 4,
    "in_progress_overdue": 6,
    "handled_overdue": 4,
    "postponed": 3,
    "shelved": 3,
}
RESIDENTS: Final = 300
DISTRICT_AGENTS: Final = ("赵敏", "钱磊", "孙静", "李娜", "周强", "吴芳")
