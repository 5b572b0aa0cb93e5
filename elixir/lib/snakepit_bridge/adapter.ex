defmodule SnakepitBridge.Adapter do
  @moduledoc """
  A snakepit (v0.13) adapter that launches a Rust worker binary built with snakepit-bridge.

  snakepit launches `executable args --port 0 --elixir-address ... --snakepit-run-id ...` with
  its ready file, heartbeat and log-level variables in the environment; the Rust worker speaks
  snakepit's gRPC protocol exactly as snakepit's own Python worker does. The gRPC transport
  (connecting, `ExecuteTool`, streaming) is `Snakepit.Adapters.GRPCPython`'s, which holds
  nothing Python-specific; an adapter only says what to launch.

  ## One worker for the application

  `SnakepitBridge.Adapter` itself launches the application-wide worker:

      config :snakepit_bridge,
        executable: "/abs/path/to/target/release/my_worker",
        args: []

  ## One adapter per worker

  snakepit's adapter callbacks take no arguments, so a pool that runs another worker gets its
  own adapter module:

      defmodule MyApp.ShowcaseAdapter do
        use SnakepitBridge.Adapter,
          executable: "/abs/path/to/target/release/examples/showcase_worker",
          args: []
      end

  With `otp_app: :my_app`, `config :my_app, MyApp.ShowcaseAdapter, executable: ..., args: ...`
  is read when the pool starts (for example from `config/runtime.exs` in a release) and
  overrides the options given to `use`. A relative executable is expanded against the current
  directory when the pool starts; Erlang does not search `PATH`.

  ## Transport

  `Snakepit.execute/3` and `Snakepit.execute_stream/4` go over the worker's Unix-socket lane
  when it offers one (see `SnakepitBridge.Lane`), and over snakepit's gRPC client otherwise.
  `transport: :grpc` (in `use`, or `config :snakepit_bridge, transport: :grpc`) keeps every
  call on gRPC; the default is `:unix_socket`.

  `SnakepitBridge.pool_config/2` builds the pool's configuration around such an adapter; its
  `elixir_tools:` option registers Elixir tools for every worker of the pool (see
  `SnakepitBridge.ElixirTools`), from the adapter's `executable_path/0`, which snakepit calls
  in each starting worker.
  """

  @behaviour Snakepit.Adapter

  alias Snakepit.Adapters.GRPCPython

  @doc false
  defmacro __using__(opts) do
    quote bind_quoted: [opts: opts] do
      @behaviour Snakepit.Adapter
      @snakepit_bridge_adapter_opts opts

      @doc "The worker binary, as an absolute path (see `SnakepitBridge.Adapter`)."
      @impl true
      def executable_path do
        settings = SnakepitBridge.Adapter.settings(__MODULE__, @snakepit_bridge_adapter_opts)
        path = SnakepitBridge.Adapter.executable!(settings[:executable], inspect(__MODULE__))
        SnakepitBridge.Adapter.starting(settings[:transport], inspect(__MODULE__))
        path
      end

      @doc "Arguments before snakepit's own flags."
      @impl true
      def script_args do
        settings = SnakepitBridge.Adapter.settings(__MODULE__, @snakepit_bridge_adapter_opts)
        SnakepitBridge.Adapter.args!(Keyword.get(settings, :args, []), inspect(__MODULE__))
      end

      # Everything else is the same for every worker: SnakepitBridge.Adapter's.
      @impl true
      defdelegate script_path, to: SnakepitBridge.Adapter
      @impl true
      defdelegate command_timeout(command, args), to: SnakepitBridge.Adapter
      defdelegate uses_grpc?, to: SnakepitBridge.Adapter
      defdelegate get_port, to: SnakepitBridge.Adapter
      @doc false
      def init_grpc_connection(port) do
        settings = SnakepitBridge.Adapter.settings(__MODULE__, @snakepit_bridge_adapter_opts)
        SnakepitBridge.Adapter.connect(port, settings[:transport], inspect(__MODULE__))
      end

      @doc false
      defdelegate grpc_execute(connection, session_id, command, args, timeout, opts \\ []),
        to: SnakepitBridge.Adapter

      @doc false
      defdelegate grpc_execute_stream(
                    connection,
                    session_id,
                    command,
                    args,
                    callback_fn,
                    timeout,
                    opts \\ []
                  ),
                  to: SnakepitBridge.Adapter
    end
  end

  @doc "The worker binary: `config :snakepit_bridge, executable: path`, as an absolute path."
  @impl true
  def executable_path do
    path =
      executable!(Application.get_env(:snakepit_bridge, :executable), "config :snakepit_bridge")

    starting(Application.get_env(:snakepit_bridge, :transport), "config :snakepit_bridge")
    path
  end

  @doc false
  # Called by snakepit in the starting GRPCWorker, before it launches the worker: the pool's
  # `elixir_tools:` are registered for the worker's sessions here, and the lane directory is
  # made (and put in the environment the worker inherits) unless the adapter says `:grpc`.
  def starting(transport, source) do
    if transport!(transport, source) == :unix_socket, do: SnakepitBridge.Lane.ensure_dir()
    SnakepitBridge.ElixirTools.Workers.starting()
  end

  @doc false
  # The worker has written its ready file: snakepit's gRPC connection, and the lane when the
  # worker offers it and the adapter does not say `transport: :grpc`.
  def connect(port, transport, source) do
    with {:ok, connection} <- GRPCPython.init_grpc_connection(port) do
      with :unix_socket <- transport!(transport, source),
           {:ok, lane} <- SnakepitBridge.Lane.connect(SnakepitBridge.Lane.ensure_dir(), port) do
        {:ok, Map.put(connection, :lane, lane)}
      else
        _ -> {:ok, connection}
      end
    end
  after
    SnakepitBridge.ElixirTools.Workers.connected()
  end

  @doc false
  def transport!(nil, _source), do: :unix_socket
  def transport!(transport, _source) when transport in [:unix_socket, :grpc], do: transport

  def transport!(other, source) do
    raise ArgumentError,
          "snakepit_bridge (#{source}): transport: must be :unix_socket (the default: the " <>
            "Unix-socket lane when the worker offers it) or :grpc, got #{inspect(other)}"
  end

  @doc "No script: the binary is launched directly, with the arguments of `script_args/0`."
  @impl true
  def script_path, do: ""

  @doc "Arguments before snakepit's own flags: `config :snakepit_bridge, args: [...]`."
  @impl true
  def script_args do
    args!(Application.get_env(:snakepit_bridge, :args, []), "config :snakepit_bridge")
  end

  @doc "The per-call deadline when the caller gives none, as for snakepit's Python workers."
  @impl true
  def command_timeout(command, args), do: GRPCPython.command_timeout(command, args)

  @doc "Streaming (`Snakepit.execute_stream/4`) is allowed only for adapters that say so."
  def uses_grpc?, do: true

  @doc "The port passed as `--port`: 0, the worker picks one and writes it to its ready file."
  def get_port, do: GRPCPython.get_port()

  @doc false
  # The worker has written its ready file: its start-up (and start-up session) is over.
  def init_grpc_connection(port) do
    connect(port, Application.get_env(:snakepit_bridge, :transport), "config :snakepit_bridge")
  end

  @doc false
  def grpc_execute(connection, session_id, command, args, timeout, opts \\ [])

  def grpc_execute(%{lane: lane} = connection, session_id, command, args, timeout, opts) do
    case SnakepitBridge.Lane.execute(lane, session_id, command, args, timeout, List.wrap(opts)) do
      :not_sent -> GRPCPython.grpc_execute(connection, session_id, command, args, timeout, opts)
      result -> result
    end
  end

  def grpc_execute(connection, session_id, command, args, timeout, opts) do
    GRPCPython.grpc_execute(connection, session_id, command, args, timeout, opts)
  end

  @doc false
  # A tool that fails while streaming ends the stream with gRPC status INTERNAL and the same
  # error JSON (`{"type", "message", "context", "stacktrace", "traceback"}`) a unary call answers
  # with `success: false`. snakepit translates that JSON into its error structs
  # (`Snakepit.Error.ValueError`, ...) only on the unary path (lib/snakepit/grpc/client_impl.ex
  # handle_tool_response/1); its streaming path hands the raw `%GRPC.RPCError{}` on
  # (lib/snakepit/adapters/grpc_python.ex process_stream_message/2). Translated here with the
  # unary path's own function, a streaming tool's error is the same struct as a unary tool's:
  # `{:error, %Snakepit.Error{details: %{reason: %Snakepit.Error.ValueError{}}}}` from
  # `Snakepit.execute_stream/4`. Any other error is passed on as it is.
  def grpc_execute_stream(connection, session_id, command, args, callback_fn, timeout, opts \\ [])

  def grpc_execute_stream(
        %{lane: lane} = connection,
        session_id,
        command,
        args,
        callback_fn,
        timeout,
        opts
      ) do
    lane
    |> SnakepitBridge.Lane.execute_stream(
      session_id,
      command,
      args,
      callback_fn,
      timeout || Snakepit.Defaults.grpc_worker_stream_timeout(),
      List.wrap(opts)
    )
    |> case do
      :not_sent ->
        GRPCPython.grpc_execute_stream(
          connection,
          session_id,
          command,
          args,
          callback_fn,
          timeout,
          opts
        )

      result ->
        result
    end
    |> translate_stream_error()
  end

  def grpc_execute_stream(connection, session_id, command, args, callback_fn, timeout, opts) do
    connection
    |> GRPCPython.grpc_execute_stream(session_id, command, args, callback_fn, timeout, opts)
    |> translate_stream_error()
  end

  @doc false
  def translate_stream_error({:error, %GRPC.RPCError{status: 13, message: message}} = error)
      when is_binary(message) do
    case Snakepit.Error.PythonTranslation.from_error_message(message) do
      {:ok, translated} -> {:error, translated}
      :error -> error
    end
  end

  def translate_stream_error(result), do: result

  @doc false
  # The options given to `use`, overridden by `config otp_app, module, ...` when `otp_app` is set.
  def settings(module, opts) do
    case Keyword.get(opts, :otp_app) do
      nil -> opts
      app -> Keyword.merge(opts, Application.get_env(app, module, []))
    end
  end

  @doc false
  def executable!(path, source) when is_binary(path) and path != "" do
    path = Path.expand(path)

    if not File.regular?(path) do
      raise ArgumentError,
            "snakepit_bridge (#{source}): the worker binary #{inspect(path)} does not exist; " <>
              "build it (cargo build --release) and give its absolute path as `executable:`"
    end

    path
  end

  def executable!(other, source) do
    raise ArgumentError,
          "snakepit_bridge (#{source}): executable: \"/abs/path/to/worker\" is not set " <>
            "(got #{inspect(other)})"
  end

  @doc false
  def args!(args, _source) when is_list(args), do: Enum.map(args, &to_string/1)

  def args!(other, source),
    do:
      raise(
        ArgumentError,
        "snakepit_bridge (#{source}): :args must be a list, got #{inspect(other)}"
      )
end
