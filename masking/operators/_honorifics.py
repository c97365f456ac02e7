"""Chinese honorifics and titles that follow a surname: 王先生, 李女士, 张经理.

A surname with one of these after it is how a person is named in a note. Name detection
reports surname and honorific as one name, and the name masker shows such a name as the
surname and one mask character (`王*`), as it shows a full name (`王*` for 王伟): the
honorific says nothing the mask should keep (not even the gender).
"""

from __future__ import annotations

__all__ = ["HONORIFICS"]

_WORDS = """
先生 女士 小姐 老师 经理 总监 主任 主管 师傅 阿姨 叔叔 大爷 大妈 同学 医生 大夫 护士 律师
教授 老板 夫人 太太 警官 总
"""
HONORIFICS = frozenset(_WORDS.split())
