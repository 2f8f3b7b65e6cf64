//! Property tests of the compatibility engine's algebra, on generated Avro and JSON schemas:
//!
//! - every schema is compatible with itself under every level;
//! - FULL holds iff both BACKWARD and FORWARD hold (and likewise for the transitive levels);
//! - a transitive level is never more permissive than its non-transitive twin.

#![allow(clippy::panic)]

use herald_registry::schema::{CompatibilityLevel, Schema, SchemaType, check};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A generated Avro type; named types get names from their path so that the same shape is
/// named the same way in every version.
#[derive(Debug, Clone)]
enum Avro {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    Str,
    Array(Box<Avro>),
    Map(Box<Avro>),
    Enum(Vec<u8>),
    Fixed(u8),
    Record(Vec<Field>),
    Union(Vec<Avro>),
}

#[derive(Debug, Clone)]
struct Field {
    id: u8,
    ty: Avro,
    with_default: bool,
}

fn avro_primitive() -> impl Strategy<Value = Avro> {
    prop_oneof![
        Just(Avro::Null),
        Just(Avro::Boolean),
        Just(Avro::Int),
        Just(Avro::Long),
        Just(Avro::Float),
        Just(Avro::Double),
        Just(Avro::Bytes),
        Just(Avro::Str),
    ]
}

fn avro_fields(inner: BoxedStrategy<Avro>) -> impl Strategy<Value = Vec<Field>> {
    prop::collection::btree_map(0u8..12, (inner, any::<bool>()), 1..6).prop_map(|fields| {
        fields
            .into_iter()
            .map(|(id, (ty, with_default))| Field {
                id,
                ty,
                with_default,
            })
            .collect()
    })
}

fn avro_type() -> impl Strategy<Value = Avro> {
    let leaf = prop_oneof![
        4 => avro_primitive(),
        1 => prop::collection::btree_set(0u8..6, 1..4).prop_map(|s| Avro::Enum(s.into_iter().collect())),
        1 => (1u8..4).prop_map(Avro::Fixed),
        1 => prop::collection::btree_set(0usize..5, 2..4).prop_map(|s| {
            let branches = [Avro::Null, Avro::Int, Avro::Str, Avro::Double, Avro::Boolean];
            Avro::Union(s.into_iter().map(|i| branches[i].clone()).collect())
        }),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Avro::Array(Box::new(t))),
            inner.clone().prop_map(|t| Avro::Map(Box::new(t))),
            avro_fields(inner.boxed()).prop_map(Avro::Record),
        ]
    })
}

fn avro_record() -> impl Strategy<Value = Avro> {
    avro_fields(avro_type().boxed()).prop_map(Avro::Record)
}

impl Avro {
    fn render(&self, path: &str) -> Value {
        match self {
            Avro::Null => json!("null"),
            Avro::Boolean => json!("boolean"),
            Avro::Int => json!("int"),
            Avro::Long => json!("long"),
            Avro::Float => json!("float"),
            Avro::Double => json!("double"),
            Avro::Bytes => json!("bytes"),
            Avro::Str => json!("string"),
            Avro::Array(items) => {
                json!({"type": "array", "items": items.render(&format!("{path}_items"))})
            }
            Avro::Map(values) => {
                json!({"type": "map", "values": values.render(&format!("{path}_values"))})
            }
            Avro::Enum(symbols) => json!({
                "type": "enum",
                "name": format!("E{path}"),
                "symbols": symbols.iter().map(|s| format!("S{s}")).collect::<Vec<_>>(),
            }),
            Avro::Fixed(size) => json!({"type": "fixed", "name": format!("F{path}"), "size": size}),
            Avro::Union(branches) => Value::Array(
                branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b.render(&format!("{path}_u{i}")))
                    .collect(),
            ),
            Avro::Record(fields) => json!({
                "type": "record",
                "name": format!("R{path}"),
                "fields": fields.iter().map(|f| {
                    let mut field = json!({
                        "name": format!("f{}", f.id),
                        "type": f.ty.render(&format!("{path}_f{}", f.id)),
                    });
                    if let Some(default) = f.ty.default_value().filter(|_| f.with_default) {
                        field["default"] = default;
                    }
                    field
                }).collect::<Vec<_>>(),
            }),
        }
    }

    /// A valid default for this type, where one is simple to write.
    fn default_value(&self) -> Option<Value> {
        Some(match self {
            Avro::Null => Value::Null,
            Avro::Boolean => json!(false),
            Avro::Int | Avro::Long => json!(0),
            Avro::Float | Avro::Double => json!(0.0),
            Avro::Bytes | Avro::Str => json!(""),
            Avro::Array(_) => json!([]),
            Avro::Map(_) => json!({}),
            Avro::Enum(symbols) => json!(format!("S{}", symbols.first()?)),
            Avro::Union(branches) => branches.first()?.default_value()?,
            Avro::Fixed(_) | Avro::Record(_) => return None,
        })
    }
}

