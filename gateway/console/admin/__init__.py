"""The security admin's screens of the console: principals, roles, purposes and rules
with the current policy version; editing a rule or a principal; versions with a
side-by-side diff and rollback; explain; API keys of console principals. Every screen
calls the use cases of `gateway.policy` (never their controllers) under the viewer's
governed call, so rights, separation of duties, the diff and the one audit entry per
request are the API's own."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

from gateway.console.admin import explain, keys, principal_edit, rule_edit, tables, versions

ADMIN_ROUTES: tuple[HTTPRouteHandler, ...] = (
    tables.principals,
    tables.roles,
    tables.purposes,
    tables.rules,
    rule_edit.new_rule,
    rule_edit.edit_rule,
    rule_edit.add_rule,
    rule_edit.replace_rule,
    rule_edit.remove_rule,
    principal_edit.edit_principal,
    principal_edit.update_principal,
    versions.versions,
    versions.diff,
    versions.confirm_rollback,
    versions.rollback,
    explain.explain_form,
    explain.explain,
    keys.keys,
    keys.issue_key,
    keys.revoke_key,
)

__all__ = ["ADMIN_ROUTES"]
