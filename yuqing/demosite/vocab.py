"""Names and short phrases for the demo site: the fictional enterprise, its units and its users.

Everything is made up. Every string must stay encodable in GBK (the retirees' board is GBK).
"""

from __future__ import annotations

ENTERPRISE = "青岚能源集团"
SITE_NOTE = "本站为演示用虚构网站，所有单位、人物和事件均为虚构。"

BOARDS: dict[str, str] = {
    "staff": "职工论坛",
    "retirees": "退休职工之家",
    "youth": "子女就业交流",
}
# The letter each board uses in a template's WHERE field.
BOARD_LETTERS: dict[str, str] = {"staff": "s", "retirees": "r", "youth": "y"}
MESSAGE_LETTER = "m"
GBK_BOARD = "retirees"

UNITS: tuple[str, ...] = (
    "第一采油厂",
    "第二采油厂",
    "第三采油厂",
    "钻井二公司",
    "井下作业公司",
    "油建公司",
    "供电公司",
    "机械厂",
    "炼化厂",
    "运输公司",
    "职工医院",
    "退休职工管理中心",
    "物业公司",
)
# Units drawn for a template's {unit}; the service units come only from templates that name them.
DRAWN_UNITS: tuple[str, ...] = UNITS[:10]
# Units the injected spike may hit: production units with a large front-line workforce.
SPIKE_UNITS: tuple[str, ...] = ("第三采油厂", "钻井二公司", "井下作业公司", "第一采油厂")

HANDLE_STEMS: tuple[str, ...] = (
    "老石油人",
    "采油工",
    "井场老兵",
    "钻工老张",
    "一线工人",
    "退休老王",
    "退休老李",
    "石油娃",
    "油田子弟",
    "夜班工",
    "机修工",
    "仪表工",
    "巡井人",
    "炼化人",
    "老司机",
    "矿区老户",
    "戈壁红柳",
    "沙漠胡杨",
    "磕头机",
    "抽油机旁",
    "小城青年",
    "油二代",
)
HANDLE_SUFFIXES: tuple[str, ...] = ("", "", "_", "a", "88", "666", "的家", "在路上")

REPORTERS: tuple[str, ...] = (
    "集团新闻中心",
    "通讯员 李晓明",
    "通讯员 王建华",
    "记者 张海燕",
    "记者 刘志强",
    "集团公司宣传部",
)

MESSAGE_OPENINGS: dict[str, tuple[str, ...]] = {
    "negative": ("尊敬的领导：您好！", "领导您好："),
    "neutral": ("领导您好！", "您好："),
    "positive": ("尊敬的领导：", "领导您好！"),
}
MESSAGE_CLOSINGS: dict[str, tuple[str, ...]] = {
    "negative": ("恳请领导高度重视，尽快解决！", "希望领导能过问一下，给我们一个说法。"),
    "neutral": ("盼复，谢谢！", "请领导予以解答。"),
    "positive": ("再次表示感谢！", "谢谢领导！"),
}

THREAD_REPLIES: dict[str, tuple[str, ...]] = {
    "negative": (
        "顶，我们单位也是这样。",
        "同样的情况，反映了好几次都没用。",
        "楼主说的都是实话。",
        "支持楼主，希望有人管管。",
        "+1，等了好久了。",
        "不是一个人的问题，大家都一样。",
    ),
    "neutral": (
        "帮顶。",
        "同问，坐等知情人。",
        "去人事科问问应该就知道了。",
        "这个文件我也看到了。",
        "关注一下。",
    ),
    "positive": (
        "确实，这次办得不错。",
        "点赞！",
        "好事，希望以后都这样。",
        "替楼主高兴。",
    ),
}

CN_MONTH_COUNTS: tuple[str, ...] = ("两", "三", "四", "五")
AMOUNTS: tuple[int, ...] = (300, 500, 800, 1200, 1500, 2000, 2600, 3000)
