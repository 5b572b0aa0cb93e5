defmodule SnakepitBridge.Test.DemoElixirTools do
  @moduledoc """
  The Elixir tools of snakepit's examples/bidirectional_tools_demo.exs (the ones the bundle's
  host/start.sh registers by hand), declared with `SnakepitBridge.ElixirTools`: the same names,
  descriptions, parameter specs and answers.
  """
  use SnakepitBridge.ElixirTools

  @doc "Parse a JSON string and return analysis"
  deftool parse_json(json_string :: string) :: map do
    case Jason.decode(json_string) do
      {:ok, parsed} ->
        %{success: true, data: parsed, keys: Map.keys(parsed), size: map_size(parsed)}

      {:error, reason} ->
        %{success: false, error: "Failed to parse JSON: #{inspect(reason)}"}
    end
  end

  @doc "Calculate Fibonacci sequence up to n numbers"
  deftool calculate_fibonacci(n :: integer) :: map do
    result = fibonacci_sequence(n)
    %{n: n, sequence: result, sum: Enum.sum(result)}
  end

  # The demo registers `operation` as optional with no default, and applies "sum" itself.
  @doc "Process a list with various operations"
  deftool process_list(list :: array, operation :: string \\ nil) :: map do
    operation = operation || "sum"

    result =
      case operation do
        "sum" -> Enum.sum(list)
        "max" -> Enum.max(list, fn -> nil end)
        "min" -> Enum.min(list, fn -> nil end)
        "mean" -> if list == [], do: nil, else: Enum.sum(list) / length(list)
        "reverse" -> Enum.reverse(list)
        _ -> {:error, "Unknown operation: #{operation}"}
      end

    %{list: list, operation: operation, result: result}
  end

  defp fibonacci_sequence(n) when n <= 0, do: []
  defp fibonacci_sequence(1), do: [0]
  defp fibonacci_sequence(2), do: [0, 1]

  defp fibonacci_sequence(n) do
    Enum.reduce(3..n, [1, 0], fn _, [prev1, prev2 | _] = acc -> [prev1 + prev2 | acc] end)
    |> Enum.reverse()
  end
end

defmodule SnakepitBridge.Test.ChangedDemoElixirTools do
  @moduledoc """
  The demo tools with one deliberate change: `calculate_fibonacci` takes `count`, not `n`, so
  a Rust `DemoTools` trait no longer matches them.
  """
  use SnakepitBridge.ElixirTools

  alias SnakepitBridge.Test.DemoElixirTools

  @doc "Parse a JSON string and return analysis"
  deftool parse_json(json_string :: string) :: map do
    DemoElixirTools.parse_json(json_string)
  end

  @doc "Calculate Fibonacci sequence up to n numbers"
  deftool calculate_fibonacci(count :: integer) :: map do
    DemoElixirTools.calculate_fibonacci(count)
  end

  @doc "Process a list with various operations"
  deftool process_list(list :: array, operation :: string \\ nil) :: map do
    DemoElixirTools.process_list(list, operation)
  end
end
