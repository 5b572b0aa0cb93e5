defmodule SnakepitBridge.ElixirTools.Arguments do
  @moduledoc false
  # A call's parameters checked against the tool's declaration before its function runs, and
  # its result checked before snakepit encodes it. Plain functions, each error a message that
  # names the tool and the parameter.

  alias SnakepitBridge.ElixirTools.Declaration.{Parameter, Tool}
  alias SnakepitBridge.Types

  @doc """
  The function's arguments, in declaration order, from the parameters a worker sent (decoded
  JSON: a map with string keys): `{:ok, args}` or `{:error, message}`. A parameter left out,
  or sent as `null`, takes its default when it is optional.
  """
  def from_call(%Tool{} = tool, params) when is_map(params) do
    declared = Enum.map(tool.parameters, & &1.name)

    case Enum.reject(Map.keys(params), &(&1 in declared)) do
      [] ->
        tool.parameters
        |> Enum.reduce_while({:ok, []}, fn param, {:ok, args} ->
          case argument(tool, param, Map.fetch(params, param.name)) do
            {:ok, value} -> {:cont, {:ok, [value | args]}}
            {:error, _} = error -> {:halt, error}
          end
        end)
        |> case do
          {:ok, args} -> {:ok, Enum.reverse(args)}
          error -> error
        end

      unknown ->
        if Enum.any?(unknown, &is_atom/1) and Enum.all?(unknown, &(to_string(&1) in declared)) do
          {:error,
           "#{where(tool)}: parameter names must be strings, as JSON sends them (got #{inspect(unknown)})"}
        else
          {:error, unknown_message(tool, Enum.sort_by(unknown, &to_string/1))}
        end
    end
  end

  def from_call(%Tool{} = tool, other) do
    {:error, "#{where(tool)}: the parameters are not a JSON object (got #{inspect(other)})"}
  end

  @doc "`:ok` when `result` is what the tool declares it returns, else `{:error, message}`."
  def check_result(%Tool{} = tool, result) do
    cond do
      not Types.valid?(tool.result_type, result) ->
        {:error,
         "#{where(tool)} returned #{inspect(result, limit: 10)}, which is not " <>
           "#{Types.describe(tool.result_type)} as its declared result type " <>
           "`#{tool.result_type_name}` says"}

      match?({:error, _}, Jason.encode(result)) ->
        {:error, "#{where(tool)} returned a value with no JSON form: " <> no_json(result)}

      true ->
        :ok
    end
  end

  @doc "The tool, as messages name it."
  def where(%Tool{} = tool), do: "tool `#{tool.name}`"

  defp argument(%Tool{} = tool, %Parameter{} = param, lookup) do
    case lookup do
      :error when param.required ->
        {:error,
         "#{where(tool)}: the required parameter `#{param.name}` " <>
           "(#{param.type_name}) was not sent"}

      {:ok, nil} when param.required and param.type != :any ->
        {:error,
         "#{where(tool)}: the required parameter `#{param.name}` (#{param.type_name}) " <>
           "was sent as null"}

      absent when absent == :error or absent == {:ok, nil} ->
        {:ok, param.default}

      {:ok, value} ->
        if Types.valid?(param.type, value) do
          {:ok, value}
        else
          {:error,
           "#{where(tool)}: the parameter `#{param.name}` must be #{kind(param)}, got " <>
             "#{inspect(value, limit: 10, printable_limit: 80)}"}
        end
    end
  end

  # "an integer", "a list (array)": the declared name when the description does not say it.
  defp kind(%Parameter{type: type, type_name: type_name}) do
    described = Types.describe(type)
    if described =~ type_name, do: described, else: "#{described} (#{type_name})"
  end

  defp unknown_message(%Tool{} = tool, unknown) do
    declared = Enum.map(tool.parameters, & &1.name)

    takes =
      case declared do
        [] -> "it takes no parameters"
        names -> "it takes " <> Enum.map_join(names, ", ", &"`#{&1}`")
      end

    names = Enum.map_join(unknown, ", ", &"`#{&1}`")
    first = hd(unknown)

    "#{where(tool)}: unknown parameter#{if length(unknown) > 1, do: "s"} #{names}; #{takes}" <>
      SnakepitBridge.Tools.Runtime.did_you_mean(first, declared)
  end

  defp no_json(result) do
    case Jason.encode(result) do
      {:error, %{__exception__: true} = error} -> Exception.message(error)
      {:error, other} -> inspect(other)
    end
  end
end
