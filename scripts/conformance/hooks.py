"""schemathesis hooks for `npm run conformance`: keep generated writes from colliding with earlier ones.

Generated values repeat (hypothesis shrinks towards "0", and every run starts from the documented
examples), but the catalog remembers: an Idempotency-Key sent again with another body is a 422
(`idempotency-key-reused`) and a SKU is unique across the catalog (409 `sku-taken`). Each valid key
and each valid SKU gets a suffix unique to the request, so a generated request is judged on its own
shape. Invalid values are left as generated: they must still be rejected. Replays and duplicate SKUs
are tested on purpose elsewhere (postman/, test/integration/command/).
"""

import re
import uuid

import schemathesis

KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _units(text: str) -> int:
    """Length as the service counts it: UTF-16 code units (JavaScript's `length`)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _unique(value: str, limit: int) -> str:
    suffix = "~" + uuid.uuid4().hex[:12]
    while _units(value) + len(suffix) > limit:
        value = value[:-1]
    return value + suffix


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and KEY.match(key):
        headers["Idempotency-Key"] = _unique(key, 255)
    body = case.body
    if case.method.upper() == "POST" and case.path == "/products" and isinstance(body, dict):
        sku = body.get("sku")
        if isinstance(sku, str) and 1 <= _units(sku) <= 64 and "\x00" not in sku:
            body["sku"] = _unique(sku, 64)
