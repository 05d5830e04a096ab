"""Plausible Chinese place and person names, drawn from a seeded generator (same seed, same names)."""
from __future__ import annotations

import numpy as np

_STEMS_A = list("东西南北上下前后大小新老石溪岭山坑源桥塘湖口头坪岙洋垟港田林竹梅桃李杨柳云龙凤金银玉青白黄红碧安平宁和丰泰兴盛福寿永长高古仙")
_STEMS_B = list("溪岭山坑源桥塘湖口坪岙洋垟港田林竹岗湾川峰岩潭洲滩坞埠庄店桥亭阁园圩湾里坦")
_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐叶潘叶吕蒋蔡丁魏沈雷钟卢毛季项俞金")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂英建国海燕志强建华丹霞晓东立新文斌红梅玉兰春生")


def _unique(rng: np.random.Generator, n: int, make, taken: set[str]) -> list[str]:
    out: list[str] = []
    tries = 0
    while len(out) < n:
        name = make()
        tries += 1
        if name not in taken or tries > 50 * (n + 10):
            if name in taken:
                name = f"{name}{len(out) + 1}"
            taken.add(name)
            out.append(name)
    return out


def place_stems(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """``n`` distinct two-character place stems such as 石岭, 龙溪."""
    taken = set() if taken is None else taken
    return _unique(rng, n, lambda: rng.choice(_STEMS_A) + rng.choice(_STEMS_B), taken)


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` person names (surname + one or two given characters)."""
    sur = rng.choice(_SURNAMES, n)
    g1 = rng.choice(_GIVEN, n)
    g2 = np.where(rng.random(n) < 0.6, rng.choice(_GIVEN, n), "")
    return np.char.add(np.char.add(sur, g1), g2)


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` 11-digit mobile numbers with real prefixes (13x, 15x, 18x, 19x)."""
    prefix = rng.choice(["135", "136", "138", "139", "150", "151", "158", "177", "180", "187", "189", "199"], n)
    rest = rng.integers(0, 10**8, n)
    return np.array([f"{p}{r:08d}" for p, r in zip(prefix, rest)])
