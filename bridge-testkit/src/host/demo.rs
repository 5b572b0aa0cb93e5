//! The three demo tools of snakepit's own bidirectional example,
//! listed and answering exactly as a real snakepit v0.13 host does: the Elixir functions of
//! `examples/bidirectional_tools_demo.exs`, with Elixir's semantics (integers of any size,
//! term ordering, `inspect/1` in messages, results the host cannot encode as printed terms).

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::{json, Value};
use snakepit_bridge_spec::{decode_exact, ExactJsonError};

use super::elixir_terms::{
    container, inspect, inspect_limited, inspect_string, jason_check, jason_encode, INSPECT_LIMIT,
};
use super::tool::{ElixirTool, ElixirToolOutput, ToolParams};

/// `parse_json`, `calculate_fibonacci` and `process_list`, as snakepit's example registers them.
pub fn demo_tools() -> Vec<ElixirTool> {
    let tool = |name: &str,
                description: &str,
                handler: fn(ToolParams) -> Result<ElixirToolOutput, String>| {
        ElixirTool::new(name, handler)
            .description(description)
            .metadata("description", description)
            .metadata("exposed_to_python", "true")
    };
    vec![
        tool(
            "parse_json",
            "Parse a JSON string and return analysis",
            parse_json,
        )
        .required("json_string", "string"),
        tool(
            "calculate_fibonacci",
            "Calculate Fibonacci sequence up to n numbers",
            calculate_fibonacci,
        )
        .required("n", "integer"),
        tool(
            "process_list",
            "Process a list with various operations",
            process_list,
        )
        .required("list", "array")
        .optional("operation", "string"),
    ]
}

/// `Jason.decode(Map.get(params, "json_string", "{}"))`, then the map's keys and size. Jason
/// takes any iodata (`IO.iodata_to_binary/1`: a string, or a list of bytes, strings and such
/// lists), and raises `ArgumentError` for anything else.
fn parse_json(params: ToolParams) -> Result<ElixirToolOutput, String> {
    let bytes = match params.get("json_string") {
        None => b"{}".to_vec(),
        Some(value) => iodata(value).ok_or_else(|| NOT_IODATA.to_owned())?,
    };
    if let Err(error) = jason_check(&bytes) {
        let answer = json!({"success": false, "error": format!("Failed to parse JSON: {}", error.inspect())});
        return Ok(ElixirToolOutput::JsonText(jason_encode(&answer)));
    }
    // Jason keeps integers exact; a `Value` cannot hold one wider than 64 bits, so such an
    // integer fails the call, naming it, rather than coming back rounded.
    let parsed: Value = decode_exact(&bytes).map_err(|error| match error {
        ExactJsonError::WideInteger(wide) => format!(
            "the embedded host's parse_json cannot decode {wide} exactly, as a snakepit host \
             would (Elixir integers have no size limit); test this call against a real host"
        ),
        ExactJsonError::Json(error) => error.to_string(),
    })?;
    let Value::Object(map) = &parsed else {
        // `Map.keys/1` of anything but a map.
        return Err(format!("expected a map, got: {}", inspect(&parsed)));
    };
    let answer = json!({
        "success": true,
        "keys": map.keys().collect::<Vec<_>>(),
        "size": map.len(),
        "data": parsed,
    });
    Ok(ElixirToolOutput::JsonText(jason_encode(&answer)))
}

/// `Exception.message/1` of the `ArgumentError` that `IO.iodata_to_binary/1` raises.
const NOT_IODATA: &str =
    "errors were found at the given arguments:\n\n  * 1st argument: not an iodata term\n";

/// The bytes of `value` as iodata (`IO.iodata_to_binary/1`), if it is iodata.
fn iodata(value: &Value) -> Option<Vec<u8>> {
    fn collect(value: &Value, out: &mut Vec<u8>) -> Option<()> {
        match value {
            Value::String(text) => out.extend_from_slice(text.as_bytes()),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Number(n) => out.push(u8::try_from(n.as_u64()?).ok()?),
                        Value::String(_) | Value::Array(_) => collect(item, out)?,
                        _ => return None,
                    }
                }
            }
            _ => return None,
        }
        Some(())
    }
    let mut out = Vec::new();
    collect(value, &mut out).map(|()| out)
}

