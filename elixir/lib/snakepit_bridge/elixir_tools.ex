defmodule SnakepitBridge.ElixirTools do
  @moduledoc """
  Elixir tools declared in Elixir, for Rust workers to call: registered with snakepit for
  every worker of a pool, checked on arrival, and written to the manifest that a Rust crate's
  `#[elixir_tools(manifest = "...")]` trait is checked against at `cargo build`.

      defmodule MyApp.Tools do
        use SnakepitBridge.ElixirTools

        @doc "Calculate Fibonacci sequence up to n numbers"
        deftool calculate_fibonacci(n :: integer) :: map do
          %{n: n, sequence: fibonacci(n)}
        end

        @doc "Process a list with various operations"
        deftool process_list(list :: array, operation :: string \\\\ "sum") :: map do
          %{list: list, operation: operation, result: apply_operation(operation, list)}
        end
      end

  Each `deftool` defines an ordinary function (`MyApp.Tools.calculate_fibonacci(10)` works
  from Elixir too) with an `@spec` from the declared types, and declares a tool of the same
  name:

    * its description is the function's `@doc` (required; trimmed);
    * each parameter is `name :: type` (required) or `name :: type \\\\ default` (optional,
      with a literal default that the tool's registration carries; `\\\\ nil` is optional
      without a registered default);
    * the result type follows the parameters: `:: type`;
    * types are snakepit's host type names, the ones the Rust side reads (see
      `SnakepitBridge.Types`): `integer`, `float`/`number`, `string`, `boolean`,
      `list`/`array`, `map`/`object` and `any` (and the aliases `int`, `str`, `bool`,
      `dict`). The name is registered as written, so that `array` stays `array` in the
      manifest;
    * `deftool fun(...) :: type, name: "other-name" do` gives the tool another name than the
      function's (snakepit takes `^[A-Za-z0-9][A-Za-z0-9_\\-\\.]*$`, at most 64 bytes).

  A declaration snakepit could not register is a compile error at the `deftool` that says
  what to write (every problem of its head at once): a type with no JSON form (`pid`,
  `tuple`, `bytes`, ...), a default of the wrong kind, two tools with one name, a name
  snakepit refuses, a missing `@doc`, a registration over snakepit's 4,096-byte metadata
  limit.

  ## Registered for every worker

  A pool configured with `SnakepitBridge.pool_config(name, elixir_tools: [MyApp.Tools])`
  registers the tools, exposed to workers, in the session of each of its workers before the
  worker's process starts, and in the worker's start-up session (the one a Rust worker's
  `StartContext::verify` checks in); they are released when the worker goes away. No
  application code looks up session ids. `register/2` and `unregister/1` do it by hand for any
  other session.

  ## Checked on arrival

  A call from a worker is checked against the declaration before the function runs: a
  missing required parameter, an unknown one or a value of the wrong kind is an error answer
  naming the tool and the parameter (snakepit sends it as `ExecuteElixirTool`'s
  `error_message`, `"Tool execution failed: ..."`, and a Rust caller gets it as an `Error`).
  An optional parameter left out, or sent as `null`, takes its default. Integers stay exact at
  any width. The function's result is checked against the declared result type and for a
  JSON form, since snakepit would otherwise send an unencodable value as its `inspect/1` text.

  ## The manifest

  `mix snakepit_bridge.elixir_manifest -o PATH MyApp.Tools` (or `manifest/2`) writes the
  tools in the manifest format of `snakepit-tools snapshot`, byte for byte what that command
  writes from a running host where the same tools are registered, so a Rust crate's typed
  trait is checked against the Elixir source with nothing running. See the task for keeping it
  up to date on every `mix compile` and checking it in CI.
  """

  alias SnakepitBridge.ElixirTools.{Arguments, Declaration, ManifestJSON}
  alias SnakepitBridge.ElixirTools.Declaration.Tool
  alias SnakepitBridge.Types

  @doc false
  defmacro __using__(opts) do
    if opts != [] do
      raise CompileError,
        file: __CALLER__.file,
        line: __CALLER__.line,
        description:
          "use SnakepitBridge.ElixirTools takes no options, got #{Macro.to_string(opts)}"
    end

    quote do
      import SnakepitBridge.ElixirTools, only: [deftool: 1, deftool: 2, deftool: 3]
      Module.register_attribute(__MODULE__, :snakepit_bridge_elixir_tools, accumulate: true)
      @before_compile SnakepitBridge.ElixirTools
    end
  end

  @doc """
  Declares a tool and defines its function: `deftool name(param :: type, ...) :: result_type
  do ... end` (see the module doc).
  """
  defmacro deftool(head, opts) do
    define_tool(head, opts, __CALLER__)
  end

  @doc false
  # `deftool head, name: "..." do ... end`: the options and the block come apart.
  defmacro deftool(head, opts, block) when is_list(opts) and is_list(block) do
    define_tool(head, opts ++ block, __CALLER__)
  end

  @doc false
  defmacro deftool(head) do
    {:error, problems} = Declaration.parse(head, nil, __CALLER__.line)
    compile_error!(__CALLER__, problems)
  end

  defp define_tool(head, opts, caller) do
    case Declaration.parse(head, opts, caller.line) do
      {:ok, tool, def_args, body} ->
        spec_args = Enum.map(tool.parameters, &Declaration.param_spec/1)
        result_spec = Types.spec(tool.result_type)
        fun = tool.function

        quote do
          SnakepitBridge.ElixirTools.__declare__(__ENV__, unquote(Macro.escape(tool)))
          @spec unquote(fun)(unquote_splicing(spec_args)) :: unquote(result_spec)
          def unquote(fun)(unquote_splicing(def_args)), unquote(body)
        end

      {:error, problems} ->
        compile_error!(caller, problems)
    end
  end

  @doc false
  # Runs in the module body, where the function's @doc is set: the rules that need it.
  def __declare__(env, %Tool{} = tool) do
    doc = Module.get_attribute(env.module, :doc)
    declared = Module.get_attribute(env.module, :snakepit_bridge_elixir_tools)

    case Declaration.check_module(tool, doc, declared) do
      {:ok, tool} -> Module.put_attribute(env.module, :snakepit_bridge_elixir_tools, tool)
      {:error, problems} -> compile_error!(env, problems)
    end
  end

  @doc false
  defmacro __before_compile__(env) do
    tools = env.module |> Module.get_attribute(:snakepit_bridge_elixir_tools) |> Enum.reverse()

    quote do
      @doc false
      def __elixir_tools__, do: unquote(Macro.escape(tools))
    end
  end

  defp compile_error!(env, [{line, message}]) do
    raise CompileError, file: env.file, line: line, description: message
  end

  defp compile_error!(env, [{line, _} | _] = problems) do
    file = Path.relative_to_cwd(env.file)
    lines = Enum.map_join(problems, "\n", fn {at, message} -> "  #{file}:#{at}: #{message}" end)

    raise CompileError,
      file: env.file,
      line: line,
      description: "#{length(problems)} problems in deftool declarations:\n" <> lines
  end

  @doc """
  The tools `module` declares, in declaration order. Raises `ArgumentError` when `module` is
  not a module with `use SnakepitBridge.ElixirTools`.
  """
  @spec tools(module()) :: [Tool.t()]
  def tools(module) when is_atom(module) do
    if Code.ensure_loaded?(module) and function_exported?(module, :__elixir_tools__, 0) do
      module.__elixir_tools__()
    else
      raise ArgumentError,
            "#{inspect(module)} declares no Elixir tools: it is not a module with " <>
              "`use SnakepitBridge.ElixirTools` (or it is not compiled)"
    end
  end

  def tools(other) do
    raise ArgumentError,
          "expected a module with `use SnakepitBridge.ElixirTools`, got #{inspect(other)} " <>
            "(write the module name, MyApp.Tools, not a string)"
  end

  @doc """
  What `register/2` gives snakepit's ToolRegistry for `modules`: `{name, handler, metadata}`
  per tool. Raises `ArgumentError` when two modules declare a tool of the same name.
  """
  @spec registrations([module()]) :: [{String.t(), (map() -> term()), map()}]
  def registrations(modules), do: registrations(modules, nil)

  @doc false
  # `owner` is carried by each handler, so that two registrations of the same tools by
  # different owners are told apart (SnakepitBridge.ElixirTools.Workers).
  def registrations(modules, owner) when is_list(modules) do
    declared = for module <- Enum.uniq(modules), tool <- tools(module), do: {module, tool}

    declared
    |> Enum.group_by(fn {_module, tool} -> tool.name end)
    |> Enum.each(fn
      {_name, [_one]} ->
        :ok

      {name, [{first, _}, {second, _} | _]} ->
        raise ArgumentError,
              "Elixir tool #{inspect(name)} is declared by both #{inspect(first)} and " <>
                "#{inspect(second)}; a session holds one tool per name: rename one " <>
                "(`deftool ..., name: \"...\"`) or leave one module out"
    end)

    for {module, tool} <- declared do
      handler = fn params -> __call__(module, tool, params, owner) end
      {tool.name, handler, Declaration.registration_metadata(tool)}
    end
  end

  def registrations(other, _owner) do
    raise ArgumentError,
          "expected a list of modules with `use SnakepitBridge.ElixirTools`, got #{inspect(other)}"
  end

  @doc """
  Registers the tools of `modules` in snakepit's ToolRegistry for `session_id`, exposed to
  workers. When the session already has one of the tools, `{:error, message}` names them and
  nothing is registered. Raises `ArgumentError` for a module that declares no tools or two
  modules that declare one name (see `registrations/1`).
  """
  @spec register(String.t(), [module()]) :: :ok | {:error, String.t()}
  def register(session_id, modules) when is_binary(session_id) do
    register_all(session_id, registrations(modules))
  end

  def register(other, _modules) do
    raise ArgumentError, "the session id must be a string, got #{inspect(other)}"
  end

  @doc false
  def register_all(session_id, registrations) do
    taken =
      for {name, _handler, _metadata} <- registrations,
          match?({:ok, _}, Snakepit.Bridge.ToolRegistry.get_tool(session_id, name)),
          do: name

    if taken == [] do
      Enum.reduce_while(registrations, :ok, fn {name, handler, metadata}, :ok ->
        case Snakepit.Bridge.ToolRegistry.register_elixir_tool(
               session_id,
               name,
               handler,
               metadata
             ) do
          :ok ->
            {:cont, :ok}

          {:error, reason} ->
            # Registered by someone else since the check above: say so, as it is.
            {:halt,
             {:error,
              "cannot register Elixir tool #{inspect(name)} in session #{inspect(session_id)}: " <>
                "#{inspect(reason)}"}}
        end
      end)
    else
      {:error,
       "session #{inspect(session_id)} already has the tools " <>
         "#{Enum.map_join(taken, ", ", &inspect/1)}; nothing was registered " <>
         "(SnakepitBridge.ElixirTools.unregister/1 removes a session's tools)"}
    end
  end

  @doc "`register/2`, raising `ArgumentError` on failure."
  @spec register!(String.t(), [module()]) :: :ok
  def register!(session_id, modules) do
    case register(session_id, modules) do
      :ok -> :ok
      {:error, message} -> raise ArgumentError, message
    end
  end

  @doc """
  Removes every tool registered for `session_id` from snakepit's ToolRegistry (snakepit does
  not remove them when the session ends).
  """
  @spec unregister(String.t()) :: :ok
  def unregister(session_id) when is_binary(session_id) do
    Snakepit.Bridge.ToolRegistry.cleanup_session(session_id)
  end

  @doc """
  The manifest of the tools of `modules`, as `snakepit-tools snapshot` writes it for a session
  where they are registered. Options: `:session`, the session the manifest names
  (`"elixir"` by default).
  """
  @spec manifest([module()], keyword()) :: String.t()
  def manifest(modules, opts \\ []) when is_list(opts) do
    session = Keyword.get(opts, :session, "elixir")

    if not (is_binary(session) and session != "") do
      raise ArgumentError,
            "the manifest's :session must be a non-empty string, got #{inspect(session)}"
    end

    tools =
      for {name, _handler, metadata} <- registrations(modules) do
        ManifestJSON.exposed_tool(name, metadata)
      end

    ManifestJSON.manifest(session, tools)
  end

  @doc false
  # The handler snakepit runs for a call from a worker (ToolRegistry.execute_local_tool/3,
  # which turns a raised exception into the error answer, "Tool execution failed: <message>").
  def __call__(module, %Tool{} = tool, params, _owner) do
    args =
      case Arguments.from_call(tool, params) do
        {:ok, args} -> args
        {:error, message} -> raise ArgumentError, message
      end

    result =
      try do
        apply(module, tool.function, args)
      rescue
        error ->
          reraise RuntimeError,
                  [
                    message:
                      "#{Arguments.where(tool)} failed: " <>
                        Exception.format_banner(:error, error)
                  ],
                  __STACKTRACE__
      catch
        kind, reason ->
          raise RuntimeError,
                "#{Arguments.where(tool)} failed: #{Exception.format_banner(kind, reason)}"
      end

    case Arguments.check_result(tool, result) do
      :ok -> result
      {:error, message} -> raise RuntimeError, message
    end
  end
end
