"""Accounts: users with a workflow role and seat, their grids, API tokens, and the Actor.

* service.create_user / bind_grids / deactivate_user / get_actor
* tokens.issue_token / revoke_token / authenticate (bearer token -> Actor | None)
* models.Role / models.Seat - the workflow roles and an agent's seat, as users store them
* actor.Actor.in_scope - how an actor answers the workflow's scopes (actor.Scope) for a case;
  geo.cases.workflow.may puts that together with the transition table

Nothing here imports geo.cases: the cases build on accounts.
"""
