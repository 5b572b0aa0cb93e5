//! The three demo tools of snakepit's own bidirectional example (protocol.md, section 5).

use serde_json::{json, Number, Value};

use super::tool::{ElixirTool, ToolParams};
use snakepit_bridge_spec::HostParameter;

/// `parse_json`, `calculate_fibonacci` and `process_list`, with the same parameters and results
/// as snakepit's example.
pub fn demo_tools() -> Vec<ElixirTool> {
    vec![
        ElixirTool::new("parse_json", parse_json)
            .description("Parse a JSON string and return analysis")
            .param(HostParameter {
                description: "JSON string to parse".into(),
                ..HostParameter::new("json_string", "string", true)
            }),
        ElixirTool::new("calculate_fibonacci", calculate_fibonacci)
            .description("Calculate Fibonacci sequence up to n terms")
            .param(HostParameter {
                description: "Number of Fibonacci terms".into(),
                ..HostParameter::new("n", "integer", true)
            }),
        ElixirTool::new("process_list", process_list)
            .description("Process a list of numbers")
            .param(HostParameter {
                description: "List of numbers".into(),
                ..HostParameter::new("list", "list", true)
            })
            .param(HostParameter {
                description: "Operation: sum, max, min, mean, reverse".into(),
                default: Some(json!("sum")),
                ..HostParameter::new("operation", "string", false)
            }),
    ]
}

fn parse_json(params: ToolParams) -> Result<Value, String> {
    let text = params
        .get("json_string")
        .and_then(Value::as_str)
        .unwrap_or("{}");
    Ok(match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => json!({
            "success": true,
            "keys": map.keys().collect::<Vec<_>>(),
            "size": map.len(),
            "data": map,
        }),
        // As in Elixir, where `Map.keys/1` raises on anything but a map.
        Ok(other) => return Err(format!("expected a map, got: {other}")),
        Err(error) => json!({"success": false, "error": format!("Failed to parse JSON: {error}")}),
    })
}

fn calculate_fibonacci(params: ToolParams) -> Result<Value, String> {
    let n = params
        .get("n")
        .and_then(Value::as_u64)
        .ok_or_else(|| "n must be a non-negative integer".to_owned())?;
    let mut sequence = Vec::new();
    let (mut a, mut b) = (0u64, 1u64);
    let mut sum = 0u64;
    for _ in 0..n {
        sequence.push(a);
        sum = sum
            .checked_add(a)
            .ok_or_else(|| format!("n = {n} is too large: the sum exceeds 64 bits"))?;
        let next = a.checked_add(b);
        a = b;
        // Only the term after the last one may overflow; it is never used.
        b = next.unwrap_or(u64::MAX);
    }
    Ok(json!({"n": n, "sequence": sequence, "sum": sum}))
}

fn process_list(params: ToolParams) -> Result<Value, String> {
    let list = params
        .get("list")
        .and_then(Value::as_array)
        .ok_or_else(|| "list must be a list of numbers".to_owned())?;
    let operation = params
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("sum");
    let numbers: Vec<&Number> = list
        .iter()
        .map(|item| {
            item.as_number()
                .ok_or_else(|| format!("not a number: {item}"))
        })
        .collect::<Result<_, _>>()?;
    let all_integers = numbers.iter().all(|n| n.is_i64());
    let floats = || numbers.iter().filter_map(|n| n.as_f64());
    let result = match operation {
        "sum" if all_integers => json!(numbers.iter().filter_map(|n| n.as_i64()).sum::<i64>()),
        "sum" => json!(floats().sum::<f64>()),
        "max" | "min" if numbers.is_empty() => return Err("empty error".to_owned()),
        "max" if all_integers => json!(numbers.iter().filter_map(|n| n.as_i64()).max()),
        "min" if all_integers => json!(numbers.iter().filter_map(|n| n.as_i64()).min()),
        "max" => json!(floats().fold(f64::NEG_INFINITY, f64::max)),
        "min" => json!(floats().fold(f64::INFINITY, f64::min)),
        "mean" if numbers.is_empty() => {
            return Err("bad argument in arithmetic expression".to_owned())
        }
        "mean" => json!(floats().sum::<f64>() / numbers.len() as f64),
        "reverse" => Value::Array(list.iter().rev().cloned().collect()),
        other => return Err(format!("Unknown operation: {other}")),
    };
    Ok(json!({"list": list, "operation": operation, "result": result}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(value: Value) -> ToolParams {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn fibonacci_starts_at_zero() {
        let result = calculate_fibonacci(params(json!({"n": 12}))).unwrap();
        assert_eq!(
            result["sequence"],
            json!([0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89])
        );
        assert_eq!(result["sum"], json!(232));
        assert_eq!(
            calculate_fibonacci(params(json!({"n": 0}))).unwrap()["sequence"],
            json!([])
        );
    }

    #[test]
    fn fibonacci_refuses_what_does_not_fit_64_bits() {
        assert!(calculate_fibonacci(params(json!({"n": 92}))).is_ok());
        assert!(calculate_fibonacci(params(json!({"n": 93}))).is_err());
        assert!(calculate_fibonacci(params(json!({"n": 200})))
            .unwrap_err()
            .contains("too large"));
        assert!(calculate_fibonacci(params(json!({"n": "x"}))).is_err());
    }

    #[test]
    fn parse_json_analyses_an_object() {
        let result = parse_json(params(
            json!({"json_string": "{\"hello\":\"world\",\"n\":1}"}),
        ))
        .unwrap();
        assert_eq!(
            result,
            json!({"success": true, "data": {"hello": "world", "n": 1}, "keys": ["hello", "n"], "size": 2})
        );
        let bad = parse_json(params(json!({"json_string": "{oops"}))).unwrap();
        assert_eq!(bad["success"], json!(false));
        assert!(bad["error"]
            .as_str()
            .unwrap()
            .starts_with("Failed to parse JSON: "));
    }

    #[test]
    fn process_list_runs_each_operation() {
        let run = |op: &str| {
            process_list(params(json!({"list": [3, 1, 2], "operation": op})))
                .map(|r| r["result"].clone())
        };
        assert_eq!(run("sum"), Ok(json!(6)));
        assert_eq!(run("max"), Ok(json!(3)));
        assert_eq!(run("min"), Ok(json!(1)));
        assert_eq!(run("mean"), Ok(json!(2.0)));
        assert_eq!(run("reverse"), Ok(json!([2, 1, 3])));
        assert_eq!(run("median"), Err("Unknown operation: median".to_owned()));
        let default = process_list(params(json!({"list": [1.5, 2]}))).unwrap();
        assert_eq!(default["operation"], json!("sum"));
        assert_eq!(default["result"], json!(3.5));
    }
}
