defmodule SnakepitBridge.Adapter do
  @moduledoc """
  A snakepit (v0.13) adapter that launches a Rust worker binary built with snakepit-bridge.

  snakepit launches `executable args --port 0 --elixir-address ... --snakepit-run-id ...` with
  its ready file, heartbeat and log-level variables in the environment; the Rust worker speaks
  snakepit's gRPC protocol exactly as snakepit's own Python worker does. The gRPC transport
  (connecting, `ExecuteTool`, streaming) is `Snakepit.Adapters.GRPCPython`'s, which holds
  nothing Python-specific; this module only says what to launch.

      config :snakepit_bridge,
        executable: "/abs/path/to/target/release/my_worker",
        args: []

  See `elixir/README.md` for a whole pool configuration.
  """

  @behaviour Snakepit.Adapter

  alias Snakepit.Adapters.GRPCPython

  @doc "The worker binary: `config :snakepit_bridge, executable: path`, as an absolute path."
  @impl true
  def executable_path do
    case Application.get_env(:snakepit_bridge, :executable) do
      path when is_binary(path) and path != "" ->
        path = Path.expand(path)

        unless File.regular?(path) do
          raise ArgumentError,
                "snakepit_bridge: the worker binary #{inspect(path)} does not exist; " <>
                  "build it (cargo build --release) and set config :snakepit_bridge, executable: \"/abs/path\""
        end

        path

      other ->
        raise ArgumentError,
              "snakepit_bridge: config :snakepit_bridge, executable: \"/abs/path/to/worker\" is not set " <>
                "(got #{inspect(other)})"
    end
  end

  @doc "No script: the binary is launched directly, with the arguments of `script_args/0`."
  @impl true
  def script_path, do: ""

  @doc "Arguments before snakepit's own flags: `config :snakepit_bridge, args: [...]`."
  @impl true
  def script_args do
    case Application.get_env(:snakepit_bridge, :args, []) do
      args when is_list(args) -> Enum.map(args, &to_string/1)
      other -> raise ArgumentError, "snakepit_bridge: :args must be a list, got #{inspect(other)}"
    end
  end

  @doc "The per-call deadline when the caller gives none, as for snakepit's Python workers."
  @impl true
  def command_timeout(command, args), do: GRPCPython.command_timeout(command, args)

  @doc "Streaming (`Snakepit.execute_stream/4`) is allowed only for adapters that say so."
  def uses_grpc?, do: true

  @doc "The port passed as `--port`: 0, the worker picks one and writes it to its ready file."
  def get_port, do: GRPCPython.get_port()

  @doc false
  def init_grpc_connection(port), do: GRPCPython.init_grpc_connection(port)

  @doc false
  def grpc_execute(connection, session_id, command, args, timeout, opts \\ []) do
    GRPCPython.grpc_execute(connection, session_id, command, args, timeout, opts)
  end

  @doc false
  def grpc_execute_stream(connection, session_id, command, args, callback_fn, timeout, opts \\ []) do
    GRPCPython.grpc_execute_stream(connection, session_id, command, args, callback_fn, timeout, opts)
  end
end
