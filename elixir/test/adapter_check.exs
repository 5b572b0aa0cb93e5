# Checks SnakepitBridge.Adapter without snakepit (which CI cannot install): it compiles with
# warnings as errors against stand-ins of the snakepit modules it uses, which record the calls,
# and each callback does what section 2 of worker-protocol.md asks.
#
#     elixir elixir/test/adapter_check.exs
ExUnit.start()

defmodule Snakepit.Adapter do
  # snakepit v0.13's declared behaviour (lib/snakepit/adapter.ex).
  @callback executable_path() :: String.t()
  @callback script_path() :: String.t()
  @callback script_args() :: [String.t()]
  @callback command_timeout(String.t(), map()) :: pos_integer()
  @optional_callbacks command_timeout: 2
end

defmodule Snakepit.Adapters.GRPCPython do
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

adapter_file = Path.join(__DIR__, "../lib/snakepit_bridge/adapter.ex")

case Kernel.ParallelCompiler.compile([adapter_file]) do
  {:ok, [SnakepitBridge.Adapter], []} -> :ok
  other -> raise "#{adapter_file} does not compile cleanly: #{inspect(other)}"
end

defmodule SnakepitBridge.AdapterTest do
  use ExUnit.Case

  alias SnakepitBridge.Adapter

  setup do
    on_exit(fn ->
      Application.delete_env(:snakepit_bridge, :executable)
      Application.delete_env(:snakepit_bridge, :args)
    end)
  end

  test "implements the declared behaviour and the functions GRPCWorker calls outside it" do
    for callback <- [executable_path: 0, script_path: 0, script_args: 0, command_timeout: 2] do
      assert callback in Adapter.__info__(:functions)
    end

    assert {:get_port, 0} in Adapter.__info__(:functions)
    assert {:init_grpc_connection, 1} in Adapter.__info__(:functions)
    assert {:grpc_execute, 6} in Adapter.__info__(:functions)
    assert {:grpc_execute_stream, 7} in Adapter.__info__(:functions)
    assert Adapter.uses_grpc?()
    assert Adapter.get_port() == 0
    behaviours = Adapter.__info__(:attributes) |> Keyword.get_values(:behaviour) |> List.flatten()
    assert Snakepit.Adapter in behaviours
  end

  test "launches the configured binary directly, with the configured arguments" do
    binary = System.find_executable("sh")
    Application.put_env(:snakepit_bridge, :executable, binary)
    Application.put_env(:snakepit_bridge, :args, ["--model", :small])
    assert Adapter.executable_path() == binary
    assert Adapter.script_path() == ""
    assert Adapter.script_args() == ["--model", "small"]
  end

  test "a missing or unset executable is a clear error" do
    assert_raise ArgumentError, ~r/executable: "\/abs\/path\/to\/worker" is not set/, fn ->
      Adapter.executable_path()
    end

    Application.put_env(:snakepit_bridge, :executable, "/no/such/worker")
    assert_raise ArgumentError, ~r/does not exist; build it/, fn -> Adapter.executable_path() end
  end

  test "the transport is GRPCPython's, called with the same arguments" do
    assert Adapter.init_grpc_connection(50_123) == {:ok, %{port: 50_123}}
    assert_received {:init_grpc_connection, 50_123}

    assert Adapter.grpc_execute(:conn, "session_1", "ping", %{}, 5_000, pool: :p) == {:ok, :done}
    assert_received {:grpc_execute, :conn, "session_1", "ping", %{}, 5_000, [pool: :p]}

    callback = fn _chunk -> :ok end

    assert Adapter.grpc_execute_stream(
             :conn,
             "s",
             "stream_data",
             %{"count" => 3},
             callback,
             900_000
           ) == :ok

    assert_received {:grpc_execute_stream, :conn, "s", "stream_data", %{"count" => 3}, ^callback,
                     900_000, []}

    assert Adapter.command_timeout("process_large_dataset", %{}) == 600_000
    assert Adapter.command_timeout("ping", %{}) == 298_800
  end
end
