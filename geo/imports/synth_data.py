"""Word lists and shares behind ``synth.py``: names, category mix, typical opening hours.

The shares are rounded from what Chinese city business registers show for a residential
district (catering the largest group, then daily retail and personal services); they only
need to look plausible on a map and exercise rare categories.
"""

from __future__ import annotations

from typing import Final

#: (category code, share of merchants)
CATEGORY_MIX: Final = (
    ("restaurant", 0.26), ("convenience_store", 0.10), ("hair_beauty", 0.08),
    ("breakfast_shop", 0.06), ("cafe", 0.06), ("fresh_supermarket", 0.05),
    ("education", 0.05), ("pharmacy", 0.04), ("post_express", 0.03), ("repair", 0.03),
    ("fitness", 0.03), ("wellness", 0.03), ("culture_leisure", 0.03), ("supermarket", 0.02),
    ("laundry", 0.025), ("clinic", 0.02), ("pet_services", 0.02), ("photo_print", 0.015),
    ("housekeeping", 0.015), ("child_care", 0.01), ("elderly_care", 0.008),
    ("bookstore", 0.006), ("fresh_market", 0.006), ("community_canteen", 0.005),
)  # fmt: skip

NOUNS: Final = {
    "convenience_store": ("便利店", "便利超市", "24小时便利店", "便民店"),
    "fresh_supermarket": ("生鲜超市", "菜店", "生鲜店", "果蔬店"),
    "breakfast_shop": ("早餐店", "胡辣汤", "豆浆油条", "包子铺", "早点"),
    "fresh_market": ("农贸市场", "菜市场"),
    "pharmacy": ("大药房", "药店", "医药超市", "药房"),
    "laundry": ("洗衣店", "干洗店", "洗染店"),
    "hair_beauty": ("理发店", "美发沙龙", "美容院", "发型设计"),
    "post_express": ("快递服务站", "邮政所", "快递代收点"),
    "supermarket": ("超市", "购物广场", "量贩超市"),
    "repair": ("家电维修", "修鞋配钥匙", "手机维修", "自行车维修"),
    "housekeeping": ("家政服务", "保洁服务", "月嫂家政"),
    "photo_print": ("图文快印", "照相馆", "打印复印"),
    "restaurant": ("烩面馆", "饭店", "小吃", "面馆", "饺子馆", "烧烤", "火锅", "私房菜"),
    "cafe": ("咖啡", "茶饮", "奶茶店", "茶馆"),
    "community_canteen": ("社区食堂", "爱心食堂"),
    "fitness": ("健身房", "瑜伽馆", "游泳馆", "羽毛球馆"),
    "wellness": ("足疗", "养生馆", "推拿", "中医养生"),
    "clinic": ("诊所", "中医诊所", "口腔诊所", "社区门诊"),
    "elderly_care": ("养老院", "老年公寓", "日间照料中心"),
    "child_care": ("托育中心", "宝贝之家", "托管班"),
    "education": ("培训学校", "教育", "艺术培训", "书法班", "舞蹈学校"),
    "bookstore": ("书店", "书屋", "书局"),
    "culture_leisure": ("KTV", "棋牌室", "影院", "剧本杀", "台球"),
    "pet_services": ("宠物店", "宠物医院", "宠物美容"),
}

#: Share of names with a branch suffix such as （大学路店）.
BRANCH_SHARE: Final = 0.08

STREETS: Final = (
    "德化街", "大学路", "京广路", "航海路", "长江路", "淮河路", "嵩山路", "兴华街", "政通路",
    "陇海路", "二七路", "解放路", "铭功路", "福华街", "建中街", "大同路", "一马路", "民主路",
    "康复街", "平安路", "汝河路", "齐礼阎路", "碧云路", "幸福路", "庆丰街", "工人路", "樱桃沟",
    "帝湖", "南三环", "交通路",
)  # fmt: skip
SHOP_WORDS: Final = (
    "惠民", "万家", "金鼎", "鑫源", "福满多", "百姓", "康宁", "同仁", "仁和", "益民", "阳光",
    "幸福里", "佳美", "好邻居", "鸿福", "兴隆", "和顺", "天天", "悦来", "永盛",
)  # fmt: skip
SURNAMES: Final = (
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
    "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "冯", "于", "董", "程", "曹", "袁", "许",
)  # fmt: skip

