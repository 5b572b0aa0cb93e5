defmodule SnakepitBridge.ElixirTools.Declaration do
  @moduledoc false
  # One `deftool` read into a typed model (`Tool`, `Parameter`), and every rule a declaration
  # must follow to be registered with snakepit's ToolRegistry. Plain functions: parse/2 and
  # check_module/3 return the model or the list of problems, each with its line, and
  # SnakepitBridge.ElixirTools turns the problems into one compile error.

  alias SnakepitBridge.Types

  defmodule Parameter do
    @moduledoc false
    # `type_name` is the name as written (registered with snakepit as it is); `type` its
    # meaning in SnakepitBridge.Types. `default` is registered only when it is not nil.
    @enforce_keys [:name, :type_name, :type, :required]
    defstruct [:name, :type_name, :type, :required, :default, :line]
    @type t :: %__MODULE__{}
  end

  defmodule Tool do
    @moduledoc false
    # `name` is the tool's name on the host; `function` the Elixir function that runs it.
    @enforce_keys [:name, :function, :parameters, :result_type_name, :result_type]
    defstruct [
      :name,
      :function,
      :parameters,
      :result_type_name,
      :result_type,
      :line,
      description: ""
    ]

    @type t :: %__MODULE__{}
  end

  # The type names a declaration takes: the host type names of SnakepitBridge.Types (the table
  # bridge-spec's compatibility check also reads) that have a JSON form, and `any`.
  @binary_types ["bytes", "binary"]
  @type_names (Types.host_names() -- @binary_types) ++ ["any"]

  # snakepit's ToolRegistry: lib/snakepit/bridge/tool_registry.ex (@tool_name_pattern,
  # @max_tool_name_length, @max_metadata_bytes).
  @tool_name_pattern ~r/^[A-Za-z0-9][A-Za-z0-9_\-\.]*$/
  @max_tool_name_bytes 64
  @max_metadata_bytes 4_096

  # The manifest's numbers are read by serde_json without arbitrary precision: an integer
  # default outside 64 bits would come back as a float.
  @min_default -9_223_372_036_854_775_808
  @max_default 18_446_744_073_709_551_615

  @doc "The type names a declaration accepts, for messages."
  def type_names, do: @type_names |> Enum.sort() |> Enum.map_join(", ", &"`#{&1}`")

  @doc """
  Reads `deftool HEAD, OPTS` (HEAD is `fun(param :: type, ...) :: result_type`; OPTS holds the
  body and `name:`) into `{:ok, tool, def_args, body}` or `{:error, [{line, message}]}`.
  `def_args` are the function's arguments as written, with `\\\\ default` for optional ones.
  """
  def parse(head, opts, line) do
    {call, result, head_problems} = split_head(head, line)
    {name_opt, body, opt_problems} = split_opts(opts, line)
    {function, args, call_problems} = split_call(call, line)

    {params, def_args, param_problems} =
      args |> Enum.map(&parse_param(&1, line)) |> collect_params()

    {result_type_name, result_type, result_problems} = parse_result(result, line)
    name = name_opt || (function && Atom.to_string(function))

    problems =
      head_problems ++
        opt_problems ++
        call_problems ++
        param_problems ++
        duplicate_params(params) ++
        result_problems ++ tool_name_problems(name, name_opt, function, line)

    case problems do
      [] ->
        tool = %Tool{
          name: name,
          function: function,
          parameters: params,
          result_type_name: result_type_name,
          result_type: result_type,
          line: line
        }

        {:ok, tool, def_args, body}

      _ ->
        {:error, problems}
    end
  end

  @doc """
  The rules that need the module: the tool's description (its `@doc`, trimmed), a tool name
  taken once, and a registration snakepit takes (at most 4,096 bytes). Returns the tool with
  its description or the problems.
  """
  def check_module(%Tool{} = tool, doc, declared) do
    {description, doc_problems} = description(tool, doc)
    tool = %{tool | description: description}

    duplicate =
      case Enum.find(declared, &(&1.name == tool.name)) do
        nil ->
          []

        first ->
          [
            {tool.line,
             "tool `#{tool.name}` is declared twice (first on line #{first.line}); " <>
               "give one of them another name with `name: \"...\"`"}
          ]
      end

    size = byte_size(:erlang.term_to_binary(registration_metadata(tool)))

    too_large =
      if doc_problems == [] and size > @max_metadata_bytes do
        [
          {tool.line,
           "the registration of tool `#{tool.name}` (its description and parameters) is " <>
             "#{size} bytes, and snakepit takes at most #{@max_metadata_bytes}; shorten its @doc"}
        ]
      else
        []
      end

    case doc_problems ++ duplicate ++ too_large do
      [] -> {:ok, tool}
      problems -> {:error, problems}
    end
  end

  @doc """
  The metadata snakepit's ToolRegistry is given for `tool`, exactly what a hand registration
  writes (snakepit's examples/bidirectional_tools_demo.exs): description, `exposed_to_python:
  true` and the parameter specs.
  """
  def registration_metadata(%Tool{} = tool) do
    %{
      description: tool.description,
      exposed_to_python: true,
      parameters: Enum.map(tool.parameters, &parameter_spec/1)
    }
  end

  defp parameter_spec(%Parameter{} = p) do
    spec = %{name: p.name, type: p.type_name, required: p.required}
    if is_nil(p.default), do: spec, else: Map.put(spec, :default, p.default)
  end

  @doc "The typespec of a parameter, as quoted code (`| nil` for an optional one without default)."
  def param_spec(%Parameter{required: false, default: nil, type: type}) when type != :any,
    do: quote(do: unquote(Types.spec(type)) | nil)

  def param_spec(%Parameter{type: type}), do: Types.spec(type)

  # --- the head: `fun(params) :: result` ---

  defp split_head({:"::", _meta, [call, result]}, _line), do: {call, result, []}

  defp split_head(call, line) do
    {call, nil,
     [
       {line,
        "declare the tool's result type after its parameters: " <>
          "`deftool name(param :: type) :: result_type do ... end` (types: #{type_names()})"}
     ]}
  end

  defp split_opts(opts, line) when is_list(opts) do
    {name, name_problems} =
      case Keyword.fetch(opts, :name) do
        :error -> {nil, []}
        {:ok, name} when is_binary(name) -> {name, []}
        {:ok, other} -> {nil, [{line, "`name:` must be a string, got #{Macro.to_string(other)}"}]}
      end

    body = Keyword.delete(opts, :name)

    body_problems =
      cond do
        not Keyword.has_key?(body, :do) ->
          [{line, "deftool needs a body: `deftool name(...) :: type do ... end`"}]

        (unknown = Keyword.keys(body) -- [:do, :rescue, :catch, :after, :else]) != [] ->
          [{line, "unknown deftool options #{inspect(unknown)}; the only option is `name:`"}]

        true ->
          []
      end

    {name, body, name_problems ++ body_problems}
  end

  defp split_opts(_opts, line),
    do: {nil, [], [{line, "deftool needs a body: `deftool name(...) :: type do ... end`"}]}

  defp split_call({function, _meta, args}, _line)
       when is_atom(function) and (is_list(args) or is_atom(args)) do
    {function, if(is_list(args), do: args, else: []), []}
  end

  defp split_call(other, line) do
    {nil, [],
     [
       {line,
        "expected a function head such as `calculate_fibonacci(n :: integer)`, got " <>
          "`#{Macro.to_string(other)}`"}
     ]}
  end

  # --- parameters: `name :: type` or `name :: type \\ default` ---

  defp parse_param({:\\, _meta, [declared, default_ast]}, line) do
    with {:ok, param, var} <- parse_declared(declared, line),
         {:ok, default} <- literal_default(param, default_ast, line) do
      {:ok, %{param | required: false, default: default}, {:\\, [], [var, default_ast]}}
    end
  end

  defp parse_param(declared, line), do: parse_declared(declared, line)

  defp parse_declared({:"::", meta, [{name, _, context} = var, type_ast]}, line)
       when is_atom(name) and is_atom(context) do
    line = meta[:line] || line

    case read_type(type_ast) do
      {:ok, type_name, type} ->
        param = %Parameter{
          name: Atom.to_string(name),
          type_name: type_name,
          type: type,
          required: true,
          line: line
        }

        {:ok, param, var}

      {:error, message} ->
        {:error, [{line, "parameter `#{name}`: #{message}"}]}
    end
  end

  defp parse_declared(other, line) do
    {:error,
     [
       {line,
        "write each parameter as `name :: type` or `name :: type \\\\ default`, got " <>
          "`#{Macro.to_string(other)}` (types: #{type_names()})"}
     ]}
  end

  defp read_type({type, _meta, context})
       when is_atom(type) and (is_atom(context) or context == []) do
    name = Atom.to_string(type)

    cond do
      name in @type_names ->
        {:ok, name, Types.from_host(name, false)}

      name in @binary_types ->
        {:error,
         "`#{type}` cannot be an Elixir tool's parameter or result type here: snakepit " <>
           "decodes an Elixir tool's parameters from JSON only (lib/snakepit/grpc/" <>
           "bridge_server.ex execute_elixir_tool/2), and deftool declares JSON results; " <>
           "send the bytes base64-encoded as a `string`"}

      true ->
        {:error, "type `#{type}` has no JSON form snakepit can carry; use one of #{type_names()}"}
    end
  end

  defp read_type(other) do
    {:error,
     "the type `#{Macro.to_string(other)}` is not one of #{type_names()} " <>
       "(element types such as `list(integer)` are not carried)"}
  end

  defp literal_default(%Parameter{} = param, default_ast, line) do
    line = param.line || line

    # `-1` is the unary minus applied to `1`, not a literal of its own.
    default_ast =
      Macro.prewalk(default_ast, fn
        {:-, _meta, [number]} when is_number(number) -> -number
        {:+, _meta, [number]} when is_number(number) -> number
        other -> other
      end)

    if Macro.quoted_literal?(default_ast) do
      {default, _binding} = Code.eval_quoted(default_ast)
      default_problem(param, default, line)
    else
      {:error,
       [
         {line,
          "parameter `#{param.name}`: the default must be a literal (a number, string, " <>
            "boolean, list or map), got `#{Macro.to_string(default_ast)}`"}
       ]}
    end
  end

  defp default_problem(_param, nil, _line), do: {:ok, nil}

  defp default_problem(%Parameter{} = param, default, line) do
    cond do
      not json_value?(default) ->
        {:error,
         [
           {line,
            "parameter `#{param.name}`: the default #{inspect(default)} has no JSON form " <>
              "(use numbers, strings, booleans, nil, lists and maps with string keys)"}
         ]}

      not Types.valid?(param.type, default) ->
        {:error,
         [
           {line,
            "parameter `#{param.name}`: the default #{inspect(default)} is not " <>
              "#{Types.describe(param.type)}, as its type `#{param.type_name}` says"}
         ]}

      not wide_integer_free?(default) ->
        {:error,
         [
           {line,
            "parameter `#{param.name}`: the default #{inspect(default)} holds an integer " <>
              "beyond 64 bits, which a manifest cannot carry exactly; take it as a `string`"}
         ]}

      true ->
        {:ok, default}
    end
  end

  defp json_value?(value) when is_binary(value), do: String.valid?(value)
  defp json_value?(value) when is_number(value) or is_boolean(value) or is_nil(value), do: true
  defp json_value?(list) when is_list(list), do: Enum.all?(list, &json_value?/1)

  defp json_value?(map) when is_map(map) and not is_struct(map),
    do: Enum.all?(map, fn {key, value} -> is_binary(key) and json_value?(value) end)

  defp json_value?(_other), do: false

  defp wide_integer_free?(value) when is_integer(value),
    do: value >= @min_default and value <= @max_default

  defp wide_integer_free?(list) when is_list(list), do: Enum.all?(list, &wide_integer_free?/1)

  defp wide_integer_free?(map) when is_map(map),
    do: Enum.all?(map, fn {_key, value} -> wide_integer_free?(value) end)

  defp wide_integer_free?(_other), do: true

  defp collect_params(results) do
    Enum.reduce(results, {[], [], []}, fn
      {:ok, param, arg}, {params, args, problems} -> {params ++ [param], args ++ [arg], problems}
      {:error, more}, {params, args, problems} -> {params, args, problems ++ more}
    end)
  end

  defp duplicate_params(params) do
    params
    |> Enum.group_by(& &1.name)
    |> Enum.filter(fn {_name, group} -> length(group) > 1 end)
    |> Enum.map(fn {name, [_ | [second | _]]} ->
      {second.line, "parameter `#{name}` is declared twice; give each parameter its own name"}
    end)
  end

  defp parse_result(nil, _line), do: {nil, nil, []}

  defp parse_result(result, line) do
    case read_type(result) do
      {:ok, type_name, type} -> {type_name, type, []}
      {:error, message} -> {nil, nil, [{line, "the result type: #{message}"}]}
    end
  end

  # --- the tool's name on the host ---

  defp tool_name_problems(nil, _name_opt, _function, _line), do: []

  defp tool_name_problems(name, name_opt, function, line) do
    reason =
      cond do
        String.trim(name) != name or name == "" ->
          "is empty or has surrounding white space"

        byte_size(name) > @max_tool_name_bytes ->
          "is #{byte_size(name)} bytes long (at most #{@max_tool_name_bytes})"

        not Regex.match?(@tool_name_pattern, name) ->
          "has characters snakepit refuses (it takes letters, digits, `_`, `-` and `.`, " <>
            "starting with a letter or a digit)"

        true ->
          nil
      end

    cond do
      is_nil(reason) ->
        []

      name_opt ->
        [{line, "the tool name #{inspect(name)} #{reason}; choose another `name:`"}]

      true ->
        [
          {line,
           "the tool name #{inspect(name)} (the function's name) #{reason}; give the tool a " <>
             "name snakepit takes: `deftool #{function}(...) :: type, name: \"...\" do`"}
        ]
    end
  end

  # --- the description: the function's @doc ---

  defp description(%Tool{} = tool, {_line, doc}) when is_binary(doc) do
    case String.trim(doc) do
      "" -> {"", [missing_doc(tool)]}
      text -> {text, []}
    end
  end

  defp description(%Tool{} = tool, _doc), do: {"", [missing_doc(tool)]}

  defp missing_doc(%Tool{} = tool) do
    {tool.line,
     "tool `#{tool.name}` has no @doc; write one before deftool: it is the description " <>
       "workers see (and the doc of the Rust method generated for it)"}
  end
end
