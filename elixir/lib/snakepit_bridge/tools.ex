defmodule SnakepitBridge.Tools do
  @moduledoc """
  Typed, documented Elixir functions for a Rust worker's tools, generated at compile time from
  the worker's tool manifest (see `SnakepitBridge.Manifest`).

      defmodule MyApp.Showcase do
        use SnakepitBridge.Tools, manifest: "priv/showcase_tools.json", pool: :showcase
      end

      {:ok, %{"message" => "hi"}} = MyApp.Showcase.ping(message: "hi")
      {:ok, 3.0} = MyApp.Showcase.basic_add(1, 2)
      3.0 = MyApp.Showcase.basic_add!(1, 2, snakepit: [timeout: 5_000])
      :ok = MyApp.Showcase.stream_data([count: 3], &IO.inspect/1)

  ## Options of `use`

    * `:manifest` (required) - the manifest's path, relative to the project root (the
      directory of `mix.exs`). The module is recompiled when the file changes. A missing or
      invalid manifest is a compile error saying how to write it.
    * `:pool` - the name of the snakepit pool that runs this worker (snakepit's `:pool_name`
      option); the default pool (the first one configured) when left out.
    * `:call_options_key` - the option that holds call options, `:snakepit` by default (change
      it only if a tool has an optional parameter of that name).
    * `:names` - function names for some tools, `%{"tool name" => :function_name}`, where
      the name derived from the tool's (see "Function names") does not suit, or two tools
      would get the same one.

  Options are literals (aliases are expanded): they are read at compile time, where the
  caller's code does not run.

  ## The generated functions

  For each tool, with its required parameters `r1, r2, ...` in declaration order:

    * `tool(r1, r2, ..., opts \\\\ [])` calls `Snakepit.execute/3` and returns `{:ok, result}` or
      `{:error, %Snakepit.Error{}}`;
    * `tool!(r1, r2, ..., opts \\\\ [])` returns the result or raises `SnakepitBridge.ToolError`;
    * a streaming tool (`supports_streaming`) takes a last argument, `callback`, called with
      each chunk: `tool(r1, ..., opts \\\\ [], callback)` calls `Snakepit.execute_stream/4` and
      returns `:ok` or `{:error, %Snakepit.Error{}}` (`tool!` returns `:ok` or raises).

  `opts` holds the tool's optional parameters by name (`ping(message: "hi")`); those left out
  are not sent, so the worker applies its own defaults. Snakepit's call options go under the
  `:snakepit` key, apart from the tool's parameters, so a tool parameter named `timeout` still
  works: `slow_tool(timeout: 3, snakepit: [timeout: 60_000])`. Call options:

  #{SnakepitBridge.Tools.CallOptions.doc()}

  Parameters marked `"binary": true` in the manifest are sent in snakepit's
  `binary_parameters` (raw bytes, not JSON); the others in the call's `args` map, under their
  names as strings. A tool with `extra_parameters` takes any other keyword option as a parameter.
  A parameter marked `"rest": true` (the worker's `#[param(rest)]`, Python's `**kwargs`, which
  collects those other parameters) is not an argument of the generated function:
  `echo(a: 1, b: 2)` sends `%{"a" => 1, "b" => 2}`.

  Every argument is checked before anything is sent: a value of the wrong kind for the declared
  type (see `SnakepitBridge.Types`), an unknown option (with a "did you mean" suggestion) or a
  required parameter passed as an option raises `ArgumentError` naming the tool and the
  parameter. `nil` is refused for a typed parameter: leave an optional one out instead.

  Each function has a `@doc` (the tool's description, from the Rust doc comment, and its
  parameters with their types and defaults) and a `@spec` (from the declared types; the result
  from the tool's `result_schema`, `term()` when there is none). `__tools__/0` returns the
  manifest's tools as decoded JSON (maps with string keys); `__request__(function, required,
  opts)` returns what a call would send, `{tool, args, snakepit_opts}`, without sending it:

      MyApp.Showcase.__request__(:ping, [], message: "hi", snakepit: [timeout: 5_000])
      #=> {"ping", %{"message" => "hi"}, [timeout: 5000, pool_name: :showcase]}

  ## Function names

  A tool's name is its function's name when it is a valid Elixir name. Otherwise characters
  other than letters, digits and `_` become `_` (`text.split-words` -> `text_split_words`),
  capitals are lowered with `Macro.underscore/1` (`WordCount` -> `word_count`), a leading digit
  gets a `tool_` prefix and a reserved word (`do`, `end`, `nil`, ...) a `_tool` suffix. The
  worker is always called with the tool's real name. Two tools that end up with the same
  function name are a compile error that says how to tell them apart (`names:`). Parameter names become keyword keys as they are
  (`"max-len"` is `:"max-len"`).
  """

  alias SnakepitBridge.{Manifest, Types}
  alias SnakepitBridge.Manifest.{Parameter, Tool}

  @typedoc "Snakepit's per-call options, given under `:snakepit` (see the module doc)."
  @type call_options :: unquote(SnakepitBridge.Tools.CallOptions.typespec())

  @reserved ~w(do end fn nil true false when and or not in catch rescue after else
               __MODULE__ __DIR__ __ENV__ __CALLER__ __STACKTRACE__ __info__ __tools__ __request__ module_info)

  @doc false
  defmacro __using__(opts) do
    # Options are literals (aliases expanded): nothing of the caller's code runs at compile
    # time. A literal's quoted form evaluates to itself, so eval_quoted only builds the value.
    opts = Macro.expand_literals(opts, __CALLER__)

    if not Macro.quoted_literal?(opts) do
      compile_error(
        __CALLER__,
        "use SnakepitBridge.Tools takes literal options (strings, atoms, lists, maps), got " <>
          "`#{Macro.to_string(opts)}`; write the manifest's path as a string"
      )
    end

    {opts, _binding} = Code.eval_quoted(opts)
    generate(opts, __CALLER__)
  end

  @doc """
  The Elixir function name for a tool or parameter name (see "Function names" above).

      iex> SnakepitBridge.Tools.function_name("text.split-words")
      :text_split_words
      iex> SnakepitBridge.Tools.function_name("WordCount")
      :word_count
      iex> SnakepitBridge.Tools.function_name("2fa")
      :tool_2fa
      iex> SnakepitBridge.Tools.function_name("end")
      :end_tool
  """
  @spec function_name(String.t()) :: atom()
  def function_name(name) do
    name = String.replace(name, ~r/[^A-Za-z0-9_]/u, "_")
    name = if name =~ ~r/[A-Z]/, do: Macro.underscore(name), else: name
    name = if name =~ ~r/\A[0-9]/, do: "tool_" <> name, else: name
    name = if name in @reserved, do: name <> "_tool", else: name
    String.to_atom(name)
  end

  defp generate(opts, env) do
    manifest_path =
      case Keyword.fetch(opts, :manifest) do
        {:ok, path} when is_binary(path) ->
          path

        _ ->
          compile_error(env, "use SnakepitBridge.Tools needs `manifest: \"path/to/tools.json\"`")
      end

    if not Keyword.keyword?(opts) do
      compile_error(env, "use SnakepitBridge.Tools takes a keyword list, got #{inspect(opts)}")
    end

    pool = Keyword.get(opts, :pool)
    call_key = Keyword.get(opts, :call_options_key, :snakepit)
    names = function_names!(Keyword.get(opts, :names, %{}), env)

    if not (is_atom(pool) and is_atom(call_key) and not is_nil(call_key)) do
      compile_error(env, "use SnakepitBridge.Tools: `pool` and `call_options_key` must be atoms")
    end

    case Keyword.keys(opts) -- [:manifest, :pool, :call_options_key, :names] do
      [] -> :ok
      extra -> compile_error(env, "use SnakepitBridge.Tools: unknown options #{inspect(extra)}")
    end

    absolute = Path.expand(manifest_path)

    manifest =
      case Manifest.read(absolute) do
        {:ok, manifest} ->
          manifest

        {:error, reason} ->
          compile_error(
            env,
            "#{reason}\n(use SnakepitBridge.Tools, manifest: #{inspect(manifest_path)}); " <>
              "write it from the worker binary with " <> Manifest.write_commands(manifest_path)
          )
      end

    for name <- Map.keys(names), not Enum.any?(manifest.tools, &(&1.name == name)) do
      compile_error(
        env,
        "use SnakepitBridge.Tools: `names:` renames tool #{inspect(name)}, which the manifest " <>
          "#{manifest_path} does not have"
      )
    end

    tools = Enum.map(manifest.tools, &prepare(&1, env.module, pool, call_key, names))
    check_names(tools, call_key, env)

    defs = Enum.flat_map(tools, &define/1)
    requests = Enum.map(tools, &define_request/1)
    raw_tools = Enum.map(manifest.tools, & &1.raw)

    quote do
      @external_resource unquote(absolute)

      @doc "The worker's tools, as the manifest `#{unquote(manifest_path)}` lists them."
      @spec __tools__() :: [map()]
      def __tools__, do: unquote(Macro.escape(raw_tools))

      @doc """
      What a call of `function` with the `required` arguments and `opts` would send, without
      sending it: `{tool, args, snakepit_opts}` as given to `Snakepit.execute/3` (or
      `Snakepit.execute_stream/4`). It checks and refuses exactly as the call does.
      """
      @spec __request__(atom(), [term()], keyword()) :: {String.t(), map(), keyword()}
      unquote_splicing(requests)

      def __request__(function, _required, _opts) do
        raise ArgumentError,
              "#{inspect(__MODULE__)}.__request__/3: no tool function #{inspect(function)}"
      end

      unquote_splicing(defs)
    end
  end

  # The data the generated functions pass to SnakepitBridge.Tools.Runtime, and what define/1
  # needs to write them.
  defp prepare(%Tool{} = tool, module, pool, call_key, names) do
    fun = Map.get_lazy(names, tool.name, fn -> function_name(tool.name) end)
    # The rest parameter collects the other parameters: it is no argument of its own.
    {rest, declared} = Enum.split_with(tool.parameters, & &1.rest)
    {required, optional} = Enum.split_with(declared, & &1.required)
    extra = tool.extra_parameters or rest != []
    arity = length(required) + 1 + if(tool.supports_streaming, do: 1, else: 0)

    runtime_param = fn %Parameter{} = p ->
      %{
        name: p.name,
        key: String.to_atom(p.name),
        type: p.type,
        type_name: p.type_name,
        binary: p.binary,
        required: p.required
      }
    end

    spec = %{
      tool: tool.name,
      signature: Manifest.signature(tool),
      display: "#{inspect(module)}.#{fun}/#{arity}",
      pool: pool,
      call_key: call_key,
      extra: extra,
      required: Enum.map(required, runtime_param),
      options: Map.new(optional, fn p -> {String.to_atom(p.name), runtime_param.(p)} end)
    }

    %{tool: tool, fun: fun, required: required, optional: optional, spec: spec}
  end

  defp check_names(tools, call_key, env) do
    errors =
      (tools
       |> Enum.group_by(& &1.fun)
       |> Enum.filter(fn {_, list} -> length(list) > 1 end)
       |> Enum.map(fn {fun, list} ->
         [first | _] = list

         "tools #{Enum.map_join(list, " and ", &"`#{&1.tool.name}`")} would both be `#{fun}`; " <>
           "give one another function name: use SnakepitBridge.Tools, ..., names: " <>
           "%{#{inspect(first.tool.name)} => :#{fun}_2}"
       end)) ++
        for %{tool: tool, optional: optional} <- tools,
            Enum.any?(optional, &(String.to_atom(&1.name) == call_key)) do
          "tool `#{tool.name}` has an optional parameter named `#{call_key}`, the key of call " <>
            "options; pick another key: use SnakepitBridge.Tools, ..., call_options_key: :call_opts"
        end

    if errors != [], do: compile_error(env, Enum.join(errors, "; "))
  end

  defp define_request(%{fun: fun, spec: spec}) do
    quote do
      def __request__(unquote(fun), required, opts) when is_list(required) do
        SnakepitBridge.Tools.Runtime.request(unquote(Macro.escape(spec)), required, opts)
      end
    end
  end

  defp define(%{tool: tool, fun: fun, required: required, spec: spec} = prepared) do
    bang = :"#{fun}!"
    vars = Enum.map(required, &Macro.var(function_name(&1.name), nil))
    opts = Macro.var(:opts, __MODULE__)
    callback = Macro.var(:callback, __MODULE__)
    arg_specs = Enum.map(required, &Types.spec(&1.type))
    opts_spec = options_spec(prepared)
    result = Types.result_spec(tool.result_schema)
    escaped = Macro.escape(spec)
    # The ! variant names itself in its errors.
    escaped_bang = Macro.escape(%{spec | display: String.replace(spec.display, "/", "!/")})

    if tool.supports_streaming do
      callback_spec = quote(do: (term() -> any()))
      all_specs = arg_specs ++ [opts_spec, callback_spec]

      quote do
        @doc unquote(doc(prepared, false))
        @spec unquote(fun)(unquote_splicing(all_specs)) :: :ok | {:error, Snakepit.Error.t()}
        def unquote(fun)(unquote_splicing(vars), unquote(opts) \\ [], unquote(callback)) do
          SnakepitBridge.Tools.Runtime.execute_stream(
            unquote(escaped),
            unquote(vars),
            unquote(opts),
            unquote(callback)
          )
        end

        @doc unquote(doc(prepared, true))
        @spec unquote(bang)(unquote_splicing(all_specs)) :: :ok
        def unquote(bang)(unquote_splicing(vars), unquote(opts) \\ [], unquote(callback)) do
          SnakepitBridge.Tools.Runtime.execute_stream!(
            unquote(escaped_bang),
            unquote(vars),
            unquote(opts),
            unquote(callback)
          )
        end
      end
    else
      all_specs = arg_specs ++ [opts_spec]

      quote do
        @doc unquote(doc(prepared, false))
        @spec unquote(fun)(unquote_splicing(all_specs)) ::
                {:ok, unquote(result)} | {:error, Snakepit.Error.t()}
        def unquote(fun)(unquote_splicing(vars), unquote(opts) \\ []) do
          SnakepitBridge.Tools.Runtime.execute(unquote(escaped), unquote(vars), unquote(opts))
        end

        @doc unquote(doc(prepared, true))
        @spec unquote(bang)(unquote_splicing(all_specs)) :: unquote(result)
        def unquote(bang)(unquote_splicing(vars), unquote(opts) \\ []) do
          SnakepitBridge.Tools.Runtime.execute!(
            unquote(escaped_bang),
            unquote(vars),
            unquote(opts)
          )
        end
      end
    end
    |> List.wrap()
  end

  defp options_spec(%{optional: optional, spec: spec}) do
    entries =
      Enum.map(optional, fn p -> {String.to_atom(p.name), Types.spec(p.type)} end) ++
        [{spec.call_key, quote(do: SnakepitBridge.Tools.call_options())}]

    entries = if spec.extra, do: entries ++ [quote(do: {atom(), term()})], else: entries

    element =
      entries
      |> Enum.reverse()
      |> Enum.reduce(fn entry, acc -> {:|, [], [entry, acc]} end)

    [element]
  end

  defp doc(%{tool: tool, fun: fun, required: required, optional: optional, spec: spec}, bang) do
    description =
      case String.trim(tool.description) do
        "" -> "The worker tool `#{tool.name}` (no description in the manifest)."
        text -> text
      end

    api = if tool.supports_streaming, do: "Snakepit.execute_stream/4", else: "Snakepit.execute/3"
    pool = if spec.pool, do: "pool `#{inspect(spec.pool)}`", else: "the default pool"

    returns =
      cond do
        bang and tool.supports_streaming ->
          "Returns `:ok` once every chunk went to `callback`; raises `SnakepitBridge.ToolError` on failure."

        bang ->
          "Returns the result; raises `SnakepitBridge.ToolError` on failure " <>
            "(see `#{fun}/#{length(required) + 1}` for the `{:ok, _} | {:error, _}` form)."

        tool.supports_streaming ->
          "Calls `callback` with each chunk; returns `:ok` or `{:error, %Snakepit.Error{}}`."

        true ->
          "Returns `{:ok, result}` or `{:error, %Snakepit.Error{}}`."
      end

    params =
      case required ++ optional do
        [] when spec.extra -> "None by name."
        [] -> "None."
        list -> Enum.map_join(list, "\n", &param_line(&1, spec.call_key))
      end

    extra =
      if spec.extra,
        do: "\n\nAny other keyword option is sent to the tool as a parameter.",
        else: ""

    """
    #{description}

    Calls the worker tool `#{tool.name}` through `#{api}` on #{pool}. #{returns}

    ## Parameters

    #{params}#{extra}

    Call options (`:timeout`, `:session_id`, ...) go under `#{spec.call_key}: [...]`,
    see `SnakepitBridge.Tools`.
    """
  end

  defp param_line(%Parameter{} = p, _call_key) do
    how =
      if p.required,
        do: "required, positional",
        else: "option `#{inspect(String.to_atom(p.name))}`"

    default =
      case p.default do
        :none -> ""
        value -> ", default `#{inspect(value)}`"
      end

    binary = if p.binary, do: ", sent in `binary_parameters`", else: ""

    description =
      case String.trim(p.description) do
        "" -> ""
        text -> " - " <> text
      end

    "  * `#{p.name}` (#{p.type_name}, #{how}#{default}#{binary})#{description}"
  end

  # A plain function name (the `!` variant is made from it).
  defp identifier?(fun) when fun in [nil, true, false], do: false
  defp identifier?(fun), do: Atom.to_string(fun) =~ ~r/\A[a-z_][a-zA-Z0-9_]*\z/

  # `names:`, tool name => function name, as a map or a list of pairs.
  defp function_names!(names, env) do
    pairs = if is_map(names), do: Map.to_list(names), else: names

    valid? =
      is_list(pairs) and
        Enum.all?(pairs, fn
          {tool, fun} -> is_binary(tool) and is_atom(fun) and identifier?(fun)
          _ -> false
        end)

    if not valid? do
      compile_error(
        env,
        "use SnakepitBridge.Tools: `names:` maps tool names to function names (lowercase " <>
          "identifiers, without ? or !), such as " <>
          "%{\"text.split\" => :split_text}, got #{inspect(names)}"
      )
    end

    for {tool, fun} <- pairs, Atom.to_string(fun) in @reserved do
      compile_error(
        env,
        "use SnakepitBridge.Tools: `names:` gives tool #{inspect(tool)} the name `#{fun}`, " <>
          "which is reserved; pick another"
      )
    end

    Map.new(pairs)
  end

  defp compile_error(env, message) do
    raise CompileError, file: env.file, line: env.line, description: message
  end
end
