"""The checked YAML reader builds exactly what PyYAML's safe loader builds (values, types,
shared objects for aliases), for every tag the safe loader knows, while it also finds
duplicate keys and bounds alias expansion (tests/test_hostile.py)."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from computeplan import InstanceError
from computeplan.io import documents

LOADERS = [name for name in ("CSafeLoader", "SafeLoader") if hasattr(yaml, name)]


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def both(text: str, base: str) -> tuple[Any, Any]:
    checked = documents._parse_yaml(text, "f.yaml", documents.make_yaml_loader(getattr(yaml, base)))
    return checked, yaml.load(text, Loader=getattr(yaml, base))


SCALARS = """\
ints: [0, 7, -7, +7, 010, 0o17, 0x1F, 0b101, 1_000, 190:20:30, 00, -0, 12345678901234567890]
floats: [1.5, -1.5, +1.5, .5, 1., 1.5e3, 1.5E-3, 6.8523015e+5, 685_230.15, 190:20:30.15, .inf, -.Inf, .NAN, 0.0, -0.0]
bools: [yes, No, TRUE, false, on, OFF, y, n]
nulls: [~, null, Null, ]
strs: [abc, "123", '1.5', "yes", 1e3, 0x, 1_2_, "", 'it''s']
tagged: [!!str 123, !!float 2, !!float --1, !!int "42", !!bool "yes", !!null "", !!float 1e5]
dates: [2002-12-14, 2001-12-14t21:59:43.10-05:00]
bin: !!binary aGVsbG8=
set: !!set {a, b}
omap: !!omap [{a: 1}, {b: 2}]
pairs: !!pairs [{a: 1}, {a: 2}]
keys: {2: int, 1.5: float, true: bool, ~: null, 2002-12-14: date, "x": str}
block: |
  two
  lines
folded: >
  one
  line
"""


@pytest.mark.parametrize("base", LOADERS)
def test_every_safe_tag_as_the_safe_loader_builds_it(base):
    checked, reference = both(SCALARS, base)
    assert same(checked, reference), (checked, reference)
    assert isinstance(checked["dates"][1], datetime.datetime)


@pytest.mark.parametrize("base", LOADERS)
def test_aliases_give_one_shared_object(base):
    text = "a: &x [1, {b: 2}]\nc: *x\nd: &m {k: v}\ne: *m\nf: {<<: *m, z: 1}\n"
    checked, reference = both(text, base)
    assert same(checked, reference)
    assert checked["c"] is checked["a"] and checked["e"] is checked["d"]
    assert checked["f"] == {"k": "v", "z": 1}


@pytest.mark.parametrize("base", LOADERS)
@pytest.mark.parametrize("text", ["a: !!float e\n", "a: !!int 0x\n", "a: !foo x\n", "a: {[1]: 2}\n", "a: !!seq x\n"])
def test_bad_values_fail_as_in_the_safe_loader(base, text):
    with pytest.raises((yaml.YAMLError, ValueError)) as reference:
        yaml.load(text, Loader=getattr(yaml, base))
    with pytest.raises(reference.type):
        documents._parse_yaml(text, "f.yaml", documents.make_yaml_loader(getattr(yaml, base)))


def test_duplicate_key_inside_a_shared_mapping_is_found_once():
    text = "a: &m {k: 1, k: 2}\nb: *m\n"
    with pytest.raises(InstanceError) as ei:
        documents._parse_yaml(text, "f.yaml")
    assert ei.value.problems == ["f.yaml: a.k: duplicate key (line 1, first given at line 1)"]


def test_duplicate_key_under_a_merge_is_still_found():
    text = "base: &b {x: 1}\nm: {<<: *b, y: 1, y: 2}\n"
    with pytest.raises(InstanceError, match=r"m\.y: duplicate key"):
        documents._parse_yaml(text, "f.yaml")


def test_deep_nesting_within_the_parser_limit_is_built_without_recursion():
    # libyaml refuses nesting past 1,000 levels; below that no Python recursion limit applies
    text = "".join(" " * (2 * i) + "b:\n" for i in range(950)) + " " * 1900 + "b: 1\n"
    data = documents._parse_yaml(text, "f.yaml")
    depth = 0
    while isinstance(data, dict):
        data = data["b"]
        depth += 1
    assert data == 1 and depth == 951


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["yes", "0x1F", "010", "1:20", "1_000", ".inf", "~", "2001-01-01", "<<", "&a", "*a"]),
)
keys = st.one_of(st.text(max_size=10), st.integers(), st.sampled_from(["yes", "1.5", "null"]))
trees = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=4),
                     max_leaves=30)


@settings(max_examples=150, deadline=None)
@given(trees, st.booleans(), st.booleans())
def test_any_dumped_document_reads_back_as_the_safe_loader_reads_it(data, flow, share):
    doc = {"first": data, "again": data} if share else {"only": data}  # shared: anchors and aliases
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    for base in LOADERS:
        checked, reference = both(text, base)
        assert same(checked, reference), (text, checked, reference)
        if share and isinstance(data, list | dict):
            assert checked["again"] is checked["first"]


def _refused(text: str) -> None:
    for base in LOADERS:
        with pytest.raises(InstanceError, match="aliases"):
            documents._parse_yaml(text, "f.yaml", documents.make_yaml_loader(getattr(yaml, base)))


def test_alias_expansion_is_bounded_under_a_merge_key_too():
    # every anchor and alias sits under the merge key, where the safe constructor builds
    levels = ["&a0 {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6, t: 7, s: 8, r: 9}"]
    levels += [f"&a{i} {{" + ", ".join(f"k{j}: *a{i - 1}" for j in range(9)) + "}" for i in range(1, 8)]
    _refused("m: {<<: [" + ", ".join(levels) + "], extra: 1}\n")
    modest = "m: {<<: [" + ", ".join(levels[:3]) + "], extra: 1}\n"
    assert documents._parse_yaml(modest, "f.yaml")["m"]["extra"] == 1


def test_alias_expansion_counts_scalars_and_keys():
    _refused("a: &a x\nb: [" + ", ".join(["*a"] * (documents.MAX_ALIAS_NODES + 1)) + "]\n")
    small = "a: &a x\nb: [" + ", ".join(["*a"] * 1000) + "]\n"
    assert documents._parse_yaml(small, "f.yaml")["b"] == ["x"] * 1000


def test_a_mapping_that_contains_itself_is_refused():
    _refused("a: &m {b: {c: *m}}\n")