_DAYTIME = "Mo-Su 08:00-22:00"
#: Typical weekly hours by category: (weight, hours.parse_hours text).
HOURS: Final[dict[str, tuple[tuple[float, str], ...]]] = {
    "convenience_store": ((0.35, "24/7"), (0.45, "Mo-Su 07:00-23:00"), (0.2, "Mo-Su 06:30-01:00")),
    "fresh_supermarket": ((1, "Mo-Su 06:30-21:30"),),
    "breakfast_shop": ((0.7, "Mo-Su 05:30-10:30"), (0.3, "Mo-Su 06:00-13:00")),
    "fresh_market": ((1, "Mo-Su 05:30-19:00"),),
    "pharmacy": ((0.2, "24/7"), (0.8, _DAYTIME)),
    "laundry": ((1, "Mo-Sa 08:30-20:00; Su 10:00-18:00"),),
    "hair_beauty": ((1, "Mo-Su 09:30-22:00"),),
    "post_express": ((1, "Mo-Su 08:00-21:00"),),
    "supermarket": ((1, _DAYTIME),),
    "repair": ((1, "Mo-Sa 08:00-19:00; Su off"),),
    "housekeeping": ((1, "Mo-Fr 08:30-18:00; Sa 09:00-17:00; Su off"),),
    "photo_print": ((1, "Mo-Sa 08:00-21:00; Su 09:00-18:00"),),
    "restaurant": (
        (0.5, "Mo-Su 10:30-14:00,17:00-22:00"),
        (0.3, "Mo-Su 11:00-22:30"),
        (0.2, "Mo-Su 17:00-03:00"),  # night barbecue, past midnight
    ),
    "cafe": ((0.6, _DAYTIME), (0.4, "Mo-Su 10:00-23:30")),
    "community_canteen": ((1, "Mo-Su 06:30-09:00,11:00-13:00,17:00-19:00"),),
    "fitness": ((0.7, "Mo-Su 06:00-23:00"), (0.3, "24/7")),
    "wellness": ((1, "Mo-Su 11:00-02:00"),),
    "clinic": ((1, "Mo-Sa 08:00-12:00,14:00-20:00; Su 08:00-12:00"),),
    "elderly_care": ((1, "24/7"),),
    "child_care": ((1, "Mo-Fr 07:30-18:00"),),
    "education": ((1, "Mo-Fr 16:00-21:00; Sa,Su 08:30-20:30"),),
    "bookstore": ((1, "Mo-Su 09:00-21:30"),),
    "culture_leisure": ((0.5, "Mo-Su 12:00-03:00"), (0.5, "Mo-Su 09:00-24:00")),
    "pet_services": ((1, "Mo-Su 09:00-21:00"),),
}

#: (service point kind, share)
KIND_MIX: Final = (
    ("public_toilet", 0.18), ("community_service_station", 0.12),
    ("convenience_service_point", 0.11), ("civilization_practice_station", 0.10),
    ("elderly_care", 0.09), ("elderly_canteen", 0.07), ("party_mass_service_centre", 0.06),
    ("health_service_station", 0.06), ("police_office", 0.06), ("sports_ground", 0.06),
    ("child_care", 0.05), ("reading_room", 0.04),
)  # fmt: skip

#: Name patterns by kind; {place} is a street or community name.
KIND_NAMES: Final = {
    "community_service_station": ("{place}社区服务站", "{place}社区便民服务中心"),
    "party_mass_service_centre": ("{place}社区党群服务中心", "{place}党群服务驿站"),
    "civilization_practice_station": ("{place}社区新时代文明实践站",),
    "health_service_station": ("{place}社区卫生服务站", "{place}社区卫生服务中心"),
    "elderly_care": ("{place}社区养老服务站", "{place}日间照料中心"),
    "elderly_canteen": ("{place}长者食堂", "{place}老年助餐点"),
    "child_care": ("{place}社区托育点", "{place}普惠托育园"),
    "police_office": ("{place}社区警务室",),
    "convenience_service_point": ("{place}便民服务点", "{place}城市书房便民点"),
    "public_toilet": ("{place}公厕", "{place}环卫驿站公厕"),
    "reading_room": ("{place}社区阅览室", "{place}城市书房"),
    "sports_ground": ("{place}健身广场", "{place}全民健身中心"),
}

_OFFICE = "Mo-Fr 08:30-12:00,14:30-18:00; Sa 09:00-12:00"
KIND_HOURS: Final[dict[str, tuple[tuple[float, str], ...]]] = {
    "community_service_station": ((1, _OFFICE),),
    "party_mass_service_centre": ((1, _OFFICE),),
    "civilization_practice_station": ((1, _OFFICE),),
    "health_service_station": ((1, "Mo-Su 08:00-17:30"),),
    "elderly_care": ((1, "Mo-Su 08:00-18:00"),),
    "elderly_canteen": ((1, "Mo-Su 11:00-13:00,17:00-18:30"),),
    "child_care": ((1, "Mo-Fr 07:30-17:30"),),
    "police_office": ((1, "24/7"),),
    "convenience_service_point": ((1, "Mo-Su 08:00-20:00"),),
    "public_toilet": ((0.6, "24/7"), (0.4, "Mo-Su 05:00-23:00")),
    "reading_room": ((1, "Tu-Su 09:00-17:00"),),
    "sports_ground": ((1, "24/7"),),
}
