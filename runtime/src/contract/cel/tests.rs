use serde_json::json;

use super::*;

fn order_schema() -> Value {
    json!({
        "type": "record", "name": "Order", "namespace": "com.example",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "ssn", "type": "string", "confluent:tags": ["PII"]},
            {"name": "note", "type": ["null", "string"], "default": null},
            {"name": "amount", "type": "double"},
            {"name": "quantity", "type": "int"},
            {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
                {"name": "city", "type": "string"},
                {"name": "zip", "type": "string"}
            ]}},
            {"name": "lines", "type": {"type": "array", "items": "string"}},
            {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}}
        ]
    })
}

fn order() -> Value {
    json!({
        "id": "o-1", "ssn": "123-45-6789", "note": null, "amount": 12.5, "quantity": 3,
        "address": {"city": "Paris", "zip": "75001"}, "lines": ["a", "b"], "status": "NEW"
    })
}

fn rules(list: Value) -> CelRules {
    rules_tagged(list, json!({}))
}

fn rules_tagged(list: Value, tags: Value) -> CelRules {
    let list: Vec<Rule> = serde_json::from_value(list).unwrap();
    let tags: BTreeMap<String, BTreeSet<String>> = serde_json::from_value(tags).unwrap();
    CelRules::compile(&list, Schema::Avro(&order_schema()), &tags).unwrap()
}

fn cel(kind: &str, mode: &str, expr: &str) -> Value {
    json!({"name": "r", "kind": kind, "mode": mode, "type": "CEL", "expr": expr})
}

fn field(kind: &str, expr: &str) -> Value {
    json!({"name": "f", "kind": kind, "mode": "WRITE", "type": "CEL_FIELD", "expr": expr})
}

fn accepted(decision: Decision) -> Value {
    match decision {
        Decision::Accept(message) => message,
        other => panic!("refused: {other:?}"),
    }
}

#[test]
fn a_condition_accepts_or_refuses_with_confluents_message() {
    let set = rules(json!([cel(
        "CONDITION",
        "WRITE",
        "message.amount > 10.0 && has(message.address.city)"
    )]));
    assert_eq!(accepted(set.run(Mode::Write, order())), order());
    let mut cheap = order();
    cheap["amount"] = json!(2.0);
    assert_eq!(
        set.run(Mode::Write, cheap),
        Decision::Refuse(Refusal {
            rule: "r".into(),
            mode: Mode::Write,
            cause: Cause::Condition(
                "Rule expr failed: message.amount > 10.0 && has(message.address.city)".into()
            ),
        })
    );
}

#[test]
fn a_condition_must_give_a_bool() {
    let set = rules(json!([cel("CONDITION", "WRITE", "message.id")]));
    let Decision::Refuse(refusal) = set.run(Mode::Write, order()) else {
        panic!("a string result passed");
    };
    assert!(matches!(refusal.cause, Cause::Evaluation(_)), "{refusal:?}");
}

#[test]
fn macros_and_string_functions_work() {
    for expr in [
        "message.lines.all(l, size(l) == 1)",
        "message.lines.exists(l, l == 'b')",
        "message.id.startsWith('o-') && message.ssn.matches('^[0-9]{3}-[0-9]{2}-[0-9]{4}$')",
        "message.address.city.lowerAscii() == 'paris' && message.address.zip.endsWith('01')",
        "!has(message.missing) && message.note == null",
        "isEmail('ada@example.com') && !'ada'.isEmail() && message.id.isHostname()",
        "'123e4567-e89b-12d3-a456-426614174000'.isUuid() && isIpv4('10.0.0.1') && !isIpv6('10.0.0.1')",
    ] {
        let set = rules(json!([cel("CONDITION", "WRITE", expr)]));
        assert_eq!(accepted(set.run(Mode::Write, order())), order(), "{expr}");
    }
}

#[test]
fn modes_choose_the_rules_that_run() {
    let set = rules(json!([
        cel("CONDITION", "READ", "false"),
        cel("CONDITION", "UPGRADE", "false"),
    ]));
    assert!(matches!(set.run(Mode::Write, order()), Decision::Accept(_)));
    assert!(matches!(set.run(Mode::Read, order()), Decision::Refuse(_)));
    assert!(matches!(
        set.run(Mode::Upgrade, order()),
        Decision::Refuse(_)
    ));
    assert!(matches!(
        set.run(Mode::Downgrade, order()),
        Decision::Accept(_)
    ));
    let both = rules(json!([cel("CONDITION", "WRITEREAD", "false")]));
    assert!(both.runs_in(Mode::Write) && both.runs_in(Mode::Read));
    assert!(!both.runs_in(Mode::Upgrade));
    let migration = rules(json!([cel("CONDITION", "UPDOWN", "false")]));
    assert!(migration.runs_in(Mode::Downgrade) && !migration.runs_in(Mode::Read));
}

