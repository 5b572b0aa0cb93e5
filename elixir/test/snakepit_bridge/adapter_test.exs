defmodule SnakepitBridge.AdapterTest do
  # The adapters' launch settings, and the functions of snakepit's own modules they reach
  # (Snakepit.Adapter, Snakepit.Adapters.GRPCPython), pinned against the real snakepit. The
  # adapters driving a real pool: test/real_snakepit/.
  use ExUnit.Case, async: false

  alias Snakepit.Adapters.GRPCPython
  alias SnakepitBridge.Adapter
  alias SnakepitBridge.Test.{ConfiguredAdapter, ShowcaseAdapter}

  doctest SnakepitBridge

  setup do
    on_exit(fn ->
      Application.delete_env(:snakepit_bridge, :executable)
      Application.delete_env(:snakepit_bridge, :args)
      Application.delete_env(:snakepit_bridge, ConfiguredAdapter)
    end)
  end

  test "both implement the declared behaviour and the functions GRPCWorker calls outside it" do
    for adapter <- [Adapter, ShowcaseAdapter] do
      functions = adapter.__info__(:functions)

      for callback <-
            [executable_path: 0, script_path: 0, script_args: 0, command_timeout: 2] ++
              [get_port: 0, init_grpc_connection: 1, grpc_execute: 6, grpc_execute_stream: 7] do
        assert callback in functions, "#{inspect(adapter)} lacks #{inspect(callback)}"
      end

      assert adapter.uses_grpc?()
      assert adapter.get_port() == 0

      behaviours =
        adapter.__info__(:attributes) |> Keyword.get_values(:behaviour) |> List.flatten()

      assert Snakepit.Adapter in behaviours
    end
  end

  test "SnakepitBridge.Adapter launches the configured binary directly, with the configured arguments" do
    binary = System.find_executable("sh")
    Application.put_env(:snakepit_bridge, :executable, binary)
    Application.put_env(:snakepit_bridge, :args, ["--model", :small])
    assert Adapter.executable_path() == binary
    assert Adapter.script_path() == ""
    assert Adapter.script_args() == ["--model", "small"]
  end

  test "a missing or unset executable is a clear error" do
    assert_raise ArgumentError,
                 ~r/\(config :snakepit_bridge\): executable: "\/abs\/path\/to\/worker" is not set/,
                 fn ->
                   Adapter.executable_path()
                 end

    Application.put_env(:snakepit_bridge, :executable, "/no/such/worker")

    assert_raise ArgumentError, ~r/"\/no\/such\/worker" does not exist; build it/, fn ->
      Adapter.executable_path()
    end

    Application.put_env(:snakepit_bridge, :args, "--x")

    assert_raise ArgumentError, ~r/:args must be a list, got "--x"/, fn ->
      Adapter.script_args()
    end
  end

  test "use SnakepitBridge.Adapter: the worker given to use, whatever the application config says" do
    Application.put_env(:snakepit_bridge, :executable, "/no/such/worker")
    assert ShowcaseAdapter.executable_path() == "/bin/sh"
    assert ShowcaseAdapter.script_path() == ""
    assert ShowcaseAdapter.script_args() == ["--model", "small"]
  end

  test "use SnakepitBridge.Adapter with otp_app: the application's config overrides use's options" do
    assert_raise ArgumentError,
                 ~r/\(SnakepitBridge.Test.ConfiguredAdapter\): the worker binary "\/no\/such\/worker" does not exist/,
                 fn ->
                   ConfiguredAdapter.executable_path()
                 end

    Application.put_env(:snakepit_bridge, ConfiguredAdapter, executable: "/bin/sh", args: ["-x"])
    assert ConfiguredAdapter.executable_path() == "/bin/sh"
    assert ConfiguredAdapter.script_args() == ["-x"]
  end

  test "the transport is GRPCPython's: the functions GRPCWorker calls exist there, same arities" do
    # lib/snakepit/grpc_worker.ex and grpc_worker/bootstrap.ex call these on the adapter; the
    # adapters delegate them to Snakepit.Adapters.GRPCPython (lib/snakepit/adapters/grpc_python.ex).
    Code.ensure_loaded!(GRPCPython)

    for {fun, arity} <- [
          get_port: 0,
          init_grpc_connection: 1,
          grpc_execute: 6,
          grpc_execute_stream: 7,
          command_timeout: 2
        ] do
      assert function_exported?(GRPCPython, fun, arity),
             "snakepit's GRPCPython no longer has #{fun}/#{arity}, which the adapters delegate to"
    end

    for adapter <- [Adapter, ShowcaseAdapter] do
      assert adapter.get_port() == GRPCPython.get_port()

      for command <- ["ping", "process_large_dataset", "batch_inference"] do
        assert adapter.command_timeout(command, %{}) == GRPCPython.command_timeout(command, %{})
      end
    end
  end

  test "Snakepit.Adapter's callbacks are the ones the adapters implement" do
    callbacks = Snakepit.Adapter.behaviour_info(:callbacks)

    # (function_exported?/3 does not load a module; a test run in another order may not have)
    for adapter <- [Adapter, ShowcaseAdapter],
        Code.ensure_loaded!(adapter),
        {fun, arity} <- callbacks do
      optional = {fun, arity} in Snakepit.Adapter.behaviour_info(:optional_callbacks)

      assert optional or function_exported?(adapter, fun, arity),
             "#{inspect(adapter)} lacks snakepit's required callback #{fun}/#{arity}"
    end
  end

  describe "a streaming tool's error (translate_stream_error/1)" do
    # Relies on snakepit's internal Snakepit.Error.PythonTranslation.from_error_message/1 (the
    # function its unary path uses, lib/snakepit/grpc/client_impl.ex): pinned here, so that a
    # snakepit that changes it fails this test, not a user's streaming call.
    @error_json ~s({"type":"ValueError","message":"n must be >= 0","context":{"tool":"t"},) <>
                  ~s("stacktrace":["at t"],"traceback":"tb"})

    test "snakepit's translation of the error JSON, which the adapter relies on" do
      assert {:ok, %Snakepit.Error.ValueError{} = error} =
               Snakepit.Error.PythonTranslation.from_error_message(@error_json)

      assert error.message == "n must be >= 0"
      assert error.python_type == "ValueError"
      assert error.context == %{"tool" => "t"}
      assert Snakepit.Error.PythonTranslation.from_error_message("not json") == :error
    end

    test "status INTERNAL with the error JSON becomes the unary path's struct" do
      rpc_error = %GRPC.RPCError{status: 13, message: @error_json}

      assert {:error, %Snakepit.Error.ValueError{message: "n must be >= 0"}} =
               Adapter.translate_stream_error({:error, rpc_error})
    end

    test "status INTERNAL with a message that is not the error JSON is passed on as it is" do
      result = {:error, %GRPC.RPCError{status: 13, message: "stream reset"}}
      assert Adapter.translate_stream_error(result) == result
    end

    test "any other status, any other error and success are passed on as they are" do
      for result <- [
            {:error, %GRPC.RPCError{status: 4, message: @error_json}},
            {:error, :timeout},
            :ok,
            {:ok, :done}
          ] do
        assert Adapter.translate_stream_error(result) == result
      end
    end
  end

  describe "pool_config/2 and snakepit_config/2" do
    test "a whole pool for a Rust worker" do
      config =
        SnakepitBridge.pool_config(:showcase,
          adapter: ShowcaseAdapter,
          pool_size: 3,
          args: ["--fast", 1],
          env: [{"RUST_LOG", "debug"}],
          heartbeat: [timeout_ms: 20_000],
          worker_max_requests: 1000
        )

      assert config == %{
               name: :showcase,
               worker_profile: :process,
               pool_size: 3,
               adapter_module: ShowcaseAdapter,
               adapter_args: ["--fast", "1"],
               adapter_env: [{"RUST_LOG", "debug"}],
               heartbeat: %{
                 enabled: true,
                 ping_interval_ms: 2_000,
                 timeout_ms: 20_000,
                 dependent: true
               },
               worker_max_requests: 1000
             }

      assert SnakepitBridge.pool_config(:p).pool_size == System.schedulers_online()
    end

    test "the global adapter that streaming asks is the first pool's" do
      pools = [
        SnakepitBridge.pool_config(:a, adapter: ShowcaseAdapter),
        SnakepitBridge.pool_config(:b)
      ]

      assert SnakepitBridge.snakepit_config(pools, pool_startup_batch_size: 2) == [
               pooling_enabled: true,
               adapter_module: ShowcaseAdapter,
               pools: pools,
               pool_startup_batch_size: 2
             ]
    end

    test "bad options are refused" do
      assert_raise ArgumentError,
                   ~r/unknown option :pool_sise \(did you mean :pool_size\?\)/,
                   fn ->
                     SnakepitBridge.pool_config(:p, pool_sise: 2)
                   end

      assert_raise ArgumentError,
                   ~r/:adapter must be SnakepitBridge.Adapter or a module defined with `use SnakepitBridge.Adapter`, got String/,
                   fn ->
                     SnakepitBridge.pool_config(:p, adapter: String)
                   end
    end
  end
end
