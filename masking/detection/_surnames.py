"""Chinese surnames for name detection: single-character ones by frequency, and the
compound surnames the name masker also knows.

The single-character list holds about 400 of the most frequent surnames of the mainland
population (they cover well over 95% of people). A surname character is only a
candidate start: most of them are also common characters (高, 金, 方, 于...), so the
name recognizer asks for context or jieba's tags before it reports a name.
"""

from __future__ import annotations

from masking.operators._surnames import COMPOUND_SURNAMES

__all__ = ["COMPOUND_SURNAMES", "SINGLE_SURNAMES"]

_SINGLE = """
王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏
魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚
邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘
祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾
尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师
和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳
谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门
云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾
戎勾茅利於呼居揭干但尉斯元束檀衣信展阴昝智幸奉植衡富尧闭由萧赖洪
"""

SINGLE_SURNAMES: frozenset[str] = frozenset("".join(_SINGLE.split()))