/// A change to a record's fields, as a schema author might make between two versions.
#[derive(Debug, Clone)]
enum AvroChange {
    Add(Field),
    Remove(u8),
    Retype(u8, Avro),
    ToggleDefault(u8),
}

fn avro_change() -> impl Strategy<Value = AvroChange> {
    prop_oneof![
        (12u8..16, avro_type(), any::<bool>()).prop_map(|(id, ty, with_default)| {
            AvroChange::Add(Field {
                id,
                ty,
                with_default,
            })
        }),
        (0u8..12).prop_map(AvroChange::Remove),
        (0u8..12, avro_type()).prop_map(|(id, ty)| AvroChange::Retype(id, ty)),
        (0u8..12).prop_map(AvroChange::ToggleDefault),
    ]
}

fn apply_avro(schema: &Avro, change: &AvroChange) -> Avro {
    let Avro::Record(fields) = schema else {
        return schema.clone();
    };
    let mut fields = fields.clone();
    match change {
        AvroChange::Add(field) => {
            if fields.iter().all(|f| f.id != field.id) {
                fields.push(field.clone());
            }
        }
        AvroChange::Remove(id) => {
            if fields.len() > 1 {
                fields.retain(|f| f.id != *id);
            }
        }
        AvroChange::Retype(id, ty) => {
            for f in fields.iter_mut().filter(|f| f.id == *id) {
                f.ty = ty.clone();
            }
        }
        AvroChange::ToggleDefault(id) => {
            for f in fields.iter_mut().filter(|f| f.id == *id) {
                f.with_default = !f.with_default;
            }
        }
    }
    Avro::Record(fields)
}

fn parse(schema_type: SchemaType, value: &Value) -> Schema {
    Schema::parse(schema_type, &value.to_string())
        .unwrap_or_else(|err| panic!("generated schema must be valid: {err}\n{value:#}"))
}

/// Versions 1..=n: the base, then each change applied to the one before.
fn avro_history(base: &Avro, changes: &[AvroChange]) -> Vec<Schema> {
    let mut versions = vec![base.clone()];
    for change in changes {
        let next = apply_avro(versions.last().unwrap_or(base), change);
        versions.push(next);
    }
    versions
        .iter()
        .map(|v| parse(SchemaType::Avro, &v.render("")))
        .collect()
}

/// A generated JSON Schema.
#[derive(Debug, Clone)]
enum Json {
    Str {
        max_length: Option<u8>,
    },
    Num {
        integer: bool,
        maximum: Option<i8>,
    },
    Bool,
    Enum(Vec<u8>),
    Array(Box<Json>),
    Object {
        props: Vec<Prop>,
        open: Option<bool>,
    },
    AnyOf(Vec<Json>),
}

#[derive(Debug, Clone)]
struct Prop {
    id: u8,
    ty: Json,
    required: bool,
}

fn json_props(inner: BoxedStrategy<Json>) -> impl Strategy<Value = Vec<Prop>> {
    prop::collection::btree_map(0u8..10, (inner, any::<bool>()), 0..5).prop_map(|props| {
        props
            .into_iter()
            .map(|(id, (ty, required))| Prop { id, ty, required })
            .collect()
    })
}

