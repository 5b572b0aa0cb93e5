# Stand-ins of the few snakepit (v0.13) modules this package calls, compiled only for the
# standalone tests (SNAKEPIT_BRIDGE_STANDALONE=1, see mix.exs): snakepit needs Elixir 1.18 and
# Hex, which CI does not have. Each call is sent to the calling process as a message, so a test
# can assert exactly what would reach snakepit; the answer is what the test put in the process
# dictionary.

defmodule Snakepit do
  @moduledoc false

  # lib/snakepit.ex: execute(command, args, opts \\ []) and
  # execute_stream(command, args \\ %{}, callback_fn, opts \\ []).
  def execute(command, args, opts \\ [])
      when is_binary(command) and is_map(args) and is_list(opts) do
    send(self(), {:snakepit, :execute, command, args, opts})
    Process.get(:snakepit_answer, {:ok, :answered})
  end

  def execute_stream(command, args \\ %{}, callback_fn, opts \\ [])
      when is_binary(command) and is_map(args) and is_function(callback_fn, 1) and is_list(opts) do
    send(self(), {:snakepit, :execute_stream, command, args, opts})

    case Process.get(:snakepit_answer, :ok) do
      :ok -> Enum.each(Process.get(:snakepit_chunks, []), callback_fn)
      _ -> :ok
    end

    Process.get(:snakepit_answer, :ok)
  end
end

defmodule Snakepit.Error do
  @moduledoc false
  # lib/snakepit/error.ex (the struct and the public normalizer's shape).
  @type t :: %__MODULE__{}
  @enforce_keys [:category, :message, :details]
  defstruct category: nil, message: nil, details: %{}, python_traceback: nil, grpc_status: nil

  def normalize_public_error(reason, metadata) when is_atom(reason) or is_tuple(reason),
    do: %__MODULE__{
      category: :pool,
      message: "Pool request failed",
      details: Map.put(metadata, :reason, reason)
    }

  def normalize_public_error(reason, metadata),
    do: %__MODULE__{
      category: :worker,
      message: "Request failed",
      details: Map.put(metadata, :reason, reason)
    }
end

defmodule Snakepit.Error.ValueError do
  @moduledoc false
  defexception [
    :message,
    context: %{},
    stacktrace: [],
    python_type: "ValueError",
    python_traceback: nil
  ]
end

defmodule Snakepit.Adapter do
  @moduledoc false
  # snakepit v0.13's declared behaviour (lib/snakepit/adapter.ex).
  @callback executable_path() :: String.t()
  @callback script_path() :: String.t()
  @callback script_args() :: [String.t()]
  @callback command_timeout(String.t(), map()) :: pos_integer()
  @optional_callbacks command_timeout: 2
end

defmodule Snakepit.Adapters.GRPCPython do
  @moduledoc false
  # Records each delegated call, answers as snakepit would.
  def get_port, do: 0
  def command_timeout("process_large_dataset", _args), do: 600_000
  def command_timeout(_command, _args), do: 298_800
  def init_grpc_connection(port), do: record({:init_grpc_connection, port}, {:ok, %{port: port}})

  def grpc_execute(conn, session, command, args, timeout, opts),
    do: record({:grpc_execute, conn, session, command, args, timeout, opts}, {:ok, :done})

  def grpc_execute_stream(conn, session, command, args, callback, timeout, opts),
    do: record({:grpc_execute_stream, conn, session, command, args, callback, timeout, opts}, :ok)

  defp record(call, answer) do
    send(self(), call)
    answer
  end
end
