"""Additions to the OpenAPI schema drf-spectacular generates."""

from __future__ import annotations

PROBLEM = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Invalid request: the message(s) for each field.",
            "additionalProperties": True,
        },
        "changed": {
            "type": "object",
            "description": "412: each field that changed since your version: {yours, saved}.",
            "additionalProperties": True,
        },
    },
    "required": ["type", "title", "status"],
}

# Status -> when it answers; writes add 412/428 (If-Match).
ANSWERS = {
    "400": "Invalid request: see errors.",
    "401": "No valid token or session.",
    "403": "A read token tried to write, or the session's CSRF check failed.",
    "404": "No such object among those you can see.",
    "429": "Too many requests for this token: see Retry-After.",
}
WRITE_ANSWERS = {
    "412": "Changed since your If-Match version: see changed and the new ETag.",
    "428": "If-Match is missing.",
}


def add_problem_responses(result: dict, generator, request, public) -> dict:
    """Document the problem-details answers every operation can give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "patch", "delete"):
                continue
            answers = dict(ANSWERS)
            if method in ("patch", "delete"):
                answers.update(WRITE_ANSWERS)
            responses = operation.setdefault("responses", {})
            for code, description in answers.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        },
                    },
                )
    return result