fn json_type() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        proptest::option::of(1u8..40).prop_map(|max_length| Json::Str { max_length }),
        (any::<bool>(), proptest::option::of(any::<i8>()))
            .prop_map(|(integer, maximum)| Json::Num { integer, maximum }),
        Just(Json::Bool),
        prop::collection::btree_set(0u8..6, 1..4).prop_map(|s| Json::Enum(s.into_iter().collect())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Json::Array(Box::new(t))),
            (
                json_props(inner.clone().boxed()),
                proptest::option::of(any::<bool>())
            )
                .prop_map(|(props, open)| Json::Object { props, open }),
            prop::collection::vec(inner, 2..4).prop_map(Json::AnyOf),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Json> {
    (
        json_props(json_type().boxed()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(props, open)| Json::Object { props, open })
}

impl Json {
    fn render(&self) -> Value {
        match self {
            Json::Str { max_length } => {
                let mut v = json!({"type": "string"});
                if let Some(max) = max_length {
                    v["maxLength"] = json!(max);
                }
                v
            }
            Json::Num { integer, maximum } => {
                let mut v = json!({"type": if *integer { "integer" } else { "number" }});
                if let Some(max) = maximum {
                    v["maximum"] = json!(max);
                }
                v
            }
            Json::Bool => json!({"type": "boolean"}),
            Json::Enum(values) => {
                json!({"enum": values.iter().map(|v| format!("v{v}")).collect::<Vec<_>>()})
            }
            Json::Array(items) => json!({"type": "array", "items": items.render()}),
            Json::AnyOf(branches) => {
                json!({"anyOf": branches.iter().map(Json::render).collect::<Vec<_>>()})
            }
            Json::Object { props, open } => {
                let mut v = json!({
                    "type": "object",
                    "properties": props
                        .iter()
                        .map(|p| (format!("p{}", p.id), p.ty.render()))
                        .collect::<serde_json::Map<_, _>>(),
                });
                let required: Vec<_> = props
                    .iter()
                    .filter(|p| p.required)
                    .map(|p| format!("p{}", p.id))
                    .collect();
                if !required.is_empty() {
                    v["required"] = json!(required);
                }
                if let Some(open) = open {
                    v["additionalProperties"] = json!(open);
                }
                v
            }
        }
    }
}

#[derive(Debug, Clone)]
enum JsonChange {
    Add(Prop),
    Remove(u8),
    Retype(u8, Json),
    ToggleRequired(u8),
    Reopen(Option<bool>),
}

fn json_change() -> impl Strategy<Value = JsonChange> {
    prop_oneof![
        (10u8..14, json_type(), any::<bool>())
            .prop_map(|(id, ty, required)| JsonChange::Add(Prop { id, ty, required })),
        (0u8..10).prop_map(JsonChange::Remove),
        (0u8..10, json_type()).prop_map(|(id, ty)| JsonChange::Retype(id, ty)),
        (0u8..10).prop_map(JsonChange::ToggleRequired),
        proptest::option::of(any::<bool>()).prop_map(JsonChange::Reopen),
    ]
}

fn apply_json(schema: &Json, change: &JsonChange) -> Json {
    let Json::Object { props, open } = schema else {
        return schema.clone();
    };
    let (mut props, mut open) = (props.clone(), *open);
    match change {
        JsonChange::Add(prop) => {
            if props.iter().all(|p| p.id != prop.id) {
                props.push(prop.clone());
            }
        }
        JsonChange::Remove(id) => props.retain(|p| p.id != *id),
        JsonChange::Retype(id, ty) => {
            for p in props.iter_mut().filter(|p| p.id == *id) {
                p.ty = ty.clone();
            }
        }
        JsonChange::ToggleRequired(id) => {
            for p in props.iter_mut().filter(|p| p.id == *id) {
                p.required = !p.required;
            }
        }
        JsonChange::Reopen(new_open) => open = *new_open,
    }
    Json::Object { props, open }
}

fn json_history(base: &Json, changes: &[JsonChange]) -> Vec<Schema> {
    let mut versions = vec![base.clone()];
    for change in changes {
        let next = apply_json(versions.last().unwrap_or(base), change);
        versions.push(next);
    }
    versions
        .iter()
        .map(|v| parse(SchemaType::Json, &v.render()))
        .collect()
}

fn numbered(previous: &[Schema]) -> Vec<(u32, &Schema)> {
    (1u32..).zip(previous.iter()).collect()
}

fn assert_self_compatible(schema: &Schema) -> Result<(), TestCaseError> {
    for level in CompatibilityLevel::ALL {
        let report = check(level, schema, &[(1, schema), (2, schema)]);
        prop_assert!(
            report.is_compatible,
            "{} is not {level}-compatible with itself: {:?}",
            schema.canonical(),
            report.messages
        );
    }
    Ok(())
}

/// FULL iff BACKWARD and FORWARD, transitive or not, and transitive never more permissive.
fn assert_level_algebra(history: &[Schema]) -> Result<(), TestCaseError> {
    use CompatibilityLevel::*;
    let Some((new, previous)) = history.split_last() else {
        return Ok(());
    };
    let previous = numbered(previous);
    let ok = |level| check(level, new, &previous).is_compatible;
    prop_assert_eq!(ok(Full), ok(Backward) && ok(Forward));
    prop_assert_eq!(
        ok(FullTransitive),
        ok(BackwardTransitive) && ok(ForwardTransitive)
    );
    for (transitive, single) in [
        (BackwardTransitive, Backward),
        (ForwardTransitive, Forward),
        (FullTransitive, Full),
    ] {
        prop_assert!(
            !ok(transitive) || ok(single),
            "{transitive} passed but {single} failed"
        );
    }
    prop_assert!(ok(None));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn avro_schema_is_compatible_with_itself(schema in avro_record()) {
        assert_self_compatible(&parse(SchemaType::Avro, &schema.render("")))?;
    }

    #[test]
    fn json_schema_is_compatible_with_itself(schema in json_object()) {
        assert_self_compatible(&parse(SchemaType::Json, &schema.render()))?;
    }

    #[test]
    fn avro_levels_compose(base in avro_record(), changes in prop::collection::vec(avro_change(), 1..4)) {
        assert_level_algebra(&avro_history(&base, &changes))?;
    }

    #[test]
    fn json_levels_compose(base in json_object(), changes in prop::collection::vec(json_change(), 1..4)) {
        assert_level_algebra(&json_history(&base, &changes))?;
    }

    #[test]
    fn avro_canonical_form_ignores_whitespace_and_key_order(schema in avro_record()) {
        let value = schema.render("");
        let compact = parse(SchemaType::Avro, &value);
        let pretty = Schema::parse(SchemaType::Avro, &serde_json::to_string_pretty(&value).unwrap()).unwrap();
        prop_assert_eq!(compact.fingerprint(), pretty.fingerprint());
    }
}

/// The generators must produce both compatible and incompatible pairs, or the algebra tests
/// above prove nothing.
#[test]
fn generated_histories_exercise_both_verdicts() {
    let avro = backward_verdicts(avro_record(), avro_change(), |base, change| {
        avro_history(base, std::slice::from_ref(change))
    });
    let json = backward_verdicts(json_object(), json_change(), |base, change| {
        json_history(base, std::slice::from_ref(change))
    });
    for (what, (compatible, incompatible)) in [("Avro", avro), ("JSON", json)] {
        assert!(compatible > 20, "only {compatible} compatible {what} pairs");
        assert!(
            incompatible > 20,
            "only {incompatible} incompatible {what} pairs"
        );
    }
}

/// Counts (compatible, incompatible) BACKWARD verdicts over 200 generated one-change histories.
fn backward_verdicts<B: Strategy, C: Strategy>(
    base: B,
    change: C,
    history: impl Fn(&B::Value, &C::Value) -> Vec<Schema>,
) -> (usize, usize) {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut compatible = 0;
    for _ in 0..200 {
        let base = base.new_tree(&mut runner).unwrap().current();
        let change = change.new_tree(&mut runner).unwrap().current();
        let versions = history(&base, &change);
        if check(
            CompatibilityLevel::Backward,
            &versions[1],
            &[(1, &versions[0])],
        )
        .is_compatible
        {
            compatible += 1;
        }
    }
    (compatible, 200 - compatible)
}
