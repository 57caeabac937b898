"""Fake personal data and ids for simulated studies: the canaries of the privacy tests.

Every simulated student gets a unique 3-character Chinese name with its pinyin, a
guardian's name (sharing the child's surname for half of the grandparents and 70% of
the single parents), an 11-digit mobile-style number starting 1700 or 1710, and a
village address in a made-up county and township (:func:`fake_personal_data`), and
an id in one of the :data:`ID_STYLES` (:func:`student_ids`). None of these are real
people; they exist so that the privacy code has something to find: a name, phone
number or id that reaches an output is a failure the tests can see.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ID_STYLES",
    "PII_COLUMNS",
    "fake_personal_data",
    "school_places",
    "student_ids",
]

PII_COLUMNS = ("name", "name_pinyin", "phone", "address", "guardian_name")
ID_STYLES = ("code", "num5", "num8", "padded", "chinese")


# Common surnames and given-name characters with their pinyin (no tone marks).
_SURNAMES = (
    "王Wang 李Li 张Zhang 刘Liu 陈Chen 杨Yang 黄Huang 赵Zhao 吴Wu 周Zhou 徐Xu 孙Sun 马Ma "
    "朱Zhu 胡Hu 郭Guo 何He 高Gao 林Lin 罗Luo 郑Zheng 梁Liang 谢Xie 宋Song 唐Tang 韩Han "
    "冯Feng 邓Deng 曹Cao 彭Peng 曾Zeng 肖Xiao 田Tian 董Dong 袁Yuan 潘Pan 蒋Jiang 蔡Cai "
    "杜Du 叶Ye 程Cheng 苏Su 魏Wei 丁Ding 任Ren 沈Shen 姚Yao 卢Lu 崔Cui 钟Zhong 谭Tan 范Fan "
    "金Jin 石Shi 廖Liao 贾Jia 夏Xia 方Fang 白Bai 邹Zou 孟Meng 熊Xiong 秦Qin 邱Qiu 尹Yin "
    "薛Xue 段Duan 雷Lei 侯Hou 龙Long 陶Tao 顾Gu 毛Mao 郝Hao 龚Gong 邵Shao 万Wan 严Yan "
    "戴Dai 莫Mo 孔Kong 向Xiang 易Yi 常Chang 乔Qiao 赖Lai 文Wen 付Fu"
).split()
_CHILD_CHARS = (
    "子zi 涵han 浩hao 宇yu 欣xin 怡yi 轩xuan 博bo 佳jia 明ming 俊jun 杰jie 思si 晨chen "
    "睿rui 涛tao 悦yue 婷ting 雪xue 磊lei 诗shi 琪qi 鹏peng 晓xiao 静jing 强qiang 伟wei "
    "娜na 敏min 燕yan 阳yang 辉hui 凯kai 瑶yao 可ke 宁ning 安an 乐le 天tian 舒shu 航hang "
    "志zhi 成cheng 星xing 彤tong 颖ying 露lu 倩qian 泽ze 振zhen 梦meng 雅ya 嘉jia 家jia "
    "文wen 雨yu 豪hao 鑫xin 一yi 林lin 晴qing 朵duo 锦jin"
).split()
_ELDER_CHARS = (
    "桂gui 英ying 兰lan 德de 福fu 国guo 华hua 平ping 红hong 荣rong 秀xiu 梅mei 军jun "
    "建jian 春chun 海hai 志zhi 成cheng 珍zhen 凤feng 金jin 玉yu 明ming 山shan 清qing "
    "云yun 芬fen 友you 生sheng 有you 永yong 贵gui 连lian 香xiang 花hua 兴xing 发fa 财cai"
).split()
_TOWNSHIPS = ("石桥镇", "柳河镇", "龙潭乡", "桃源乡", "双河镇", "清溪镇", "高坪乡", "新田镇",
              "河口镇", "黄土乡", "白杨镇", "青龙乡", "回龙镇", "马场乡", "长岭镇", "花园乡",
              "枫木乡", "金竹镇", "三合乡", "太平镇")
_VILLAGES = ("柳树", "杨家", "王家湾", "马鞍", "红星", "新华", "白果", "大坪", "石门", "水井",
             "桥头", "竹林", "李家沟", "团结", "和平", "幸福", "茶园", "松树坡", "杉木", "沙坝",
             "凉水", "岩脚", "坪上", "田坝", "高峰", "中心", "向阳", "东风", "梨树", "响水")
_COUNTIES = ("青山县", "白水县", "云溪县", "松林县", "金河县", "桃江县")


def _split_table(table):
    return [t[0] for t in table], [t[1:] for t in table]


def _join_pinyin(parts) -> str:
    out = parts[0]
    for p in parts[1:]:
        out += ("'" if p[0] in "aeo" else "") + p
    return out


def _unique_names(rng, n: int, pool: tuple, taken: set, surname_idx=None):
    """n unique 3-character names (and pinyin) not in ``taken``; optional fixed surnames."""
    s_chars, s_py = _split_table(_SURNAMES)
    g_chars, g_py = _split_table(pool)
    names, pinyins = [None] * n, [None] * n
    todo = np.arange(n)
    taken_py = {p for _, p in taken}
    taken_nm = {nm for nm, _ in taken}
    for _ in range(100):
        if todo.size == 0:
            break
        m = todo.size
        si = surname_idx[todo] if surname_idx is not None else rng.integers(0, len(s_chars), m)
        g1 = rng.integers(0, len(g_chars), m)
        g2 = rng.integers(0, len(g_chars), m)
        left = []
        for t, a, b, c in zip(todo, si, g1, g2):
            nm = s_chars[a] + g_chars[b] + g_chars[c]
            py = s_py[a] + " " + _join_pinyin([g_py[b], g_py[c]]).capitalize()
            if b == c or nm in taken_nm or py in taken_py:
                left.append(t)
                continue
            taken_nm.add(nm)
            taken_py.add(py)
            taken.add((nm, py))
            names[t], pinyins[t] = nm, py
        todo = np.asarray(left, dtype=int)
    if todo.size:
        raise ValueError("could not draw enough unique names")
    return names, pinyins, [s_chars.index(nm[0]) for nm in names]


def _unique_strings(rng, n: int, make, what: str):
    """n unique strings from ``make(rng, m) -> list`` by rejection."""
    out, seen = [], set()
    for _ in range(100):
        need = n - len(out)
        if need == 0:
            return out
        for s in make(rng, 2 * need):
            if s not in seen:
                seen.add(s)
                out.append(s)
                if len(out) == n:
                    break
    if len(out) < n:
        raise ValueError(f"could not draw enough unique {what}")
    return out


def fake_personal_data(rng, school_of, township_of_school, county_of_school, guardian) -> dict:
    """Unique fake names, phone numbers, addresses and guardians' names for the students.

    Parameters
    ----------
    rng : numpy.random.Generator
    school_of : ndarray of int, shape (n,)
        School index of each student.
    township_of_school, county_of_school : sequence of str
        Place names per school (:func:`school_places`), used in the addresses.
    guardian : ndarray of str, shape (n,)
        Guardian type of each student (``grandparents``, ``other_relative`` or
        ``one_parent``).

    Returns
    -------
    dict
        A list of n unique strings per :data:`PII_COLUMNS` name:
        ``name``, ``name_pinyin``, ``phone``, ``address`` and ``guardian_name``
        (guardians' names are unique too, and differ from the children's).

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.fake_identity import fake_personal_data
    >>> pii = fake_personal_data(np.random.default_rng(1), np.zeros(3, int), ["石桥镇"],
    ...                          ["青山县"], np.array(["grandparents"] * 3))
    >>> list(pii), len(set(pii["name"])), len(pii["phone"][0]), pii["address"][0][:6]
    (['name', 'name_pinyin', 'phone', 'address', 'guardian_name'], 3, 11, '青山县石桥镇')
    """
    n = school_of.size
    taken: set = set()
    names, pinyin, surname = _unique_names(rng, n, _CHILD_CHARS, taken)
    # paternal grandparents and fathers share the child's surname; others draw their own
    same = (guardian == "grandparents") & (rng.random(n) < 0.5) | (guardian == "one_parent") & (
        rng.random(n) < 0.7)
    s_idx = np.where(same, np.asarray(surname), rng.integers(0, len(_SURNAMES), n))
    g_names, _, _ = _unique_names(rng, n, _ELDER_CHARS, taken, surname_idx=s_idx)

    def make_phone(r, m):
        head = r.choice(np.array(["170", "171"]), m)
        tail = r.integers(0, 10_000_000, m)
        return [f"{h}0{t:07d}" for h, t in zip(head, tail)]

    phones = _unique_strings(rng, n, make_phone, "phone numbers")

    vill = rng.integers(0, len(_VILLAGES), n)
    addr_prefix = [county_of_school[s] + township_of_school[s] for s in school_of]
    addresses, seen = [None] * n, set()
    for i in range(n):
        for _ in range(1000):
            a = (f"{addr_prefix[i]}{_VILLAGES[vill[i]]}村"
                 f"{int(rng.integers(1, 13))}组{int(rng.integers(1, 100))}号")
            if a not in seen:
                break
            vill[i] = rng.integers(0, len(_VILLAGES))
        seen.add(a)
        addresses[i] = a
    return dict(zip(PII_COLUMNS, (names, pinyin, phones, addresses, g_names)))


def school_places(rng, block_of_school) -> tuple[list, list]:
    """Township and county names of the schools.

    Counties follow the blocks (block *b* is the *b*-th county name, cycling);
    townships are dealt in a random order (one permutation drawn from ``rng``),
    cycling when there are more schools than township names.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.fake_identity import school_places
    >>> towns, counties = school_places(np.random.default_rng(0), np.array([0, 0, 1]))
    >>> counties, len(set(towns))
    (['青山县', '青山县', '白水县'], 3)
    """
    township = rng.permutation(len(_TOWNSHIPS))
    township_of_school = [_TOWNSHIPS[township[i % len(_TOWNSHIPS)]]
                          for i in range(len(block_of_school))]
    county_of_school = [_COUNTIES[b % len(_COUNTIES)] for b in block_of_school]
    return township_of_school, county_of_school


_CN_DIGITS = "〇一二三四五六七八九"


def _cn_number(k: int) -> str:
    """1..99 in Chinese numerals (十一, 二十三)."""
    if k < 10:
        return _CN_DIGITS[k]
    tens, ones = divmod(k, 10)
    return (_CN_DIGITS[tens] if tens > 1 else "") + "十" + (_CN_DIGITS[ones] if ones else "")


def student_ids(style, id_prefix, school_code, school_of, serial, block_of_school,
                school_serial, county_of_school) -> np.ndarray:
    """Student ids in one of the :data:`ID_STYLES`, never reused.

    Parameters
    ----------
    style : {"code", "num5", "num8", "padded", "chinese"}
        ``LB-0103-0027`` (prefix, county and school number, serial), 5-digit
        numbers (``11027``), 8-digit numbers (``20020027``), zero-padded serials
        (``007``) or Chinese (``青山三小027``).
    id_prefix : str
        Prefix of ``code`` ids.
    school_code : sequence of str
        Four-digit code per school (block and serial within the block).
    school_of : ndarray of int, shape (n,)
        School index of each student.
    serial : sequence of int
        Serial number of each student within the school (from 1).
    block_of_school, school_serial : ndarray of int
        Block and serial within the block of each school.
    county_of_school : sequence of str
        County name of each school (:func:`school_places`).

    Returns
    -------
    ndarray of str, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.fake_identity import student_ids
    >>> args = (["0101", "0102"], np.array([0, 1, 1]), [1, 1, 2], np.array([0, 0]),
    ...         np.array([1, 2]), ["青山县", "青山县"])
    >>> student_ids("code", "LB", *args).tolist()
    ['LB-0101-0001', 'LB-0102-0001', 'LB-0102-0002']
    >>> student_ids("chinese", "LB", *args).tolist()
    ['青山一小001', '青山二小001', '青山二小002']
    """
    n = school_of.size
    if style == "code":
        return np.array([f"{id_prefix}-{school_code[s]}-{k:04d}" for s, k in zip(school_of, serial)])
    if style == "num5":
        if school_code and (len(school_code) > 89 or max(serial) > 999):
            raise ValueError("num5 ids allow at most 89 schools of at most 999 students")
        return np.array([str(10000 + 1000 * s + k) for s, k in zip(school_of, serial)])
    if style == "num8":
        if max(serial) > 9999:
            raise ValueError("num8 ids allow at most 9999 students per school")
        return np.array([str(20_000_000 + 10_000 * (s + 1) + k) for s, k in zip(school_of, serial)])
    if style == "padded":
        w = max(3, len(str(n)))
        return np.array([f"{i + 1:0{w}d}" for i in range(n)])
    if style == "chinese":
        if max(school_serial) > 99 or max(serial) > 999:
            raise ValueError("chinese ids allow at most 99 schools per block and 999 students")
        out = []
        for s, k in zip(school_of, serial):
            b = int(block_of_school[s])
            county = county_of_school[s][:2] + (_cn_number(b // len(_COUNTIES) + 1)
                                                if b >= len(_COUNTIES) else "")
            out.append(f"{county}{_cn_number(int(school_serial[s]))}小{k:03d}")
        return np.array(out)
    raise ValueError(f"id_style must be one of {ID_STYLES}")