/// `fibonacci_sequence(Map.get(params, "n", 10))`: `[]` for `n <= 0` (in Elixir's term order,
/// so only numbers), `[0]`, `[0, 1]`, else `Enum.reduce(3..n, ...)`, whose range refuses
/// anything but an integer. Integers have no size limit.
fn calculate_fibonacci(params: ToolParams) -> Result<ElixirToolOutput, String> {
    let n = params.get("n").cloned().unwrap_or(json!(10));
    let sequence: Vec<BigUint> = match &n {
        Value::Number(number) if number.as_f64().is_some_and(|f| f <= 0.0) => Vec::new(),
        Value::Number(number) if number.as_u64() == Some(1) => vec![BigUint::from(0)],
        Value::Number(number) if number.as_u64() == Some(2) => {
            vec![BigUint::from(0), BigUint::from(1)]
        }
        Value::Number(number) if number.as_u64().is_some() => {
            let count = number.as_u64().unwrap_or(0);
            let mut sequence = vec![BigUint::from(0), BigUint::from(1)];
            for _ in 3..=count {
                let next = sequence[sequence.len() - 1].add(&sequence[sequence.len() - 2]);
                sequence.push(next);
            }
            sequence
        }
        other => {
            return Err(format!(
                "ranges (first..last) expect both sides to be integers, got: 3..{}",
                inspect(other)
            ))
        }
    };
    let sum = sequence
        .iter()
        .fold(BigUint::from(0), |sum, term| sum.add(term));
    let terms: Vec<String> = sequence.iter().map(BigUint::to_string).collect();
    Ok(ElixirToolOutput::JsonText(format!(
        "{{\"n\":{},\"sequence\":[{}],\"sum\":{sum}}}",
        jason_encode(&n),
        terms.join(",")
    )))
}

/// `list` and `operation` (default `sum`) through `Enum.sum/max/min/reverse` or a mean; an
/// unknown operation gives a result the host cannot encode, so its printed form is sent.
/// `Enum` takes a map too (its `{key, value}` pairs, which Jason cannot encode either) and
/// raises `Protocol.UndefinedError` for anything else but a list.
fn process_list(params: ToolParams) -> Result<ElixirToolOutput, String> {
    let list = params.get("list").cloned().unwrap_or(json!([]));
    let operation = params.get("operation").cloned().unwrap_or(json!("sum"));
    // `%{list: ..., operation: ..., result: ...}` printed: its entries take one item each of
    // inspect's limit, so the list is shown with 49 left.
    let printed = |result: String| {
        ElixirToolOutput::Unencodable(format!(
            "%{{list: {}, operation: {}, result: {result}}}",
            inspect_limited(&list, INSPECT_LIMIT - 1),
            inspect_limited(&operation, INSPECT_LIMIT - 2)
        ))
    };
    let op = match operation.as_str() {
        Some(op @ ("sum" | "max" | "min" | "mean" | "reverse")) => op,
        _ => {
            let shown = match &operation {
                Value::String(text) => text.clone(),
                other => inspect(other),
            };
            return Ok(printed(format!(
                "{{:error, {}}}",
                inspect_string(&format!("Unknown operation: {shown}"))
            )));
        }
    };
    let items = match &list {
        Value::Array(items) => items.clone(),
        Value::Object(map) => return process_map(map, op, printed),
        other => return Err(not_enumerable(other)),
    };
    let result = match op {
        "sum" => Outcome::Number(sum(&items)?),
        "max" => Outcome::Value(extreme(&items, Ordering::Greater)),
        "min" => Outcome::Value(extreme(&items, Ordering::Less)),
        "mean" if items.is_empty() => Outcome::Value(Value::Null),
        "mean" => {
            let total = match sum(&items)? {
                Number::Integer(total) => total as f64,
                Number::Float(total) => total,
            };
            Outcome::Number(Number::Float(total / items.len() as f64))
        }
        _ => Outcome::Value(Value::Array(items.iter().rev().cloned().collect())),
    };
    // Keys in the order Jason writes a small map's: sorted.
    #[derive(Serialize)]
    struct Answer {
        list: Value,
        operation: Value,
        result: Outcome,
    }
    ElixirToolOutput::json(&Answer {
        list,
        operation,
        result,
    })
}