#[test]
fn read_runs_rules_last_to_first() {
    let set = rules(json!([
        cel("TRANSFORM", "WRITEREAD", "{'step': message.step + 'a'}"),
        cel("TRANSFORM", "WRITEREAD", "{'step': message.step + 'b'}"),
    ]));
    assert_eq!(
        accepted(set.run(Mode::Write, json!({"step": ""}))),
        json!({"step": "ab"})
    );
    assert_eq!(
        accepted(set.run(Mode::Read, json!({"step": ""}))),
        json!({"step": "ba"})
    );
}

#[test]
fn actions_decide_what_follows() {
    let mut none = cel("CONDITION", "WRITE", "false");
    none["onFailure"] = json!("NONE");
    assert_eq!(
        accepted(rules(json!([none])).run(Mode::Write, order())),
        order()
    );

    let mut dlq = cel("CONDITION", "WRITEREAD", "message.amount < 5.0");
    dlq["onFailure"] = json!("ERROR,DLQ");
    let set = rules(json!([dlq]));
    assert!(matches!(set.run(Mode::Write, order()), Decision::Refuse(_)));
    let Decision::DeadLetter(refusal) = set.run(Mode::Read, order()) else {
        panic!("not dead-lettered");
    };
    assert_eq!((refusal.rule.as_str(), refusal.mode), ("r", Mode::Read));

    let mut stop = cel("CONDITION", "WRITE", "true");
    stop["onSuccess"] = json!("DLQ");
    let Decision::DeadLetter(refusal) = rules(json!([stop])).run(Mode::Write, order()) else {
        panic!("onSuccess DLQ did not stop the message");
    };
    assert_eq!(refusal.cause, Cause::Succeeded);

    let mut unknown = cel("CONDITION", "WRITE", "true");
    unknown["onFailure"] = json!("ERROR,NONE");
    let list: Vec<Rule> = serde_json::from_value(json!([unknown])).unwrap();
    let error = CelRules::compile(&list, Schema::Avro(&order_schema()), &BTreeMap::new());
    assert!(matches!(error, Err(CelError::Action(_))), "{error:?}");
}

#[test]
fn disabled_rules_and_other_types_do_not_run() {
    let mut off = cel("CONDITION", "WRITE", "false");
    off["disabled"] = json!(true);
    let encrypt = json!({"name": "e", "kind": "TRANSFORM", "mode": "WRITE", "type": "ENCRYPT"});
    let set = rules(json!([off, encrypt]));
    assert!(!set.runs_in(Mode::Write));
    assert_eq!(accepted(set.run(Mode::Write, order())), order());
}

#[test]
fn a_failed_transform_leaves_the_message_as_it_was() {
    let mut transform = cel("TRANSFORM", "WRITE", "message.missing");
    transform["onFailure"] = json!("NONE");
    assert_eq!(
        accepted(rules(json!([transform])).run(Mode::Write, order())),
        order()
    );
}

#[test]
fn a_guard_skips_the_body() {
    let set = rules(json!([cel(
        "CONDITION",
        "WRITE",
        "message.amount > 100.0 ; false"
    )]));
    assert!(matches!(set.run(Mode::Write, order()), Decision::Accept(_)));
    let set = rules(json!([cel(
        "TRANSFORM",
        "WRITE",
        "message.amount > 100.0 ; {'x': 1}"
    )]));
    assert_eq!(accepted(set.run(Mode::Write, order())), order());
}

#[test]
fn field_transforms_see_names_types_and_tags() {
    let set = rules(json!([field(
        "TRANSFORM",
        "typeName == 'STRING' ; value + '|' + name + '|' + fullName + '|' + (size(tags) > 0 ? tags[0] : '-')"
    )]));
    let out = accepted(set.run(Mode::Write, order()));
    assert_eq!(out["id"], json!("o-1|id|com.example.Order.id|-"));
    assert_eq!(
        out["ssn"],
        json!("123-45-6789|ssn|com.example.Order.ssn|PII")
    );
    assert_eq!(
        out["address"]["city"],
        json!("Paris|city|com.example.Address.city|-")
    );
    assert_eq!(
        out["lines"],
        json!([
            "a|lines|com.example.Order.lines|-",
            "b|lines|com.example.Order.lines|-"
        ])
    );
    assert_eq!(out["status"], json!("NEW"), "enums are not visited");
    assert_eq!(out["note"], json!(null));
    assert_eq!(out["amount"], json!(12.5));
}

