defmodule SnakepitBridge.Types do
  @moduledoc """
  The one table of host type names: what a manifest's parameter `type` means in Elixir.

  | host type names | Elixir check | typespec |
  |---|---|---|
  | `integer`, `int` | `is_integer/1` | `integer()` |
  | `float`, `number` | `is_number/1` (an integer is a valid float) | `number()` |
  | `string`, `str` | a UTF-8 binary | `String.t()` |
  | `boolean`, `bool` | `is_boolean/1` | `boolean()` |
  | `list`, `array` | `is_list/1` | `list()` |
  | `map`, `object`, `dict` | `is_map/1` | `map()` |
  | `bytes` (and any `"binary": true` parameter) | `is_binary/1` | `binary()` |
  | `any` and every other name | anything | `term()` |

  Result types come from a tool's `result_schema` (JSON Schema), see `result_spec/1`.
  """

  @typedoc "A parameter type, after reading the host's name."
  @type t :: :integer | :float | :string | :boolean | :list | :map | :binary | :any

  @names %{
    "integer" => :integer,
    "int" => :integer,
    "float" => :float,
    "number" => :float,
    "string" => :string,
    "str" => :string,
    "boolean" => :boolean,
    "bool" => :boolean,
    "list" => :list,
    "array" => :list,
    "map" => :map,
    "object" => :map,
    "dict" => :map,
    "bytes" => :binary,
    "binary" => :binary
  }

  @doc "The host type names this table knows (besides `any`), lower-case."
  @spec host_names() :: [String.t()]
  def host_names, do: @names |> Map.keys() |> Enum.sort()

  @doc """
  The type of a parameter from its host type name and its `binary` flag.

      iex> SnakepitBridge.Types.from_host("int", false)
      :integer
      iex> SnakepitBridge.Types.from_host("tensor", false)
      :any
      iex> SnakepitBridge.Types.from_host("any", true)
      :binary
  """
  @spec from_host(String.t(), boolean()) :: t()
  def from_host(_name, true), do: :binary
  def from_host(name, _binary), do: Map.get(@names, String.downcase(name), :any)

  @doc "Whether `value` is of `type` (`nil` is of type `:any` only)."
  @spec valid?(t(), term()) :: boolean()
  def valid?(:integer, value), do: is_integer(value)
  def valid?(:float, value), do: is_number(value)
  def valid?(:string, value), do: is_binary(value) and String.valid?(value)
  def valid?(:boolean, value), do: is_boolean(value)
  def valid?(:list, value), do: is_list(value)
  def valid?(:map, value), do: is_map(value)
  def valid?(:binary, value), do: is_binary(value)
  def valid?(:any, _value), do: true

  @doc "What a value of `type` is, for error messages and docs."
  @spec describe(t()) :: String.t()
  def describe(:integer), do: "an integer"
  def describe(:float), do: "a number"
  def describe(:string), do: "a UTF-8 string"
  def describe(:boolean), do: "a boolean"
  def describe(:list), do: "a list"
  def describe(:map), do: "a map"
  def describe(:binary), do: "a binary"
  def describe(:any), do: "any value"

  @doc "The typespec of a parameter of `type`, as quoted code."
  @spec spec(t()) :: Macro.t()
  def spec(:integer), do: quote(do: integer())
  def spec(:float), do: quote(do: number())
  def spec(:string), do: quote(do: String.t())
  def spec(:boolean), do: quote(do: boolean())
  def spec(:list), do: quote(do: list())
  def spec(:map), do: quote(do: map())
  def spec(:binary), do: quote(do: binary())
  def spec(:any), do: quote(do: term())

  @doc """
  The typespec of a tool's result from its JSON Schema (`nil`: `term()`), as snakepit decodes
  the worker's JSON: objects are maps with string keys, so every object is `map()`.

      iex> SnakepitBridge.Types.result_spec(%{"type" => "number"}) |> Macro.to_string()
      "number()"
      iex> SnakepitBridge.Types.result_spec(%{"type" => ["integer", "null"], "minimum" => 0})
      ...> |> Macro.to_string()
      "non_neg_integer() | nil"
      iex> SnakepitBridge.Types.result_spec(%{"type" => "array", "items" => %{"type" => "string"}})
      ...> |> Macro.to_string()
      "[String.t()]"
  """
  @spec result_spec(map() | nil) :: Macro.t()
  def result_spec(schema) do
    schema |> schema_types() |> Enum.uniq() |> union()
  end

  defp schema_types(%{"anyOf" => schemas}) when is_list(schemas),
    do: Enum.flat_map(schemas, &schema_types/1)

  defp schema_types(%{"oneOf" => schemas}) when is_list(schemas),
    do: Enum.flat_map(schemas, &schema_types/1)

  defp schema_types(%{"type" => types} = schema) when is_list(types),
    do: Enum.flat_map(types, &schema_types(Map.put(schema, "type", &1)))

  defp schema_types(%{"type" => "integer"} = schema) do
    case schema do
      %{"minimum" => min} when is_number(min) and min >= 1 -> [quote(do: pos_integer())]
      %{"minimum" => min} when is_number(min) and min >= 0 -> [quote(do: non_neg_integer())]
      _ -> [quote(do: integer())]
    end
  end

  defp schema_types(%{"type" => "number"}), do: [quote(do: number())]
  defp schema_types(%{"type" => "string"}), do: [quote(do: String.t())]
  defp schema_types(%{"type" => "boolean"}), do: [quote(do: boolean())]
  defp schema_types(%{"type" => "null"}), do: [nil]
  defp schema_types(%{"type" => "object"}), do: [quote(do: map())]

  defp schema_types(%{"type" => "array", "items" => items}) when is_map(items),
    do: [[result_spec(items)]]

  defp schema_types(%{"type" => "array"}), do: [quote(do: list())]
  defp schema_types(_schema), do: [quote(do: term())]

  defp union(types) do
    if Enum.any?(types, &match?({:term, _, []}, &1)) do
      quote(do: term())
    else
      types |> Enum.reverse() |> Enum.reduce(fn type, acc -> {:|, [], [type, acc]} end)
    end
  end
end
