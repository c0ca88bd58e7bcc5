"""The one reader of the package's own YAML files (wardanalysis/_yaml.py)."""

from __future__ import annotations

import os

import pytest
import yaml

from wardanalysis import _yaml


def test_a_key_given_twice_is_refused_with_the_file_and_line(tmp_path):
    path = tmp_path / "messages.yml"
    path.write_text("messages:\n  a.b: {ja: あ, en: a}\n  c.d: {ja: い, en: c}\n"
                    "  a.b: {ja: う, en: b}\n", encoding="utf-8")
    with pytest.raises(_yaml.DuplicateKeyError, match=r"messages.yml, line 4: key 'a.b' given twice"):
        _yaml.read(path)


def test_a_key_repeated_in_different_mappings_is_fine(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("one: {ja: あ, en: a}\ntwo: {ja: い, en: b}\n", encoding="utf-8")
    assert _yaml.read(path) == {"one": {"ja": "あ", "en": "a"}, "two": {"ja": "い", "en": "b"}}


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError, match="broken.yml"):
        _yaml.read(path)


def test_a_file_is_parsed_once_until_it_changes(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("a: 1\n", encoding="utf-8")
    first = _yaml.read(path)
    assert _yaml.read(path) is first
    path.write_text("a: 22\n", encoding="utf-8")
    os.utime(path, ns=(0, 1))  # a new modification time even on a coarse-grained file system
    assert _yaml.read(path) == {"a": 22}


def test_the_c_parser_is_used_where_pyyaml_has_it():
    assert issubclass(_yaml._Loader, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