#[test]
fn field_transforms_by_tag_and_metadata_tags() {
    let mut by_tag = field("TRANSFORM", "'***'");
    by_tag["tags"] = json!(["PII"]);
    let set = rules_tagged(json!([by_tag]), json!({"**.zip": ["PII"]}));
    let out = accepted(set.run(Mode::Write, order()));
    assert_eq!(out["ssn"], json!("***"));
    assert_eq!(out["address"]["zip"], json!("***"));
    assert_eq!(out["id"], json!("o-1"));
    assert_eq!(out["address"]["city"], json!("Paris"));
}

#[test]
fn a_later_field_transform_with_the_same_tags_is_shadowed() {
    let mut first = field("TRANSFORM", "'first'");
    first["tags"] = json!(["PII"]);
    let mut second = field("TRANSFORM", "'second'");
    second["tags"] = json!(["PII"]);
    second["name"] = json!("g");
    let out = accepted(rules(json!([first, second])).run(Mode::Write, order()));
    assert_eq!(out["ssn"], json!("first"));
}

#[test]
fn null_and_numbers_reach_field_rules_with_their_types() {
    let set = rules(json!([field(
        "TRANSFORM",
        "typeName == 'NULL' ? 'was null' : (typeName == 'DOUBLE' ? value * 2.0 : (typeName == 'INT' ? value + 1 : value))"
    )]));
    let mut message = order();
    message["amount"] = json!(2);
    let out = accepted(set.run(Mode::Write, message));
    assert_eq!(out["note"], json!("was null"));
    assert_eq!(out["amount"], json!(4.0));
    assert_eq!(out["quantity"], json!(4));
}

#[test]
fn field_conditions_fail_on_the_first_false_field() {
    let set = rules(json!([field(
        "CONDITION",
        "typeName == 'STRING' ; size(value) < 10"
    )]));
    let Decision::Refuse(refusal) = set.run(Mode::Write, order()) else {
        panic!("the 11-character ssn passed");
    };
    assert_eq!(
        refusal.cause,
        Cause::Condition("Rule expr failed: typeName == 'STRING' ; size(value) < 10".into())
    );
    let mut short = order();
    short["ssn"] = json!("1");
    assert!(matches!(set.run(Mode::Write, short), Decision::Accept(_)));
}

#[test]
fn field_rules_may_read_the_record_holding_the_field() {
    let set = rules(json!([field(
        "TRANSFORM",
        "name == 'zip' ; value + '-' + message.city"
    )]));
    let out = accepted(set.run(Mode::Write, order()));
    assert_eq!(out["address"]["zip"], json!("75001-Paris"));
}

#[test]
fn json_schema_fields_are_walked_from_dollar() {
    let schema = json!({
        "type": "object",
        "$defs": {"Address": {"type": "object", "properties": {
            "city": {"type": "string", "confluent:tags": ["PII"]}}}},
        "properties": {
            "id": {"type": "string"},
            "count": {"type": "integer"},
            "note": {"type": ["string", "null"]},
            "address": {"$ref": "#/$defs/Address"},
            "kind": {"enum": ["a", "b"]}
        }
    });
    let list: Vec<Rule> = serde_json::from_value(json!([field(
        "TRANSFORM",
        "typeName == 'STRING' ; fullName + ':' + (size(tags) > 0 ? tags[0] : '-')"
    )]))
    .unwrap();
    let set = CelRules::compile(&list, Schema::Json(&schema), &BTreeMap::new()).unwrap();
    let out = accepted(set.run(
        Mode::Write,
        json!({"id": "x", "count": 1, "note": null, "address": {"city": "P"}, "kind": "a"}),
    ));
    assert_eq!(
        out,
        json!({"id": "$.id:-", "count": 1, "note": null, "address": {"city": "$.address.city:PII"}, "kind": "a"})
    );
}

#[test]
fn invalid_expressions_are_refused_when_compiling() {
    let list: Vec<Rule> =
        serde_json::from_value(json!([cel("CONDITION", "WRITE", "message.(")])).unwrap();
    let error = CelRules::compile(&list, Schema::Avro(&order_schema()), &BTreeMap::new());
    assert!(
        matches!(error, Err(CelError::Expression { .. })),
        "{error:?}"
    );
}

#[test]
fn compiled_rules_are_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<CelRules>();
}
