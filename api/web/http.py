"""The GraphQL-over-HTTP endpoint: a lean path from request to cached document to execution.

Why not strawberry's own view: it answers `application/json` with status 200 for everything and
re-parses every document. This endpoint follows the GraphQL-over-HTTP spec (media types, status
codes, GET for queries only), caches parsed and validated documents by their text, and runs
them with graphql-core directly. Resolvers, strawberry's exception handlers and typed errors are
unchanged: they live in the schema, not in the view.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from inspect import isawaitable
from typing import Any

import orjson
import strawberry
from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.language import DocumentNode
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from strawberry.http.ides import get_graphql_ide_html

from api.fast.execution import LeanExecutor, is_awaitable
from api.fast.operations import Compiler, Plan
from api.schema.errors import mask_errors
from api.settings import Settings
from api.web.access import request_record
from api.web.cost import CostEstimator, too_costly
from api.web.metrics import OPERATIONS, REPLICA_READS, observe_request
from api.web.redaction import client_names, redact_errors
from api.web.validation import depth_limit_rule
from geo.outages import is_unavailable

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class RequestError(Exception):
    """The HTTP request is not a well-formed GraphQL request: answered before execution."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        #: Put in the error's `extensions.code` (e.g. UNAUTHENTICATED).
        self.code = code


#: Seconds a client should wait before retrying while the database is away.
RETRY_AFTER_S = 1


class DatabaseUnavailable(RequestError):
    """The database could not serve the request (unreachable, restarting, failing over): 503
    with Retry-After, never a 200 with a masked error. Nothing was acknowledged; a retry is
    safe (reports carry an idempotency key, actions an expected version)."""

    def __init__(self) -> None:
        super().__init__(
            "The database is unavailable; try again shortly.",
            503,
            {"Retry-After": str(RETRY_AFTER_S)},
            "SERVICE_UNAVAILABLE",
        )


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A parsed and validated document, or the errors that stop it."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    operations: dict[str | None, OperationDefinitionNode]
    #: Operations whose cost depends on variables (page sizes), with their estimator; the
    #: others were estimated and passed when the document was prepared.
    #: (Names, not nodes: a graphql-core node hashes its whole subtree.)
    costed_per_request: frozenset[str | None] = frozenset()
    estimator: CostEstimator | None = None
    #: Operations answered without the executor (api.fast.operations), by name.
    plans: dict[str | None, Plan] = field(default_factory=dict)


