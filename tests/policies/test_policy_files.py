"""Policy as files: the shipped layout, round trips, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.db.init_store import with_demo_principals
from policies.diff import diff_documents
from policies.document import default_policy_document
from policies.errors import PolicyFileError
from policies.files import line_of, load_policy_dir, write_policy_dir

SHIPPED = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    directory = tmp_path / "policy"
    write_policy_dir(
        with_demo_principals(default_policy_document()), directory, "# Wardgate policy version 4"
    )
    return directory


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_given_the_shipped_policy_directory_then_it_reads_as_the_default_policy() -> None:
    files = load_policy_dir(SHIPPED)
    assert files.policy_path.name == "default_policy.yaml"
    assert diff_documents(default_policy_document(), files.document).empty


def test_given_a_written_document_then_reading_it_back_changes_nothing(exported: Path) -> None:
    document = with_demo_principals(default_policy_document())
    files = load_policy_dir(exported)
    assert diff_documents(document, files.document).empty
    assert files.document.rules == document.rules  # order kept too
    assert files.document.principals == document.principals
    assert sorted(p.name for p in exported.iterdir()) == [
        "catalog.yaml",
        "model.conf",
        "policy.yaml",
        "purposes.yaml",
    ]
    for name in ("policy.yaml", "purposes.yaml"):
        assert (
            (exported / name)
            .read_text(encoding="utf-8")
            .startswith("# Wardgate policy version 4\n")
        )
    assert "For reference only" in (exported / "model.conf").read_text(encoding="utf-8")


def test_given_directory_in_the_shipped_layout_then_export_keeps_its_file_name(
    tmp_path: Path,
) -> None:
    (tmp_path / "default_policy.yaml").write_text("roles: {}\n", encoding="utf-8")
    write_policy_dir(default_policy_document(), tmp_path, "# v1")
    assert not (tmp_path / "policy.yaml").exists()
    assert diff_documents(default_policy_document(), load_policy_dir(tmp_path).document).empty


def test_given_a_malformed_rule_then_the_error_names_file_and_line(exported: Path) -> None:
    policy = exported / "policy.yaml"
    replace_in(policy, "  - [marketing, marketing, identity.customer_id, 'read:clear']", "  - [x]")
    line = policy.read_text(encoding="utf-8").splitlines().index("  - [x]") + 1
    with pytest.raises(PolicyFileError) as raised:
        load_policy_dir(exported)
    message = str(raised.value)
    assert message.startswith(f"{policy} line {line}: rules[")
    assert "expected [role, purpose, target, action]" in message


def test_given_an_unknown_key_then_the_error_names_it_and_its_line(exported: Path) -> None:
    policy = exported / "policy.yaml"
    replace_in(policy, "\nrules:", "\nrulez:\n  - [a, b, c, d]\nrules:")
    with pytest.raises(PolicyFileError, match=r"policy.yaml line \d+: unknown key 'rulez'"):
        load_policy_dir(exported)


def test_given_a_key_twice_then_both_lines_are_named(exported: Path) -> None:
    policy = exported / "policy.yaml"
    replace_in(
        policy,
        "  marketing: {description: Marketing platform}",
        "  marketing: {description: Marketing platform}\n  marketing: {description: again}",
    )
    with pytest.raises(PolicyFileError, match=r"line \d+: 'marketing' is defined twice \(first"):
        load_policy_dir(exported)


def test_given_invalid_yaml_then_the_error_names_the_line(exported: Path) -> None:
    (exported / "policy.yaml").write_text("roles: {}\nrules: [\n  - [a, b\n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match=r"policy.yaml line \d+: not valid YAML"):
        load_policy_dir(exported)


def test_given_a_bad_purpose_then_the_error_names_purposes_file_and_line(exported: Path) -> None:
    purposes = exported / "purposes.yaml"
    replace_in(purposes, "legal_basis: contract", "legal_basis: whim")
    with pytest.raises(PolicyFileError, match=r"purposes.yaml line \d+: purposes.customer_service"):
        load_policy_dir(exported)


def test_given_two_policy_files_or_none_then_the_directory_is_refused(exported: Path) -> None:
    (exported / "default_policy.yaml").write_text("roles: {}\n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match=r"both policy\.yaml and default_policy\.yaml"):
        load_policy_dir(exported)
    (exported / "default_policy.yaml").unlink()
    (exported / "policy.yaml").unlink()
    with pytest.raises(PolicyFileError, match=r"no policy\.yaml"):
        load_policy_dir(exported)
    with pytest.raises(PolicyFileError, match="not a directory"):
        load_policy_dir(exported / "nowhere")


def test_given_a_place_then_line_of_finds_it_even_through_dotted_keys() -> None:
    text = (
        "principals:\n"
        "  app: {roles: [a]}\n"
        "  app.v2:\n"
        "    roles: [a]\n"
        "    purposes: [p]\n"
        "rules:\n"
        "  - [a, b, c, d]\n"
        "  - [e, f, g, h]\n"
    )
    assert line_of(text, "principals.app.v2.purposes") == 5
    assert line_of(text, "principals.app.roles") == 2
    assert line_of(text, "rules[1]") == 8
    assert line_of(text, "rules[9]") == 6  # the deepest part that exists
    assert line_of(text, "nothing") is None
