"""Merchant categories of the 15-minute convenience circle and their walking-time tiers.

Source
------
The categories follow 《城市一刻钟便民生活圈建设指南》, issued by the general offices of the
Ministry of Commerce and ten other departments on 20 July 2021, §一 (基本概念):

* 基本保障类业态 (basic guarantee, :attr:`CategoryGroup.BASIC`): "便利店、综合超市、菜市场、
  生鲜超市（菜店）、早餐店、洗染店、美容美发店、照相文印店、家政服务点、维修点、药店、
  邮政快递综合服务点（快递公共服务站）". We keep all twelve as the guide lists them. 菜市场
  (a market hall of many stalls) and 生鲜超市（菜店） (one fresh-food shop) stay two
  categories, as in the guide; the parenthesised 菜店 (vegetable shop) belongs to the latter.
* 品质提升类业态 (quality improvement, :attr:`CategoryGroup.QUALITY`): the guide gives
  examples such as specialty dining, fitness, wellness, new-style bookshops, education and
  leisure; we add the 一老一小 services (elderly care, child care), clinics, community
  canteens, cafés and pet services that MOFCOM's pilot reports mention, for a dozen.

Walking-time tiers (``reach_minutes``)
--------------------------------------
The guide itself only fixes the 15-minute radius. The 5/8/15 split is MOFCOM's own
explanation at its 2 September 2021 press conference: within a 5-minute walk a convenience
store or small supermarket; within 8 minutes fast food/breakfast, a pharmacy, laundry,
hairdresser and farmers' market; within 15 minutes a large supermarket, repairs and the
community service platform. Read as frequency of use: 5 = daily basics, 8 = several times a
week, 15 = weekly or occasional. Where the press conference is silent we chose:

* 生鲜超市（菜店） → 5: it is the small, daily food shop (the "小超市" of the 5-minute tier).
* 邮政快递综合服务点 → 8: parcels are collected several times a week.
* 照相文印店, 家政服务点 → 15: occasional needs (housekeepers come to the home anyway).

This puts 早餐店 and 菜市场 at 8, not 5 as some local plans do; MOFCOM's wording wins.
Quality categories have ``reach_minutes = None``: the guide asks for them "因地制宜" (as
local conditions allow), so no walking-time target exists and coverage reports must not
flag their absence.

Walking distances (``reach_radius_m``, ``walking_minutes``) are in ``geo.places.walking``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from geo.errors import DomainError

__all__ = [
    "BASIC_CATEGORIES",
    "CATEGORIES",
    "REACH_TIERS_MIN",
    "Category",
    "CategoryGroup",
    "UnknownCategory",
    "get_category",
]

REACH_TIERS_MIN = (5, 8, 15)
"""The walking-time tiers, in minutes, a basic category may be assigned to."""


class CategoryGroup(StrEnum):
    """The guide's two families of formats (业态)."""

    BASIC = "basic"
    QUALITY = "quality"

    @property
    def zh(self) -> str:
        """The guide's Chinese name of the group."""
        return "基本保障类" if self is CategoryGroup.BASIC else "品质提升类"


@dataclass(frozen=True, slots=True)
class Category:
    """One merchant format; ``code`` is stable ASCII and safe to store and expose."""

    code: str
    zh: str
    en: str
    group: CategoryGroup
    reach_minutes: int | None


class UnknownCategory(DomainError):
    """A category code that is not in :data:`CATEGORIES`."""

    def __init__(self, code: str) -> None:
        super().__init__(
            f"unknown merchant category {code!r}; the merchantCategories query lists the codes"
        )
        self.code = code


_B, _Q = CategoryGroup.BASIC, CategoryGroup.QUALITY

_ALL = (
    Category("convenience_store", "便利店", "Convenience store", _B, 5),
    Category("fresh_supermarket", "生鲜超市（菜店）", "Fresh-food shop", _B, 5),
    Category("breakfast_shop", "早餐店", "Breakfast shop", _B, 8),
    Category("fresh_market", "菜市场", "Fresh market", _B, 8),
    Category("pharmacy", "药店", "Pharmacy", _B, 8),
    Category("laundry", "洗染店", "Laundry and dry cleaning", _B, 8),
    Category("hair_beauty", "美容美发店", "Hair and beauty salon", _B, 8),
    Category("post_express", "邮政快递综合服务点", "Post and parcel point", _B, 8),
    Category("supermarket", "综合超市", "Supermarket", _B, 15),
    Category("repair", "维修点", "Repair shop", _B, 15),
    Category("housekeeping", "家政服务点", "Housekeeping services", _B, 15),
    Category("photo_print", "照相文印店", "Photo and print shop", _B, 15),
    Category("restaurant", "特色餐饮", "Restaurant", _Q, None),
    Category("cafe", "咖啡茶饮", "Café and tea house", _Q, None),
    Category("community_canteen", "社区食堂", "Community canteen", _Q, None),
    Category("fitness", "运动健身", "Sports and fitness", _Q, None),
    Category("wellness", "保健养生", "Health and wellness", _Q, None),
    Category("clinic", "社区诊所", "Community clinic", _Q, None),
    Category("elderly_care", "养老服务", "Elderly care", _Q, None),
    Category("child_care", "托育服务", "Child care", _Q, None),
    Category("education", "教育培训", "Education and training", _Q, None),
    Category("bookstore", "新式书店", "Bookstore", _Q, None),
    Category("culture_leisure", "文化休闲", "Culture and leisure", _Q, None),
    Category("pet_services", "宠物服务", "Pet services", _Q, None),
)

CATEGORIES: Mapping[str, Category] = MappingProxyType({c.code: c for c in _ALL})
"""Every category by code, basic ones first (nearest tier first), then quality ones."""

BASIC_CATEGORIES: tuple[Category, ...] = tuple(c for c in _ALL if c.group is CategoryGroup.BASIC)
"""The guide's twelve basic-guarantee categories, nearest tier first."""


def get_category(code: str) -> Category:
    """Returns the category with this exact code; raises :class:`UnknownCategory` otherwise."""
    try:
        return CATEGORIES[code]
    except KeyError:
        raise UnknownCategory(code) from None
