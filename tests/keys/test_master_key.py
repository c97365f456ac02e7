"""The master key ring (keys/keyring.py): versions, the local provider, and no key in print."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path

import pytest

from keys import (
    AES256GCM,
    MASTER_KEY_ENV,
    SM4GCM,
    BlindIndexer,
    Keyring,
    LocalKeyProvider,
    MasterKey,
    MasterKeyError,
    Sealer,
)
from keys.data_keys import new_data_key
from keys.keyring import parse_keyring

MATERIAL = bytes(range(32))
OTHER_MATERIAL = bytes(range(100, 132))
THIRD_MATERIAL = bytes(range(200, 232))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_forms(material: bytes) -> list[str]:
    """Every printable form key material could leak in."""
    return [
        material.hex(),
        material.hex().upper(),
        b64(material),
        b64(material).rstrip("="),
        base64.urlsafe_b64encode(material).decode("ascii").rstrip("="),
        repr(material),
    ]


def assert_no_key_material(text: str, *materials: bytes) -> None:
    for material in materials:
        for form in key_forms(material):
            assert form not in text


def ring_json(keys: dict[int, bytes], active: int) -> str:
    return json.dumps({"active": active, "keys": {str(v): b64(k) for v, k in keys.items()}})


def materials(ring: Keyring) -> dict[int, bytes]:
    result: dict[int, bytes] = {}
    for version in ring.versions:
        key = ring.get(version)
        assert key is not None
        result[version] = key.material
    return result


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- MasterKey and Keyring -------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_given_material_of_wrong_length_then_master_key_refuses_it(length: int) -> None:
    material = os.urandom(length)

    with pytest.raises(MasterKeyError, match="32 bytes") as caught:
        MasterKey(material)

    if material:
        assert_no_key_material(str(caught.value), material)


def test_given_master_key_then_key_id_is_stable_short_and_not_a_prefix_of_the_key() -> None:
    key = MasterKey(MATERIAL)

    assert key.key_id == MasterKey(MATERIAL, version=7).key_id
    assert key.key_id != MasterKey(OTHER_MATERIAL).key_id
    assert re.fullmatch(r"[0-9a-f]{16}", key.key_id)
    assert key.key_id not in MATERIAL.hex()


def test_given_active_version_outside_the_ring_then_keyring_refuses_it() -> None:
    with pytest.raises(MasterKeyError, match="active master key version 2 is not in the key ring"):
        Keyring({1: MasterKey(MATERIAL, 1)}, 2)


def test_given_ring_then_active_is_the_active_version_and_get_finds_each_version() -> None:
    ring = Keyring({1: MasterKey(MATERIAL, 1), 2: MasterKey(OTHER_MATERIAL, 2)}, 1)

    assert ring.active.material == MATERIAL
    assert ring.versions == (1, 2)
    assert ring.get(2) is not None
    assert ring.get(2).material == OTHER_MATERIAL  # type: ignore[union-attr]
    assert ring.get(3) is None


def test_given_ring_then_with_new_version_adds_a_fresh_active_key_and_keeps_the_old() -> None:
    ring = Keyring({1: MasterKey(MATERIAL, 1)}, 1)

    rotated = ring.with_new_version()

    assert rotated.versions == (1, 2)
    assert rotated.active_version == 2
    assert rotated.active.version == 2
    assert rotated.active.material not in {MATERIAL, bytes(32)}
    assert len(rotated.active.material) == 32
    assert materials(rotated)[1] == MATERIAL
    # The ring it came from is unchanged: rotation is written out only by save().
    assert ring.versions == (1,)
    assert ring.active_version == 1


def test_given_two_rotations_of_the_same_ring_then_their_new_keys_differ() -> None:
    ring = Keyring({1: MasterKey(MATERIAL, 1)}, 1)

    assert ring.with_new_version().active.material != ring.with_new_version().active.material


def test_given_rotated_ring_then_without_version_drops_the_old_version_only() -> None:
    rotated = Keyring({1: MasterKey(MATERIAL, 1)}, 1).with_new_version()

    trimmed = rotated.without_version(1)

    assert trimmed.versions == (2,)
    assert trimmed.active_version == 2
    assert trimmed.get(1) is None
    assert trimmed.active.material == rotated.active.material
    assert rotated.versions == (1, 2)


def test_given_active_version_then_without_version_refuses_to_retire_it() -> None:
    rotated = Keyring({1: MasterKey(MATERIAL, 1)}, 1).with_new_version()

    with pytest.raises(MasterKeyError, match="active master key version cannot be retired"):
        rotated.without_version(2)

    assert rotated.versions == (1, 2)


def test_given_ring_then_to_json_round_trips_through_parse_keyring() -> None:
    ring = Keyring({1: MasterKey(MATERIAL, 1), 3: MasterKey(OTHER_MATERIAL, 3)}, 3)

    parsed = parse_keyring(ring.to_json(), "test")

    assert parsed.versions == (1, 3)
    assert parsed.active_version == 3
    assert materials(parsed) == {1: MATERIAL, 3: OTHER_MATERIAL}
    assert all(parsed.get(v).version == v for v in parsed.versions)  # type: ignore[union-attr]


def test_given_ring_then_to_json_is_the_documented_document() -> None:
    ring = Keyring({1: MasterKey(MATERIAL, 1), 2: MasterKey(OTHER_MATERIAL, 2)}, 2)

    assert json.loads(ring.to_json()) == {
        "active": 2,
        "keys": {"1": b64(MATERIAL), "2": b64(OTHER_MATERIAL)},
    }


# --- LocalKeyProvider.create -----------------------------------------------------------


def test_given_empty_data_dir_then_create_writes_a_0600_json_key_ring(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    provider = LocalKeyProvider(data_dir, environ={})

    ring = provider.create()

    path = data_dir / "master.key"
    assert provider.path == path
    assert mode_of(path) == 0o600
    document = json.loads(path.read_text(encoding="ascii"))
    assert document["active"] == 1
    assert set(document["keys"]) == {"1"}
    material = base64.b64decode(document["keys"]["1"], validate=True)
    assert len(material) == 32
    assert ring.versions == (1,)
    assert ring.active.material == material
    assert materials(provider.load()) == {1: material}


def test_given_existing_key_ring_then_create_keeps_it_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(ring_json({1: MATERIAL, 2: OTHER_MATERIAL}, 2), encoding="ascii")
    before = path.read_bytes()

    ring = LocalKeyProvider(tmp_path, environ={}).create()

    assert path.read_bytes() == before
    assert ring.active_version == 2
    assert materials(ring) == {1: MATERIAL, 2: OTHER_MATERIAL}


def test_given_created_ring_then_a_second_create_returns_the_same_ring(tmp_path: Path) -> None:
    first = LocalKeyProvider(tmp_path, environ={}).create()
    before = (tmp_path / "master.key").read_bytes()

    second = LocalKeyProvider(tmp_path, environ={}).create()

    assert materials(second) == materials(first)
    assert (tmp_path / "master.key").read_bytes() == before


@pytest.mark.parametrize("content", ["this is not a key\n", '{"active": 1, "keys": \n'])
def test_given_corrupted_existing_key_then_create_refuses_and_does_not_overwrite(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "master.key"
    path.write_text(content, encoding="ascii")

    with pytest.raises(MasterKeyError):
        LocalKeyProvider(tmp_path, environ={}).create()

    assert path.read_text(encoding="ascii") == content


def test_given_two_new_data_dirs_then_create_makes_different_keys(tmp_path: Path) -> None:
    first = LocalKeyProvider(tmp_path / "a", environ={}).create()
    second = LocalKeyProvider(tmp_path / "b", environ={}).create()

    assert first.active.material != second.active.material


def test_given_key_in_environment_then_create_writes_no_file(tmp_path: Path) -> None:
    provider = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: b64(MATERIAL)})

    ring = provider.create()

    assert materials(ring) == {1: MATERIAL}
    assert not (tmp_path / "master.key").exists()


# --- LocalKeyProvider.load -------------------------------------------------------------


def test_given_json_ring_file_then_load_returns_every_version_and_the_active_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "master.key").write_text(
        ring_json({1: MATERIAL, 2: OTHER_MATERIAL}, 2) + "\n", encoding="ascii"
    )

    ring = LocalKeyProvider(tmp_path, environ={}).load()

    assert ring.active_version == 2
    assert materials(ring) == {1: MATERIAL, 2: OTHER_MATERIAL}


def test_given_legacy_single_key_file_then_load_reads_it_as_version_1(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text(b64(MATERIAL) + "\n", encoding="ascii")

    ring = LocalKeyProvider(tmp_path, environ={}).load()

    assert ring.versions == (1,)
    assert ring.active_version == 1
    assert ring.active.material == MATERIAL


def test_given_json_ring_in_environment_then_load_returns_it(tmp_path: Path) -> None:
    environ = {MASTER_KEY_ENV: ring_json({4: MATERIAL, 5: OTHER_MATERIAL}, 4)}

    ring = LocalKeyProvider(tmp_path, environ=environ).load()

    assert ring.active_version == 4
    assert ring.active.version == 4
    assert materials(ring) == {4: MATERIAL, 5: OTHER_MATERIAL}


def test_given_legacy_base64_key_in_environment_then_load_reads_it_as_version_1(
    tmp_path: Path,
) -> None:
    ring = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: b64(MATERIAL)}).load()

    assert ring.versions == (1,)
    assert ring.active_version == 1
    assert ring.active.version == 1
    assert ring.active.material == MATERIAL


def test_given_key_in_environment_then_load_prefers_it_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text(ring_json({1: OTHER_MATERIAL}, 1), encoding="ascii")

    from_env = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: b64(MATERIAL)}).load()
    from_file = LocalKeyProvider(tmp_path, environ={}).load()

    assert from_env.active.material == MATERIAL
    assert from_file.active.material == OTHER_MATERIAL


def test_given_empty_environment_value_then_load_falls_back_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text(ring_json({1: MATERIAL}, 1), encoding="ascii")
    provider = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: ""})

    assert not provider.from_environment
    assert provider.load().active.material == MATERIAL


def test_given_no_file_and_no_environment_then_load_names_both_sources(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError) as caught:
        LocalKeyProvider(tmp_path, environ={}).load()

    message = str(caught.value)
    assert "no master key" in message
    assert str(tmp_path / "master.key") in message
    assert MASTER_KEY_ENV in message
    assert "wardgate init" in message


BAD_RINGS = [
    pytest.param(b64(MATERIAL)[:-4] + "!!!!", "not valid base64", id="legacy-bad-base64"),
    pytest.param(
        base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode("ascii"),
        "not valid base64",
        id="legacy-urlsafe-alphabet",
    ),
    pytest.param(b64(MATERIAL[:16]), "must decode to 32 bytes", id="legacy-16-bytes"),
    pytest.param(b64(MATERIAL + b"\x00"), "must decode to 32 bytes", id="legacy-33-bytes"),
    pytest.param(
        json.dumps({"active": 1, "keys": {"1": b64(MATERIAL), "2": "%%" + b64(OTHER_MATERIAL)}}),
        "not valid base64",
        id="ring-bad-base64",
    ),
    pytest.param(
        json.dumps({"active": 1, "keys": {"1": b64(MATERIAL), "2": b64(OTHER_MATERIAL[:31])}}),
        "must decode to 32 bytes",
        id="ring-wrong-length",
    ),
    pytest.param(
        '{"active": 1, "keys": {"1": "' + b64(MATERIAL) + '"',
        "is malformed",
        id="ring-truncated-json",
    ),
    pytest.param(
        json.dumps({"keys": {"1": b64(MATERIAL)}}), "is malformed", id="ring-without-active"
    ),
    pytest.param(json.dumps({"active": 1}), "is malformed", id="ring-without-keys"),
    pytest.param(
        json.dumps({"active": 1, "keys": [b64(MATERIAL)]}), "is malformed", id="ring-keys-list"
    ),
    pytest.param(
        json.dumps({"active": "one", "keys": {"1": b64(MATERIAL)}}),
        "is malformed",
        id="ring-active-not-a-number",
    ),
    pytest.param(
        json.dumps({"active": 1, "keys": {"first": b64(MATERIAL)}}),
        "is malformed",
        id="ring-version-not-a-number",
    ),
    pytest.param(
        ring_json({1: MATERIAL, 2: OTHER_MATERIAL}, 3),
        "active master key version 3 is not in the key ring",
        id="ring-active-missing",
    ),
]


@pytest.mark.parametrize(("content", "problem"), BAD_RINGS)
def test_given_bad_key_file_then_load_names_the_problem_without_key_material(
    tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / "master.key").write_text(content + "\n", encoding="ascii")

    with pytest.raises(MasterKeyError) as caught:
        LocalKeyProvider(tmp_path, environ={}).load()

    message = str(caught.value)
    assert problem in message
    assert content not in message
    assert_no_key_material(message, MATERIAL, OTHER_MATERIAL)
    assert caught.value.__cause__ is None
    if "active master key version" not in problem:
        assert str(tmp_path / "master.key") in message


@pytest.mark.parametrize(("value", "problem"), BAD_RINGS)
def test_given_bad_key_in_environment_then_load_names_the_variable_not_the_value(
    tmp_path: Path, value: str, problem: str
) -> None:
    with pytest.raises(MasterKeyError) as caught:
        LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: value}).load()

    message = str(caught.value)
    assert problem in message
    assert value not in message
    assert_no_key_material(message, MATERIAL, OTHER_MATERIAL)
    if "active master key version" not in problem:
        assert f"${MASTER_KEY_ENV}" in message


def test_given_key_file_that_is_not_ascii_then_load_says_it_cannot_be_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "master.key").write_bytes(THIRD_MATERIAL)

    with pytest.raises(MasterKeyError, match="cannot be read") as caught:
        LocalKeyProvider(tmp_path, environ={}).load()

    assert_no_key_material(str(caught.value), THIRD_MATERIAL)


def test_given_key_path_that_is_a_directory_then_load_says_it_cannot_be_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "master.key").mkdir()

    with pytest.raises(MasterKeyError, match="cannot be read"):
        LocalKeyProvider(tmp_path, environ={}).load()


# --- LocalKeyProvider.save -------------------------------------------------------------


def test_given_rotated_ring_then_save_replaces_the_file_and_load_returns_it(
    tmp_path: Path,
) -> None:
    provider = LocalKeyProvider(tmp_path, environ={})
    rotated = provider.create().with_new_version()

    provider.save(rotated)

    loaded = provider.load()
    assert loaded.active_version == 2
    assert materials(loaded) == materials(rotated)
    assert mode_of(provider.path) == 0o600
    # Atomic replace: the temporary file is renamed over the key file, nothing is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]


def test_given_key_file_loosened_to_0644_then_save_writes_it_back_as_0600(
    tmp_path: Path,
) -> None:
    provider = LocalKeyProvider(tmp_path, environ={})
    ring = provider.create()
    provider.path.chmod(0o644)

    provider.save(ring.with_new_version())

    assert mode_of(provider.path) == 0o600


def test_given_stale_world_readable_temporary_then_save_still_writes_a_0600_key_file(
    tmp_path: Path,
) -> None:
    provider = LocalKeyProvider(tmp_path, environ={})
    ring = provider.create()
    stale = tmp_path / "master.tmp"
    stale.write_text("left over from an interrupted save\n", encoding="ascii")
    stale.chmod(0o644)

    provider.save(ring.with_new_version())

    assert mode_of(provider.path) == 0o600


def test_given_key_ring_from_environment_then_save_refuses_and_writes_nothing(
    tmp_path: Path,
) -> None:
    provider = LocalKeyProvider(tmp_path, environ={MASTER_KEY_ENV: b64(MATERIAL)})
    rotated = provider.load().with_new_version()

    with pytest.raises(MasterKeyError) as caught:
        provider.save(rotated)

    assert f"${MASTER_KEY_ENV}" in str(caught.value)
    assert_no_key_material(str(caught.value), MATERIAL, rotated.active.material)
    assert list(tmp_path.iterdir()) == []
    assert materials(provider.load()) == {1: MATERIAL}


# --- nothing prints key material -------------------------------------------------------


def test_given_master_key_then_repr_and_str_show_only_its_id_and_version() -> None:
    key = MasterKey(MATERIAL, version=3)

    for text in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert_no_key_material(text, MATERIAL)
        assert key.key_id in text
        assert "version=3" in text
        assert "***" in text


def test_given_keyring_then_repr_and_str_show_versions_but_no_key() -> None:
    ring = Keyring({1: MasterKey(MATERIAL, 1), 2: MasterKey(OTHER_MATERIAL, 2)}, 2)

    for text in (repr(ring), str(ring), f"{ring}"):
        assert_no_key_material(text, MATERIAL, OTHER_MATERIAL)
        assert "active=2" in text
        assert "***" in text


@pytest.mark.parametrize("environ_value", ["legacy", "ring", None])
def test_given_provider_then_repr_hides_the_key_ring(
    tmp_path: Path, environ_value: str | None
) -> None:
    values = {"legacy": b64(MATERIAL), "ring": ring_json({1: MATERIAL, 2: OTHER_MATERIAL}, 2)}
    environ = {} if environ_value is None else {MASTER_KEY_ENV: values[environ_value]}
    provider = LocalKeyProvider(tmp_path, environ=environ)
    ring = provider.create()

    for text in (repr(provider), str(provider)):
        assert_no_key_material(text, *materials(ring).values())
        assert str(tmp_path / "master.key") in text


@pytest.mark.parametrize("suite", [AES256GCM, SM4GCM], ids=lambda s: s.name)
def test_given_data_key_then_repr_and_str_hide_its_material(suite: object) -> None:
    key = new_data_key("cust-01J9Z3", 2, suite)  # type: ignore[arg-type]

    for text in (repr(key), str(key), f"{key}"):
        assert_no_key_material(text, key.material)
        assert "cust-01J9Z3" in text
        assert "***" in text


def test_given_sealer_then_repr_and_str_hide_its_key() -> None:
    sealer = Sealer(MATERIAL)

    for text in (repr(sealer), str(sealer)):
        assert_no_key_material(text, MATERIAL)


@pytest.mark.parametrize("suite", [AES256GCM, SM4GCM], ids=lambda s: s.name)
def test_given_blind_indexer_then_repr_and_str_hide_its_key(suite: object) -> None:
    indexer = BlindIndexer(MATERIAL, suite)  # type: ignore[arg-type]

    for text in (repr(indexer), str(indexer)):
        assert_no_key_material(text, MATERIAL)
        assert "***" in text