/// `process_list` of a map: `Enum` walks its `{key, value}` pairs (in key order, for a small
/// map), which Jason cannot encode, so the answer is printed unless the map is empty.
fn process_map(
    map: &serde_json::Map<String, Value>,
    op: &str,
    printed: impl Fn(String) -> ElixirToolOutput,
) -> Result<ElixirToolOutput, String> {
    let pair = |(key, value): (&String, &Value), left: usize| {
        format!(
            "{{{}, {}}}",
            inspect_string(key),
            inspect_limited(value, left.saturating_sub(2))
        )
    };
    // The result is the map's third entry.
    let left = INSPECT_LIMIT - 3;
    let answer = |result: Value| {
        Ok(ElixirToolOutput::JsonText(format!(
            "{{\"list\":{{}},\"operation\":{},\"result\":{}}}",
            jason_encode(&json!(op)),
            jason_encode(&result)
        )))
    };
    match op {
        "sum" if map.is_empty() => answer(json!(0)),
        // A pair is no number.
        "sum" => Err(BAD_ARITHMETIC.to_owned()),
        "max" | "min" if map.is_empty() => answer(Value::Null),
        // Pairs compare by key first, and keys differ.
        "max" => Ok(printed(
            map.iter()
                .next_back()
                .map(|entry| pair(entry, left))
                .unwrap_or_default(),
        )),
        "min" => Ok(printed(
            map.iter()
                .next()
                .map(|entry| pair(entry, left))
                .unwrap_or_default(),
        )),
        // `Enum.sum(%{}) / length(%{})`: `length/1` of a map.
        "mean" if map.is_empty() => Err(
            "errors were found at the given arguments:\n\n  * 1st argument: not a list\n"
                .to_owned(),
        ),
        "mean" => Err(BAD_ARITHMETIC.to_owned()),
        _ if map.is_empty() => answer(json!([])),
        _ => Ok(printed(format!(
            "[{}]",
            container(map.iter().rev(), left, pair)
        ))),
    }
}

/// The types `Enumerable` is implemented for in the host's build (snakepit and its
/// dependencies, protocols consolidated), as `Protocol.UndefinedError` lists them.
const ENUMERABLE_IMPLS: &str = "Date.Range, File.Stream, Flow, Function, GenEvent.Stream, \
    HashDict, HashSet, IO.Stream, Jason.OrderedObject, List, Map, MapSet, Range, Stream";

/// `Exception.message/1` of the `Protocol.UndefinedError` that `Enum` raises for `value`.
fn not_enumerable(value: &Value) -> String {
    let type_name = match value {
        Value::String(_) => "BitString",
        Value::Number(n) if n.is_f64() => "Float",
        Value::Number(_) => "Integer",
        _ => "Atom",
    };
    format!(
        "protocol Enumerable not implemented for type {type_name}. This protocol is \
         implemented for the following type(s): {ENUMERABLE_IMPLS}\n\nGot value:\n\n    {}\n",
        inspect(value)
    )
}

