"""Chinese compound (two-character) surnames, simplified and traditional forms.

A name starting with one of these keeps both characters. The list holds surnames
in real use or well attested; rarer ones whose characters commonly begin a
single-surname name plus given name are left out, since a wrong match shows one
given-name character.
"""

from __future__ import annotations

__all__ = ["COMPOUND_SURNAMES"]

_SIMPLIFIED = """
欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 司空 夏侯 轩辕 令狐
端木 独孤 南宫 西门 东门 南门 百里 呼延 东郭 南郭 申屠 万俟 闻人 澹台 公冶 宗政
濮阳 太史 钟离 单于 赫连 淳于 仲孙 叔孙 鲜于 闾丘 公羊 公良 拓跋 亓官 司寇 子车
颛孙 壤驷 漆雕 乐正 宰父 谷梁 段干 梁丘 左丘 第五 羊舌 微生 公西 巫马 归海 太叔
徐离 完颜 纳兰 贺兰 尔朱 夹谷 北宫 公伯 东野 即墨 青阳 乌孙 爱新觉罗
"""

_TRADITIONAL = """
歐陽 司馬 諸葛 東方 尉遲 公孫 長孫 軒轅 獨孤 南宮 東門 南門 東郭 萬俟 聞人 澹臺
濮陽 鍾離 單于 赫連 仲孫 叔孫 鮮于 閭丘 顓孫 壤駟 樂正 穀梁 巫馬 歸海 徐離 完顏
納蘭 賀蘭 爾朱 夾谷 北宮 東野 烏孫 愛新覺羅
"""

COMPOUND_SURNAMES: frozenset[str] = frozenset((_SIMPLIFIED + _TRADITIONAL).split())
