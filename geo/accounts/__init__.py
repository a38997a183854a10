"""Accounts: users with a workflow role and seat, their grids, API tokens, and the Actor.

* service.create_user / bind_grids / deactivate_user / get_actor
* tokens.issue_token / revoke_token / authenticate (bearer token -> Actor | None)
* actor.Actor.in_scope - how an actor answers the workflow's scopes for a case
"""