/// A result of `process_list`: a number computed here (integers exact at any width, as
/// Elixir's), or one of the list's own values.
#[derive(Serialize)]
#[serde(untagged)]
enum Outcome {
    Number(Number),
    Value(Value),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Number {
    Integer(i128),
    Float(f64),
}

/// What Erlang raises for arithmetic it refuses (a float beyond the largest one, say).
const BAD_ARITHMETIC: &str = "bad argument in arithmetic expression";

/// `Enum.sum/1`: exact for integers, a float as soon as one term is; anything else raises, as
/// does a float sum that overflows (Erlang floats are finite).
fn sum(items: &[Value]) -> Result<Number, String> {
    let mut integer: i128 = 0;
    let mut float: Option<f64> = None;
    for item in items {
        let Value::Number(number) = item else {
            return Err(BAD_ARITHMETIC.to_owned());
        };
        match (number.as_i64(), number.as_u64()) {
            (Some(i), _) => integer = integer.checked_add(i128::from(i)).ok_or(BAD_ARITHMETIC)?,
            (None, Some(u)) => {
                integer = integer.checked_add(i128::from(u)).ok_or(BAD_ARITHMETIC)?
            }
            _ => {
                let total = float.get_or_insert(0.0);
                *total += number.as_f64().unwrap_or(0.0);
                if !total.is_finite() {
                    return Err(BAD_ARITHMETIC.to_owned());
                }
            }
        }
    }
    match float {
        Some(f) => {
            let total = f + integer as f64;
            if total.is_finite() {
                Ok(Number::Float(total))
            } else {
                Err(BAD_ARITHMETIC.to_owned())
            }
        }
        None => Ok(Number::Integer(integer)),
    }
}

/// `Enum.max/2` or `Enum.min/2` with `fn -> nil end`: by Elixir's term order, the first of
/// equals kept, `nil` for an empty list.
fn extreme(items: &[Value], wanted: Ordering) -> Value {
    let mut best: Option<&Value> = None;
    for item in items {
        match best {
            Some(current) if term_order(item, current) != wanted => {}
            _ => best = Some(item),
        }
    }
    best.cloned().unwrap_or(Value::Null)
}

/// Elixir's term order over decoded JSON: numbers < atoms (`false` < `nil` < `true`) < maps <
/// lists < strings.
fn term_order(a: &Value, b: &Value) -> Ordering {
    fn rank(value: &Value) -> u8 {
        match value {
            Value::Number(_) => 0,
            Value::Bool(_) | Value::Null => 1,
            Value::Object(_) => 2,
            Value::Array(_) => 3,
            Value::String(_) => 4,
        }
    }
    fn atom(value: &Value) -> &'static str {
        match value {
            Value::Bool(false) => "false",
            Value::Bool(true) => "true",
            _ => "nil",
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let order = term_order(p, q);
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => x.len().cmp(&y.len()),
        _ if rank(a) == 1 && rank(b) == 1 => atom(a).cmp(atom(b)),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// An unsigned integer of any size, in base 10^18 limbs (least significant first): enough for
/// Fibonacci numbers as Elixir computes them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BigUint(Vec<u64>);

const LIMB: u64 = 1_000_000_000_000_000_000;

impl From<u64> for BigUint {
    fn from(n: u64) -> Self {
        if n >= LIMB {
            BigUint(vec![n % LIMB, n / LIMB])
        } else {
            BigUint(vec![n])
        }
    }
}

impl BigUint {
    fn add(&self, other: &BigUint) -> BigUint {
        let mut limbs = Vec::with_capacity(self.0.len().max(other.0.len()) + 1);
        let mut carry = 0;
        for i in 0..self.0.len().max(other.0.len()) {
            let total =
                self.0.get(i).copied().unwrap_or(0) + other.0.get(i).copied().unwrap_or(0) + carry;
            limbs.push(total % LIMB);
            carry = total / LIMB;
        }
        if carry > 0 {
            limbs.push(carry);
        }
        BigUint(limbs)
    }
}

impl std::fmt::Display for BigUint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut limbs = self.0.iter().rev();
        write!(f, "{}", limbs.next().copied().unwrap_or(0))?;
        for limb in limbs {
            write!(f, "{limb:018}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Handler = fn(ToolParams) -> Result<ElixirToolOutput, String>;

    fn run(handler: Handler, params: Value) -> Result<String, String> {
        handler(params.as_object().cloned().unwrap()).map(|output| match output {
            ElixirToolOutput::JsonText(text) | ElixirToolOutput::Unencodable(text) => text,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn the_listed_results_of_a_real_host() {
        let cases: [(Handler, Value, &str); 9] = [
            (
                calculate_fibonacci,
                json!({"n": 12}),
                r#"{"n":12,"sequence":[0,1,1,2,3,5,8,13,21,34,55,89],"sum":232}"#,
            ),
            (
                calculate_fibonacci,
                json!({"n": 0}),
                r#"{"n":0,"sequence":[],"sum":0}"#,
            ),
            (
                calculate_fibonacci,
                json!({}),
                r#"{"n":10,"sequence":[0,1,1,2,3,5,8,13,21,34],"sum":88}"#,
            ),
            (
                process_list,
                json!({"list": [3, 1, 2]}),
                r#"{"list":[3,1,2],"operation":"sum","result":6}"#,
            ),
            (
                process_list,
                json!({"list": [3, 1, 2], "operation": "reverse"}),
                r#"{"list":[3,1,2],"operation":"reverse","result":[2,1,3]}"#,
            ),
            (
                process_list,
                json!({"list": [3, 1, 2], "operation": "mean"}),
                r#"{"list":[3,1,2],"operation":"mean","result":2.0}"#,
            ),
            (
                process_list,
                json!({"list": [3, 1, 2], "operation": "nope"}),
                r#"%{list: [3, 1, 2], operation: "nope", result: {:error, "Unknown operation: nope"}}"#,
            ),
            (
                parse_json,
                json!({"json_string": "{\"a\": 1}"}),
                r#"{"data":{"a":1},"keys":["a"],"size":1,"success":true}"#,
            ),
            (
                parse_json,
                json!({"json_string": "not json"}),
                r#"{"error":"Failed to parse JSON: %Jason.DecodeError{position: 0, token: nil, data: \"not json\"}","success":false}"#,
            ),
        ];
        for (handler, params, expected) in cases {
            assert_eq!(
                run(handler, params.clone()).as_deref(),
                Ok(expected),
                "{params}"
            );
        }
        assert_eq!(
            run(calculate_fibonacci, json!({"n": "5"})),
            Err(r#"ranges (first..last) expect both sides to be integers, got: 3.."5""#.to_owned())
        );
    }

    #[test]
    fn elixir_semantics_where_the_listing_is_silent() {
        assert_eq!(
            run(calculate_fibonacci, json!({"n": -3})).unwrap(),
            r#"{"n":-3,"sequence":[],"sum":0}"#
        );
        assert_eq!(
            run(calculate_fibonacci, json!({"n": 2})).unwrap(),
            r#"{"n":2,"sequence":[0,1],"sum":1}"#
        );
        // No 64-bit limit: fib(99) needs 65 bits.
        let big = run(calculate_fibonacci, json!({"n": 100})).unwrap();
        assert!(big.contains(",218922995834555169026],"), "{big}");
        assert!(run(calculate_fibonacci, json!({"n": 2.5}))
            .unwrap_err()
            .ends_with("got: 3..2.5"));
        assert!(run(calculate_fibonacci, json!({"n": null}))
            .unwrap_err()
            .ends_with("got: 3..nil"));
        assert_eq!(
            run(process_list, json!({"list": [], "operation": "max"})).unwrap(),
            r#"{"list":[],"operation":"max","result":null}"#
        );
        assert_eq!(
            run(process_list, json!({"list": [1.5, 2], "operation": "sum"})).unwrap(),
            r#"{"list":[1.5,2],"operation":"sum","result":3.5}"#
        );
        assert_eq!(
            run(
                process_list,
                json!({"list": [1, "a", null], "operation": "max"})
            )
            .unwrap(),
            r#"{"list":[1,"a",null],"operation":"max","result":"a"}"#
        );
        assert_eq!(
            run(process_list, json!({"list": ["x"]})).unwrap_err(),
            "bad argument in arithmetic expression"
        );
        assert_eq!(
            run(parse_json, json!({"json_string": "[1]"})).unwrap_err(),
            "expected a map, got: [1]"
        );
    }

    #[test]
    fn sums_stay_exact_past_64_bits_and_floats_never_overflow_into_null() {
        assert_eq!(
            run(process_list, json!({"list": [u64::MAX, u64::MAX, -1]})).unwrap(),
            r#"{"list":[18446744073709551615,18446744073709551615,-1],"operation":"sum","result":36893488147419103229}"#
        );
        for list in [json!([1e308, 1e308]), json!([1e308, 1e308, -1e308])] {
            assert_eq!(
                run(process_list, json!({"list": list, "operation": "sum"})).unwrap_err(),
                "bad argument in arithmetic expression"
            );
        }
        assert_eq!(
            run(
                process_list,
                json!({"list": [1e308, 1e308], "operation": "mean"})
            )
            .unwrap_err(),
            "bad argument in arithmetic expression"
        );
    }

    #[test]
    fn parse_json_refuses_what_it_cannot_decode_exactly() {
        let message = run(
            parse_json,
            json!({"json_string": "{\"big\": 1180591620717411303424}"}),
        )
        .unwrap_err();
        assert!(
            message.contains("the integer 1180591620717411303424 at `big` is wider than 64 bits"),
            "{message}"
        );
    }
}
