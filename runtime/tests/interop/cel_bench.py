"""Times Confluent's Python CEL executors on one message, for the `cel` bench.

Reads a JSON request on stdin:
  {"schema": <Avro schema>, "message": {...}, "iterations": N,
   "rules": {"<case>": <rule in Confluent's JSON>, ...}}
Each rule runs through its executor's `transform` (CelExecutor for CEL, CelFieldExecutor with
the Avro field walk for CEL_FIELD), as the serializers call it, in WRITE mode, its compiled
program cached as in a running client; a TRANSFORM changes the message in place, so the
benched transforms give the same message again. Prints {"<case>": <ns per message>, ...} and fails if
a CONDITION does not hold on the message.
"""

import json
import sys
import time

from fastavro import parse_schema
from fastavro.schema import expand_schema

from confluent_kafka.schema_registry import Rule, RuleKind, RuleMode, Schema
from confluent_kafka.schema_registry.common.avro import get_inline_tags, transform
from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor
from confluent_kafka.schema_registry.rules.cel.cel_field_executor import CelFieldExecutor
from confluent_kafka.schema_registry.serde import RuleContext


def main():
    request = json.load(sys.stdin)
    schema_text = json.dumps(request["schema"])
    target = Schema(schema_text, "AVRO")
    parsed = parse_schema(request["schema"])
    expanded = expand_schema(parsed)
    inline_tags = get_inline_tags(parsed)

    def field_transformer(ctx, field_transform, message):
        return transform(ctx, expanded, message, field_transform)

    answer = {}
    for case, rule_json in request["rules"].items():
        rule = Rule.from_dict(rule_json)
        executor = CelFieldExecutor() if rule.type == "CEL_FIELD" else CelExecutor()
        ctx = RuleContext(
            None, None, None, target, "bench-value", RuleMode.WRITE, rule, 0, [rule], inline_tags, field_transformer
        )
        message = json.loads(json.dumps(request["message"]))
        result = executor.transform(ctx, message)
        if rule.kind == RuleKind.CONDITION and result is not True and not isinstance(result, dict):
            raise SystemExit(f"{case}: the condition does not hold: {result!r}")
        iterations = request["iterations"]
        start = time.perf_counter_ns()
        for _ in range(iterations):
            executor.transform(ctx, message)
        answer[case] = (time.perf_counter_ns() - start) / iterations
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