class DocumentCache:
    """Parses and validates each distinct document text once (per process)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        settings: Settings,
        size: int = 1024,
        compiler: Compiler | None = None,
    ) -> None:
        rules = [*specified_rules, depth_limit_rule(settings.max_depth)]
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self._schema = schema
        self._rules = rules
        #: With introspection off, messages name nothing of the schema (api.web.redaction).
        self.hide_schema = not settings.introspection
        self._max_tokens = settings.max_document_tokens
        self.max_cost = settings.max_cost
        self._compiler = compiler
        self.prepare = lru_cache(maxsize=size)(self._prepare)

    def _prepare(self, query: str) -> PreparedDocument:
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError as error:
            return PreparedDocument(None, (error,), {})
        errors = validate(self._schema, document, self._rules, hide_suggestions=self.hide_schema)
        if errors and self.hide_schema:
            errors = redact_errors(errors, client_names(query))
        if errors:
            return PreparedDocument(None, tuple(errors), {})
        operations: dict[str | None, OperationDefinitionNode] = {}
        fragments: dict[str, FragmentDefinitionNode] = {}
        for node in document.definitions:
            if isinstance(node, OperationDefinitionNode):
                operations[node.name.value if node.name else None] = node
            elif isinstance(node, FragmentDefinitionNode):
                fragments[node.name.value] = node
        estimator = CostEstimator(self._schema, fragments)
        per_request: set[str | None] = set()
        for name in operations:
            OPERATIONS.learn(name)
        for name, operation in operations.items():
            if estimator.uses_variable_pages(operation):
                per_request.add(name)
                continue
            cost = estimator.cost(operation)
            if cost > self.max_cost:
                return PreparedDocument(None, (too_costly(operation, cost, self.max_cost),), {})
        plans: dict[str | None, Plan] = {}
        for name, operation in operations.items():
            plan = self._compiler.plan(operation, fragments) if self._compiler else None
            if plan is not None:
                plans[name] = plan
        return PreparedDocument(document, (), operations, frozenset(per_request), estimator, plans)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    outcome: str
    operation_name: str | None
    #: Headers the resolvers asked for (Context.response_headers), e.g. Retry-After.
    headers: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Params:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def negotiate(accept: str | None) -> str:
    """Chooses the response media type; a missing Accept means application/json (legacy)."""
    if not accept:
        return JSON
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "*/*", "application/*"):
            return JSON
    raise RequestError(
        f"Cannot answer with any of the accepted types; use {GRAPHQL_RESPONSE} or {JSON}.", 406
    )


def _json_param(value: Any, name: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise RequestError(f"The '{name}' parameter is not valid JSON.") from None


def read_params(raw: dict[str, Any], *, from_query_string: bool) -> Params:
    """Checks the request parameters' types, as the spec asks, before anything runs."""
    query = raw.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError("The 'query' parameter is required and must be a string.")
    variables = raw.get("variables")
    if from_query_string:
        variables = _json_param(variables, "variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError("The 'variables' parameter must be a map.")
    operation_name = raw.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("The 'operationName' parameter must be a string.")
    extensions = raw.get("extensions")
    if from_query_string:
        extensions = _json_param(extensions, "extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestError("The 'extensions' parameter must be a map.")
    return Params(query, variables, operation_name)


class GraphQLEndpoint:
    """ASGI endpoint serving GraphQL at one path."""

    def __init__(
        self,
        schema: strawberry.Schema,
        settings: Settings,
        make_context: Callable[[Request], Any],
    ) -> None:
        self.schema = schema._schema
        self.executor = LeanExecutor.for_schema(schema)  # plain leaf fields read directly
        self.settings = settings
        self.make_context = make_context
        # One switch for the fast path: operations planned whole, nodes written as JSON.
        compiler = Compiler(schema) if settings.json_nodes else None
        self.documents = DocumentCache(self.schema, settings, compiler=compiler)
        self._ide_html = get_graphql_ide_html("graphiql") if settings.introspection else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        media = JSON
        operation_name: str | None = None
        outcome = "ok"
        try:
            if self._wants_ide(request):
                return HTMLResponse(self._ide_html)
            media = negotiate(request.headers.get("accept"))
            params = await self._read(request)
            operation_name = params.operation_name
            answer = await self._run(request, params, media)
            outcome, operation_name = answer.outcome, answer.operation_name
            return Response(answer.body, answer.status, answer.headers, f"{media}; charset=utf-8")
        except RequestError as error:
            outcome = "unavailable" if error.status == 503 else "request_error"
            entry: dict[str, Any] = {"message": str(error)}
            if error.code:
                entry["extensions"] = {"code": error.code}
            body = orjson.dumps({"errors": [entry]})
            return Response(body, error.status, error.headers, f"{media}; charset=utf-8")
        finally:
            observe_request(operation_name, outcome, time.perf_counter() - started)
            if (record := request_record(request.scope)) is not None:  # the access line's
                record.operation, record.outcome = operation_name, outcome

    def _wants_ide(self, request: Request) -> bool:
        return (
            self._ide_html is not None
            and request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def _read(self, request: Request) -> Params:
        if request.method == "GET":
            return read_params(dict(request.query_params), from_query_string=True)
        if request.method != "POST":
            raise RequestError("Use GET or POST.", 405, {"Allow": "GET, POST"})
        content_type = request.headers.get("content-type", "")
        media, _, options = content_type.partition(";")
        if media.strip().lower() != JSON:
            raise RequestError("POST bodies must be application/json.", 415)
        charset = options.partition("charset=")[2].strip().strip('"').lower()
        if charset and charset not in ("utf-8", "utf8"):
            raise RequestError("Only utf-8 request bodies are accepted.", 415)
        body = await self._read_body(request)
        try:
            raw = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise RequestError("The request body is not valid JSON.") from None
        if not isinstance(raw, dict):
            raise RequestError("The request body must be a JSON object.")
        return read_params(raw, from_query_string=False)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestError(f"The request body is larger than {limit} bytes.", 413)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise RequestError(f"The request body is larger than {limit} bytes.", 413)
                chunks.append(chunk)
        except ClientDisconnect:  # gone, or dropped for sending too slowly (api.web.slow)
            raise RequestError("The request body did not arrive.", 408) from None
        if size == 0:
            raise RequestError("The request body is empty.")
        return b"".join(chunks)

    async def _run(self, request: Request, params: Params, media: str) -> Answer:
        """The response, with its outcome and operation name (for logs and metrics)."""
        fail_status = 400 if media == GRAPHQL_RESPONSE else 200
        name = params.operation_name
        if len(params.query) > self.settings.max_document_chars:
            limit = self.settings.max_document_chars
            error = GraphQLError(f"The document is longer than {limit} characters.")
            return Answer(fail_status, _dump(None, [error], with_data=False), "rejected", name)
        prepared = self.documents.prepare(params.query)
        if prepared.document is None:
            errors = list(prepared.errors)
            return Answer(fail_status, _dump(None, errors, with_data=False), "rejected", name)
        operation = self._pick_operation(prepared, params.operation_name)
        name = operation.name.value if operation.name else None
        if request.method == "GET" and operation.operation != OperationType.QUERY:
            raise RequestError(
                "Only queries may be sent with GET; use POST.", 405, {"Allow": "POST"}
            )
        if name in prepared.costed_per_request and prepared.estimator is not None:
            limit = self.documents.max_cost
            cost = prepared.estimator.cost(operation, params.variables)
            if cost > limit:
                error = too_costly(operation, cost, limit)
                return Answer(fail_status, _dump(None, [error], with_data=False), "rejected", name)
        context = await self._context(request)
        try:
            async with asyncio.timeout(self.settings.request_timeout_s):
                plan = prepared.plans.get(name)
                if plan is not None:
                    body = await plan.answer(context, params.variables)
                    if body is not None:
                        _count_replica_reads(context)
                        return Answer(200, body, "ok", name, context.response_headers or None)
                result = await self._execute(context, prepared.document, params)
                if _unavailable(result) and _read_replica(context, operation):
                    # The replica went away under a query: once more, on the primary (the
                    # watch now sends reads there). Mutations are not run twice.
                    context.replica.mark_down()
                    context = await self._context(request)
                    result = await self._execute(context, prepared.document, params)
        except TimeoutError:
            # The request's wall-clock budget: what the cost estimate misses stops here, its
            # transaction (if any) rolled back with the cancelled resolvers.
            limit = self.settings.request_timeout_s
            error = GraphQLError(
                f"The request took longer than {limit:g} s and was stopped.",
                extensions={"code": "REQUEST_TIMEOUT"},
            )
            return Answer(503, _dump(None, [error], with_data=False), "request_error", name)
        if _unavailable(result):
            raise DatabaseUnavailable()
        _count_replica_reads(context)
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # Variable coercion failed: nothing ran, so the response has no data entry.
            errors = result.errors
            if self.documents.hide_schema:
                errors = redact_errors(errors, client_names(params.query, params.variables))
            body = _dump(None, errors, with_data=False)
            return Answer(fail_status, body, "rejected", name)
        errors = mask_errors(result.errors) if result.errors else None
        outcome = "errors" if errors else "ok"
        headers = getattr(context, "response_headers", None) or None
        return Answer(200, _dump(result.data, errors, with_data=True), outcome, name, headers)

    def _pick_operation(
        self, prepared: PreparedDocument, name: str | None
    ) -> OperationDefinitionNode:
        operations = prepared.operations
        if name is None and len(operations) == 1:
            return next(iter(operations.values()))
        if name is None:
            raise RequestError("The document has several operations: name one in operationName.")
        if name not in operations:
            raise RequestError(f"The document has no operation named '{name}'.")
        return operations[name]

    async def _context(self, request: Request) -> Any:
        context = self.make_context(request)
        if isawaitable(context):  # a factory that authenticates the caller is async
            context = await context
        return context

    async def _execute(
        self, context: Any, document: DocumentNode, params: Params
    ) -> ExecutionResult:
        outcome = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=params.variables,
            operation_name=params.operation_name,
            executor_class=self.executor,
            is_awaitable=is_awaitable,
            hide_suggestions=self.documents.hide_schema,
        )
        if isinstance(outcome, Awaitable):
            return await outcome
        return outcome


def _unavailable(result: ExecutionResult) -> bool:
    return bool(result.errors) and any(is_unavailable(e.original_error) for e in result.errors)


def _read_replica(context: Any, operation: OperationDefinitionNode) -> bool:
    return operation.operation == OperationType.QUERY and getattr(context, "replica_used", False)


def _count_replica_reads(context: Any) -> None:
    if getattr(context, "replica_used", False):
        REPLICA_READS.inc()


def _dump(data: Any, errors: list[GraphQLError] | None, *, with_data: bool) -> bytes:
    payload: dict[str, Any] = {}
    if errors:
        payload["errors"] = [error.formatted for error in errors]
    if with_data:
        payload["data"] = data
    return orjson.dumps(payload)
